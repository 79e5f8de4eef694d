"""The outbox: e-mail to send, stored in the same transaction as the change that causes it.

A reminder, an escalation, a letter to a citizen or a notice to an employer
is a row here first (`enqueue`), committed together with the case change or
audit event it belongs to; workers/mail.py sends it later over SMTP and sets
`sent_at`. So a rolled-back change sends nothing, and a committed one is not
lost when the mail server is down.

Every message has a dedupe key (e.g. "reminder:<task id>"): enqueueing the
same key again returns the existing row, so the same notice is never queued
twice, whichever worker or retry asks.

CPR numbers never leave in a mail: subject and body are masked here.

Transaction rule: functions only flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import clock
from .accounts import clean_email
from .errors import Invalid
from .incidents import retry_handler
from .logs import mask_cpr
from .models import Incident, OutboxMessage, new_id

KINDS = ("reminder", "escalation", "letter", "employer")
MAX_SUBJECT = 300


@dataclass(frozen=True)
class OutboxView:
    id: str
    dedupe_key: str
    kind: str
    case_id: str | None
    recipient: str
    subject: str
    created_at: datetime
    attempts: int
    sent_at: datetime | None
    new: bool  # False: the dedupe key was queued before

    @classmethod
    def of(cls, row: OutboxMessage, new: bool) -> "OutboxView":
        return cls(row.id, row.dedupe_key, row.kind, row.case_id, row.recipient, row.subject,
                   clock.as_utc(row.created_at), row.attempts or 0, clock.as_utc(row.sent_at), new)


def _clean_subject(subject: str) -> str:
    # one line: a line break in a header would let text become another header
    return " ".join(mask_cpr(subject or "").split())[:MAX_SUBJECT] or "(uden emne)"


def enqueue(session: Session, *, recipient: str, subject: str, body: str, kind: str, dedupe_key: str,
            case_id: str | None = None) -> OutboxView:
    """Queue one e-mail unless its dedupe key is queued already; CPR numbers are masked."""
    if kind not in KINDS:
        raise Invalid(f"outbox kind must be one of {', '.join(KINDS)}")
    if not dedupe_key or len(dedupe_key) > 200:
        raise Invalid("an outbox message needs a dedupe key of at most 200 characters")
    address = clean_email(recipient)
    values = dict(id=new_id(), dedupe_key=dedupe_key, kind=kind, case_id=case_id, recipient=address,
                  subject=_clean_subject(subject), body=mask_cpr(body or ""), created_at=clock.now(), attempts=0)
    # INSERT … ON CONFLICT DO NOTHING: a concurrent transaction queuing the same key wins quietly, and no
    # savepoint is needed (pysqlite would turn a savepoint opened before any write into its own transaction)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(insert(OutboxMessage).values(**values)
                               .on_conflict_do_nothing(index_elements=["dedupe_key"])
                               .returning(OutboxMessage.id)).scalar()
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
                          .execution_options(populate_existing=True)).one()  # inserted now or by the winner
    return OutboxView.of(row, new=inserted is not None)


def backlog(session: Session) -> int:
    """Messages neither sent nor given up on (a metric)."""
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))) or 0


def messages_for_case(session: Session, case_id: str) -> list[OutboxView]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)
                           .order_by(OutboxMessage.created_at, OutboxMessage.id))
    return [OutboxView.of(r, new=False) for r in rows]


@retry_handler("outbox")
def _retry_outbox(session: Session, incident: Incident) -> None:
    """An admin's retry: the message gets a fresh set of attempts; the sender's next pass takes it."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == incident.ref, OutboxMessage.sent_at.is_(None))
                    .values(attempts=0, next_attempt_at=None, failed_at=None)
                    .execution_options(synchronize_session=False))
