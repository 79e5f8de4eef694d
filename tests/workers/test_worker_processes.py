"""Real worker processes against the test's database: every due timer fires exactly once.

PostgreSQL: 3 workers (`python -m workers`) and 600 due timers, one worker
killed with SIGKILL while it is working (after 150 have fired, in batches of
25, so it has finished batches and is in the middle of one) → the others pick
up its cases, none lost, none fired twice (counted in the audit trail). What
is proven needs one kill mid-batch and enough timers after it for the others
to take over the killed worker's claims, not thousands: the same with 10,000
timers is a row of `make bench` (bench/worker_rows.py), where it measures
throughput. One worker (`tovholder worker`; SQLite runs a single worker) and 250 timers, stopped
with SIGTERM midway (after 100; it finishes the case in hand and exits 0) and restarted,
plus cases whose timer fails on every attempt → incidents after the retries.

The timers are created already due (an hour ago), so the workers run on the
real clock; the test only polls the database while the processes work.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent, Case, Incident
from tests import factories as f
from tests.conftest import TEST_SECRET

from .helpers import clone_case, deploy, due_count, fired_per_case, start_waiting

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.processes, pytest.mark.xdist_group("processes")]  # one worker runs them in turn

LONG = 900  # seconds a whole run may take before the test gives up (two shared cores)


def _tovholder() -> list[str]:
    script = Path(sys.executable).parent / "tovholder"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tovholder"]


def worker_env(db, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_") and k != "DATABASE_URL"}
    env.update({"DATABASE_URL": db.url, "TOVHOLDER_SECRET_KEY": TEST_SECRET, "TOVHOLDER_WORKER_INTERVAL": "0.2",
                "TOVHOLDER_FORMS_DIR": str(f.FORMS), "TOVHOLDER_DEADLINES_FILE": str(f.DATA / "deadlines.toml")})
    env.update(extra)
    return env


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def wait_for(condition, what: str, timeout: float = LONG) -> None:
    """Poll while real processes work (no clock is being faked here)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def count(db, query) -> int:
    with db.session() as s:
        return s.scalar(query) or 0


def fired_total(db) -> int:
    return count(db, select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "timer_fired"))


def due_timers(db, n: int, *, process_key: str = "vent", data=None) -> list[str]:
    """`n` cases whose timer fell due an hour ago (one started by the engine, the rest copies of it)."""
    with db.session() as s:
        template = start_waiting(s, process_key, at=clock.now() - timedelta(hours=2), data=data)
        return [template.id, *clone_case(s, template, n - 1)]


def assert_each_fired_once(db, ids: list[str]) -> None:
    with db.session() as s:
        fired = fired_per_case(s)
        assert set(fired) == set(ids), f"{len(set(ids) - set(fired))} cases never fired"
        doubled = {k: v for k, v in fired.items() if v != 1}
        assert not doubled, f"{len(doubled)} cases fired more than once"
        assert due_count(s) == 0
        completed = s.scalar(select(func.count()).select_from(Case).where(Case.status == "completed"))
        assert completed == len(ids)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


@pytest.fixture
def timer_processes(session):
    f.add_units(session)
    deploy(session)


def test_three_workers_on_postgres_fire_each_timer_once_even_when_one_is_killed(db, tmp_path, timer_processes):
    if not db.is_postgres:
        pytest.skip("several workers need PostgreSQL's row locks; SQLite runs one worker (the next test)")
    ids = due_timers(db, 600)
    env = worker_env(db, TOVHOLDER_WORKER_BATCH="25")  # short passes, so the killed worker has logged some
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    workers = [start([sys.executable, "-m", "workers"], env, log) for log in logs]
    try:
        wait_for(lambda: fired_total(db) >= 150, "the first 150 timers")
        assert workers[0].poll() is None
        workers[0].send_signal(signal.SIGKILL)  # in the middle of its batch: it fires continuously
        assert workers[0].wait(timeout=30) == -signal.SIGKILL
        wait_for(lambda: count(db, select(func.count()).select_from(Case).where(Case.status == "running")) == 0,
                 "every case to complete")
        assert [stop(w) for w in workers[1:]] == [0, 0]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    assert_each_fired_once(db, ids)
    passes = [json.loads(line) for line in logs[0].read_text().splitlines() if line.startswith("{")]
    assert any(p.get("event") == "timers_pass" for p in passes)  # the killed worker had been firing batches
    for log in logs:
        assert f.CPR not in log.read_text() and "0101901234" not in log.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_one_worker_fires_each_timer_once_stops_gracefully_and_opens_incidents(db, tmp_path, timer_processes):
    ids = due_timers(db, 250)
    failing = due_timers(db, 3, process_key="vent_fejl", data={"antal_boern": 0})
    env = worker_env(db, TOVHOLDER_WORKER_MAX_ATTEMPTS="3", TOVHOLDER_WORKER_BACKOFF="0.2",
                     TOVHOLDER_WORKER_BATCH="20")
    port = free_port()
    running: list[subprocess.Popen] = []
    first = start([*_tovholder(), "worker", "--metrics-port", str(port)], env, tmp_path / "first.log")
    running.append(first)
    try:
        wait_for(lambda: fired_total(db) >= 100, "the first 100 timers")
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "tovholder_timers_due" in metrics and "tovholder_worker_timers_fired_total" in metrics
        assert stop(first) == 0  # SIGTERM while busy: the case in hand finishes, none is left half-done
        with db.session() as s:
            assert set(fired_per_case(s).values()) == {1}
        second = start([*_tovholder(), "worker"], env, tmp_path / "second.log")
        running.append(second)
        wait_for(lambda: count(db, select(func.count()).select_from(Incident)) == 3, "three incidents")
        wait_for(lambda: fired_total(db) >= 250, "every timer")
        assert stop(second) == 0
    finally:
        for w in running:
            if w.poll() is None:
                w.kill()
    with db.session() as s:
        assert {r.case_id: (r.kind, r.attempts, r.status) for r in s.scalars(select(Incident))} == \
            {c: ("timer", 3, "open") for c in failing}
        assert s.scalar(select(func.count()).select_from(Case).where(Case.status == "running")) == 3
        fired = fired_per_case(s)
    assert set(fired) == set(ids) and set(fired.values()) == {1}
    log = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    lines = [json.loads(line) for line in log.splitlines()]  # every line is a JSON object
    assert any(line.get("event") == "worker_stopping" for line in lines)
    assert any(line.get("event") == "timer_failed" and line["level"] == "error" for line in lines)
