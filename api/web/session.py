"""The web session: a signed cookie naming the user and their session row, with the CSRF token.

The cookie is a JWT (HS256, settings.signing_key()) with audience
"tovholder-web": an API bearer token is not a session cookie, and this cookie
is not an API token. HttpOnly, SameSite=Lax, Secure when the request came
over https. Anonymous visitors get a cookie too (no user, only a CSRF token,
no database row), so the login form is protected the same way. Logging in
issues a new cookie with a new token (no session fixation).

A logged-in cookie also carries `jti`, the id of its row in `auth_sessions`
(engine.auth_sessions): `current_user` checks that row on every page, so
logging out, an admin's revocation or disabling the user ends the session at
once; such a cookie is replaced by an anonymous one and the page goes to
/login. Reads only here; the login and logout routes write the rows.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

import jwt
from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from engine import clock
from engine.accounts import UserView
from engine.auth_sessions import check_session
from engine.errors import Forbidden

COOKIE = "tovholder_session"
FLASH_COOKIE = "tovholder_flash"
AUDIENCE = "tovholder-web"
ALGORITHM = "HS256"
ANONYMOUS_MINUTES = 60 * 24


class LoginRequired(Exception):
    """No valid session on a page that needs one: the handler redirects to /login."""


@dataclass
class WebSession:
    username: str | None
    csrf: str
    session_id: str | None = None  # the auth_sessions row (jti) of a logged-in session
    fresh: bool = False  # made in this request: the response must set it
    flash: list[str] = field(default_factory=list)


def _key(request: Request) -> str:
    return request.app.state.settings.signing_key()


def _decode(request: Request, token: str | None) -> dict | None:
    if not token:
        return None
    try:
        return jwt.decode(token, _key(request), algorithms=[ALGORITHM], audience=AUDIENCE,
                          options={"require": ["exp", "csrf", "aud"]})
    except jwt.PyJWTError:
        return None


def web_session(request: Request) -> WebSession:
    """This request's session (read once, cached on the request)."""
    cached = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached
    payload = _decode(request, request.cookies.get(COOKIE))
    if payload and isinstance(payload.get("csrf"), str):
        sub, jti = payload.get("sub"), payload.get("jti")
        if isinstance(sub, str) and isinstance(jti, str):
            current = WebSession(sub, payload["csrf"], jti)
        else:  # a visitor (or a cookie from before sessions had rows: it is no login any more)
            current = WebSession(None, payload["csrf"])
    else:
        current = WebSession(None, secrets.token_urlsafe(32), fresh=True)
    flash = _decode(request, request.cookies.get(FLASH_COOKIE))
    if flash and isinstance(flash.get("msg"), list):
        current.flash = [str(m) for m in flash["msg"]][:5]
    request.state.web_session = current
    return current


def start_session(request: Request, username: str | None, session_id: str | None = None) -> WebSession:
    """A new session (after login: with its auth_sessions row; after logout: anonymous), with a new CSRF token."""
    current = WebSession(username, secrets.token_urlsafe(32), session_id if username else None, fresh=True)
    request.state.web_session = current
    return current


def finish(request: Request, response: Response) -> Response:
    """Set the session cookie if it is new, and drop a flash message that has been shown."""
    current = web_session(request)
    secure = request.url.scheme == "https"
    if current.fresh:
        settings = request.app.state.settings
        minutes = settings.token_minutes if current.username else ANONYMOUS_MINUTES
        exp = clock.now() + timedelta(minutes=minutes)
        claims = {"csrf": current.csrf, "aud": AUDIENCE, "exp": int(exp.timestamp())}
        if current.username:  # no "sub" at all for a visitor (PyJWT refuses a non-string sub)
            claims["sub"] = current.username
            claims["jti"] = current.session_id
        token = jwt.encode(claims, _key(request), algorithm=ALGORITHM)
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    if current.flash and getattr(request.state, "flash_shown", False):
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    return response


def set_flash(request: Request, response: Response, message: str) -> None:
    """A confirmation shown once on the next page (a signed cookie, so it cannot be forged)."""
    exp = clock.now() + timedelta(minutes=5)
    token = jwt.encode({"msg": [message], "aud": AUDIENCE, "csrf": "-", "exp": int(exp.timestamp())},
                       _key(request), algorithm=ALGORITHM)
    response.set_cookie(FLASH_COOKIE, token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def current_user(request: Request, session: Session) -> UserView:
    """The logged-in user of a live session, or LoginRequired (the cookie becomes an anonymous one)."""
    current = web_session(request)
    if not current.username:
        raise LoginRequired()
    user = check_session(session, current.session_id, current.username, kind="web")
    if user is None:  # logged out, revoked, expired, or the user is disabled or gone
        start_session(request, None)
        raise LoginRequired()
    return user


def check_csrf(request: Request, form: FormData | None) -> None:
    """Every POST form carries the session's token; anything else is refused (403)."""
    sent = form.get("csrf_token") if form is not None else None
    expected = web_session(request).csrf
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("Formularen kunne ikke godkendes (CSRF-token mangler eller er forkert). "
                        "Genindlæs siden og prøv igen.")


def login_url(request: Request) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return "/login?next=" + quote(target, safe="")


def safe_next(value: object) -> str:
    """Only a local path (no //host or scheme) is a place to go after login."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
