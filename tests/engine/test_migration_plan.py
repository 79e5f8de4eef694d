"""Migration plans and batches: bad plans refused whole, cases outside the plan refused one by one,
called processes moved to the version the new caller bundles (or refused), and two migrations of
one case at the same moment (real threads, real connections): one wins. Both databases.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from engine import catalog, clock, locking, migration, runtime
from engine.errors import Invalid, NotFound
from engine.migration import make_plan
from engine.migration_batch import run_batch
from engine.models import AuditEvent, Case, HumanTask, MigrationRun
from tests import factories as f
from tests.case_rows import case_rows

T0 = datetime(2026, 9, 7, 7, tzinfo=timezone.utc)
INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
CALLER = (f.DATA / "caller.bpmn").read_text(encoding="utf-8")
PLACEMENT = (f.DATA / "placement.bpmn").read_text(encoding="utf-8")


@pytest.fixture
def users(seed, session):
    users = seed() | {"vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])}
    f.deploy_data(session, "placement.bpmn", "caller.bpmn")
    return users


def deploy(session, *files: tuple[str, str]) -> None:
    catalog.deploy(session, [(name, text.encode()) for name, text in files], rules=f.RULES, actor="owner")
    session.commit()


def batch(db, key, frm, to, **kwargs):
    with clock.at(T0):
        return run_batch(db.session_factory, process_key=key, from_version=frm, to_version=to, actor="owner",
                         rules=f.RULES, **kwargs)


def start(session, key="caller", **kwargs) -> str:
    with clock.at(T0):
        return f.start_case(session, key, **kwargs).id


def open_rows(session, case_id) -> list[HumanTask]:
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")))


def test_a_bad_plan_is_refused_whole_with_the_field_named(session, users):
    deploy(session, ("caller.bpmn", CALLER.replace('name="Virksomhedsforløb"', 'name="Forløb"')))
    with pytest.raises(NotFound):
        make_plan(session, process_key="caller", from_version=1, to_version=9)
    with pytest.raises(NotFound):
        make_plan(session, process_key="nope", from_version=1, to_version=2)
    with pytest.raises(Invalid) as same:
        make_plan(session, process_key="caller", from_version=2, to_version=2)
    assert same.value.detail[0]["field"] == "to_version"
    with pytest.raises(Invalid) as unknown:
        make_plan(session, process_key="caller", from_version=1, to_version=2,
                  mapping={"call_sub": "kaldet", "ingen": "done"})
    assert sorted(p["field"] for p in unknown.value.detail) == ["mapping.call_sub", "mapping.ingen"]
    assert "'kaldet' is not an element of version 2" in str(unknown.value.detail)
    assert "'ingen' is not an element of version 1" in str(unknown.value.detail)
    with pytest.raises(Invalid) as typed:
        make_plan(session, process_key="caller", from_version="1", to_version=2, mapping=["x"])
    assert {p["field"] for p in typed.value.detail} == {"from_version", "mapping"}
    plan = make_plan(session, process_key="caller", from_version=1, to_version=2, mapping={"match": "match"})
    assert plan.as_dict() == {"process_key": "caller", "from": 1, "to": 2, "mapping": {"match": "match"}}


def test_cases_outside_the_plan_are_refused_each_with_its_reason(db, session, users):
    on_one = start(session)
    deploy(session, ("caller.bpmn", CALLER.replace('name="Virksomhedsforløb"', 'name="Forløb"')))
    on_two = start(session)
    [match] = open_rows(session, on_one)
    with clock.at(T0):
        runtime.complete_task(session, task_id=match.id, data={"note": "x"}, user=users["vs"], rules=f.RULES)
    session.commit()
    finished = on_one
    other = start(session, "placement")
    result = batch(db, "caller", 1, 2, case_ids=[finished, on_two, other, "no-such-case", finished])
    reasons = {r["case_id"]: r["reason"] for r in result.refused}
    assert result.migrated == [] and len(result.refused) == 4                 # the repeated id counts once
    assert reasons[finished] == "the case is completed"
    assert reasons[on_two] == "the case is on version 2, not 1"
    assert reasons[other] == "the case runs 'placement', not 'caller'"
    assert "not found" in reasons["no-such-case"]
    [run] = session.scalars(select(MigrationRun)).all()
    assert (run.actor, run.cases, run.migrated, run.case_ids[0], run.finished_at is not None) == (
        "owner", 4, 0, finished, True)
    assert batch(db, "caller", 1, 2, dry_run=True).migrated == []             # nothing running on version 1
    assert session.scalar(select(func.count()).select_from(MigrationRun)) == 1  # a dry run is not recorded


def test_a_call_activity_child_moves_to_the_version_of_the_called_process_the_new_caller_bundles(
        db, session, users):
    case_id = start(session)
    [match] = open_rows(session, case_id)
    renamed = PLACEMENT.replace('"match"', '"matchning"').replace('>match<', '>matchning<')
    deploy(session, ("placement.bpmn", renamed), ("caller.bpmn", CALLER))      # caller 2 bundles placement 2
    plain = batch(db, "caller", 1, 2, dry_run=True)
    assert "stands on 'match'" in plain.refused[0]["reason"]
    assert batch(db, "caller", 1, 2, mapping={"match": "matchning"}).migrated == [case_id]
    [moved] = open_rows(session, case_id)
    assert (moved.id, moved.element_id, moved.unit, moved.process_version) == (
        match.id, "matchning", "virksomhedsservice", 2)
    with clock.at(T0):
        runtime.complete_task(session, task_id=moved.id, data={"note": "x"}, user=users["vs"], rules=f.RULES)
    session.commit()
    assert session.get(Case, case_id).status == "completed"


def test_a_call_activity_that_now_calls_another_process_refuses_the_cases_inside_it(db, session, users):
    inside = start(session)
    rows = case_rows(session, inside)
    deploy(session, ("intake.bpmn", INTAKE),
           ("caller.bpmn", CALLER.replace('calledElement="placement"', 'calledElement="intake"')))
    result = batch(db, "caller", 1, 2)
    assert result.migrated == []
    [refusal] = result.refused
    assert refusal["reason"] == "'call_sub' runs 'placement', but in the new version it runs 'intake'"
    assert case_rows(session, inside) == rows


def test_two_migrations_of_the_same_case_at_once_one_wins(db, session, users, monkeypatch):
    """Both threads read the case before either locks it; the second lock must lose and leave no trace."""
    case_id = start(session)
    deploy(session, ("caller.bpmn", CALLER.replace('name="Virksomhedsforløb"', 'name="Forløb"')))
    barrier = threading.Barrier(2)
    real_lock = locking.lock_case

    def lock_after_both_read(s, locked_id, **_):
        seen = s.get(Case, locked_id, populate_existing=True).lock_version
        barrier.wait(timeout=30)
        return real_lock(s, locked_id, seen_version=seen)
    monkeypatch.setattr(migration, "lock_case", lock_after_both_read)
    results = [None, None]

    def run(i):
        results[i] = batch(db, "caller", 1, 2)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(len(r.migrated) for r in results) == [0, 1], results
    [loser] = [r for r in results if not r.migrated]
    assert loser.refused[0]["case_id"] == case_id
    assert "changed by someone else at the same moment" in loser.refused[0]["reason"]
    session.expire_all()
    assert session.get(Case, case_id).version == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case_id, AuditEvent.type == "case_migrated")) == 1
    seqs = list(session.scalars(select(AuditEvent.seq).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1))
