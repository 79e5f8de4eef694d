"""What month partitions of the task table cost the hot reads (migration 0024; figures in docs/scale.md).

`python -m bench.task_partitions [TASKS] [MONTHS]` makes a database of its own
(`bench_task_partitions`, dropped at the end), migrates it to 0023 (the task
table plain), fills it with TASKS task rows created evenly over the last
MONTHS months (default 1,000,000 over 120: ten years' partitions, the most a
running installation keeps), and times what the engine runs on every request
or mutation, first on the plain table, then after migration 0024 has made one
partition per month (the upgrade itself is timed too, and the downgrade):

- a task by id (engine.inbox.get_task: every task page, claim and completion);
- a task id that does not exist (engine.projections asks for each new ready task);
- a case's open tasks (engine.projections on every mutation);
- a caseworker's inbox page of 50 for one unit (engine.inbox.list_tasks).

Open tasks: one in five of the last 60 days' tasks, one in two thousand of the
older ones (a years-long case's step). Rows are written in one INSERT … SELECT
with the foreign-key triggers off (one case row per eight tasks, with no
process definition behind it). Not part of `make bench`: run it by hand when the partitioning changes.
Transaction rule: each timed call runs in a session that only reads.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timezone

from sqlalchemy import select, text

from engine import clock, inbox, migrate
from engine.accounts import UserView
from engine.db import make_db_engine, make_session_factory
from engine.models import HumanTask
from engine.statuses import OPEN_TASK_STATES

from .volume_rows import _admin

DATABASE = "bench_task_partitions"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
NOW = datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
UNITS = ("sdp", "jobcenter", "ydelsesservice", "sof", "virksomhedsservice")
CASEWORKER = UserView(id="probe", username="probe-cw", role="caseworker", units=frozenset({"sdp"}))
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


def fill(factory, tasks: int, months: int) -> None:
    with factory() as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("SELECT setseed(0.16)"))
        session.execute(text(CASES), {"now": NOW, "n": tasks})
        session.execute(text(FILL), {"units": list(UNITS), "now": NOW, "n": tasks, "months": months})
        session.commit()
    analyze(factory)


def analyze(factory) -> None:
    with factory() as session:
        session.execute(text("ANALYZE human_tasks"))
        session.commit()


def _ms(factory, call, arguments: list) -> float:
    """The median of calls over `arguments`, each in a fresh session (nothing from the identity map)."""
    timings = []
    for argument in arguments:
        with factory() as session:
            started = time.perf_counter()
            call(session, argument)
            timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def _page(session, _argument) -> list:
    return inbox.list_tasks(session, CASEWORKER, unit="sdp", open_only=True, limit=50)


def measure(factory, repeat: int = REPEAT) -> dict[str, float]:
    """Median milliseconds of each hot call, over `repeat` different tasks or cases."""
    with factory() as session:
        ids = list(session.scalars(select(HumanTask.id).where(HumanTask.unit == "sdp")
                                   .order_by(text("random()")).limit(repeat)))
        cases = list(session.scalars(select(HumanTask.case_id).where(HumanTask.status.in_(OPEN_TASK_STATES))
                                     .order_by(text("random()")).limit(repeat)))
    missing = [f"ffffffff-0000-4000-8000-{n:012x}" for n in range(repeat)]
    _ms(factory, _page, [None] * 20)  # warm
    return {
        "task by id": _ms(factory, lambda s, task_id: inbox.get_task(s, task_id, CASEWORKER), ids),
        "task id that does not exist": _ms(factory, lambda s, task_id: s.get(HumanTask, task_id), missing),
        "a case's open tasks": _ms(factory, lambda s, case_id: list(s.scalars(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.status.in_(OPEN_TASK_STATES)))), cases),
        "inbox page of 50, one unit": _ms(factory, _page, [None] * repeat),
    }


def counts(factory) -> tuple[int, int, int]:
    with factory() as session:
        return (session.scalar(text("SELECT count(*) FROM human_tasks")),
                session.scalar(text("SELECT count(*) FROM human_tasks WHERE status IN ('open', 'claimed')")),
                session.scalar(text("SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('human_tasks')")))


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
        plain = measure(factory)
        db_engine.dispose()
        started = time.perf_counter()
        migrate.upgrade(URL, "0024")
        up = time.perf_counter() - started
        analyze(factory)
        rows_after, _, parts = counts(factory)
        say(f"migration 0024 (partition and copy): {up:.1f} s; {rows_after:,} rows in {parts} partitions")
        monthly = measure(factory)
        db_engine.dispose()
        started = time.perf_counter()
        migrate.downgrade(URL, "0023")
        say(f"downgrade to 0023 (copy back): {time.perf_counter() - started:.1f} s; "
            f"{counts(factory)[0]:,} rows")
        db_engine.dispose()
        say("")
        say(f"| median of {REPEAT} calls, ms | plain table | {parts} partitions | ratio |")
        say("|---|---:|---:|---:|")
        for what, ms in plain.items():
            say(f"| {what} | {ms:.2f} | {monthly[what]:.2f} | {monthly[what] / ms:.1f}× |")
    finally:
        _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    with clock.at(NOW):
        run(int(arguments[0]) if arguments else 1_000_000, int(arguments[1]) if len(arguments) > 1 else 120)
