"""Log in and out of the web UI: with a password (the CLI's users), or with the identity provider.

engine.login_throttle throttles password failures (the same count as the
token endpoint's); each login opens a row in `auth_sessions`
(engine.auth_sessions) whose id the cookie carries, and logging out ends
that row, so the old cookie opens nothing afterwards. TOVHOLDER_LOCAL_LOGIN=false
hides the password form and refuses its POST; with an identity provider
configured the page offers "Log ind med <provider>" (api/web/oidc_login.py).
Each route commits its own short transaction.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from engine import auth_sessions
from engine.accounts import UserView
from engine.login_throttle import LoginLocked, login

from ..deps import SessionDep
from .render import page, redirect, tidspunkt
from .session import LoginRequired, check_csrf, current_user, safe_next, start_session, web_session

router = APIRouter()
LOCAL_LOGIN_OFF = "Log ind med brugernavn og adgangskode er slået fra i denne installation."


def login_page(request: Request, *, next: str = "/", username: str = "", error: str | None = None,
               status: int = 200) -> Response:
    """The login page: the provider's button when one is configured, the password form unless switched off."""
    settings = request.app.state.settings
    return page(request, "login.html", {
        "next": next, "username": username, "error": error, "local_login": settings.local_login,
        "oidc_name": settings.oidc_name if settings.oidc_issuer else None,
    }, status=status)


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str = "/") -> Response:
    if web_session(request).username:
        try:
            current_user(request, session)  # a live session goes on; an ended one gets the form
            return redirect(request, safe_next(next))
        except LoginRequired:
            pass
    return login_page(request, next=safe_next(next))


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    username = str(form.get("username") or "")[:100]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(form.get("next"))
    if not request.app.state.settings.local_login:
        return login_page(request, next=target, error=LOCAL_LOGIN_OFF, status=403)
    try:
        user, session_id = await run_in_threadpool(_login, request, username, password)
    except LoginLocked as exc:
        error = ("For mange mislykkede forsøg. Af sikkerhedshensyn kan du tidligst logge ind igen "
                 f"{tidspunkt(exc.until)}.")
        return login_page(request, next=target, username=username, error=error, status=429)
    if user is None:
        return login_page(request, next=target, username=username, error="Brugernavn eller adgangskode er forkert.",
                          status=401)
    start_session(request, user.username, session_id)
    return redirect(request, target, flash=f"Du er logget ind som {user.username}.")


def _login(request: Request, username: str, password: str) -> tuple[UserView | None, str | None]:
    previous = web_session(request).session_id
    with request.app.state.session_factory() as session:
        try:
            user = login(session, username, password)
            if user is None:
                return None, None
            auth_sessions.end_session(session, previous, by="new login")  # one browser, one live session
            row = auth_sessions.open_session(session, user, kind="web",
                                             minutes=request.app.state.settings.token_minutes)
            return user, row.id
        finally:
            session.commit()  # a failure is counted even though the login is refused


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    await run_in_threadpool(_logout, request, web_session(request).session_id)
    start_session(request, None)
    return redirect(request, "/login", flash="Du er logget ud.")


def _logout(request: Request, session_id: str | None) -> None:
    with request.app.state.session_factory() as session:
        auth_sessions.end_session(session, session_id, by="logout")
        session.commit()
