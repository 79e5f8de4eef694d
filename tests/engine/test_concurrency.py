"""Two concurrent changes of one case: exactly one wins, the other gets 409; nothing lost or doubled.

Real threads, real connections, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine import inbox as tasks
from engine import locking, runtime
from engine.errors import Conflict
from engine.models import AuditEvent, Case, HumanTask
from tests import factories as f


@pytest.fixture
def users(seed):
    return seed("parallel.bpmn", "intake.bpmn")


def run_in_threads(db, *actions):
    """Run each action(session) in its own thread and session; commit on success."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def worker(i, action):
        with db.session() as session:
            barrier.wait(timeout=30)
            try:
                action(session)
                session.commit()
                outcomes[i] = "ok"
            except Conflict as exc:
                session.rollback()
                outcomes[i] = exc
    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def count_events(session, case_id, type_):
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.case_id == case_id, AuditEvent.type == type_))


def test_same_task_completed_twice_at_once(db, session, users):
    case = f.start_case(session, "parallel", actor=users["jc"])
    task_a = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == "task_a"))

    def complete(s):
        runtime.complete_task(s, task_id=task_a.id, data={"note": "x"}, user=users["jc"], rules=f.RULES)
    outcomes = run_in_threads(db, complete, complete)
    assert sorted(map(str, outcomes)).count("ok") == 1
    assert any(isinstance(o, Conflict) for o in outcomes)
    session.expire_all()
    assert session.get(HumanTask, task_a.id).status == "completed"
    assert count_events(session, case.id, "task_completed") == 1


def test_two_tasks_of_one_case_changed_from_the_same_version(db, session, users, monkeypatch):
    """Both read the case at the same version before either locks: the second lock must lose."""
    case = f.start_case(session, "parallel", actor=users["jc"])
    rows = {t.element_id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    version = session.get(Case, case.id).lock_version
    real_lock = locking.lock_case

    def lock_from_seen_version(s, case_id, **_):
        return real_lock(s, case_id, seen_version=version)
    monkeypatch.setattr(runtime, "lock_case", lock_from_seen_version)

    outcomes = run_in_threads(
        db,
        lambda s: runtime.complete_task(s, task_id=rows["task_a"].id, data={}, user=users["jc"], rules=f.RULES),
        lambda s: runtime.complete_task(s, task_id=rows["task_b"].id, data={}, user=users["ys"], rules=f.RULES),
    )
    assert [o == "ok" for o in outcomes].count(True) == 1, outcomes
    session.expire_all()
    statuses = sorted(session.get(HumanTask, r.id).status for r in rows.values())
    assert statuses == ["completed", "open"]
    assert count_events(session, case.id, "task_completed") == 1
    seqs = list(session.scalars(select(AuditEvent.seq).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1))
    # the loser retries on fresh state and succeeds
    monkeypatch.setattr(runtime, "lock_case", real_lock)
    loser = next(r for r in rows.values() if session.get(HumanTask, r.id).status == "open")
    user = users["jc"] if loser.unit == "jobcenter" else users["ys"]
    runtime.complete_task(session, task_id=loser.id, data={}, user=user, rules=f.RULES)
    session.commit()
    assert session.get(Case, case.id).status == "completed"


def test_claim_races_claim(db, session, users):
    case = f.start_case(session, "parallel", actor=users["jc"])
    task_a = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == "task_a"))
    outcomes = run_in_threads(
        db,
        lambda s: tasks.claim(s, task_id=task_a.id, user=users["jc"]),
        lambda s: tasks.claim(s, task_id=task_a.id, user=users["jc2"]),
    )
    assert [o == "ok" for o in outcomes].count(True) == 1, outcomes
    session.expire_all()
    row = session.get(HumanTask, task_a.id)
    winner = "jc" if outcomes[0] == "ok" else "jc2"
    assert (row.status, row.assignee) == ("claimed", winner)
    assert count_events(session, case.id, "task_claimed") == 1


def test_many_threads_one_task(db, session, users):
    case = f.start_case(session, "parallel", actor=users["jc"])
    task_a = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == "task_a"))

    def complete(s):
        runtime.complete_task(s, task_id=task_a.id, data={"note": "x"}, user=users["jc"], rules=f.RULES)
    outcomes = run_in_threads(db, *([complete] * 6))
    assert [o == "ok" for o in outcomes].count(True) == 1
    assert all(o == "ok" or isinstance(o, Conflict) for o in outcomes)
    session.expire_all()
    assert count_events(session, case.id, "task_completed") == 1
