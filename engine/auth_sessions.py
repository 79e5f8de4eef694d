"""Server-side sessions: every web session and every bearer token is a row that can be ended.

The cookie or token (both signed JWTs, made in api/) carries the row's id as
`jti`; each request looks the row up by primary key, joined to its user, so
one indexed lookup decides: ended, expired, user disabled or removed → out
(401, or the web login page), at once and on every app server. A signature
alone is no longer enough to get in.

- logging out of the web ends that session (`end_session`);
- an admin ends all sessions and tokens of a user (`revoke_user`: a stolen
  laptop), or disables the user (`disable_user`: staff who leave), which also
  ends them, so enabling the user again later revives none of them;
- a user row that is deleted takes its sessions with it (ON DELETE CASCADE).

Rows of a user that have expired are deleted when that user next gets a
session, so the table stays about as big as the sessions in use.

Transaction rule: functions only flush; the route or CLI command commits.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from . import clock
from .accounts import UserView, set_active, user_view
from .errors import Invalid, NotFound
from .models import AuthSession, User

KINDS = ("web", "api")


def open_session(session: Session, user: UserView, *, kind: str, minutes: int) -> AuthSession:
    """A new session row for `user`; its id goes into the cookie or token as `jti`."""
    if kind not in KINDS:
        raise Invalid(f"session kind must be one of {', '.join(KINDS)}")
    now = clock.now()
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.expires_at < now)
                    .execution_options(synchronize_session=False))
    row = AuthSession(id=secrets.token_urlsafe(32), user_id=user.id, kind=kind, created_at=now,
                      expires_at=now + timedelta(minutes=minutes))
    session.add(row)
    session.flush()
    return row


def check_session(session: Session, session_id: object, username: object, *, kind: str) -> UserView | None:
    """The user of a live session of this kind, or None (unknown, ended, expired, user disabled or gone)."""
    if not isinstance(session_id, str) or not isinstance(username, str) or not 0 < len(session_id) <= 64:
        return None
    found = session.execute(select(AuthSession, User).join(User, User.id == AuthSession.user_id)
                            .where(AuthSession.id == session_id)).first()
    if found is None:
        return None
    row, user = found
    if (row.kind != kind or row.ended_at is not None or clock.as_utc(row.expires_at) <= clock.now()
            or not user.active or user.username != username):
        return None
    return user_view(session, user)


def end_session(session: Session, session_id: str | None, *, by: str = "logout") -> None:
    """End one session (web logout); an unknown or already ended one is left as it is."""
    if not session_id:
        return
    session.execute(update(AuthSession).where(AuthSession.id == session_id, AuthSession.ended_at.is_(None))
                    .values(ended_at=clock.now(), ended_by=by[:100]).execution_options(synchronize_session=False))
    session.flush()


def revoke_user(session: Session, username: str, *, by: str) -> int:
    """End every live session and token of the user; how many were ended. NotFound for an unknown user."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user '{username}' does not exist")
    return _end_all(session, user.id, by, clock.now())


def disable_user(session: Session, username: str, *, by: str) -> int:
    """The user can no longer log in, and every session and token of theirs ends now; how many ended."""
    user = set_active(session, username, False)
    return _end_all(session, user.id, by, clock.now())


def end_user_sessions(session: Session, user_id: str, *, by: str) -> int:
    """End every live session and token of the user with this id (the identity provider no longer lets them in)."""
    return _end_all(session, user_id, by, clock.now())


def enable_user(session: Session, username: str) -> None:
    """The user may log in again (their old sessions stay ended)."""
    set_active(session, username, True)


def live_sessions(session: Session, username: str) -> list[AuthSession]:
    """The user's sessions and tokens that still let them in, newest first (for the CLI and tests)."""
    now = clock.now()
    return list(session.scalars(select(AuthSession).join(User, User.id == AuthSession.user_id)
                                .where(User.username == username, AuthSession.ended_at.is_(None),
                                       AuthSession.expires_at > now)
                                .order_by(AuthSession.created_at.desc())))


def _end_all(session: Session, user_id: str, by: str, now: datetime) -> int:
    result = session.execute(update(AuthSession).where(AuthSession.user_id == user_id,
                                                       AuthSession.ended_at.is_(None),
                                                       AuthSession.expires_at > now)
                             .values(ended_at=now, ended_by=by[:100]).execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)  # what an UPDATE statement gives; Session.execute is typed as Result
    session.flush()
    return result.rowcount or 0
