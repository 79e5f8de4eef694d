"""Errors outside /api become pages in the web UI's look; under /api they stay JSON.

A 401 (no or expired session) on a page becomes a redirect to /login.
Messages are shown as text (auto-escaped); nothing the request sent is echoed.
403, 404 and 409 show the Danish hint, and a message only when it is the pages' own Danish
(never the engine's English: "you may not see this case", "case … not found").
"""
from __future__ import annotations

import re

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from .render import page
from .session import finish, login_url

JSON_PREFIXES = ("/api", "/docs", "/redoc", "/openapi.json", "/metrics")
TITLES = {
    400: "Forkert forespørgsel", 401: "Du er ikke logget ind", 403: "Adgang nægtet",
    404: "Siden findes ikke", 405: "Handlingen er ikke tilladt her", 409: "Sagen er ændret imens",
    413: "Filen eller formularen er for stor", 415: "Filtypen er ikke tilladt",
    422: "Oplysningerne kan ikke bruges", 500: "Der skete en fejl",
}
HINTS = {
    403: "Du har ikke adgang til denne side, sag eller handling med din rolle og dine enheder."
         " Mener du, at du skal have adgang, så kontakt din teamleder.",
    404: "Siden, sagen eller opgaven findes ikke. Tjek adressen, eller find sagen via indbakken.",
    409: "En anden har ændret sagen samtidig. Genindlæs siden og prøv igen.",
    500: "Fejlen er logget. Prøv igen, eller kontakt support hvis den bliver ved.",
}


ENGINE_WORDED = (403, 404, 409)  # the engine says these in English ("case … not found"): the page says the hint
ENGLISH = re.compile(r"\b(not|the|you|may|is|found|by|of|cannot|does)\b")  # the pages' own messages are Danish


def wants_html(request: Request) -> bool:
    path = request.url.path
    return not any(path == p or path.startswith(p + "/") for p in JSON_PREFIXES)


def html_error(request: Request, status: int, detail: object) -> Response:
    if status == 401:
        return finish(request, RedirectResponse(login_url(request), status_code=303))
    message = detail if isinstance(detail, str) else None
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):  # a ProcessError names element + message
        message = f"{detail.get('element') or ''}: {detail['message']}".lstrip(": ")
    if status >= 500 or (status in ENGINE_WORDED and message and ENGLISH.search(message)):
        message = None  # an unexpected error's text is not for the page; the engine's English is not either
    return page(request, "error.html", {
        "status": status, "title": TITLES.get(status, f"Fejl {status}"), "hint": HINTS.get(status),
        "message": message,
    }, status=status)
