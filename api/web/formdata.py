"""Between HTML forms and engine forms: posted strings → task data, engine messages → Danish per field.

The engine (engine.forms.validate_data, via engine.runtime) stays the one
judge of the data; this module only turns browser strings into the JSON
types a form field takes (a number "12,5" → 12.5, "ja" → True) and passes
anything it cannot read on unchanged, so that the engine's message names it.
Pure functions; no database.
"""
from __future__ import annotations

import re

from starlette.datastructures import FormData

from engine.forms import Form

PREFIX = "f."  # form fields are posted as f.<name>, so they never clash with csrf_token & co.
_INT = re.compile(r"^-?\d{1,18}$")
_DECIMAL = re.compile(r"^-?\d{1,18}([.,]\d{1,12})?$")

MESSAGES = [  # the engine's English phrases, in Danish for the caseworker
    (re.compile(r"skal udfyldes \(required\)$"), "skal udfyldes"),
    (re.compile(r"must be a number$"), "skal være et tal"),
    (re.compile(r"must be at least (.+)$"), r"skal være mindst \1"),
    (re.compile(r"must be at most (.+)$"), r"må højst være \1"),
    (re.compile(r"at most (\d+) characters$"), r"højst \1 tegn"),
    (re.compile(r"has the wrong format$"), "har ikke det rigtige format"),
    (re.compile(r"must be true or false$"), "vælg ja eller nej"),
    (re.compile(r"must be a date YYYY-MM-DD$"), "skal være en dato (dd-mm-åååå)"),
    (re.compile(r"must be one of .+$"), "vælg en af mulighederne"),
    (re.compile(r"must be text$"), "skal være tekst"),
]


def danish(message: str) -> str:
    for pattern, replacement in MESSAGES:
        if pattern.search(message):
            return pattern.sub(replacement, message)
    return message


def raw_values(form: Form | None, posted: FormData) -> dict[str, str]:
    """What the user typed, per field, to show again when the page comes back."""
    if form is None:
        return {}
    return {f.name: str(posted.get(PREFIX + f.name) or "") for f in form.fields if f.type != "file"}


def to_data(form: Form | None, raw: dict[str, str]) -> dict:
    """Task data for the engine; empty fields are left out (the engine decides if they were required)."""
    data: dict = {}
    if form is None:
        return data
    for fld in form.fields:
        value = raw.get(fld.name, "")
        if fld.type == "file" or value.strip() == "":
            continue
        data[fld.name] = _typed(fld.type, value)
    return data


def _typed(kind: str, value: str) -> int | float | bool | str:
    if kind == "number":
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if _INT.match(text):
            return int(text)
        if _DECIMAL.match(text):
            return float(text.replace(",", "."))
        return value  # not a number: the engine says so at the field
    if kind == "boolean":
        return {"ja": True, "nej": False}.get(value, value)
    if kind == "date":
        return value.strip()
    return value


def field_errors(detail: object) -> tuple[dict[str, str], list[str]]:
    """Engine error detail → ({field: message}, messages that belong to no field)."""
    per_field: dict[str, str] = {}
    general: list[str] = []
    if isinstance(detail, list):
        for item in detail:
            if not isinstance(item, dict):
                continue
            message = danish(str(item.get("message", "")))
            name = item.get("field")
            if isinstance(name, str) and name not in per_field:
                per_field[name] = message
            else:
                general.append(message)
    elif detail:
        general.append(danish(str(detail)))
    return per_field, general
