"""Rows h and i: reports and the inbox over a municipality's history (PostgreSQL, bench.volume_data).

A database of its own (`bench_volume`, created at the start and dropped at
the end: never the test suite's `test`) is filled twice by the same
generator: first with 10,000 task rows, then, empty again, with 1,000,000
task rows and about 10 million audit events (24 months, five units, four
journeys; see bench/volume_data.py). The clock stands at NOW, in the middle
of a month, throughout.

- j1–j5: the reports of engine/reports.py as GET /api/reports/steps and
  /cases compute them (in-process: the HTTP layer adds the same milliseconds
  at any volume): the current month for an auditor (every unit), the same for
  a team lead of one unit, and the last twelve months split by month.
  Goal: each within 2 s.
- k1, k2: a caseworker's inbox page for their unit (engine.inbox.list_tasks:
  open and claimed tasks, soonest due first, 50 to a page; what the web
  inbox and GET /api/tasks?unit= run), at 10,000 and at 1,000,000 rows; k3 the
  web inbox's tab count for the same unit. Goal: k2 within 2× k1.

With `plans=True` every statement the rows ran once is explained (EXPLAIN
ANALYZE, BUFFERS) into var/bench/volume_plans.txt, for docs/performance.md.
"""
from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timezone

import psycopg
from sqlalchemy import event

from engine import accounts, clock, inbox, migrate, reports
from engine.db import make_db_engine, make_session_factory

from .common import BENCH_AUDIT_KEY, ROOT, Row
from .volume_data import Generated, analyze, generate

DATABASE = "bench_volume"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
NOW = datetime(2026, 11, 17, 10, tzinfo=timezone.utc)
BIG, SMALL = 1_000_000, 10_000
INBOX_UNIT = "sdp"
PAGE = 50
PLANS = ROOT / "var" / "bench" / "volume_plans.txt"


def _admin(sql: str) -> None:
    with psycopg.connect(host="127.0.0.1", port=5432, dbname="postgres", user="postgres", autocommit=True,
                         connect_timeout=5) as conn:
        conn.execute(sql)


def fresh_database() -> None:
    _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DATABASE}")
    migrate.upgrade(URL)


def drop_database() -> None:
    _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def fill(factory, tasks: int) -> Generated:
    """The generated history, committed, with fresh statistics; and the bench's three users."""
    with factory() as session:
        generated = generate(session.connection(), tasks=tasks, now=NOW)
        session.commit()
    with factory() as session:
        analyze(session.connection())
        session.commit()
    return generated


def bench_users(factory) -> dict:
    with factory() as session:
        found = {"auditor": accounts.add_user(session, "bench-auditor", role="auditor", password="bench-not-secret-1"),
                 "teamlead": accounts.add_user(session, "bench-teamlead", role="teamlead",
                                               password="bench-not-secret-1", units=[INBOX_UNIT]),
                 "caseworker": accounts.add_user(session, "bench-cw", role="caseworker",
                                                 password="bench-not-secret-1", units=[INBOX_UNIT])}
        session.commit()
    return found


def inbox_page(session, user) -> list:
    return inbox.list_tasks(session, user, unit=INBOX_UNIT, open_only=True, limit=PAGE)


def inbox_count(session, user) -> int:
    return inbox.count_tasks(session, user, unit=INBOX_UNIT, open_only=True)


def report_calls(session, users) -> dict[str, Callable[[], object]]:
    """What each h row runs: the report endpoints' engine calls, with their period checked as the API does."""
    today = NOW.date()
    month_start, year_start = today.replace(day=1), date(today.year - 1, today.month + 1, 1) if today.month < 12 \
        else date(today.year, 1, 1)

    def steps(user, **kw) -> Callable[[], object]:
        return lambda: reports.step_rows(session, reports.period_for(session, user, unit=None, process_key=None, **kw))

    def cases(user, **kw) -> Callable[[], object]:
        return lambda: reports.case_rows(session, reports.period_for(session, user, unit=None, process_key=None, **kw))

    return {
        "j1": steps(users["auditor"], from_date=month_start, to_date=None),
        "j2": cases(users["auditor"], from_date=month_start, to_date=None),
        "j3": steps(users["teamlead"], from_date=month_start, to_date=None),
        "j4": steps(users["auditor"], from_date=year_start, to_date=today, by="month"),
        "j5": cases(users["auditor"], from_date=year_start, to_date=today, by="month"),
    }


REPORT_WHAT = {
    "j1": "steps report, this month, every unit (auditor)",
    "j2": "cases report, this month, every journey (auditor)",
    "j3": "steps report, this month, one unit (team lead)",
    "j4": "steps report, 12 months by month (auditor)",
    "j5": "cases report, 12 months by month (auditor)",
}


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    call()  # warm: the first call pays for the cache of a cold table
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


class Recorder:
    """Every statement a block runs, with its parameters, to explain afterwards."""

    def __init__(self, db_engine) -> None:
        self.db_engine, self.statements = db_engine, []

    def __enter__(self):
        event.listen(self.db_engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.db_engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))


def explain(db_engine, title: str, statements) -> str:
    out = []
    with db_engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for i, (statement, parameters) in enumerate(statements, 1):
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(r[0] for r in cursor.fetchall())
            out.append(f"-- {title}, statement {i}\n{statement}\n-- parameters: {parameters}\n{plan}\n")
        raw.rollback()
    return "\n".join(out)


def _median_ms(timings: list[float]) -> float:
    return 1000 * statistics.median(timings)


def run(progress=lambda _m: None, *, big: int = BIG, small: int = SMALL, repeat: int = 5,
        plans: bool = True) -> list[Row]:
    from .api_rows import postgres_problem
    problem = postgres_problem()
    if problem:
        return [Row(k, w, skipped=f"PostgreSQL unavailable: {problem}") for k, w in REPORT_WHAT.items()]
    written: list[str] = []
    try:
        with clock.at(NOW):
            return _run(progress, big, small, repeat, written if plans else None)
    finally:
        drop_database()
        if plans and written:
            PLANS.parent.mkdir(parents=True, exist_ok=True)
            PLANS.write_text("\n".join(written), encoding="utf-8")
            progress(f"query plans written to {PLANS.relative_to(ROOT)}")


def _scale(progress, tasks: int):
    fresh_database()
    db_engine = make_db_engine(URL)
    factory = make_session_factory(db_engine, audit_key=BENCH_AUDIT_KEY)
    started = time.perf_counter()
    generated = fill(factory, tasks)
    progress(f"  generated {generated.tasks:,} task rows ({generated.open_tasks:,} open), {generated.cases:,} cases,"
             f" {generated.audit_events:,} audit events in {time.perf_counter() - started:.0f} s")
    return db_engine, factory, generated, bench_users(factory)


def _run(progress, big: int, small: int, repeat: int, written: list[str] | None) -> list[Row]:
    progress(f"(i) inbox at {small:,} task rows ...")
    db_engine, factory, few, users = _scale(progress, small)
    with factory() as session:
        small_page = timed(lambda: inbox_page(session, users["caseworker"]), repeat * 4)
        small_count = timed(lambda: inbox_count(session, users["caseworker"]), repeat * 4)
        if written is not None:
            with Recorder(db_engine) as rec:
                inbox_page(session, users["caseworker"])
            written.append(explain(db_engine, f"inbox page, {few.tasks:,} task rows", rec.statements))
    db_engine.dispose()

    progress(f"(h, i) reports and inbox at {big:,} task rows ...")
    db_engine, factory, many, users = _scale(progress, big)
    rows: list[Row] = []
    with factory() as session:
        big_page = timed(lambda: inbox_page(session, users["caseworker"]), repeat * 4)
        big_count = timed(lambda: inbox_count(session, users["caseworker"]), repeat * 4)
        size = f"{many.tasks:,} task rows, {many.audit_events:,} audit events"
        for key, call in report_calls(session, users).items():
            timings = timed(call, repeat)
            rows.append(Row(key, f"{REPORT_WHAT[key]}, {size}", timings,
                            note=f"goal ≤ 2 s: {'met' if max(timings) <= 2 else 'NOT met'} (slowest"
                                 f" {max(timings):.2f} s)"))
            progress(f"  {key}: median {_median_ms(timings):.0f} ms")
        if written is not None:
            with Recorder(db_engine) as rec:
                inbox_page(session, users["caseworker"])
            written.append(explain(db_engine, f"inbox page, {many.tasks:,} task rows", rec.statements))
            for key, call in report_calls(session, users).items():
                if key in ("j1", "j2"):
                    with Recorder(db_engine) as rec:
                        call()
                    written.append(explain(db_engine, f"{key} {REPORT_WHAT[key]}", rec.statements))
    db_engine.dispose()
    ratio = _median_ms(big_page) / _median_ms(small_page)
    count_ratio = _median_ms(big_count) / _median_ms(small_count)
    rows += [
        Row("k1", f"inbox page of {PAGE}, unit {INBOX_UNIT}, {few.tasks:,} task rows ({few.open_tasks:,} open)",
            small_page),
        Row("k2", f"inbox page of {PAGE}, unit {INBOX_UNIT}, {many.tasks:,} task rows ({many.open_tasks:,} open)",
            big_page, note=f"{ratio:.2f}× k1 (goal ≤ 2×: {'met' if ratio <= 2 else 'NOT met'})"),
        Row("k3", f"inbox tab count, unit {INBOX_UNIT}, {many.tasks:,} task rows", big_count,
            note=f"{count_ratio:.1f}× the same count at {few.tasks:,} rows (it counts every open task)"),
    ]
    return rows


if __name__ == "__main__":  # `python -m bench.volume_rows`: only these rows, with the machine, printed
    from .machine import describe
    from .report import table
    machine = describe()
    started = time.perf_counter()
    args = sys.argv[1:]
    result = run(lambda m: print(f"bench: {m}", file=sys.stderr, flush=True),
                 big=int(args[0]) if args else BIG)
    print("\n".join(f"- {line}" for line in machine) + f"\n- Whole run: {time.perf_counter() - started:.0f} s\n")
    print(table(result))

