"""Login with throttling, for both logins (the web form and POST /api/auth/token).

After repeated failures a user name is locked for a growing time. The count
is kept in the database (`login_throttle`), so it holds across app servers
and restarts, and one count covers both logins: failing on the web form and
then trying the token endpoint gains nothing. It is kept per user name, also
for names that do not exist, so the answer never tells whether a name exists.
While a name is locked, the password is not even checked. A success clears
the count.

Transaction rule: functions only flush; the route commits (also after a
failure, so that the failure is counted).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import clock
from .accounts import UserView, authenticate
from .errors import TooManyRequests
from .models import LoginThrottle

FREE_FAILURES = 5  # failures allowed before the first lock
FIRST_LOCK = timedelta(seconds=30)  # doubles with each further failure ...
MAX_LOCK = timedelta(minutes=15)  # ... up to this


class LoginLocked(TooManyRequests):
    """Too many failures: no login for this name until `until` (429 in the API, a message on the web)."""

    def __init__(self, until: datetime):
        super().__init__(f"too many failed logins for this user name; try again after "
                         f"{until.replace(microsecond=0).isoformat()}")
        self.until = until
        self.retry_after = max(1, int((until - clock.now()).total_seconds() + 0.999))


def lock_for(failures: int) -> timedelta | None:
    """How long a name is locked after this many consecutive failures (None: not locked)."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_LOCK * 2 ** (failures - FREE_FAILURES), MAX_LOCK)


def login(session: Session, username: str, password: str) -> UserView | None:
    """The user, or None for a wrong name or password (counted); LoginLocked while locked."""
    name = (username or "").strip()[:100]
    row = session.get(LoginThrottle, name, populate_existing=True)
    now = clock.now()
    if row is not None and row.locked_until is not None and clock.as_utc(row.locked_until) > now:
        raise LoginLocked(clock.as_utc(row.locked_until))
    user = authenticate(session, name, password or "")
    if user is not None:
        if row is not None:
            session.delete(row)
            session.flush()
        return user
    _count_failure(session, name, now)
    return None


def _count_failure(session: Session, name: str, now: datetime) -> None:
    row = session.get(LoginThrottle, name)
    if row is None:
        try:
            with session.begin_nested():  # a concurrent first failure may insert the same name
                session.add(LoginThrottle(username=name, failures=0, last_failure_at=now))
        except IntegrityError:
            pass
    # counted in the database, so two failures at the same moment both count
    session.execute(update(LoginThrottle).where(LoginThrottle.username == name)
                    .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
                    .execution_options(synchronize_session=False))
    row = session.get_one(LoginThrottle, name, populate_existing=True)  # inserted above or by the winner
    wait = lock_for(row.failures)
    row.locked_until = now + wait if wait else None
    session.flush()
