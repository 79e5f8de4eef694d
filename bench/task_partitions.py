"""What partitions of the task table cost the hot reads (migrations 0024 and 0025; figures in docs/scale.md).

`python -m bench.task_partitions [TASKS] [MONTHS]` makes a database of its own
(`bench_task_partitions`, dropped at the end), migrates it to 0023 (the task
table plain), fills it with TASKS task rows created evenly over the last
MONTHS months (default 1,000,000 over 120: ten years' partitions, the most a
running installation keeps), and times the statements the engine sends on
every request or mutation: on the plain table, after migration 0024 (one
partition per month), and after 0025 (a live partition, the archive by
month; the statements then name `archived = false`, as the engine does). The
upgrades and the downgrade are timed too.

- a live task by id (engine.inbox.get_task: every task page, claim and completion);
- a task id that does not exist (engine.projections asks for each new ready task);
- a case's open tasks (engine.projections on every mutation);
- a caseworker's inbox page of 50 for one unit (engine.inbox.list_tasks' open queue).

Open tasks: one in five of the last 60 days' tasks, one in two thousand of the
older ones (a years-long case's step). A case (eight tasks) with no open task
is closed five days after its last task began, so 0025 archives the cases
closed more than 90 days ago. Rows are written in one INSERT … SELECT with the
foreign-key triggers off (no process definition behind them). Not part of
`make bench`: run it by hand when the partitioning changes.
Transaction rule: each timed call runs in a session that only reads.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timezone

from sqlalchemy import select, text

from engine import clock, migrate
from engine.db import make_db_engine, make_session_factory
from engine.models import HumanTask
from engine.statuses import OPEN_TASK_STATES

from .volume_rows import _admin

DATABASE = "bench_task_partitions"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
NOW = datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
UNITS = ("sdp", "jobcenter", "ydelsesservice", "sof", "virksomhedsservice")
REPEAT = 200

CASES = """
INSERT INTO cases (id, definition_id, process_key, version, citizen_id, status, state_json, data, lock_version,
                   audit_seq, created_at, updated_at, started_by)
SELECT 'ca5e0000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'), 'probe', 'probe', 1, 'probe', 'running', '{}', '{}', 0, 0,
       :now, :now, 'probe'
FROM generate_series(0, :n / 8) c
"""
FILL = """
INSERT INTO human_tasks (id, case_id, process_key, process_version, element_id, name, unit, status,
                         created_at, due_at, completed_at, completed_by)
SELECT 'ta5c0000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'ca5e0000-0000-4000-8000-' || lpad(to_hex(i / 8), 12, '0'),
       'probe', 1, 'step', 'Opgave', (CAST(:units AS text[]))[1 + i % 5], CASE WHEN o THEN 'open' ELSE 'completed' END,
       created, created + interval '21 days', CASE WHEN NOT o THEN created + interval '5 days' END,
       CASE WHEN NOT o THEN 'cw' END
FROM (SELECT i, created, random() < CASE WHEN created > CAST(:now AS timestamptz) - interval '60 days' THEN 0.2
                                         ELSE 0.0005 END AS o
      FROM (SELECT i, CAST(:now AS timestamptz) - make_interval(secs => (i::float / :n) * :months * 30.436875 * 86400)
                      AS created
            FROM generate_series(1, :n) i) t) r
ORDER BY i
"""


CLOSE_CASES = """
UPDATE cases SET status = 'completed',
       completed_at = (SELECT max(t.created_at) + interval '5 days' FROM human_tasks t WHERE t.case_id = cases.id)
WHERE NOT EXISTS (SELECT 1 FROM human_tasks t WHERE t.case_id = cases.id AND t.status IN ('open', 'claimed'))
"""


def fill(factory, tasks: int, months: int) -> None:
    with factory() as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("SELECT setseed(0.16)"))
        session.execute(text(CASES), {"now": NOW, "n": tasks})
        session.execute(text(FILL), {"units": list(UNITS), "now": NOW, "n": tasks, "months": months})
        session.execute(text(CLOSE_CASES))  # a case with no open task has closed: 0025 archives the old ones
        session.commit()
    analyze(factory)


def analyze(factory) -> None:
    with factory() as session:
        session.execute(text("ANALYZE human_tasks"))
        session.commit()


def _ms(factory, statement: str, arguments: list) -> float:
    """The median of one statement over `arguments`, each in a fresh session (a new transaction)."""
    timings = []
    query = text(statement)
    for argument in arguments:
        with factory() as session:
            started = time.perf_counter()
            session.execute(query, {"x": argument}).all()
            timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


# The statements the engine sends for each hot read (engine.inbox.get_task, engine.projections, engine.inbox.
# list_tasks), as SQL of their own: the engine of this commit names `archived`, which the schemas before
# 0025 do not have. LIVE is the condition from 0025 on (engine.models.LIVE_TASK); before it, nothing.
READS = {
    "a live task by id": "SELECT * FROM human_tasks WHERE id = :x{live}",
    "a task id that does not exist": "SELECT * FROM human_tasks WHERE id = :x{live}",
    "a case's open tasks": "SELECT * FROM human_tasks WHERE case_id = :x AND status IN ('open', 'claimed'){live}",
    "inbox page of 50, one unit": ("SELECT * FROM human_tasks WHERE status IN ('open', 'claimed'){live} "
                                   "AND unit = 'sdp' AND audience IS NULL AND CAST(:x AS text) IS NULL "
                                   "ORDER BY due_at IS NULL, due_at, created_at, id LIMIT 50"),
}
LIVE = " AND archived = false"


def measure(factory, *, live: bool, repeat: int = REPEAT) -> dict[str, float]:
    """Median milliseconds of each hot read, over `repeat` different tasks or cases."""
    with factory() as session:
        ids = list(session.scalars(text(
            "SELECT t.id FROM human_tasks t JOIN cases c ON c.id = t.case_id WHERE c.status = 'running' "
            "AND t.unit = 'sdp' ORDER BY random() LIMIT :n"), {"n": repeat}))
        cases = list(session.scalars(select(HumanTask.case_id).where(HumanTask.status.in_(OPEN_TASK_STATES))
                                     .order_by(text("random()")).limit(repeat)))
    missing = [f"ffffffff-0000-4000-8000-{n:012x}" for n in range(repeat)]
    arguments = {"a live task by id": ids, "a task id that does not exist": missing, "a case's open tasks": cases,
                 "inbox page of 50, one unit": [None] * repeat}
    _ms(factory, READS["inbox page of 50, one unit"].format(live=""), [None] * 20)  # warm
    return {what: _ms(factory, sql.format(live=LIVE if live else ""), arguments[what]) for what, sql in READS.items()}


def counts(factory) -> tuple[int, int, int]:
    with factory() as session:
        return (session.scalar(text("SELECT count(*) FROM human_tasks")),
                session.scalar(text("SELECT count(*) FROM human_tasks WHERE status IN ('open', 'claimed')")),
                session.scalar(text("SELECT count(*) FROM pg_partition_tree('human_tasks') WHERE isleaf")) or 0)


def _live_rows(factory) -> int:
    with factory() as session:
        return session.scalar(text("SELECT count(*) FROM human_tasks WHERE archived = false"))


def _upgrade(db_engine, factory, revision: str) -> tuple[float, int, int]:
    """Migrate to `revision` (pooled connections closed first): seconds it took, then rows and leaf partitions."""
    db_engine.dispose()
    started = time.perf_counter()
    migrate.upgrade(URL, revision)
    took = time.perf_counter() - started
    analyze(factory)
    rows, _, parts = counts(factory)
    return took, rows, parts


def run(tasks: int, months: int, say=print) -> None:
    _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DATABASE}")
    try:
        migrate.upgrade(URL, "0023")
        db_engine = make_db_engine(URL)
        factory = make_session_factory(db_engine)
        started = time.perf_counter()
        fill(factory, tasks, months)
        rows, open_rows, _ = counts(factory)
        say(f"{rows:,} task rows ({open_rows:,} open) over {months} months, made in "
            f"{time.perf_counter() - started:.0f} s")
        plain = measure(factory, live=False)
        up, rows_after, parts = _upgrade(db_engine, factory, "0024")
        say(f"migration 0024 (partition by month and copy): {up:.1f} s; {rows_after:,} rows in {parts} partitions")
        monthly = measure(factory, live=False)
        up, rows_after, parts_live = _upgrade(db_engine, factory, "0025")
        say(f"migration 0025 (live partition, archive by month, copy): {up:.1f} s; {rows_after:,} rows, "
            f"{_live_rows(factory):,} of them live, in {parts_live} partitions")
        live = measure(factory, live=True)
        db_engine.dispose()
        started = time.perf_counter()
        migrate.downgrade(URL, "0023")
        say(f"downgrade to 0023 (copy back twice): {time.perf_counter() - started:.1f} s; "
            f"{counts(factory)[0]:,} rows")
        db_engine.dispose()
        say("")
        say(f"| median of {REPEAT} calls, ms | plain table (0023) | {parts} month partitions (0024) | "
            f"live + {parts_live - 1} archive partitions (0025) | 0025 / plain |")
        say("|---|---:|---:|---:|---:|")
        for what, ms in plain.items():
            say(f"| {what} | {ms:.2f} | {monthly[what]:.2f} | {live[what]:.2f} | {live[what] / ms:.1f}× |")
    finally:
        _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    with clock.at(NOW):
        run(int(arguments[0]) if arguments else 1_000_000, int(arguments[1]) if len(arguments) > 1 else 120)
