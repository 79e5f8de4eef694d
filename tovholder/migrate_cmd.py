"""`tovholder migrate KEY --from A --to B [--map OLD=NEW …] [--case ID …] [--dry-run]`.

The edge for a migration batch from the shell: engine.migration_batch commits one
transaction per case. Progress goes to stderr — a bar that redraws itself on a
terminal, a line every tenth of the way otherwise — for batches of at least
PROGRESS_FROM cases or whenever stderr is a terminal; the summary goes to stdout:
how many moved (or would, in a dry run), then each refused case with its reason.
The exit status is 0 when the batch ran, whatever it refused; bad input exits 1
with the reason, as every command does.
"""
from __future__ import annotations

import sys
import time

from engine.case_rules import rules_from_settings
from engine.db import make_db_engine, make_session_factory
from engine.migration_batch import run_batch

PROGRESS_FROM = 200
BAR = 30


class CliInputError(Exception):
    pass


def add_parser(sub) -> None:
    migrate = sub.add_parser("migrate", help="move running cases of a process to another version")
    migrate.add_argument("key", help="the process key")
    migrate.add_argument("--from", dest="from_version", type=int, required=True, metavar="A",
                         help="the version the cases run on now")
    migrate.add_argument("--to", dest="to_version", type=int, required=True, metavar="B",
                         help="the version to move them to")
    migrate.add_argument("--map", dest="mapping", action="append", default=[], metavar="OLD=NEW",
                         help="an element of version A that version B calls by another id (repeat)")
    migrate.add_argument("--case", dest="case_ids", action="append", metavar="ID",
                         help="only this case (repeat); without it every running case of version A")
    migrate.add_argument("--dry-run", action="store_true", help="say what would happen; change nothing")
    migrate.set_defaults(func=cmd_migrate)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CliInputError(f"--map '{pair}': write it as OLD_ELEMENT_ID=NEW_ELEMENT_ID")
        if old.strip() in mapping:
            raise CliInputError(f"--map names '{old.strip()}' twice")
        mapping[old.strip()] = new.strip()
    return mapping


class ProgressBar:
    """Cases done so far, to stderr: redrawn in place on a terminal, a line per tenth otherwise."""

    def __init__(self, stream=sys.stderr, *, force: bool = False):
        self.stream, self.tty, self.force = stream, stream.isatty(), force
        self.started, self.last_tenth = time.monotonic(), -1

    def __call__(self, done: int, total: int) -> None:
        if not (self.tty or self.force or total >= PROGRESS_FROM):
            return
        rate = done / max(time.monotonic() - self.started, 1e-9)
        text = f"{done}/{total} cases ({100 * done // total} %), {rate:.0f}/s"
        if self.tty:
            filled = BAR * done // total
            self.stream.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {text}")
            if done == total:
                self.stream.write("\n")
        elif (tenth := 10 * done // total) != self.last_tenth:
            self.last_tenth = tenth
            self.stream.write(f"migrating: {text}\n")
        self.stream.flush()


def cmd_migrate(settings, args) -> None:
    mapping = parse_mapping(args.mapping)
    db_engine = make_db_engine(settings.database_url)
    try:
        result = run_batch(make_session_factory(db_engine, audit_key=settings.audit_key), process_key=args.key, from_version=args.from_version,
                           to_version=args.to_version, mapping=mapping, case_ids=args.case_ids,
                           dry_run=args.dry_run, actor="cli", rules=rules_from_settings(settings),
                           progress=ProgressBar())
    finally:
        db_engine.dispose()
    print(summary(result, args))


def summary(result, args) -> str:
    verb = "would be migrated" if result.dry_run else "migrated"
    head = (f"{args.key} version {args.from_version} → {args.to_version}"
            f"{' (dry run: nothing was changed)' if result.dry_run else ''}: "
            f"{len(result.migrated)} case(s) {verb}, {len(result.refused)} refused")
    lines = [head] + [f"  refused {r['case_id']}: {r['reason']}" for r in result.refused]
    return "\n".join(lines)
