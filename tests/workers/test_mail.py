"""The outbox and its SMTP sender against a real SMTP server on loopback (both databases).

Time moves with the `now` the sender is given; nothing sleeps.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine import clock, incidents, outbox
from engine.errors import Invalid
from engine.models import Incident, OutboxMessage
from engine.retry_policy import RetryPolicy
from tests import factories as f
from workers.mail import send_pending

from .smtp_server import SmtpServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(max_attempts=3, backoff_seconds=60)


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings, smtp):
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                       "smtp_from": "tovholder@kommune.example", "smtp_timeout_seconds": 5})


def queue(session, key="reminder:1", body="Hej", at=T0, **kw):
    with clock.at(at):
        view = outbox.enqueue(session, recipient=kw.pop("recipient", "anne@kommune.example"), subject=kw.pop(
            "subject", "Påmindelse"), body=body, kind=kw.pop("kind", "reminder"), dedupe_key=key, **kw)
    session.commit()
    return view


def send(db, settings, now=T0, **kw):
    return send_pending(db.session_factory, settings=settings, now=now, policy=POLICY, **kw)


def test_a_queued_message_is_sent_once(db, session, smtp, mail_settings):
    queue(session, subject="Frist overskredet", body="Opgaven 'Visitation' er overskredet.")
    assert send(db, mail_settings).sent == 1
    assert send(db, mail_settings).sent == 0  # a second pass finds nothing to send
    [(rcpt, message)] = smtp.messages
    assert rcpt == ["anne@kommune.example"]
    assert message["Subject"] == "Frist overskredet"
    assert message["From"] == "tovholder@kommune.example"
    assert message["Message-ID"].endswith("@tovholder>")
    assert "Visitation" in message.get_content()
    row = session.scalar(select(OutboxMessage))
    assert row.sent_at is not None and row.attempts == 0


def test_the_same_dedupe_key_is_queued_once(session):
    first = queue(session, key="escalation:abc")
    again = queue(session, key="escalation:abc", body="anden tekst")
    assert first.new and not again.new and again.id == first.id
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_bad_input_is_refused_and_nothing_is_queued(session):
    for bad in ({"recipient": "ikke en adresse"}, {"recipient": "a@b.dk\r\nBcc: x@y.dk"}, {"kind": "spam"}):
        with pytest.raises(Invalid):
            queue(session, key="bad", **bad)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_no_cpr_number_leaves_in_a_mail(db, session, smtp, mail_settings):
    queue(session, subject="Sag for 010190-1234", body="Borgeren 0101901234 og 010190-1234 mangler papirer.")
    send(db, mail_settings)
    [(_, message)] = smtp.messages
    text = message.as_string()
    assert "1234" not in text.replace("-****", "")
    assert "010190-****" in message["Subject"]


def test_server_down_then_retry_with_backoff_then_sent(db, session, mail_settings):
    down = SmtpServer()  # nothing listens on its port yet
    settings = mail_settings.model_copy(update={"smtp_port": down.port})
    queue(session, key="letter:1", kind="letter")
    queue(session, key="letter:2", kind="letter", at=T0 + timedelta(seconds=1))  # sent after letter:1
    first = send(db, settings)
    assert (first.sent, len(first.failed)) == (0, 1)  # a dead server ends the pass after one try
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "letter:1"))
    assert row.attempts == 1 and "Error" in row.last_error
    assert clock.as_utc(row.next_attempt_at) == T0 + timedelta(seconds=60)
    down.start()
    try:
        early = send(db, settings, now=T0 + timedelta(seconds=30))  # letter:1 is backing off; letter:2 is not
        assert early.sent == 1 and [m["To"] for _, m in down.messages] == ["anne@kommune.example"]
        later = send(db, settings, now=T0 + timedelta(seconds=61))
        assert later.sent == 1
        assert send(db, settings, now=T0 + timedelta(hours=1)).sent == 0
        assert len(down.messages) == 2
    finally:
        down.stop()


def test_exactly_once_across_two_sender_passes_and_two_senders(db, session, smtp, mail_settings):
    for i in range(5):
        queue(session, key=f"reminder:{i}", at=T0 - timedelta(seconds=i))
    a = send(db, mail_settings, batch=2)
    b = send(db, mail_settings, batch=10)
    c = send(db, mail_settings, batch=10)
    assert (a.sent, b.sent, c.sent) == (2, 3, 0)
    subjects = [m["Message-ID"] for _, m in smtp.messages]
    assert len(subjects) == 5 == len(set(subjects))


def test_after_the_last_attempt_an_incident_opens_and_an_admin_retry_rearms(db, session, mail_settings):
    users = f.standard_users(session)
    down = SmtpServer()
    settings = mail_settings.model_copy(update={"smtp_port": down.port})
    queue(session, key="employer:1", kind="employer")
    moments = [T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=10)]
    runs = [send(db, settings, now=m) for m in moments]
    assert [len(r.failed) for r in runs] == [1, 1, 1] and runs[-1].incidents
    assert send(db, settings, now=T0 + timedelta(days=2)).handled == 0  # given up: no more tries
    [incident] = session.scalars(select(Incident)).all()
    assert (incident.kind, incident.case_id, incident.attempts) == ("outbox", None, 3)
    incidents.retry_incident(session, incident_id=incident.id, user=users["admin"])
    session.commit()
    down.start()
    try:
        assert send(db, settings, now=T0 + timedelta(days=2)).sent == 1
    finally:
        down.stop()
    assert session.scalar(select(OutboxMessage)).sent_at is not None


def test_without_smtp_host_mail_waits_in_the_outbox(db, session, settings):
    queue(session)
    assert send(db, settings).handled == 0
    assert outbox.backlog(session) == 1


def test_two_senders_at_once_send_each_message_once(db, session, smtp, mail_settings):
    if not db.is_postgres:
        pytest.skip("SQLite has no row locks: one sender only (workers/mail.py)")
    import threading
    for i in range(30):
        queue(session, key=f"letter:{i}", kind="letter", at=T0 - timedelta(seconds=i))
    results = []

    def sender():
        results.append(send(db, mail_settings, batch=100))

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in results) == 30
    ids = [m["Message-ID"] for _, m in smtp.messages]
    assert len(ids) == 30 == len(set(ids))
