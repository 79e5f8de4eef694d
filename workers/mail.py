"""Send the outbox over SMTP: claim one message, send it, mark it sent, commit; repeat.

Transaction rule: one transaction per message. It claims the row — on
PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so several workers share the
outbox without sending a message twice — sends it while holding that lock,
sets `sent_at` and commits. A failure counts an attempt on the row (backoff
doubling from TOVHOLDER_WORKER_BACKOFF) in the same transaction; after
TOVHOLDER_OUTBOX_MAX_ATTEMPTS the row is given up (`failed_at`) and an
incident of kind "outbox" opens; an admin's retry re-arms it.

The one gap: if the process dies after the SMTP server accepted a message
but before the commit, the row is still unsent and the next pass sends it
again — at-least-once at the SMTP boundary. Every message carries a stable
Message-ID (`<outbox id>@tovholder`), so a receiving system that dedupes on
Message-ID sees it once. SQLite has no row locks: run one worker there.

Without SMTP_HOST nothing is sent: mail waits in the outbox (development, `make run`).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock, incidents
from engine.errors import CaseBusy
from engine.logs import mask_cpr
from engine.models import OutboxMessage
from engine.retry_policy import RetryPolicy
from engine.settings import Settings

log = logging.getLogger("tovholder.worker")
SENDER = "system:outbox"


@dataclass
class MailRun:
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + len(self.failed)


def build_message(row: OutboxMessage, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(clock.as_utc(row.created_at))
    # stable across resends: a receiver that dedupes on Message-ID sees a resent message once
    message["Message-ID"] = f"<{row.id}@tovholder>"
    message["X-Tovholder-Kind"] = row.kind
    message.set_content(mask_cpr(row.body))
    return message


def connect(settings: Settings) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    if settings.smtp_ssl:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_username:
        smtp.login(settings.smtp_username, settings.smtp_password or "")
    return smtp


def claim_next(session: Session, *, now: datetime, policy: RetryPolicy) -> OutboxMessage | None:
    query = (select(OutboxMessage)
             .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
                    OutboxMessage.attempts < policy.max_attempts,
                    or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
             .order_by(OutboxMessage.created_at, OutboxMessage.id).limit(1)
             .with_for_update(skip_locked=True))
    return session.scalar(query)


def send_pending(session_factory: sessionmaker[Session], *, settings: Settings, now: datetime | None = None,
                 batch: int = 50, policy: RetryPolicy | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> MailRun:
    """Send up to `batch` due messages, one transaction each; a dead server ends the pass early."""
    result = MailRun()
    if not settings.smtp_host:
        return result
    now = clock.as_utc(now or clock.now())
    policy = policy or RetryPolicy(settings.outbox_max_attempts, settings.worker_backoff_seconds)
    smtp: smtplib.SMTP | None = None
    try:
        while result.handled < batch and not should_stop():
            with session_factory() as session:
                row = claim_next(session, now=now, policy=policy)
                if row is None:
                    session.rollback()
                    break
                try:
                    smtp = smtp or connect(settings)
                    smtp.send_message(build_message(row, settings))
                except (OSError, smtplib.SMTPException) as exc:
                    _count_failure(session, row, exc, now=now, policy=policy, result=result)
                    if not isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)):
                        smtp = _close(smtp)
                        break  # the server is away: the rest waits for the next pass
                    continue
                row.sent_at = clock.now()
                session.commit()
                result.sent += 1
    finally:
        _close(smtp)
    return result


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return None


def _error_text(exc: Exception) -> str:
    return mask_cpr(f"{type(exc).__name__}: {exc}")[:500]


def _count_failure(session: Session, row: OutboxMessage, exc: Exception, *, now: datetime, policy: RetryPolicy,
                   result: MailRun) -> None:
    """Count the attempt while the row is still ours; at the last one give up and open an incident."""
    row.attempts = (row.attempts or 0) + 1
    row.last_error = _error_text(exc)
    row.next_attempt_at = now + policy.delay(row.attempts)
    result.failed.append(row.id)
    given_up = row.attempts >= policy.max_attempts
    try:
        if given_up:
            row.failed_at = clock.now()
            incident = incidents.record_incident(session, case_id=row.case_id, kind="outbox", element_id=None,
                                                 message=f"e-mail {row.kind} could not be sent: {row.last_error}",
                                                 attempts=row.attempts, ref=row.id)
            result.incidents.append(incident.id)
        session.commit()
    except CaseBusy:
        session.rollback()  # the case is being changed right now: the attempt is counted again next pass
        return
    level = logging.ERROR if given_up else logging.WARNING
    log.log(level, "outbox message %s (%s) not sent, attempt %d of %d: %s", row.id, row.kind, row.attempts,
            policy.max_attempts, row.last_error,
            extra={"event": "mail_failed", "outbox_id": row.id, "attempt": row.attempts})
