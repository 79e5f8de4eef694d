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
latest version does not have.

A later version may reuse an id an older one had for something else, so lines
for one old version can be wrong for another. Such lines go in a table that
names an element only that old version has (version numbers differ from one
database to the next; the diagram's content does not):

    [when_version_has.samtaler_holdt]  # only for older versions with the element samtaler_holdt
    revurdering = "revurdering_gw"

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
WHEN_HAS = "when_version_has"


@dataclass(frozen=True)
class MigrationFile:
    """A journey's migration file: lines for every older version, and lines for the versions with an element."""

    lines: dict[str, str] = field(default_factory=dict)
    when_has: dict[str, dict[str, str]] = field(default_factory=dict)  # element id -> lines

    def for_version(self, element_ids: set[str]) -> dict[str, str]:
        """The lines for an older version whose diagram has these elements (its own tables win)."""
        found = dict(self.lines)
        for marker, lines in sorted(self.when_has.items()):
            if marker in element_ids:
                found.update(lines)
        return found


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


def mapping_files(folders: list[Path]) -> dict[str, MigrationFile]:
    """Each process key's mapping, from every `*.migration.toml` under the folders; Invalid names the bad file."""
    found: dict[str, MigrationFile] = {}
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


def _read(path: Path) -> tuple[str, MigrationFile]:
    def bad(message: str) -> Invalid:
        return Invalid(f"{path}: {message}", [{"field": str(path), "message": message}])
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise bad(f"not a valid TOML file ({exc})") from None
    key, mapping = doc.get("process"), doc.get("mapping", {})
    if not isinstance(key, str) or not key.strip():
        raise bad('needs process = "<the process key>"')
    if not _lines(mapping):
        raise bad("[mapping] must hold lines of the form old_element_id = \"new_element_id\"")
    when_has = doc.get(WHEN_HAS, {})
    if not isinstance(when_has, dict):
        raise bad(f"[{WHEN_HAS}.<element id>] must be tables of lines")
    for marker, lines in when_has.items():
        if not _lines(lines):
            raise bad(f"[{WHEN_HAS}.{marker}] must hold lines of the form old_element_id = \"new_element_id\"")
    unknown = set(doc) - {"process", "mapping", WHEN_HAS}
    if unknown:
        raise bad(f"unknown entries: {', '.join(sorted(unknown))} (only process, [mapping] and [{WHEN_HAS}.<id>])")
    return key, MigrationFile(dict(mapping), {m: dict(lines) for m, lines in when_has.items()})


def _lines(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values())


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


def catch_up(session_factory: sessionmaker[Session], *, process_key: str,
             mapping: MigrationFile | dict[str, str] | None = None, actor: str, rules: CaseRules,
             dry_run: bool = False, progress: Progress | None = None) -> CaughtUp:
    """Move every running case of an older version of `process_key` onto its latest version.
    `mapping`: the journey's migration file (or plain lines for every older version)."""
    plan = mapping if isinstance(mapping, MigrationFile) else MigrationFile(dict(mapping or {}))
    with session_factory() as session:
        latest, older = versions_with_running_cases(session, process_key)
        ids = {v: element_ids(_spec_json(session, process_key, v)) for v in [*older, latest] if v is not None}
        session.rollback()
    if latest is None:
        return CaughtUp(process_key, 0)
    done = CaughtUp(process_key, latest)
    for version in older:
        lines = plan.for_version(set(ids[version]))
        plan_mapping = {old: new for old, new in lines.items() if old in ids[version] and new in ids[latest]}
        result = run_batch(session_factory, process_key=process_key, from_version=version, to_version=latest,
                           mapping=plan_mapping, dry_run=dry_run, actor=actor, rules=rules, progress=progress)
        done.batches.append((version, result))
    return done


def _spec_json(session: Session, key: str, version: int) -> str:
    return session.scalars(select(ProcessDefinition.spec_json).where(
        ProcessDefinition.key == key, ProcessDefinition.version == version)).one()
