"""The audit trail as a hash chain: a changed, removed or inserted row is found at its seq; erasing details is not;
a chain rewritten with the key is found by a checkpoint; two writers cannot fork a chain; the migration hashes
what was there before it (both databases)."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from engine import audit, audit_chain, clock, inbox, migrate, runtime
from engine.errors import Conflict
from engine.models import AuditEvent, Case, HumanTask
from tests import audit_tamper as tamper
from tests import factories as f
from tests.conftest import audit_key_for_tests
from tests.engine.test_concurrency import run_in_threads


@pytest.fixture
def users(session):
    users = f.standard_users(session)
    f.deploy_data(session, "intake.bpmn", "parallel.bpmn")
    return users


@pytest.fixture
def case_id(session, users) -> str:
    """An intake case with a claimed, released, claimed and completed task: nine events or so."""
    case = f.start_case(session, "intake", actor=users["jc"])
    task = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    for step in (inbox.claim, inbox.release, inbox.claim):
        step(session, task_id=task.id, user=users["jc"])
        session.commit()
    runtime.complete_task(session, task_id=task.id, data={"forsikret": False, "henvendelsesdato": "2026-11-23"},
                          user=users["jc"], rules=f.RULES)
    session.commit()
    return case.id


def verify(db, case_id: str) -> audit_chain.ChainCheck:
    with db.session() as s:
        return audit_chain.verify_case(s, s.get(Case, case_id))


def test_an_untouched_trail_verifies(db, case_id):
    check = verify(db, case_id)
    with db.session() as s:
        events = audit.events(s, case_id)
        head = s.get(Case, case_id).audit_head
    assert (check.ok, check.events, check.first_bad_seq) == (True, len(events), None)
    assert len(events) >= 6 and all(e.hash and e.details_digest for e in events)
    assert head == events[-1].hash
    assert len({e.hash for e in events}) == len(events)


def test_each_event_hash_covers_the_previous_one(db, session, case_id):
    key = audit_key_for_tests()
    events = audit.events(session, case_id)
    previous = audit_chain.GENESIS
    for event in events:
        assert event.hash == audit_chain.event_hash(key, previous, event)
        previous = event.hash
    assert audit_chain.event_hash(b"another key" * 4, audit_chain.GENESIS, events[0]) != events[0].hash


@pytest.mark.parametrize("values", [{"actor": "mallory"}, {"type": "task_released"}, {"element_id": "afgoerelse"},
                                    {"details": {"data": {"forsikret": True}}}])
def test_a_changed_row_is_found_at_its_seq(db, case_id, values):
    tamper.change(db, case_id, 4, **values)
    check = verify(db, case_id)
    assert (check.ok, check.first_bad_seq) == (False, 4), check


def test_a_changed_timestamp_is_found(db, case_id):
    with db.session() as s:
        at = s.scalar(select(AuditEvent.at).where(AuditEvent.case_id == case_id, AuditEvent.seq == 2))
    tamper.change(db, case_id, 2, at=clock.as_utc(at).replace(microsecond=(at.microsecond + 1) % 1000000))
    assert verify(db, case_id).first_bad_seq == 2


def test_changed_details_with_a_fitting_digest_are_found(db, case_id):
    details = {"data": {"forsikret": True}}
    tamper.change(db, case_id, 4, details=details, details_digest=audit_chain.details_digest(details))
    assert verify(db, case_id).first_bad_seq == 4


def test_a_removed_row_is_found_at_its_seq(db, case_id):
    tamper.remove(db, case_id, 3)
    check = verify(db, case_id)
    assert (check.ok, check.first_bad_seq) == (False, 3)
    assert "seq 3 is missing" in check.reason


def test_removing_the_last_rows_is_found(db, case_id):
    last = verify(db, case_id).events
    tamper.remove(db, case_id, last)
    assert verify(db, case_id).first_bad_seq == last


def test_an_inserted_row_is_found_at_its_seq(db, case_id):
    events = verify(db, case_id).events
    tamper.insert(db, case_id, 3)
    check = verify(db, case_id)
    assert (check.ok, check.first_bad_seq, check.events) == (False, 3, events + 1)


def test_a_row_added_at_the_end_is_found(db, case_id):
    events = verify(db, case_id).events
    tamper.insert(db, case_id, events + 1)
    assert verify(db, case_id).first_bad_seq == events + 1


def test_erasing_the_details_keeps_the_chain(db, case_id):
    """GDPR: personal data in details may be erased (replaced by ERASED); the stored digest still chains."""
    with db.session() as s:
        seq = s.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == case_id,
                                                   AuditEvent.type == "task_completed"))
    tamper.change(db, case_id, seq, details=audit_chain.ERASED)
    assert verify(db, case_id).ok
    tamper.change(db, case_id, seq, details={"erased": True, "note": "kept"})  # not an erasure: a change
    assert verify(db, case_id).first_bad_seq == seq


def test_a_chain_rewritten_with_the_key_verifies_but_the_checkpoint_finds_it(db, session, case_id, users):
    other = f.start_case(session, "intake", actor=users["jc"]).id
    checkpoint = audit_chain.make_checkpoint(session)
    assert checkpoint["cases"] == 2 and set(checkpoint["heads"]) == {case_id, other}
    tamper.rewrite_chain(db, audit_key_for_tests(), case_id, 2, actor="mallory")
    assert verify(db, case_id).ok  # the chain alone cannot tell
    with db.session() as s:
        heads = audit_chain.read_checkpoint(s, json.dumps(checkpoint))["heads"]
        problems = dict(audit_chain.against_checkpoint(s, heads))
    assert list(problems) == [case_id]
    assert "rewritten" in problems[case_id]


def test_a_checkpoint_still_holds_after_the_chains_grow(db, session, case_id, users):
    checkpoint = audit_chain.make_checkpoint(session)
    f.start_case(session, "intake", actor=users["jc"])
    runtime.cancel_case(session, case_id=f.start_case(session, "intake", actor=users["jc"]).id, reason="fejl",
                        actor="admin", rules=f.RULES)
    session.commit()
    with db.session() as s:
        assert list(audit_chain.against_checkpoint(s, audit_chain.read_checkpoint(
            s, json.dumps(checkpoint))["heads"])) == []


def test_a_chain_cut_below_its_checkpoint_is_found(db, session, case_id):
    checkpoint = audit_chain.make_checkpoint(session)
    head = checkpoint["heads"][case_id]["seq"]
    tamper.remove(db, case_id, head)
    with tamper.unguarded(db) as conn:  # and make the case row fit, so the chain alone looks whole
        conn.execute(Case.__table__.update().where(Case.__table__.c.id == case_id).values(
            audit_seq=head - 1, audit_head=session.scalar(select(AuditEvent.hash).where(
                AuditEvent.case_id == case_id, AuditEvent.seq == head - 1))))
    assert verify(db, case_id).ok
    with db.session() as s:
        assert [c for c, _ in audit_chain.against_checkpoint(s, checkpoint["heads"])] == [case_id]


@pytest.mark.parametrize("edit", [
    lambda doc: doc["heads"].popitem(),
    lambda doc: doc.update(cases=99),
    lambda doc: doc.update(signature="0" * 64),
])
def test_a_changed_checkpoint_file_is_refused(session, case_id, edit):
    doc = audit_chain.make_checkpoint(session)
    edit(doc)
    with pytest.raises(audit_chain.CheckpointInvalid, match="signature"):
        audit_chain.read_checkpoint(session, json.dumps(doc))
    for text in ("not json", "[]", '{"format": "x"}'):
        with pytest.raises(audit_chain.CheckpointInvalid):
            audit_chain.read_checkpoint(session, text)


def test_verify_all_walks_every_chain(db, session, case_id, users):
    others = [f.start_case(session, "intake", actor=users["jc"]).id for _ in range(4)]
    tamper.change(db, others[2], 1, actor="mallory")
    with db.session() as s:
        checks = {c.case_id: c for c in audit_chain.verify_all(s, batch=2)}
    assert set(checks) == {case_id, *others}
    assert [c for c, check in checks.items() if not check.ok] == [others[2]]


def test_a_session_without_the_key_writes_no_event(db, users):
    from engine.db import make_session_factory
    with make_session_factory(db.engine)() as s, pytest.raises(audit_chain.AuditKeyMissing):
        f.start_case(s, "intake", actor=users["jc"])


def test_two_changes_at_once_do_not_fork_the_chain(db, session, users):
    case = f.start_case(session, "parallel", actor=users["jc"])
    rows = {r.element_id: r.id for r in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    outcomes = run_in_threads(
        db, lambda s: inbox.claim(s, task_id=rows["task_a"], user=users["jc"]),
        lambda s: inbox.claim(s, task_id=rows["task_b"], user=users["ys"]))
    assert "ok" in outcomes and all(o == "ok" or isinstance(o, Conflict) for o in outcomes), outcomes
    check = verify(db, case.id)
    assert check.ok and check.events == session.scalar(select(Case.audit_seq).where(Case.id == case.id))


def test_writers_that_skip_the_lock_still_cannot_fork_the_chain(db, session, users):
    """Both read the same head; the second one's seq collides with the first's, so it cannot commit."""
    case_id = f.start_case(session, "intake", actor=users["jc"]).id
    barrier, outcomes = threading.Barrier(2), []

    def writer(name):
        with db.session() as s:
            case = s.get(Case, case_id)
            barrier.wait(timeout=30)
            try:
                audit.record(s, case, "note", actor=name)
                s.commit()
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - the database refuses the second (unique seq, or busy)
                s.rollback()
                outcomes.append(type(exc).__name__)
    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.count("ok") == 1, outcomes
    assert verify(db, case_id).ok


def test_the_migration_hashes_the_events_stored_before_it(db, session, case_id, users, monkeypatch):
    """Down to 0010 (no chain), up again: the backfill gives the same hashes the engine writes, in seq order,
    and the first claim of each task."""
    with db.session() as s:
        before = [(e.seq, e.hash) for e in audit.events(s, case_id)]
        claimed_registration = (select(HumanTask.claimed_at)  # the claimed task; the next one is not claimed
                                .where(HumanTask.case_id == case_id, HumanTask.element_id == "registrering"))
        claimed = s.scalar(claimed_registration)
    assert claimed is not None
    for name in ("TOVHOLDER_SECRET_KEY", "TOVHOLDER_AUDIT_SECRET", "TOVHOLDER_DEMO"):
        monkeypatch.delenv(name, raising=False)
    db.engine.dispose()
    migrate.downgrade(db.url, "0010")
    try:
        with pytest.raises(Exception, match="TOVHOLDER_SECRET_KEY"):  # refused before anything changed
            migrate.upgrade(db.url)
    finally:
        db.engine.dispose()
        migrate.upgrade(db.url, audit_key=audit_key_for_tests)
    with db.session() as s:
        assert [(e.seq, e.hash) for e in audit.events(s, case_id)] == before
        assert s.scalar(claimed_registration) == claimed
    assert verify(db, case_id).ok
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.update().where(AuditEvent.__table__.c.case_id == case_id)
                     .values(actor="x"))


def test_the_audit_key_is_its_own_setting_or_derived_as_documented():
    import hashlib
    import hmac

    from engine.settings import Settings, SettingsError
    secret = "s" * 40
    derived = Settings(secret_key=secret, audit_secret=None).audit_key()
    # docs/operations.md: the derived key written down as TOVHOLDER_AUDIT_SECRET keeps the chains
    assert derived == hmac.new(secret.encode(), b"tovholder audit chain", hashlib.sha256).hexdigest().encode()
    assert Settings(secret_key="t" * 40, audit_secret=derived.decode()).audit_key() == derived
    with pytest.raises(SettingsError, match="TOVHOLDER_AUDIT_SECRET is too short"):
        Settings(secret_key=secret, audit_secret="kort").audit_key()
    with pytest.raises(SettingsError, match="TOVHOLDER_SECRET_KEY is not set"):
        Settings(secret_key=None, audit_secret=None, demo_mode=False).audit_key()
