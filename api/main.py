"""create_app(settings): the FastAPI application serving /api (and, later, the web UI).

Errors: every EngineError becomes `{"detail": ...}` with its status; request
validation errors become 422 without echoing the input (it may hold a CPR).
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from engine import logs
from engine.bpmn import patches as bpmn_patches
from engine.db import make_db_engine, make_session_factory
from engine.errors import EngineError, TooManyRequests
from engine.group_map import GroupMapError, GroupMapFile
from engine.settings import Settings, SettingsError, load_settings

from . import docs, web
from .limits import BodyLimit
from .responses import document_errors
from .routes import (
    attachments,
    auth,
    case_audit,
    cases,
    definitions,
    diagram,
    external_tasks,
    health,
    incidents,
    messages,
    metrics,
    migrations,
    reports,
    studio,
    tasks,
    users,
    versions,
)
from .web.errors import html_error, wants_html

log = logging.getLogger("tovholder.api")


def app_from_environment() -> FastAPI:
    """The app of one of `tovholder serve --workers N`'s processes: settings read from the environment."""
    return create_app(load_settings())


def create_app(settings: Settings, *, db_engine: Engine | None = None) -> FastAPI:
    settings.signing_key()  # refuse to start without a key outside demo mode
    _check_group_map(settings)
    bpmn_patches.apply()
    app = FastAPI(title="Tovholder", version="0.1.0", docs_url=None, redoc_url=None,  # /docs: api.docs
                  description="BPMN-native case workflow for cross-department citizen journeys.")
    app.state.settings = settings
    app.state.db_engine = db_engine or make_db_engine(settings.database_url)
    app.state.session_factory = make_session_factory(app.state.db_engine, audit_key=settings.audit_key)
    logs.install()

    for module in (health, auth, definitions, cases, tasks, messages, incidents, attachments, diagram,
                   external_tasks):
        app.include_router(module.router, prefix="/api")
    app.include_router(versions.router, prefix="/api")  # deploy history, where cases stand, diffs
    app.include_router(users.router, prefix="/api")  # admins: end sessions, disable users
    app.include_router(migrations.router, prefix="/api")  # running cases to another version
    app.include_router(studio.router, prefix="/api")  # process owners' drafts, checks and publishing
    app.include_router(case_audit.router, prefix="/api")  # access log, audit chain check
    app.include_router(reports.router, prefix="/api")  # per step and per journey, JSON or CSV
    app.include_router(metrics.router)  # GET /metrics (Prometheus), beside /api
    web.install(app)  # the staff web UI (pages, /static)
    docs.install(app)  # /docs with Swagger UI's files from an installed package, not a CDN
    _install_error_handlers(app)
    _describe_errors(app)
    app.add_middleware(BodyLimit)  # declared and chunked bodies over the limits, before a route reads them
    return app


def _check_group_map(settings: Settings) -> None:
    """An identity provider's group mapping file that cannot be read refuses the start, with its reason."""
    if settings.oidc_group_map is None:
        return
    try:
        GroupMapFile(settings.oidc_group_map).current()
    except GroupMapError as exc:
        raise SettingsError(f"TOVHOLDER_OIDC_GROUP_MAP: {exc}") from None


def _describe_errors(app: FastAPI) -> None:
    """/openapi.json tells the error bodies as the handlers below answer them (api.responses)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> Response:
        if wants_html(request):  # outside /api: a page in the web UI's look
            return html_error(request, exc.status, exc.detail)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests) and exc.retry_after:  # 429: a locked login name says when to try again
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if wants_html(request):
            return html_error(request, 422, "En værdi i adressen eller formularen har forkert form.")
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, _exc: DataError) -> Response:
        # The database refused a value taken from the request (on PostgreSQL: a NUL character in text).
        return JSONResponse({"detail": "a value in the request cannot be stored or searched for "
                                       "(for example a NUL character)"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Logged by type only: the message of an unexpected error could carry personal data.
        log.error("unexpected %s while serving a request", type(exc).__name__)
        if wants_html(request):
            return html_error(request, 500, None)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return html_error(request, exc.status_code, None)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
