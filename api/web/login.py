"""Log in and out of the web UI (the CLI's users; engine.web_login throttles failures)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from engine.web_login import LoginLocked, login

from .render import page, redirect, tidspunkt
from .session import check_csrf, safe_next, start_session, web_session

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    if web_session(request).username:
        return redirect(request, safe_next(next))
    return page(request, "login.html", {"next": safe_next(next), "username": "", "error": None})


@router.post("/login")
async def login_submit(request: Request):
    form = await request.form()
    check_csrf(request, form)
    username = str(form.get("username") or "")[:100]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(form.get("next"))
    try:
        user = await run_in_threadpool(_login, request, username, password)
    except LoginLocked as exc:
        error = ("For mange mislykkede forsøg. Af sikkerhedshensyn kan du tidligst logge ind igen "
                 f"{tidspunkt(exc.until)}.")
        return page(request, "login.html", {"next": target, "username": username, "error": error}, status=429)
    if user is None:
        error = "Brugernavn eller adgangskode er forkert."
        return page(request, "login.html", {"next": target, "username": username, "error": error}, status=401)
    start_session(request, user.username)
    return redirect(request, target, flash=f"Du er logget ind som {user.username}.")


def _login(request: Request, username: str, password: str):
    with request.app.state.session_factory() as session:
        try:
            user = login(session, username, password)
        finally:
            session.commit()  # a failure is counted even though the login is refused
        return user


@router.post("/logout")
async def logout(request: Request):
    form = await request.form()
    check_csrf(request, form)
    start_session(request, None)
    return redirect(request, "/login", flash="Du er logget ud.")
