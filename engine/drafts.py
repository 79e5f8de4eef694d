"""Studio drafts: one unpublished change per journey, saved on the server with optimistic concurrency.

A draft holds the BPMN text of one process key, the form files changed or
added with it (`{"<form key>.json": text, "<form key>.html": text}`) and the
decision tables edited with it (`{"<folder>/<name>.dmn": text}`); the
other forms it names come, at publication, from the version it replaces
(engine.studio). A draft is not a version: nothing runs on it, and publishing
removes it.

Every save names the revision it was based on (`None` for a new draft). The
save is a conditional `UPDATE ... WHERE key = :key AND revision = :revision`
(an INSERT for a new draft, refused by the primary key when one exists), so
of two tabs or two colleagues saving the same revision, one wins and the
other gets DraftStale (409) with who saved when: nothing is overwritten or
merged. This works alike on SQLite and PostgreSQL.

Input that is not a diagram at all (not text, not XML, a DOCTYPE, too large,
not BPMN) or forms that are not JSON objects are refused with Invalid (422)
before anything is written, so a bad save loses nothing. Problems the deploy
checks find (engine.studio.check) do not stop a save: a draft with problems
can be saved, not published.

Functions here only flush; the edge commits.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import clock
from .clock import as_utc
from .errors import Conflict, Invalid, NotFound
from .form_sources import MAX_FORM_BYTES
from .models import ProcessDefinition, StudioDraft
from .strict_json import problem as strict_problem
from .validation import MAX_FILE_BYTES, parse_xml

# A process id is an XML name: what a BPMN file can carry as <process id="...">.
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,199}$")
MAX_FORMS = 200
FORM_FILE = re.compile(r"^(?P<key>[A-Za-z0-9_\-]{1,200})\.(?P<kind>json|html)$")
MAX_DECISIONS = 50
# A .dmn file's name under the processes folder: folders and a name of letters, digits, _ and -.
DECISION_FILE = re.compile(r"^(?:[A-Za-z0-9_\-]{1,100}/){0,5}[A-Za-z0-9_\-]{1,100}\.dmn$")


class DraftStale(Conflict):
    """The draft was saved by someone else (another tab, a colleague) since it was read; reload it."""


@dataclass(frozen=True)
class DraftView:
    key: str
    bpmn: str
    forms: dict[str, str]
    revision: int
    base_version: int | None
    problems: list[dict]
    decisions: dict[str, str]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    def as_dict(self) -> dict:
        return {"key": self.key, "bpmn": self.bpmn, "forms": dict(self.forms), "revision": self.revision,
                "base_version": self.base_version, "problems": list(self.problems),
                "decisions": dict(self.decisions),
                "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "updated_by": self.updated_by, "updated_at": self.updated_at.isoformat()}

    def summary(self) -> dict:
        """The draft without its texts: for lists."""
        return {k: v for k, v in self.as_dict().items() if k not in ("bpmn", "forms", "decisions")}


def _view(row: StudioDraft) -> DraftView:
    return DraftView(row.key, row.bpmn_xml, dict(row.forms or {}), row.revision, row.base_version,
                     list(row.problems or []), dict(row.decisions or {}), row.created_by, as_utc(row.created_at), row.updated_by,
                     as_utc(row.updated_at))


def check_key(key: object) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise Invalid("a journey's key is a process id: a letter or _, then letters, digits, _, - or . "
                      "(at most 200)", [{"field": "key", "line": None,
                                         "message": "a letter or _, then letters, digits, _, - or ."}])
    return key


def find_draft(session: Session, key: str) -> DraftView | None:
    row = session.get(StudioDraft, key, populate_existing=True)
    return _view(row) if row is not None else None


def get_draft(session: Session, key: str) -> DraftView:
    found = find_draft(session, check_key(key))
    if found is None:
        raise NotFound(f"there is no draft of '{key}'")
    return found


def list_drafts(session: Session) -> dict[str, DraftView]:
    return {row.key: _view(row) for row in session.scalars(select(StudioDraft).order_by(StudioDraft.key))}


def check_content(bpmn: object, forms: object, decisions: object = None) -> dict[str, str]:
    """Refuse (Invalid, 422, one entry per problem) what is no diagram, form or DMN at all; return the forms."""
    problems: list[dict] = []
    if not isinstance(bpmn, str) or not bpmn.strip():
        problems.append({"field": "bpmn", "line": None, "message": "the diagram must be BPMN XML text"})
    elif strict_problem(bpmn) is not None or "\x00" in bpmn:
        problems.append({"field": "bpmn", "line": None, "message": "the diagram holds characters no text "
                                                                  "can store (a NUL or a lone surrogate)"})
    elif len(bpmn.encode("utf-8")) > MAX_FILE_BYTES:
        problems.append({"field": "bpmn", "line": None, "message": f"the diagram is larger than {MAX_FILE_BYTES} bytes"})
    else:
        found: list[dict] = []
        parse_xml("draft.bpmn", bpmn.encode("utf-8"), found)
        problems += [{"field": "bpmn", "line": p["line"], "message": p["message"]} for p in found]
    problems += _form_problems(forms)
    problems += decision_problems(decisions)
    if problems:
        raise Invalid("the draft was not saved: " + problems[0]["message"], problems)
    return dict(forms)  # type: ignore[call-overload]  # checked by _form_problems


def _form_problems(forms: object) -> list[dict]:
    if not isinstance(forms, dict):
        return [{"field": "forms", "line": None, "message": "forms must be an object of file name → text"}]
    if len(forms) > MAX_FORMS:
        return [{"field": "forms", "line": None, "message": f"at most {MAX_FORMS} form files"}]
    problems: list[dict] = []
    for name, text in forms.items():
        where = f"forms.{name}"
        match = FORM_FILE.match(name) if isinstance(name, str) else None
        if match is None:
            problems.append({"field": where, "line": None, "message": "a form file is named <form key>.json or "
                                                                     "<form key>.html (letters, digits, _ or -)"})
        elif not isinstance(text, str):
            problems.append({"field": where, "line": None, "message": "the file's text must be a string"})
        elif strict_problem(text) is not None or "\x00" in text:
            problems.append({"field": where, "line": None, "message": "holds a NUL or a lone surrogate"})
        elif len(text.encode("utf-8")) > MAX_FORM_BYTES:
            problems.append({"field": where, "line": None, "message": f"larger than {MAX_FORM_BYTES} bytes"})
        elif match.group("kind") == "json":
            message = _json_object_problem(text)
            if message:
                problems.append({"field": where, "line": _json_line(text), "message": message})
    return problems


def decision_problems(decisions: object) -> list[dict]:
    """What in a draft's decision tables is no DMN document at all (a bad cell is the check's finding, not this)."""
    if decisions is None:
        return []
    if not isinstance(decisions, dict):
        return [{"field": "decisions", "line": None, "message": "decisions must be an object of file name → text"}]
    if len(decisions) > MAX_DECISIONS:
        return [{"field": "decisions", "line": None, "message": f"at most {MAX_DECISIONS} decision files"}]
    problems: list[dict] = []
    for name, text in decisions.items():
        where = f"decisions.{name}"
        if not isinstance(name, str) or not DECISION_FILE.match(name):
            problems.append({"field": where, "line": None, "message": "a decision file is named <folder>/<name>.dmn "
                                                                     "(letters, digits, _ or -)"})
        elif not isinstance(text, str) or not text.strip():
            problems.append({"field": where, "line": None, "message": "the DMN must be XML text"})
        elif strict_problem(text) is not None or "\x00" in text:
            problems.append({"field": where, "line": None, "message": "holds a NUL or a lone surrogate"})
        elif len(text.encode("utf-8")) > MAX_FILE_BYTES:
            problems.append({"field": where, "line": None, "message": f"larger than {MAX_FILE_BYTES} bytes"})
        else:
            found: list[dict] = []
            parse_xml(name, text.encode("utf-8"), found)
            problems += [{"field": where, "line": p["line"], "message": p["message"]} for p in found]
    return problems


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_object_problem(text: str) -> str | None:
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    if not isinstance(value, dict):
        return 'a form file is a JSON object: {"title": ..., "fields": [...]}'
    return None


def _json_line(text: str) -> int | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno
    except ValueError:
        return None
    return None


def _rows(result: object) -> int:
    """Rows an UPDATE or DELETE matched (its result is a CursorResult)."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def latest_version(session: Session, key: str) -> int | None:
    return session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))


def save_draft(session: Session, key: str, *, bpmn: object, forms: object, revision: object, actor: str,
               problems: list[dict] | None = None, decisions: object = None) -> DraftView:
    """Save the draft of `key` over `revision` (None: a new draft); DraftStale when that is not the current one.

    `decisions` None keeps the draft's decision tables as they are (none for a new draft).
    """
    check_key(key)
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int) or revision < 1):
        raise Invalid("revision must be null (a new draft) or the revision you read",
                      [{"field": "revision", "line": None, "message": "null or a whole number from 1"}])
    files = check_content(bpmn, forms, decisions)
    assert isinstance(bpmn, str)  # checked by check_content
    edited: dict[str, str] = dict(decisions) if isinstance(decisions, dict) else {}
    now = clock.now()
    if revision is None:
        return _insert(session, key, bpmn, files, actor, now, problems or [], edited)
    values: dict[str, object] = {"bpmn_xml": bpmn, "forms": files, "revision": StudioDraft.revision + 1,
                                 "problems": problems or [], "updated_at": now, "updated_by": actor}
    if decisions is not None:
        values["decisions"] = edited
    changed = _rows(session.execute(
        update(StudioDraft).where(StudioDraft.key == key, StudioDraft.revision == revision)
        .values(**values)
        .execution_options(synchronize_session=False)))
    if changed != 1:
        raise _stale(session, key, revision)
    session.flush()
    return get_draft(session, key)


def _insert(session: Session, key: str, bpmn: str, files: dict[str, str], actor: str, now: datetime,
            problems: list[dict], decisions: dict[str, str]) -> DraftView:
    existing = find_draft(session, key)
    if existing is not None:
        raise _stale(session, key, None)
    row = StudioDraft(key=key, bpmn_xml=bpmn, forms=files, revision=1, base_version=latest_version(session, key),
                      problems=problems, decisions=decisions, created_at=now, created_by=actor, updated_at=now, updated_by=actor)
    try:
        with session.begin_nested():  # a colleague's draft begun at the same moment wins by the primary key
            session.add(row)
    except IntegrityError:
        raise _stale(session, key, None) from None
    return _view(row)


def _stale(session: Session, key: str, revision: int | None) -> DraftStale:
    current = find_draft(session, key)
    if current is None:
        return DraftStale(f"the draft of '{key}' no longer exists (it was published or discarded); "
                          "your changes were not saved: reload, then make them again")
    when = current.updated_at.isoformat(timespec="minutes")
    if revision is None:
        return DraftStale(f"a draft of '{key}' exists already (revision {current.revision}, saved by "
                          f"{current.updated_by} at {when}); open it instead of starting another")
    return DraftStale(f"the draft of '{key}' was changed meanwhile (revision {current.revision}, saved by "
                      f"{current.updated_by} at {when}; you had revision {revision}); your changes were not "
                      "saved: reload the draft, then make them again")


def delete_draft(session: Session, key: str, *, revision: object) -> None:
    """Discard (or, after publishing, remove) the draft at `revision`; DraftStale if it changed meanwhile."""
    check_key(key)
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise Invalid("revision must be the revision you read",
                      [{"field": "revision", "line": None, "message": "a whole number"}])
    gone = _rows(session.execute(delete(StudioDraft).where(StudioDraft.key == key, StudioDraft.revision == revision)
                           .execution_options(synchronize_session=False)))
    if gone != 1:
        if find_draft(session, key) is None:
            raise NotFound(f"there is no draft of '{key}'")
        raise _stale(session, key, revision)
    session.flush()


def hold(session: Session, key: str, *, revision: object) -> DraftView:
    """Take the draft at `revision` for publishing: a conditional UPDATE that holds its row to the commit.

    Two publications of one draft, or a save during a publication, meet here:
    the loser gets DraftStale. The revision is not changed.
    """
    check_key(key)
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise Invalid("revision must be the revision you read",
                      [{"field": "revision", "line": None, "message": "a whole number"}])
    held = _rows(session.execute(update(StudioDraft).where(StudioDraft.key == key, StudioDraft.revision == revision)
                           .values(revision=StudioDraft.revision)
                           .execution_options(synchronize_session=False)))
    if held != 1:
        if find_draft(session, key) is None:
            raise NotFound(f"there is no draft of '{key}'")
        raise _stale(session, key, revision)
    return get_draft(session, key)
