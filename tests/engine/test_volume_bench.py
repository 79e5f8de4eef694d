"""The volume bench (bench/volume_data.py, bench/volume_rows.py) at a tiny scale, so its code path cannot rot.

PostgreSQL only: the generator is INSERT … SELECT over generate_series. Asserts
what the generated history is made of and that the reports and the inbox the
bench times answer over it; no wall-clock times.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench import volume_data, volume_rows
from engine import clock
from engine.models import AuditEvent, Case, HumanTask


def test_generator_and_bench_calls_on_a_tiny_history(db):
    if not db.is_postgres:
        pytest.skip("the volume generator runs on PostgreSQL only (generate_series)")
    with db.session() as session:
        made = volume_data.generate(session.connection(), tasks=400, now=volume_rows.NOW)
        session.commit()
    assert made.tasks > 300 and made.audit_events >= 10 * made.tasks and 0 < made.open_tasks < made.tasks
    with db.session() as session:
        statuses = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
        assert set(statuses) == {"running", "completed", "cancelled"}
        assert session.scalar(select(func.count()).where(HumanTask.completed_at > HumanTask.due_at)) > 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.type == "case_completed")) == statuses["completed"]
    users = volume_rows.bench_users(db.session)
    with clock.at(volume_rows.NOW), db.session() as session:
        page = volume_rows.inbox_page(session, users["caseworker"])
        assert page and all(t.unit == volume_rows.INBOX_UNIT and t.status in ("open", "claimed") for t in page)
        assert volume_rows.inbox_count(session, users["caseworker"]) >= len(page)
        for key, call in volume_rows.report_calls(session, users).items():
            assert call(), key


def test_the_task_partition_probe_on_a_tiny_table(db):
    """bench/task_partitions.py's filler and timed statements (docs/scale.md's table), so they cannot rot."""
    from sqlalchemy import text

    from bench import task_partitions
    if not db.is_postgres:
        pytest.skip("the probe measures PostgreSQL's partitions")
    task_partitions.fill(db.session, 400, 3)
    rows, open_rows, parts = task_partitions.counts(db.session)
    assert rows == 400 and 0 < open_rows < rows and parts >= 6  # live; this month, three ahead, DEFAULT
    for live in (False, True):
        timings = task_partitions.measure(db.session, live=live, repeat=5)
        assert list(timings) == ["a live task by id", "a task id that does not exist", "a case's open tasks",
                                 "inbox page of 50, one unit"]
        assert all(ms > 0 for ms in timings.values())
    with db.session() as session:  # the inbox page it times lists the unit's open tasks, live ones
        sql = task_partitions.READS["inbox page of 50, one unit"].format(live=task_partitions.LIVE)
        page = session.execute(text(sql), {"x": None}).mappings().all()
        assert page and all(t["unit"] == "sdp" and t["status"] == "open" and not t["archived"] for t in page)
