"""Units, users, roles and passwords (argon2).

Functions take `session` keyword-only style and only flush; the CLI or route
commits. `UserView` is what the rest of the engine sees of a user.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .errors import Conflict, Invalid, NotFound
from .models import Unit, User, UserUnit

ROLES = ("caseworker", "teamlead", "process_owner", "auditor", "admin", "integration")
UNIT_ROLES = ("caseworker", "teamlead")
_UNIT_KEY = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")
# deliberately plain: no display names, quotes or line breaks (they would end up in mail headers)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@\-æøåÆØÅ]{1,100}$")
_hasher = PasswordHasher()
_dummy_hash: str | None = None


def _dummy() -> str:
    """Verifying against this keeps a failed login as slow whether or not the user exists
    (no user enumeration by timing); made on first use so that importing stays fast."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("tovholder-dummy-password")
    return _dummy_hash


@dataclass(frozen=True)
class UserView:
    id: str
    username: str
    role: str
    units: frozenset[str]

    def as_dict(self) -> dict:
        return {"username": self.username, "role": self.role, "units": sorted(self.units)}


def add_unit(session: Session, key: str, name: str) -> Unit:
    if not _UNIT_KEY.match(key or ""):
        raise Invalid(f"unit key '{key}' must be lower-case letters, digits, '-' or '_' (what a lane names)")
    if not name or not name.strip():
        raise Invalid("a unit needs a name")
    if session.get(Unit, key) is not None:
        raise Conflict(f"unit '{key}' already exists")
    unit = Unit(key=key, name=name.strip(), created_at=clock.now())
    session.add(unit)
    session.flush()
    return unit


def clean_email(email: str | None) -> str | None:
    """A plain address (name@domain); reminders and escalations go there. None: no e-mail."""
    if email is None:
        return None
    email = email.strip()
    if not _EMAIL.fullmatch(email):
        raise Invalid(f"e-mail address '{email[:100]}' is not a plain address like name@example.dk")
    return email


def set_email(session: Session, username: str, email: str | None) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user '{username}' does not exist")
    user.email = clean_email(email)
    session.flush()


def add_user(session: Session, username: str, *, role: str, password: str, units: Sequence[str] = (),
             email: str | None = None) -> UserView:
    email = clean_email(email)
    if not _USERNAME.match(username or ""):
        raise Invalid("username may contain letters, digits and . _ - @ (at most 100)")
    if role not in ROLES:
        raise Invalid(f"role '{role}' is not one of {', '.join(ROLES)}")
    if role in UNIT_ROLES and not units:
        raise Invalid(f"a {role} must belong to at least one unit (--unit KEY)")
    if not password or len(password) < 8:
        raise Invalid("password must be at least 8 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user '{username}' already exists")
    for key in units:
        if session.get(Unit, key) is None:
            raise NotFound(f"unit '{key}' does not exist")
    user = User(username=username, password_hash=_hasher.hash(password), role=role, active=True,
                created_at=clock.now(), email=email)
    session.add(user)
    session.flush()
    for key in dict.fromkeys(units):
        session.add(UserUnit(user_id=user.id, unit_key=key))
    session.flush()
    return UserView(user.id, username, role, frozenset(units))


def set_active(session: Session, username: str, active: bool) -> User:
    """Enable or disable a user (engine.auth_sessions.disable_user also ends their sessions)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user '{username}' does not exist")
    user.active = active
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> UserView | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _verify(_dummy(), password)
        return None
    if not _verify(user.password_hash, password):
        return None
    return user_view(session, user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def user_view(session: Session, user: User) -> UserView:
    units = frozenset(session.scalars(select(UserUnit.unit_key).where(UserUnit.user_id == user.id)))
    return UserView(user.id, user.username, user.role, units)


def find_user(session: Session, username: str) -> UserView | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    return user_view(session, user) if user else None


def user_exists(session: Session, username: str) -> bool:
    """Whether the name is taken, by an active or a disabled user."""
    return session.scalar(select(User.id).where(User.username == username)) is not None


def list_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.key)))
