"""The worker's health and metrics port, its JSON log lines, and the numbers an operator watches."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from engine import monitoring as operations
from tests import factories as f
from workers.jsonlog import JsonFormatter
from workers.ops import WorkerMetrics, serve
from workers.timers import TimerRun

from .helpers import deploy, start_waiting

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def ops(db):
    servers = []

    def start(stale_after: float = 60.0):
        metrics = WorkerMetrics(db.session_factory)
        server = serve(0, metrics=metrics, db_engine=db.engine, stale_after=stale_after, host="127.0.0.1")
        servers.append(server)
        return metrics, f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_health_and_metrics(ops, session):
    f.add_units(session)
    deploy(session)
    start_waiting(session, at=T0)
    metrics, base = ops()
    metrics.pass_done(TimerRun(fired=3, cases=3, failed=["x"]))
    health = httpx.get(f"{base}/health")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["database"] == "ok"
    text = httpx.get(f"{base}/metrics").text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line and line[0] != "#"}
    assert values["tovholder_timers_due"] == 1 and values["tovholder_incidents_open"] == 0
    assert values["tovholder_worker_timers_fired_total"] == 3
    assert values["tovholder_worker_timer_failures_total"] == 1
    assert values["tovholder_timer_oldest_due_lag_seconds"] > 0
    assert httpx.get(f"{base}/other").status_code == 404


def test_health_says_503_when_the_loop_is_stuck(ops):
    _metrics, base = ops(stale_after=0)
    r = httpx.get(f"{base}/health")
    assert r.status_code == 503 and r.json()["status"] == "degraded"


def test_snapshot_counts_what_is_due_at_a_moment(db, session):
    f.add_units(session)
    deploy(session)
    start_waiting(session, at=T0)
    before = operations.snapshot(db.session_factory, now=T0 + timedelta(minutes=59))
    after = operations.snapshot(db.session_factory, now=T0 + timedelta(hours=1, seconds=30))
    assert (before.due_timers, before.oldest_due_lag_seconds) == (0, 0.0)
    assert (after.due_timers, after.oldest_due_lag_seconds) == (1, 30.0)


def test_log_lines_are_json_without_cpr_numbers_or_case_data():
    logger = logging.getLogger("tovholder.worker.test")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "citizen %s failed", ("0101901234",),
                               None, extra={"case_id": "c-1", "attempt": 2, "data": {"cpr": "010190-1234"},
                                            "note": "cpr 010190-1234"})
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["case_id"] == "c-1" and entry["attempt"] == 2
    assert "data" not in entry and "1234" not in line
    assert entry["message"] == "citizen 010190-**** failed"
