"""POST /api/auth/token (OAuth2 password flow) and GET /api/me.

The token endpoint uses the web login's throttle (engine.login_throttle): a
name locked after repeated failures answers 429 (Retry-After) until the lock
runs out, bad credentials 401. Each token is a row in `auth_sessions`
(engine.auth_sessions), so it can be revoked before it expires. With
TOVHOLDER_LOCAL_LOGIN=false it refuses every password (403): tokens then come
from the identity provider (api.oidc).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from engine import auth_sessions
from engine.errors import Forbidden, Unauthorized
from engine.login_throttle import login

from ..deps import CurrentUser, SessionDep, SettingsDep
from ..responses import BODY, errors
from ..security import issue_token

router = APIRouter(tags=["auth"])


LOCAL_LOGIN_OFF = ("password login is switched off in this installation (TOVHOLDER_LOCAL_LOGIN=false); "
                   "send a bearer token from the identity provider instead")


@router.post("/auth/token", response_model=None, responses=errors(*BODY, 401, 403, 422, 429))
def token(session: SessionDep, settings: SettingsDep,
          username: Annotated[str, Form(max_length=100)], password: Annotated[str, Form(max_length=200)]) -> dict:
    if not settings.local_login:
        raise Forbidden(LOCAL_LOGIN_OFF)
    user = login(session, username, password)  # LoginLocked (429) while the name is locked
    if user is None:
        session.commit()  # the failure is counted even though the login is refused
        raise Unauthorized("wrong username or password")
    row = auth_sessions.open_session(session, user, kind="api", minutes=settings.token_minutes)
    access_token = issue_token(user.username, session_id=row.id, key=settings.signing_key(),
                               expires_at=row.expires_at)
    session.commit()
    return {"access_token": access_token, "token_type": "bearer"}


@router.get("/me", response_model=None, responses=errors(401))
def me(user: CurrentUser) -> dict:
    return user.as_dict()

