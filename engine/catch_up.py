"""Catching running cases up with a journey's latest version after a deploy.

When a new version of a journey is deployed (`tovholder demo`, `tovholder
deploy --migrate-running`), the cases still running on older versions are moved
onto the latest one, version by version, through engine.migration_batch — the
same plan, checks, per-case transactions, audit event (`case_migrated`) and
`migration_runs` record as `tovholder migrate` and `POST /api/migrations`. A case
that cannot move safely is refused, left exactly as it was, and reported; it
keeps running on its version.

What the plan maps comes from the journey's migration file beside its diagram,
`<name>.migration.toml`, written by the process owner (no Python):

    process = "kontanthjaelp"          # the process key it is for
    [mapping]                          # old element id = new element id
    sof_henvisning_efter_afgoerelse = "sof_henvisning"

Elements with the same id in both versions need no line. A line whose old id
is not in a particular older version is left out of that version's plan (a
mapping file accumulates lines over the years), as is a line whose new id the
latest version does not have. Lines that hold only for the cases of one older
version go in a table of their own, `[from_version.<n>]` (n as this database
numbers the versions): version 1's `jobsamtale` became version 2's
`jobsamtale_1`, while version 2's own `jobsamtale` (another step) must stay
itself when its cases move on. `mapping_files` gives such a line as
`"<n>:<old id>"` (an element id has no colon); `catch_up` uses it for version n
only, over a [mapping] line for the same id.

Transactions: reading the files and the versions uses a short read-only session;
each case is then its own transaction (engine.migration_batch).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .case_rules import CaseRules
from .errors import Invalid
from .migration import element_ids
from .migration_batch import BatchResult, Progress, run_batch
from .models import Case, ProcessDefinition

SUFFIX = ".migration.toml"


@dataclass
class CaughtUp:
    """What moving one process's running cases onto its latest version did, per older version."""

    process_key: str
    to_version: int
    batches: list[tuple[int, BatchResult]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for version, result in self.batches:
            out.append(f"{self.process_key}: {len(result.migrated)} running case(s) moved from version {version} "
                       f"to {self.to_version}, {len(result.refused)} refused")
            out.extend(f"  refused {r['case_id']}: {r['reason']}" for r in result.refused)
        return out


def mapping_files(folders: list[Path]) -> dict[str, dict[str, str]]:
    """Each process key's mapping, from every `*.migration.toml` under the folders; Invalid names the bad file."""
    found: dict[str, dict[str, str]] = {}
    for folder in folders:
        if not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob(f"*{SUFFIX}")):
            key, mapping = _read(path)
            if key in found:
                raise Invalid(f"{path}: a second migration file for process '{key}'",
                              [{"field": str(path), "message": f"process '{key}' already has a migration file"}])
            found[key] = mapping
    return found


def _read(path: Path) -> tuple[str, dict[str, str]]:
    def bad(message: str) -> Invalid:
        return Invalid(f"{path}: {message}", [{"field": str(path), "message": message}])
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise bad(f"not a valid TOML file ({exc})") from None
    key, mapping = doc.get("process"), doc.get("mapping", {})
    if not isinstance(key, str) or not key.strip():
        raise bad('needs process = "<the process key>"')
    if not isinstance(mapping, dict) or not all(isinstance(v, str) and v for v in mapping.values()):
        raise bad("[mapping] must hold lines of the form old_element_id = \"new_element_id\"")
    unknown = set(doc) - {"process", "mapping", "from_version"}
    if unknown:
        raise bad(f"unknown entries: {', '.join(sorted(unknown))} (only process, [mapping] and [from_version.<n>])")
    lines = dict(mapping)
    scoped = doc.get("from_version", {})
    for version, table in (scoped.items() if isinstance(scoped, dict) else [("?", None)]):
        if not version.isdigit() or not isinstance(table, dict) or \
                not all(isinstance(v, str) and v for v in table.values()):
            raise bad("[from_version.<n>] (n a version number) must hold lines old_element_id = \"new_element_id\"")
        lines.update({f"{int(version)}:{old}": new for old, new in table.items()})
    return key, lines


def versions_with_running_cases(session: Session, key: str) -> tuple[int | None, list[int]]:
    """The latest version of `key`, and the older versions that still have running cases (oldest first)."""
    latest = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))
    if latest is None:
        return None, []
    older = session.scalars(
        select(ProcessDefinition.version).join(Case, Case.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == key, ProcessDefinition.version < latest, Case.status == "running")
        .distinct().order_by(ProcessDefinition.version))
    return latest, list(older)


def catch_up(session_factory: sessionmaker[Session], *, process_key: str, mapping: dict[str, str] | None = None,
             actor: str, rules: CaseRules, dry_run: bool = False,
             progress: Progress | None = None) -> CaughtUp:
    """Move every running case of an older version of `process_key` onto its latest version."""
    mapping = mapping or {}
    with session_factory() as session:
        latest, older = versions_with_running_cases(session, process_key)
        ids = {v: element_ids(_spec_json(session, process_key, v)) for v in [*older, latest] if v is not None}
        session.rollback()
    if latest is None:
        return CaughtUp(process_key, 0)
    done = CaughtUp(process_key, latest)
    for version in older:
        lines = {old: new for old, new in mapping.items() if ":" not in old}
        lines.update({old.split(":", 1)[1]: new for old, new in mapping.items() if old.split(":", 1)[0] == str(version)})
        plan_mapping = {old: new for old, new in lines.items() if old in ids[version] and new in ids[latest]}
        result = run_batch(session_factory, process_key=process_key, from_version=version, to_version=latest,
                           mapping=plan_mapping, dry_run=dry_run, actor=actor, rules=rules, progress=progress)
        done.batches.append((version, result))
    return done


def _spec_json(session: Session, key: str, version: int) -> str:
    return session.scalars(select(ProcessDefinition.spec_json).where(
        ProcessDefinition.key == key, ProcessDefinition.version == version)).one()
