"""POST /api/auth/token (OAuth2 password flow) and GET /api/me."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from engine.accounts import authenticate
from engine.errors import Unauthorized

from ..deps import CurrentUser, SessionDep, SettingsDep
from ..responses import BODY, errors
from ..security import issue_token

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses=errors(*BODY, 401, 422))
def token(session: SessionDep, settings: SettingsDep,
          username: Annotated[str, Form(max_length=100)], password: Annotated[str, Form(max_length=200)]):
    user = authenticate(session, username, password)
    if user is None:
        raise Unauthorized("wrong username or password")
    return {"access_token": issue_token(user.username, key=settings.signing_key(), minutes=settings.token_minutes),
            "token_type": "bearer"}


@router.get("/me", responses=errors(401))
def me(user: CurrentUser):
    return user.as_dict()
