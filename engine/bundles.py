"""A version as a bundle: its diagrams and the forms they name, hashed together and read from the database.

engine.catalog stores the forms with each version at deploy; everything that
shows or checks a form for a case (start, task page, completion, timeline)
asks here with the case's own version, so editing a form file on disk
changes nothing until the next deploy makes a new version.

Functions here only read or flush; the edge commits.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .case_rules import CaseRules
from .errors import Invalid
from .form_sources import FormFile
from .forms import Form, load_form, parse_form_text
from .models import Case, DefinitionForm, HumanTask, ProcessDefinition

# Stored forms never change (a version is immutable), so parsed ones are kept by (definition id, key).
_FORM_CACHE: dict[tuple[str, str], Form] = {}


def bundle_hash(definition_hash: str, forms: list[FormFile] | dict[str, str]) -> str:
    """The version's content hash: the diagram's hash and each form's digest, in key order.

    `forms` is a list of FormFile or {key: digest}. Migration 0009 repeats
    this for the versions it gives forms at upgrade; keep the two in step.
    """
    digests = forms if isinstance(forms, dict) else {f.key: f.digest for f in forms}
    digest = hashlib.sha256(definition_hash.encode("ascii"))
    for key in sorted(digests):
        digest.update(b"\n" + key.encode("utf-8") + b"\0" + digests[key].encode("ascii"))
    return digest.hexdigest()


def store_forms(session: Session, definition: ProcessDefinition, forms: list[FormFile]) -> None:
    for form in sorted(forms, key=lambda f: f.key):
        session.add(DefinitionForm(definition_id=definition.id, form_key=form.key, content=form.content,
                                   layout=form.layout, digest=form.digest, origin=form.origin[:500]))
    session.flush()


def form_files(session: Session, definition_id: str) -> dict[str, FormFile]:
    rows = session.scalars(select(DefinitionForm).where(DefinitionForm.definition_id == definition_id)
                           .order_by(DefinitionForm.form_key))
    return {r.form_key: FormFile(r.form_key, r.content, r.layout, r.origin or f"{r.form_key}.json") for r in rows}


def form_keys(session: Session, definition_id: str) -> list[str]:
    return list(session.scalars(select(DefinitionForm.form_key).where(DefinitionForm.definition_id == definition_id)
                                .order_by(DefinitionForm.form_key)))


_KEYS_CACHE: dict[str, frozenset[str]] = {}


def swapped_form_key(session: Session, definition_id: str, key: str | None, rules: CaseRules) -> str | None:
    """The form a new task naming `key` gets: the case's rule set's alternative (engine.rule_sets) when the
    version carries it, else `key` itself (a version deployed before the swap was configured has no copy, and a
    case always reads its own version's forms)."""
    if not key:
        return key
    alternative = rules.form_for(key)
    if alternative == key:
        return key
    keys = _KEYS_CACHE.get(definition_id)
    if keys is None:  # versions never change: their form keys are kept
        keys = frozenset(form_keys(session, definition_id))
        if len(_KEYS_CACHE) > 4096:
            _KEYS_CACHE.clear()
        _KEYS_CACHE[definition_id] = keys
    return alternative if alternative in keys else key


def version_form(session: Session, definition_id: str, key: str, *, forms_dir: Path) -> Form:
    """Form `key` as version `definition_id` stores it; Invalid if it is broken or nowhere.

    Versions deployed since forms belong to versions always hold every form
    they name. Only a version migrated from before (migration 0009) can lack
    one, when its file was missing at upgrade; for those the forms directory
    is read, as it always was for them.
    """
    cached = _FORM_CACHE.get((definition_id, key))
    if cached is not None:
        return cached
    row = session.get(DefinitionForm, (definition_id, key))
    if row is None:
        return load_form(forms_dir, key)
    form = parse_form_text(key, row.content, row.layout, file_name=row.origin)
    if len(_FORM_CACHE) > 4096:
        _FORM_CACHE.clear()
    _FORM_CACHE[(definition_id, key)] = form
    return form


def start_form(session: Session, definition: ProcessDefinition, *, forms_dir: Path) -> Form | None:
    if not definition.start_form_key:
        return None
    return version_form(session, definition.id, definition.start_form_key, forms_dir=forms_dir)


def task_form(session: Session, row: HumanTask, *, forms_dir: Path, case: Case | None = None) -> Form | None:
    """The form of a human task as its case's version has it (`case`: the task's case, when the caller has it)."""
    if not row.form_key:
        return None
    definition_id = (case.definition_id if case is not None and case.id == row.case_id
                     else session.scalar(select(Case.definition_id).where(Case.id == row.case_id)))
    if definition_id is None:
        raise Invalid(f"the case of task {row.id} is gone")
    return version_form(session, definition_id, row.form_key, forms_dir=forms_dir)
