"""Bearer tokens (JWT, HS256) for the API. Signing key from Settings."""
from __future__ import annotations

from datetime import timedelta

import jwt

from engine import clock

ALGORITHM = "HS256"


def issue_token(username: str, *, key: str, minutes: int) -> str:
    now = clock.now()
    payload = {"sub": username, "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=minutes)).timestamp())}
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def read_token(token: str, *, key: str) -> str | None:
    """The username a valid token names, or None (expired, forged, malformed)."""
    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError:
        return None
    sub = payload.get("sub")
    return sub if isinstance(sub, str) else None
