"""Bearer tokens (JWT, HS256) for the API. Signing key from Settings.

A token carries `jti`, the id of its row in `auth_sessions`
(engine.auth_sessions): the signature says the token was made here, the row
says it still counts (not revoked, user not disabled). Both are checked on
every request (api.deps.current_user).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jwt

from engine import clock

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    username: str
    session_id: str


def issue_token(username: str, *, session_id: str, key: str, expires_at: datetime) -> str:
    payload = {"sub": username, "jti": session_id, "iat": int(clock.now().timestamp()),
               "exp": int(expires_at.timestamp())}
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def read_token(token: str, *, key: str) -> TokenClaims | None:
    """The claims of a validly signed, unexpired token, or None (expired, forged, malformed, no jti)."""
    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "jti"]})
    except jwt.PyJWTError:
        return None
    sub, jti = payload.get("sub"), payload.get("jti")
    if not isinstance(sub, str) or not isinstance(jti, str):
        return None
    return TokenClaims(sub, jti)
