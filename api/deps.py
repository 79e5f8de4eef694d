"""FastAPI dependencies: settings, a database session per request, the current user.

The session dependency never commits (a commit after `yield` would run after
the response is sent); routes call `session.commit()` themselves.

The current user is the bearer token's. A bearer token is one of Tovholder's own
(HS256, a row in `auth_sessions`) or, with an identity provider configured, a
JWT the provider signed (api.oidc checks it; engine.oidc_accounts applies the
groups it carries, in a short transaction of its own that commits before the
route runs). Under /api/studio/ alone, a request without a token may instead
carry the web session cookie: the studio's modeler page calls that API from the
browser. Such a request that changes anything must also send the session's
CSRF token in `X-CSRF-Token` (403 without it).
"""
from __future__ import annotations

import hmac
import logging
from typing import Annotated, Iterator

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.accounts import UserView
from engine.auth_sessions import check_session
from engine.case_rules import CaseRules, rules_from_settings
from engine.errors import Forbidden, ProcessError, Unauthorized
from engine.oidc_accounts import LoginRefused, sign_in
from engine.runtime import record_failure
from engine.settings import Settings

from .oidc import Provider, TokenRejected, provider_for
from .security import ALGORITHM, read_token
from .web.session import web_session

log = logging.getLogger("tovholder.api")

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.session_factory()
    try:
        yield session
    except ProcessError as exc:
        # The failed run is rolled back; the failure itself is audited on the case, in its own commit.
        session.rollback()
        if exc.case_id:
            try:
                record_failure(session, case_id=exc.case_id, error=exc, actor=exc.actor)
                session.commit()
            except Exception:  # noqa: BLE001 - the original error is what the caller must see
                session.rollback()
        raise
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_rules(settings: SettingsDep) -> CaseRules:
    return rules_from_settings(settings)


RulesDep = Annotated[CaseRules, Depends(get_rules)]


COOKIE_PATHS = ("/api/studio/",)  # JSON the browser's own pages call with the web session
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _cookie_user(request: Request, session: Session) -> UserView | None:
    """The web session's user, for a browser page's call; None without a live session."""
    current = web_session(request)
    if not current.username:
        return None
    user = check_session(session, current.session_id, current.username, kind="web")
    if user is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token") or ""
        if not hmac.compare_digest(sent.encode(), current.csrf.encode()):
            raise Forbidden("a request with the web session cookie must send the page's CSRF token in X-CSRF-Token")
    return user


def current_user(request: Request, session: SessionDep, settings: SettingsDep,
                 token: Annotated[str | None, Depends(oauth2)]) -> UserView:
    if not token and request.url.path.startswith(COOKIE_PATHS):
        user = _cookie_user(request, session)
        if user is not None:
            return user
    if not token:
        raise Unauthorized("not authenticated: send Authorization: Bearer <token> (POST /api/auth/token)")
    claims = read_token(token, key=settings.signing_key())
    if claims is None and not _ours(token) and (provider := provider_for(request.app)) is not None:
        return provider_user(request, provider, token)  # not one of ours: perhaps the identity provider's
    # one lookup by primary key: the token's session row, joined to its user (revoked, disabled → None)
    user = check_session(session, claims.session_id, claims.username, kind="api") if claims else None
    if user is None:
        raise Unauthorized("the token is invalid, has expired or has been revoked; log in again")
    return user


def _ours(token: str) -> bool:
    """Signed the way Tovholder signs (HS256): an expired or revoked token of ours is a 401 without asking the
    identity provider, also while it is down."""
    try:
        return jwt.get_unverified_header(token).get("alg") == ALGORITHM
    except jwt.PyJWTError:
        return False


def provider_user(request: Request, provider: Provider, token: str) -> UserView:
    """The user a token of the identity provider stands for (engine.oidc_accounts.sign_in applies its groups).

    Its own short transaction: the groups it applies, or the refusal and the sessions it ends, are committed
    even when the request is refused, and the request's session starts clean."""
    try:
        identity = provider.check_bearer(token)
    except TokenRejected as exc:
        log.info("bearer token refused: %s", exc.why)
        raise
    for attempt in (1, 2):
        with request.app.state.session_factory() as session:
            try:
                user = sign_in(session, identity, provider.group_map())
                session.commit()
                return user
            except LoginRefused:
                session.commit()  # the user is out: their ended sessions and the refusal hold
                raise
            except IntegrityError:
                # two first requests with a new token at once: one made the row (or unit), the other reads it
                session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


CurrentUser = Annotated[UserView, Depends(current_user)]
