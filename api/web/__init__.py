"""The staff web UI: server-rendered pages (Jinja2) on the same app and engine calls as /api.

One module per page group: login (and oidc_login), inbox, task_page, case_search, case_pages,
outside_page (a unit registering a step from outside), and the studio's (studio_pages,
studio_migrate, studio_forms, studio_publish). Every change
goes through the same engine functions as the JSON API (engine.runtime for
completion and messages, engine.tasks for claim/release/assign); the routes commit.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from .session import LoginRequired, finish, login_url

STATIC = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI) -> None:
    """Mount /static, add the page routes, and send a visitor without a session to /login."""
    from . import (
        case_pages,
        case_search,
        dashboard,
        inbox,
        login,
        oidc_login,
        outside_page,
        studio_forms,
        studio_migrate,
        studio_pages,
        studio_publish,
        task_page,
    )
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (login, oidc_login, inbox, task_page, case_search, case_pages, outside_page, studio_pages,
                   studio_migrate, studio_forms, studio_publish, dashboard):
        app.include_router(module.router, include_in_schema=False)
    from . import studio_edit
    app.include_router(studio_edit.router, include_in_schema=False)  # the studio's modeler page

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        return finish(request, RedirectResponse(login_url(request), status_code=303))
