"""Log in and out of the web UI (the CLI's users).

engine.login_throttle throttles failures (the same count as the token
endpoint's); each login opens a row in `auth_sessions` (engine.auth_sessions)
whose id the cookie carries, and logging out ends that row, so the old cookie
opens nothing afterwards. Each route commits its own short transaction.
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


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str = "/") -> Response:
    if web_session(request).username:
        try:
            current_user(request, session)  # a live session goes on; an ended one gets the form
            return redirect(request, safe_next(next))
        except LoginRequired:
            pass
    return page(request, "login.html", {"next": safe_next(next), "username": "", "error": None})


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    username = str(form.get("username") or "")[:100]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(form.get("next"))
    try:
        user, session_id = await run_in_threadpool(_login, request, username, password)
    except LoginLocked as exc:
        error = ("For mange mislykkede forsøg. Af sikkerhedshensyn kan du tidligst logge ind igen "
                 f"{tidspunkt(exc.until)}.")
        return page(request, "login.html", {"next": target, "username": username, "error": error}, status=429)
    if user is None:
        error = "Brugernavn eller adgangskode er forkert."
        return page(request, "login.html", {"next": target, "username": username, "error": error}, status=401)
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
