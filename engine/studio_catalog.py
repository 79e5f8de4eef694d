"""What the studio's properties panel offers, and the latest version of every journey.

`studio_catalog` answers GET /api/studio/catalog: the units a lane can name,
the forms a task can name (every form a version stores, and the forms
directory's), the named deadlines of config/deadlines.toml with the text of
the rule they come from, the deployed processes a call activity can call,
and the message names the deployed diagrams use.

Read-only: nothing here flushes or commits.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from . import drafts
from .bpmn.parser import BPMN_NS
from .case_rules import CaseRules
from .models import DefinitionForm, ProcessDefinition, Unit
from .validation import parse_tree


def studio_catalog(session, rules: CaseRules) -> dict:
    """What the properties panel offers: units, forms, named deadlines, deployed processes, message names."""
    units = [{"id": key, "name": name} for key, name in session.execute(select(Unit.key, Unit.name).order_by(Unit.key))]
    forms = set(session.scalars(select(DefinitionForm.form_key).distinct()))
    folder = Path(rules.forms_dir)
    if folder.is_dir():
        forms |= {p.stem for p in folder.glob("*.json") if drafts.FORM_FILE.match(p.name)}
    deadlines = [{"name": name, "text": rule.source or "", "rule": rule.describe(), "duration": rule.duration,
                  "working": rule.working, "from": rule.from_field}
                 for name, rule in sorted(rules.named_deadlines().items())]
    processes: list[str] = []
    messages: set[str] = set()
    for row in latest_definitions(session):
        processes.append(row.key)
        messages |= _message_names(row)
    return {"units": units, "forms": sorted(forms), "deadlines": deadlines, "processes": sorted(processes),
            "messages": sorted(messages)}


def latest_definitions(session) -> list[ProcessDefinition]:
    """The latest version of every process key, by key."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(select(ProcessDefinition).join(newest, (ProcessDefinition.key == newest.c.key) & (
        ProcessDefinition.version == newest.c.version)).order_by(ProcessDefinition.key)))


_MESSAGES: dict[str, frozenset[str]] = {}  # versions never change: message names by definition id


def _message_names(row: ProcessDefinition) -> frozenset[str]:
    if row.id not in _MESSAGES:
        root = parse_tree(row.bpmn_xml.encode("utf-8"))
        _MESSAGES[row.id] = frozenset(m.get("name") for m in root.iter(f"{{{BPMN_NS}}}message") if m.get("name"))
    return _MESSAGES[row.id]

