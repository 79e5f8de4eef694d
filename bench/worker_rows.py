"""Rows (e): the worker. Lag from due time to fired for 10,000 timers with 1 and 3 workers
(PostgreSQL), and one worker's CPU use while nothing is due.

Each lag row: a fresh schema; one case of bench/data/vent.bpmn (start → one-hour
timer → end) is started through the engine with the clock set so its timer falls
due at a moment D a little ahead, and copied 9,999 times with bulk INSERTs
(starting 10,000 cases through SpiffWorkflow takes about a minute and is not what is
measured). The workers (`python -m workers`, real processes) start before D and
idle; the lag of a timer is its `timer_fired` audit event's time minus D. "per s"
is timers fired per second from D to the last one.

The idle row: one worker with the default interval on an empty database; its CPU
time (utime + stime from /proc/<pid>/stat) over IDLE_SECONDS after start-up.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from engine import accounts, catalog, clock, runtime
from engine.models import AuditEvent, Case, Wait, new_id

from .api_rows import PG_BASE, SECRET, migrated_pg_schema, postgres_problem
from .common import CPR, DATA, FORMS, ROOT, RULES, UNIT, Row, cpu_seconds

SCHEMA = "tovholder_bench_worker"
URL = f"{PG_BASE}?options=-csearch_path%3D{SCHEMA}"
TIMERS = 10_000
LEAD_SECONDS = 20  # D is this far ahead of the start of setup: room to create the timers and start workers
IDLE_SECONDS = 30
DEADLINE_S = 1200


def _fresh_schema():
    db_engine, factory = migrated_pg_schema(SCHEMA)
    with factory() as session:
        accounts.add_unit(session, UNIT, "Benchmark")
        catalog.deploy(session, catalog.collect_files([DATA / "vent.bpmn"]), rules=RULES, actor="bench")
        session.commit()
    return db_engine, factory


def _timers_due_at(factory, due, n: int) -> None:
    with factory() as session, clock.at(due - timedelta(hours=1)):
        template = runtime.start_case(session, process_key="bench_vent", cpr=CPR, data={}, actor=None, rules=RULES)
        session.commit()
    with factory() as session:
        row = {c.key: getattr(template, c.key) for c in Case.__table__.columns}
        waits = [{c.key: getattr(w, c.key) for c in Wait.__table__.columns}
                 for w in session.scalars(select(Wait).where(Wait.case_id == template.id))]
        events = [{c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns if c.key != "id"}
                  for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == template.id))]
        ids = [new_id() for _ in range(n - 1)]
        for start in range(0, len(ids), 2000):
            part = ids[start:start + 2000]
            session.execute(insert(Case), [{**row, "id": i, "number": None} for i in part])  # numbers are unique
            session.execute(insert(Wait), [{**w, "id": new_id(), "case_id": i} for i in part for w in waits])
            session.execute(insert(AuditEvent), [{**e, "case_id": i} for i in part for e in events])
        session.commit()


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=URL, TOVHOLDER_SECRET_KEY=SECRET, TOVHOLDER_FORMS_DIR=str(FORMS), **extra)
    return env


def _workers(count: int, env: dict, workdir: Path) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=open(workdir / f"worker{i}.log", "wb")) for i in range(count)]


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()


def _fired(factory) -> list:
    with factory() as session:
        return list(session.scalars(select(AuditEvent.at).where(AuditEvent.type == "timer_fired")))


def lag_row(key: str, workers: int, progress) -> Row:
    what = f"timer lag, due → fired, {TIMERS:,} timers, {workers} worker{'s' if workers > 1 else ''} (PostgreSQL)"
    db_engine, factory = _fresh_schema()
    due = clock.now() + timedelta(seconds=LEAD_SECONDS)
    _timers_due_at(factory, due, TIMERS)
    ready = clock.now()
    with tempfile.TemporaryDirectory() as tmp:
        procs = _workers(workers, _env(TOVHOLDER_WORKER_INTERVAL="0.5"), Path(tmp))
        deadline = time.monotonic() + DEADLINE_S
        try:
            while len(_fired(factory)) < TIMERS and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            _stop(procs)
    fired = sorted(clock.as_utc(at) for at in _fired(factory))
    db_engine.dispose()
    lags = [max((at - due).total_seconds(), 0.0) for at in fired]
    note = f"setup done {(due - ready).total_seconds():.0f} s before due" if ready < due else "setup ran past due"
    if len(fired) < TIMERS:
        note += f"; only {len(fired)} fired within {DEADLINE_S} s"
    progress(f"{what}: last fired {lags[-1]:.1f} s after due" if lags else f"{what}: none fired")
    return Row(key, what, lags, wall=lags[-1] if lags else None, note=note)


def idle_row(key: str, progress) -> Row:
    what = f"worker CPU while nothing is due, {IDLE_SECONDS} s (PostgreSQL, default 5 s interval)"
    db_engine, _factory = _fresh_schema()
    with tempfile.TemporaryDirectory() as tmp:
        [proc] = _workers(1, _env(), Path(tmp))
        try:
            time.sleep(5)  # imports and the first pass
            before, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(IDLE_SECONDS)
            used, elapsed = cpu_seconds(proc.pid) - before, time.monotonic() - t0
        finally:
            _stop([proc])
    db_engine.dispose()
    percent = 100 * used / elapsed
    progress(f"{what}: {used:.2f} s CPU ({percent:.2f} % of one core)")
    return Row(key, what, note=f"{used:.2f} s CPU in {elapsed:.0f} s = {percent:.2f} % of one core")


def run(progress=lambda _m: None) -> list[Row]:
    problem = postgres_problem()
    if problem:
        return [Row(k, w, skipped=f"PostgreSQL unavailable: {problem}")
                for k, w in (("e1", "timer lag, 1 worker"), ("e2", "timer lag, 3 workers"), ("e3", "worker idle CPU"))]
    return [lag_row("e1", 1, progress), lag_row("e2", 3, progress), idle_row("e3", progress)]


if __name__ == "__main__":  # `python -m bench.worker_rows`: only these rows, printed
    from .report import table
    print(table(run(lambda m: print(f"bench: {m}", file=sys.stderr, flush=True))))
