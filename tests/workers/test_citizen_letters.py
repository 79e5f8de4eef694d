"""The § 3 letter: a decision task still open shortly before its deadline gets the citizen a letter, once
(both databases). Time moves with the `now` given, and with engine.clock.at for the worker pass."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import citizen_letters, clock, runtime
from engine.case_rules import CaseRules
from engine.deadlines import DeadlineError, deadline_file
from engine.models import AuditEvent, DeadlineLetter, HumanTask, OutboxMessage
from tests import factories as f
from workers.loop import run_forever

DATA = f.DATA
RULES = CaseRules(forms_dir=f.FORMS, deadlines_file=DATA / "letters_deadlines.toml")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
DUE = datetime(2026, 3, 16, 22, 59, 59, tzinfo=timezone.utc)  # 10 working days: the end of Monday 16 March
LETTER = datetime(2026, 3, 11, 23, 0, tzinfo=timezone.utc)  # 2 working days before: Thursday 12 March begins
MINUTE = timedelta(minutes=1)


@pytest.fixture
def users(session):
    users = f.standard_users(session)
    f.deploy_files(session, DATA / "letters.bpmn", rules=RULES)
    return users


def start(session, data):
    with clock.at(T0):
        case = f.start_case(session, "brevfrist", data=data, rules=RULES)
    tasks = {t.element_id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    return case, tasks


def step(session, now):
    outcomes = []
    for task_id in citizen_letters.candidates(session, now=now, rules=RULES, limit=50):
        outcomes.append(citizen_letters.handle_task(session, task_id=task_id, now=now, rules=RULES).step)
        session.commit()
    return outcomes


def events(session, case_id, prefix="citizen_letter"):
    return [e for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                       .order_by(AuditEvent.seq)) if e.type.startswith(prefix)]


def test_the_letter_goes_once_when_the_decision_will_miss_its_deadline(session, users):
    case, tasks = start(session, {"borger_email": "borger@example.dk"})
    decision = tasks["afgoerelse"]
    assert clock.as_utc(decision.due_at) == DUE
    assert citizen_letters.letter_moment(decision.due_at, RULES.citizen_letters()["afgoerelse_brev"],
                                         RULES.calendar) == LETTER
    assert step(session, LETTER - MINUTE) == []
    assert step(session, LETTER) == ["sent"]  # only the decision: the note's deadline sends no letter
    assert step(session, LETTER + MINUTE) == [] and step(session, DUE + timedelta(days=3)) == []
    [mail] = session.scalars(select(OutboxMessage)).all()
    assert (mail.kind, mail.recipient, mail.case_id) == ("letter", "borger@example.dk", case.id)
    assert "retssikkerhedslovens § 3, stk. 2" in mail.body and "16-03-2026" in mail.body
    assert "Afgørelse om hjælp" in mail.body and "afgørelse inden 10 arbejdsdage" in mail.body
    [event] = events(session, case.id)
    assert (event.type, event.actor, event.task_id) == ("citizen_letter_sent", "system:deadlines", decision.id)
    assert event.details["outbox_id"] == mail.id and event.details["deadline"] == "afgoerelse_brev"
    assert session.get(DeadlineLetter, decision.id).outbox_id == mail.id


def test_without_an_address_the_trail_says_so_once(session, users):
    case, tasks = start(session, {"borger_email": "ikke en adresse"})
    other, _ = start(session, {})
    assert sorted(step(session, LETTER)) == ["not_sent", "not_sent"]
    assert step(session, LETTER + MINUTE) == []
    assert session.scalars(select(OutboxMessage)).all() == []
    [bad] = events(session, case.id)
    [missing] = events(session, other.id)
    assert bad.type == missing.type == "citizen_letter_not_sent"
    assert "not a usable e-mail address" in bad.details["reason"] and "no borger_email" in missing.details["reason"]


def test_a_decision_made_in_time_sends_nothing(session, users):
    case, tasks = start(session, {"borger_email": "borger@example.dk"})
    with clock.at(LETTER - timedelta(hours=1)):
        runtime.complete_task(session, task_id=tasks["afgoerelse"].id, data={"note": "bevilget"},
                              user=users["ys"], rules=RULES)
        session.commit()
    assert step(session, LETTER) == []
    assert citizen_letters.handle_task(session, task_id=tasks["afgoerelse"].id, now=LETTER,
                                       rules=RULES).step == "nothing"
    assert events(session, case.id) == []


def test_the_worker_sends_it_once(session, users, settings, db):
    settings.deadlines_file = DATA / "letters_deadlines.toml"
    case, _ = start(session, {"borger_email": "borger@example.dk"})
    for moment in (LETTER - MINUTE, LETTER + MINUTE, LETTER + timedelta(hours=2)):
        with clock.at(moment):
            run_forever(settings, once=True)
    session.expire_all()
    assert [m.kind for m in session.scalars(select(OutboxMessage))] == ["letter"]
    assert [e.type for e in events(session, case.id)] == ["citizen_letter_sent"]


@pytest.mark.parametrize("warning", ['"P1M"', '"P2D from ansoegningsdato"', '"snart"'])
def test_a_warning_that_cannot_be_counted_is_refused(tmp_path, warning):
    path = tmp_path / "deadlines.toml"
    path.write_text(f'[afgoerelse]\nduration = "P10D"\ncitizen_letter = {warning}\n', encoding="utf-8")
    with pytest.raises(DeadlineError, match=r"\[afgoerelse\] citizen_letter"):
        deadline_file(path)


def test_the_case_history_says_in_danish_whether_the_letter_went(session, users):
    from api.web import timeline  # the case page's history, read from the audit trail
    sent, _ = start(session, {"borger_email": "borger@example.dk"})
    unsent, _ = start(session, {})
    assert sorted(step(session, LETTER)) == ["not_sent", "sent"]
    shown = {case.id: [(s.title, s.what, s.who, s.details) for s in timeline.build(session, case, RULES.forms_dir)
                       if s.kind.startswith("citizen_letter")] for case in (sent, unsent)}
    assert shown[sent.id] == [("Brev sendt til borgeren om fristen", "Afgørelse om hjælp",
                               "Systemet (fristovervågning)", [])]
    [(title, what, who, details)] = shown[unsent.id]
    assert (title, what, who) == ("Brev til borgeren kunne ikke sendes", "Afgørelse om hjælp",
                                  "Systemet (fristovervågning)")
    assert details == [("Årsag", "Sagen har ingen brugbar e-mailadresse til borgeren: send brevet på papir.")]
