"""The difference between two versions of one process key, and which running cases it reaches.

`diff_versions(session, key, a, b)` compares the stored bundles of versions
A and B: the compiled specs (the process and every process it calls, as they
run) and the forms stored with each version. Elements are matched by id, as
CONTRACT.md's migration does: an id only in B is added, only in A removed.
For ids in both, SpiffWorkflow's own `SpecDiff` (SpiffWorkflow.bpmn.util.diff)
says which attributes of the serialized task specs differ; engine.diff_words
puts them in words. SpecDiff knows nothing of what Tovholder keeps outside
the spec, so this module adds: the forms' content (fields added, removed,
made required), form keys on start and message events (read from the XML),
and the flow between BPMN elements (SpecDiff's outputs point at the library's
internal boundary-event and join specs). Where SpecDiff aligns a removed
element with an added one by its place in the flow, that pair is offered as
`suggested_mapping` for a migration.

`affected` counts version A's running cases standing on removed or changed
elements (engine.versions.case_positions: task, wait and service rows); a
removed or changed call activity also counts the cases inside it.

Read-only: nothing here flushes or commits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.specs.base import TaskSpec
from sqlalchemy.orm import Session

from . import bundles, diff_words
from .bpmn.parser import CAMUNDA_NS
from .bpmn.serializer import SERIALIZER
from .catalog import get_definition
from .errors import Invalid
from .form_sources import FormFile
from .forms import Form
from .models import ProcessDefinition
from .versions import case_positions

_FORM_KEY = f"{{{CAMUNDA_NS}}}formKey"


@dataclass(frozen=True)
class Element:
    element_id: str
    name: str
    type: str
    process: str  # the process (of the bundle) the element belongs to

    def as_dict(self) -> dict:
        return {"element_id": self.element_id, "name": self.name, "type": self.type, "process": self.process}


@dataclass(frozen=True)
class ChangedElement(Element):
    attributes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {**super().as_dict(), "attributes": list(self.attributes)}


@dataclass(frozen=True)
class Affected:
    element_id: str
    cases: int

    def as_dict(self) -> dict:
        return {"element_id": self.element_id, "cases": self.cases}


@dataclass(frozen=True)
class VersionDiff:
    key: str
    from_version: int | None  # None: no version yet (a new journey's draft)
    to_version: int | None  # None: a draft, not stored
    added: list[Element]
    removed: list[Element]
    changed: list[ChangedElement]
    forms_changed: list[str]
    form_changes: list[dict]  # per changed form: fields_added, fields_removed, made_required, ...
    forms_added: list[str]
    forms_removed: list[str]
    affected: list[Affected]
    suggested_mapping: dict[str, str] = field(default_factory=dict)
    # every case counted in `affected`, each once (a case in two parallel branches stands on two elements)
    affected_case_ids: frozenset[str] = frozenset()

    def as_dict(self) -> dict:
        return {
            "key": self.key, "from": self.from_version, "to": self.to_version,
            "added": [e.as_dict() for e in self.added], "removed": [e.as_dict() for e in self.removed],
            "changed": [e.as_dict() for e in self.changed], "forms_changed": self.forms_changed,
            "form_changes": self.form_changes, "forms_added": self.forms_added, "forms_removed": self.forms_removed,
            "affected": [a.as_dict() for a in self.affected], "suggested_mapping": self.suggested_mapping,
        }


class _Bundle:
    """One stored version, ready to compare: its specs by process id, its element forms, its forms."""

    def __init__(self, session: Session, row: ProcessDefinition, files: dict[str, FormFile] | None = None):
        self.row = row
        stored = json.loads(row.spec_json)
        registry = SERIALIZER.registry
        self.specs = {row.key: registry.restore(stored["spec"])}
        self.specs.update({name: registry.restore(sub) for name, sub in stored["subprocess_specs"].items()})
        self.elements = {pid: _elements(spec) for pid, spec in self.specs.items()}
        self.dicts = {id(s): registry.convert(s) for els in self.elements.values() for s in els.values()}
        self.files = files if files is not None else bundles.form_files(session, row.id)
        self.element_forms = _element_forms(row.bpmn_xml, self)

    def dict_of(self, spec: TaskSpec) -> dict:
        return self.dicts[id(spec)]

    def form(self, key: str) -> Form | None:
        found = self.files.get(key)
        try:
            return found.form() if found is not None else None
        except Invalid:
            return None

    def inside(self, spec: TaskSpec, seen: set[str] | None = None) -> set[str]:
        """Element ids inside a call activity or subprocess (and what those call in turn)."""
        seen = seen if seen is not None else set()
        called = self.dict_of(spec).get("spec")
        if not called or called in seen or called not in self.elements:
            return set()
        seen.add(called)
        ids = set(self.elements[called])
        for inner in self.elements[called].values():
            ids |= self.inside(inner, seen)
        return ids


def _elements(spec: BpmnProcessSpec) -> dict[str, TaskSpec]:
    """{bpmn element id: task spec}: the library's internal specs (Start, joins, splits) left out."""
    found: dict[str, TaskSpec] = {}
    for name, task_spec in spec.task_specs.items():
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if bpmn_id is None or (bpmn_id in found and name != bpmn_id):
            continue
        found[bpmn_id] = task_spec
    return found


def _element_forms(bpmn_xml: str, bundle: _Bundle) -> dict[str, str]:
    """{element id: form key}: user tasks from the specs, start and message events from the XML."""
    found = {}
    for elements in bundle.elements.values():
        for element_id, spec in elements.items():
            form = bundle.dict_of(spec).get("form")
            if isinstance(form, dict) and form.get("key"):
                found[element_id] = form["key"]
    root = etree.fromstring(bpmn_xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    for node in root.iter():
        if isinstance(node.tag, str) and node.get(_FORM_KEY) and node.get("id"):
            found.setdefault(node.get("id"), node.get(_FORM_KEY))
    return found


def _successors(spec: TaskSpec, seen: set[str] | None = None) -> list[str]:
    """The BPMN elements a spec leads to, looking through the library's internal specs."""
    seen = seen if seen is not None else set()
    found = []
    for output in spec.outputs:
        if getattr(output, "bpmn_id", None) is not None:
            found.append(output.bpmn_id)
        elif output.name.endswith(".BoundaryEventSplit"):
            found.append(diff_words.element_of(output.name))
        elif output.name not in seen:
            seen.add(output.name)
            found.extend(_successors(output, seen))
    return sorted(set(found))


def _element(pid: str, element_id: str, data: dict) -> Element:
    typename = data.get("typename", "")
    tag = diff_words.BPMN_TYPES.get(diff_words.spec_type(typename), typename)
    return Element(element_id, data.get("bpmn_name") or element_id, tag, pid)


def _changed_keys(spec_diff: SpecDiff, old_spec: TaskSpec, new_spec: TaskSpec, old: dict, new: dict) -> list[str]:
    """SpecDiff's comparison where it aligned the pair by id; the same comparison where it did not reach it."""
    if spec_diff.alignment.get(old_spec) is new_spec and old_spec in spec_diff.comparisons:
        return spec_diff.comparisons[old_spec]
    if old.get("typename") != new.get("typename"):
        return ["typename"]
    return [key for key, value in old.items() if new.get(key) != value]


def _form_words(element_id: str, a: _Bundle, b: _Bundle, keys: list[str], changes: dict) -> list[str]:
    old_key, new_key = a.element_forms.get(element_id), b.element_forms.get(element_id)
    if old_key != new_key:
        return [] if "form" in keys else [diff_words.change("formular (form)", old_key, new_key)]
    if old_key is not None and old_key in changes:
        return diff_words.form_words(changes[old_key], b.form(old_key), a.form(old_key))
    return []


def _compare_forms(a: _Bundle, b: _Bundle) -> dict[str, dict]:
    changes = {}
    for key in sorted(set(a.files) & set(b.files)):
        if a.files[key].digest == b.files[key].digest:
            continue
        old, new = a.form(key), b.form(key)
        if old is not None and new is not None:
            changes[key] = diff_words.form_changes(key, old, new)
        else:
            changes[key] = {"key": key, "fields_added": [], "fields_removed": [], "made_required": [],
                            "made_optional": [], "fields_changed": [], "title_changed": False, "layout_changed": False}
    return changes


def diff_versions(session: Session, key: str, a: int, b: int) -> VersionDiff:
    """Diff of version `a` (from) to version `b` (to) of process `key`; NotFound for an unknown version."""
    return _diff(session, key, _Bundle(session, get_definition(session, key, a)),
                 _Bundle(session, get_definition(session, key, b)))


def diff_candidate(session: Session, key: str, a: int, candidate: ProcessDefinition,
                   forms: dict[str, FormFile]) -> VersionDiff:
    """Diff of stored version `a` to a version not stored (a studio draft compiled by engine.catalog.prepare).

    `candidate` is a ProcessDefinition row that is never added to the session:
    its `bpmn_xml` and `spec_json` are what the draft would deploy, `version` None.
    """
    return _diff(session, key, _Bundle(session, get_definition(session, key, a)), _Bundle(session, candidate, forms))


def first_version_diff(session: Session, key: str, candidate: ProcessDefinition,
                       forms: dict[str, FormFile]) -> VersionDiff:
    """A new journey's first version (a studio draft of a key not deployed): every element is added."""
    new = _Bundle(session, candidate, forms)
    added = sorted((_element(pid, i, new.dict_of(s)) for pid, els in new.elements.items() for i, s in els.items()),
                   key=lambda e: (e.process != key, e.process, e.element_id))
    return VersionDiff(key=key, from_version=None, to_version=None, added=added, removed=[], changed=[],
                       forms_changed=[], form_changes=[], forms_added=sorted(new.files), forms_removed=[], affected=[])


def _diff(session: Session, key: str, old: _Bundle, new: _Bundle) -> VersionDiff:
    form_changes = _compare_forms(old, new)
    added, removed, changed, mapping = [], [], [], {}
    for pid in sorted(set(old.elements) | set(new.elements), key=lambda p: (p != key, p)):
        before, after = old.elements.get(pid, {}), new.elements.get(pid, {})
        removed += [_element(pid, i, old.dict_of(s)) for i, s in before.items() if i not in after]
        added += [_element(pid, i, new.dict_of(s)) for i, s in after.items() if i not in before]
        if not before or not after:
            continue
        spec_diff = SpecDiff(SERIALIZER.registry, old.specs[pid], new.specs[pid])
        for old_spec, new_spec in spec_diff.alignment.items():
            old_id, new_id = getattr(old_spec, "bpmn_id", None), getattr(new_spec, "bpmn_id", None)
            if old_id and new_id and old_id not in after and new_id not in before:
                mapping[old_id] = new_id
        for element_id in (i for i in before if i in after):
            o, n = old.dict_of(before[element_id]), new.dict_of(after[element_id])
            keys = _changed_keys(spec_diff, before[element_id], after[element_id], o, n)
            words = diff_words.describe(o, n, keys)
            words += diff_words.successors(_successors(before[element_id]), _successors(after[element_id]))
            words += _form_words(element_id, old, new, keys, form_changes)
            if words:
                element = _element(pid, element_id, n)
                changed.append(ChangedElement(element.element_id, element.name, element.type, pid, tuple(words)))
    def order(e: Element | ChangedElement) -> tuple[bool, str, str]:
        # the main process first, then called processes; by id within each
        return (e.process != key, e.process, e.element_id)
    added, removed, changed = sorted(added, key=order), sorted(removed, key=order), sorted(changed, key=order)
    affected = _affected(session, old, removed, changed)
    return VersionDiff(
        key=key, from_version=old.row.version, to_version=new.row.version, added=added, removed=removed,
        changed=changed, forms_changed=sorted(form_changes), form_changes=list(form_changes.values()),
        forms_added=sorted(set(new.files) - set(old.files)), forms_removed=sorted(set(old.files) - set(new.files)),
        affected=[Affected(e, len(c)) for e, c in sorted(affected.items())], suggested_mapping=mapping,
        affected_case_ids=frozenset().union(*affected.values()))


def _affected(session: Session, old: _Bundle, removed: list[Element],
              changed: list[ChangedElement]) -> dict[str, set[str]]:
    """{element id: ids of version A's running cases standing on it}, for removed and changed elements with cases."""
    positions = case_positions(session, old.row.id)
    result = {}
    for element in [*removed, *changed]:
        spec = old.elements[element.process][element.element_id]
        cases = set(positions.get(element.element_id, ()))
        for inner in old.inside(spec):
            cases |= positions.get(inner, set())
        if cases:
            result[element.element_id] = cases
    return result
