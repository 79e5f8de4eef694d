"""Admins end users' sessions and tokens, and disable or enable users (engine.auth_sessions).

POST /api/users/{username}/revoke-sessions (a stolen laptop), /disable (staff
who leave: no login, and every session ends now), /enable. Each takes effect
on the user's next request. Routes commit.
"""
from __future__ import annotations

from fastapi import APIRouter

from engine import auth_sessions
from engine.access import require_role
from engine.errors import Conflict

from ..deps import CurrentUser, SessionDep
from ..responses import ErrorMessage, RequestInvalid, errors

ADMIN_ERRORS = errors(401, 403, 404, 409, 422, unprocessable=(RequestInvalid, ErrorMessage))

router = APIRouter(tags=["users"])


@router.post("/users/{username}/revoke-sessions", response_model=None, responses=ADMIN_ERRORS)
def revoke_sessions(username: str, user: CurrentUser, session: SessionDep) -> dict:
    """Admins: end every web session and bearer token of the user now (a stolen laptop); they may log in again."""
    require_role(user, ("admin",), "end other users' sessions")
    ended = auth_sessions.revoke_user(session, username, by=user.username)
    session.commit()
    return {"username": username, "ended": ended}


@router.post("/users/{username}/disable", response_model=None, responses=ADMIN_ERRORS)
def disable(username: str, user: CurrentUser, session: SessionDep) -> dict:
    """Admins: the user may no longer log in, and every session and token of theirs ends now (staff who leave)."""
    require_role(user, ("admin",), "disable users")
    if username == user.username:  # the last admin must not lock everyone out by mistake
        raise Conflict("you cannot disable yourself; another admin (or `tovholder users disable`) can")
    ended = auth_sessions.disable_user(session, username, by=user.username)
    session.commit()
    return {"username": username, "active": False, "ended": ended}


@router.post("/users/{username}/enable", response_model=None, responses=ADMIN_ERRORS)
def enable(username: str, user: CurrentUser, session: SessionDep) -> dict:
    """Admins: a disabled user may log in again (their old sessions stay ended)."""
    require_role(user, ("admin",), "enable users")
    auth_sessions.enable_user(session, username)
    session.commit()
    return {"username": username, "active": True}
