"""Rendering pages: the Jinja2 environment (auto-escaping on), the filters of engine.formats, redirects.

Every page goes through `page()`, which adds the session (user, CSRF token,
flash message), the names of the user's units for the header (read in a
session of its own) and sets the session cookie when it is new. Read-only.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from engine import clock
from engine.accounts import UserView
from engine.formats import dato, filstoerrelse, tal, tidspunkt
from engine.forms import Form
from engine.models import Unit

from .session import finish, set_flash, web_session
from .timeline import who

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SOON = timedelta(days=3)  # "Snart forfaldne": due within this time

templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.autoescape = True  # everywhere, also in forms' own templates: a <script> typed in shows as text


def _utc(value: datetime | str | None) -> datetime | None:
    """Rows hold datetimes, engine views ISO strings; both are UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.as_utc(value)


def is_overdue(value: datetime | str | None) -> bool:
    moment = _utc(value)
    return moment is not None and moment < clock.now()


def is_soon(value: datetime | str | None) -> bool:
    moment = _utc(value)
    return moment is not None and not is_overdue(value) and moment < clock.now() + SOON


def render_form_template(form: Form, values: dict, errors: dict) -> Markup:
    """A form's own layout (forms/<key>.html): it places fields with {{ field('name') }}."""
    # a template's macros are attributes of its module, which jinja2's types cannot list
    macro = templates.env.get_template("_fields.html").module.field  # type: ignore[attr-defined]
    assert form.template is not None  # the page calls this only for a form with a layout of its own
    fields = {f.name: f for f in form.fields}

    def place(name: str) -> Markup:
        return macro(fields[name], values.get(name, ""), errors.get(name)) if name in fields else Markup("")

    return Markup(templates.env.from_string(form.template).render(form=form, field=place))


def sagsnr(number: object, ident: object = None) -> str:
    """The case number people say on the phone (`2026-000123`); an id's first characters if it has none."""
    return str(number) if number else str(ident or "")[:8]


templates.env.filters.update(filstoerrelse=filstoerrelse, dato=dato, tidspunkt=tidspunkt, tal=tal,
                             kort=lambda ident: (ident or "")[:8], hvem=who, sagsnr=sagsnr)
templates.env.globals.update(is_overdue=is_overdue, is_soon=is_soon,
                             render_form_template=render_form_template)

ROLE_NAMES = {"caseworker": "sagsbehandler", "teamlead": "teamleder", "process_owner": "procesejer",
              "auditor": "revisor", "admin": "administrator", "integration": "integration"}
templates.env.globals["ROLE_NAMES"] = ROLE_NAMES


def _my_units(request: Request, user: UserView | None) -> list[str]:
    """The header's units of the user, by their names (the unit table's), not their keys."""
    if user is None or not user.units:
        return []
    with request.app.state.session_factory() as session:
        names = {u.key: u.name for u in session.scalars(select(Unit).where(Unit.key.in_(sorted(user.units))))}
    return sorted(names.get(key, key) for key in user.units)


def page(request: Request, name: str, context: dict, *, status: int = 200, user: UserView | None = None) -> Response:
    current = web_session(request)
    request.state.flash_shown = True
    ctx = {"request": request, "user": user, "csrf_token": current.csrf, "flash": current.flash,
           "my_units": _my_units(request, user), **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # pages hold personal data
    return finish(request, response)


def redirect(request: Request, url: str, *, flash: str | None = None) -> Response:
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_flash(request, response, flash)
    return finish(request, response)
