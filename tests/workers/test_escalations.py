"""Overdue user tasks: a reminder to who works it, then an escalation to the unit's team leads (both databases).

Time moves with the `now` given (and engine.clock.at); the end-to-end test runs
the real worker loop once against a real SMTP server on loopback.
"""
from __future__ import annotations

import signal
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import accounts, clock, escalations
from engine.case_rules import CaseRules
from engine.deadlines import Rule
from engine.models import AuditEvent, HumanTask, OutboxMessage, TaskDeadlineNotice
from tests import factories as f
from workers.loop import run_forever

from .helpers import DATA
from .smtp_server import SmtpServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
DUE = datetime(2026, 3, 4, 22, 59, 59, tzinfo=timezone.utc)  # P2D: the end of Wednesday in Danish time
ESCALATE = datetime(2026, 3, 6, 22, 59, 59, tzinfo=timezone.utc)  # + P2D working: the end of Friday
MINUTE = timedelta(minutes=1)


@pytest.fixture
def users(seed, session):
    users = seed()
    accounts.set_email(session, "jc", "jc@kommune.example")
    accounts.set_email(session, "jclead", "jclead@kommune.example")  # jc2 has no address: gets no mail
    session.commit()
    f.deploy_files(session, DATA / "frist.bpmn")
    return users


def start(session):
    with clock.at(T0):
        case = f.start_case(session, "frist")
    return case, session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))


def step(session, now):
    outcomes = []
    for task_id in escalations.candidates(session, now=now, limit=50):
        outcomes.append(escalations.handle_task(session, task_id=task_id, now=now, rules=f.RULES,
                                                default_grace="P2D working"))
        session.commit()
    return [(o.step, o.queued) for o in outcomes]


def mails(session):
    return [(m.kind, m.recipient) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))]


def test_reminder_once_after_the_deadline_then_escalation_once_after_the_grace(session, users):
    case, task = start(session)
    assert clock.as_utc(task.due_at) == DUE
    assert step(session, DUE - MINUTE) == []
    assert step(session, DUE + MINUTE) == [("reminded", 1)]
    assert step(session, DUE + 2 * MINUTE) == []  # reminded once
    assert mails(session) == [("reminder", "jc@kommune.example")]  # unassigned: the unit's caseworkers
    notice = session.get(TaskDeadlineNotice, task.id)
    assert clock.as_utc(notice.escalate_at) == ESCALATE
    assert step(session, ESCALATE - MINUTE) == []
    assert step(session, ESCALATE + MINUTE) == [("escalated", 1)]
    assert step(session, ESCALATE + timedelta(days=30)) == []
    assert mails(session)[1] == ("escalation", "jclead@kommune.example")
    events = {e.type: e for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))}
    assert events["reminder_sent"].details["recipients"] == ["jc"]
    assert events["escalated"].details["recipients"] == ["jclead"] and events["escalated"].task_id == task.id
    body = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "escalation")).body
    assert "Visiter borgeren" in body and "1234" not in body


def test_an_assigned_task_reminds_its_assignee_and_a_completed_one_nobody(session, users):
    _, task = start(session)
    task.assignee, task.status = "jclead", "claimed"
    session.commit()
    assert step(session, DUE + MINUTE) == [("reminded", 1)]
    assert mails(session) == [("reminder", "jclead@kommune.example")]
    task.status = "completed"
    session.commit()
    assert step(session, ESCALATE + MINUTE) == []


def test_nobody_with_an_address_is_audited_not_hidden(session, users):
    accounts.set_email(session, "jc", None)
    session.commit()
    case, _ = start(session)
    assert step(session, DUE + MINUTE) == [("reminded", 0)]
    types = [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
    assert "reminder_not_sent" in types and mails(session) == []


def test_a_named_deadline_can_carry_its_own_grace(tmp_path, session, users):
    path = tmp_path / "deadlines.toml"
    path.write_text('[hurtig]\nduration = "P1D"\nescalation_grace = "P0D"\n\n[uden]\nduration = "P1D"\n')
    rules = CaseRules(forms_dir=f.FORMS, deadlines_file=path)
    assert escalations.rule_graces(path) == {"hurtig": Rule("P0D")}
    _, task = start(session)
    task.deadline_rule = "hurtig"
    assert escalations.escalate_at(task, rules=rules, default_grace="P2D working") == DUE
    task.deadline_rule = "uden"
    assert escalations.escalate_at(task, rules=rules, default_grace="P2D working") == ESCALATE
    from engine.deadlines import load_rules
    assert set(load_rules(path)) == {"hurtig", "uden"}  # the old loader still reads the file


def test_the_worker_loop_sends_the_reminder_and_the_escalation_over_smtp(db, session, settings, users):
    start(session)
    server = SmtpServer().start()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}  # run_forever installs its own
    try:
        mail_settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": server.port,
                                                    "deadlines_file": DATA / "none.toml",
                                                    "public_url": "https://tovholder.kommune.example"})
        for moment in (DUE + MINUTE, ESCALATE + MINUTE):
            with clock.at(moment):
                run_forever(mail_settings, once=True)
        assert [(to, m["Subject"].split(":")[0]) for to, m in server.messages] == [
            (["jc@kommune.example"], "Frist overskredet"), (["jclead@kommune.example"], "Eskalering")]
        task = session.scalar(select(HumanTask))
        link = f"https://tovholder.kommune.example/opgaver/{task.id}"
        for _, message in server.messages:  # each mail links to the task, absolute, and names the case number
            text = message.get_content() if hasattr(message, "get_content") else message.get_payload(decode=True)
            text = text.decode() if isinstance(text, bytes) else text
            assert f"Åbn opgaven: {link}" in text and task.case_number in text, text
    finally:
        server.stop()
        for sig, handler in saved.items():
            signal.signal(sig, handler)
