"""Log in with the identity provider: POST /login/oidc sends the browser there, /login/oidc/callback brings it back.

The attempt's `state`, `nonce` and PKCE verifier travel in a cookie of its
own (a JWT signed with the server key, audience "tovholder-oidc", HttpOnly,
SameSite=Lax so that the provider's redirect back carries it, ten minutes,
path /login/oidc): the callback takes only a state that this browser
started, and only once (the cookie is dropped whatever happens). The
provider's answer is checked in api.oidc; engine.oidc_accounts then makes
the user row follow the groups. Success opens a web session like a password
login (engine.auth_sessions), so logout, revocation and disabling work the
same. A refusal — by the provider, or because the groups give no role here —
shows the login page with the reason in Danish, and ends the session this
browser still had. Starting a login is a POST with the CSRF token like every
form. Each route commits its own short transaction.
"""
from __future__ import annotations

import hmac
import logging
from datetime import timedelta

import jwt
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from engine import auth_sessions, clock
from engine.accounts import UserView
from engine.oidc_accounts import Identity, LoginRefused, sign_in

from ..oidc import Provider, ProviderUnavailable, TokenRejected, provider_for
from .login import login_page
from .render import redirect
from .session import ALGORITHM, check_csrf, finish, safe_next, start_session, web_session

log = logging.getLogger("tovholder.oidc")
router = APIRouter()
COOKIE = "tovholder_oidc"
COOKIE_PATH = "/login/oidc"
AUDIENCE = "tovholder-oidc"
ATTEMPT_MINUTES = 10
STALE = ("Login-forsøget kunne ikke genkendes: det er udløbet eller blev startet i et andet vindue. "
         "Prøv igen.")


@router.post("/login/oidc")
async def start(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    target = safe_next(form.get("next"))
    provider = provider_for(request.app)
    if provider is None:
        return login_page(request, next=target, error="Log ind via identitetsudbyder er ikke sat op.", status=404)
    try:
        attempt = await run_in_threadpool(provider.start_login, _redirect_uri(request))
    except ProviderUnavailable:
        return login_page(request, next=target, error=_unavailable(provider), status=503)
    exp = clock.now() + timedelta(minutes=ATTEMPT_MINUTES)
    token = jwt.encode({"aud": AUDIENCE, "exp": int(exp.timestamp()), "state": attempt.state, "nonce": attempt.nonce,
                        "verifier": attempt.verifier, "next": target}, _key(request), algorithm=ALGORITHM)
    response = RedirectResponse(attempt.url, status_code=303)
    response.set_cookie(COOKIE, token, max_age=ATTEMPT_MINUTES * 60, path=COOKIE_PATH, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return finish(request, response)


@router.get("/login/oidc/callback", name="oidc_callback")
async def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    provider = provider_for(request.app)
    attempt = _attempt(request)
    target = safe_next(attempt.get("next")) if attempt else "/"
    if provider is None:
        return _drop(request, login_page(request, error="Log ind via identitetsudbyder er ikke sat op.", status=404))
    # Some providers send an error back without the state: it can only end this browser's pending attempt
    # (and its session), so it is taken when such an attempt exists.
    stateless_error = bool(error) and not state
    if not attempt or not (stateless_error or _same(str(attempt.get("state", "")), state)):
        return _drop(request, login_page(request, next=target, error=STALE, status=400))
    if error or not code:
        log.info("oidc login: the identity provider refused (%s)", error[:50] or "no code")
        await run_in_threadpool(_end_previous, request, "oidc: refused by the identity provider")
        start_session(request, None)
        return _drop(request, login_page(request, next=target, status=403,
                                         error=f"{provider.name} afviste login. Du er ikke logget ind i Tovholder."))
    try:
        identity = await run_in_threadpool(provider.finish_login, code=code[:2000], redirect_uri=_redirect_uri(request),
                                           verifier=str(attempt["verifier"]), nonce=str(attempt["nonce"]))
        user, session_id = await run_in_threadpool(_sign_in, request, provider, identity)
    except ProviderUnavailable:
        return _drop(request, login_page(request, next=target, error=_unavailable(provider), status=503))
    except TokenRejected as exc:
        log.warning("oidc login: the identity provider's answer failed a check: %s", exc.why)
        return _drop(request, login_page(request, next=target, status=400,
                                         error=f"Svaret fra {provider.name} kunne ikke godkendes. Prøv igen."))
    except LoginRefused as exc:
        start_session(request, None)
        return _drop(request, login_page(request, next=target, error=exc.message, status=403))
    start_session(request, user.username, session_id)
    return _drop(request, redirect(request, target, flash=f"Du er logget ind som {user.username}."))


def _sign_in(request: Request, provider: Provider, identity: Identity) -> tuple[UserView, str]:
    """The user row follows the groups; a new web session replaces the one this browser had."""
    previous = web_session(request).session_id
    with request.app.state.session_factory() as session:
        try:
            user = sign_in(session, identity, provider.group_map(), fresh=True)  # our nonce: just made
        except LoginRefused:
            auth_sessions.end_session(session, previous, by="oidc: login refused")
            session.commit()  # the user is out: the refusal and the ended sessions hold
            raise
        auth_sessions.end_session(session, previous, by="new login")  # one browser, one live session
        row = auth_sessions.open_session(session, user, kind="web", minutes=request.app.state.settings.token_minutes)
        session.commit()
        return user, row.id


def _same(expected: str, sent: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), sent[:200].encode())


def _end_previous(request: Request, by: str) -> None:
    with request.app.state.session_factory() as session:
        auth_sessions.end_session(session, web_session(request).session_id, by=by)
        session.commit()


def _attempt(request: Request) -> dict | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        claims = jwt.decode(token, _key(request), algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["exp", "aud", "state", "nonce", "verifier"]})
    except jwt.PyJWTError:
        return None
    return claims if all(isinstance(claims.get(k), str) for k in ("state", "nonce", "verifier")) else None


def _drop(request: Request, response: Response) -> Response:
    """Every answer of the callback ends the attempt: a state is good for one try."""
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response


def _redirect_uri(request: Request) -> str:
    configured = request.app.state.settings.oidc_redirect_uri
    return configured or str(request.url_for("oidc_callback"))


def _key(request: Request) -> str:
    return request.app.state.settings.signing_key()


def _unavailable(provider: Provider) -> str:
    return f"{provider.name} svarer ikke lige nu. Prøv igen om lidt."
