"""Between HTML forms and engine forms: posted strings → task data, engine messages → Danish per field.

The engine (engine.forms.validate_data, via engine.runtime) stays the one
judge of the data; this module only turns browser strings into the JSON
types a form field takes (a number "12.345,50" → 12345.5, "ja" → True) and passes
anything it cannot read on unchanged, so that the engine's message names it.
Pure functions; no database.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from starlette.datastructures import FormData

from engine.errors import ProcessError
from engine.form_rules import danish_number
from engine.formats import dato as dag
from engine.formats import tal
from engine.forms import Form

PREFIX = "f."  # form fields are posted as f.<name>, so they never clash with csrf_token & co.


def _when(match: re.Match[str]) -> str:
    return f"skal udfyldes, når {match.group(1)} er {match.group(2).replace(' or ', ' eller ')}"


def _after(match: re.Match[str]) -> str:
    verb = "skal ligge efter" if match.group(0).startswith("must be") else "må ikke ligge før"
    return f"{verb} {match.group(1)} ({dag(match.group(2))})"


def _number(text: str) -> str:
    try:
        return tal(float(text))
    except ValueError:
        return text


MESSAGES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [  # the engine's English phrases, in Danish for the caseworker
    (re.compile(r"skal udfyldes \(required\)$"), "skal udfyldes"),
    (re.compile(r"skal udfyldes \(required when (»[^«]*«) has a value\)$"), r"skal udfyldes, når \1 er udfyldt"),
    (re.compile(r"skal udfyldes \(required when (»[^«]*«) is (.+)\)$"), _when),
    (re.compile(r"must not be in the future$"), "må ikke ligge efter i dag"),
    (re.compile(r"must be after (»[^«]*«) \((\d{4}-\d\d-\d\d)\)$"), _after),
    (re.compile(r"must not be before (»[^«]*«) \((\d{4}-\d\d-\d\d)\)$"), _after),
    (re.compile(r"must not be before the task was created \((\d{4}-\d\d-\d\d)\)$"),
     lambda m: f"må ikke ligge før opgaven blev oprettet ({dag(m.group(1))})"),
    (re.compile(r"must be a number$"), "skal være et tal"),
    (re.compile(r"must be at least (.+)$"), lambda m: f"skal være mindst {_number(m.group(1))}"),
    (re.compile(r"must be at most (.+)$"), lambda m: f"må højst være {_number(m.group(1))}"),
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
        number = danish_number(value)  # 12.345,50; not a number: the engine says so at the field
        return value if number is None else number
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


def process_error(error: ProcessError, form: Form | None) -> tuple[dict[str, str], list[str]]:
    """A run the diagram refused, in Danish: at the field when it names one of the form's, else for the form."""
    detail = error.detail if isinstance(error.detail, dict) else {}
    names = {f.name: f.label for f in form.fields} if form is not None else {}
    name = detail.get("field")
    if isinstance(name, str) and name in names:
        return {name: f"{names[name]}: kan ikke gemmes sådan. Ret feltet og prøv igen."}, []
    text = str(detail.get("message") or "")
    for field_name, label in names.items():  # an expression that read a field the data lacks
        if re.search(rf"(?<![\w.]){re.escape(field_name)}(?!\w)", text):
            return {field_name: f"{label}: skal udfyldes, før sagen kan gå videre."}, []
    return {}, ["Sagen kan ikke gå videre med disse oplysninger: et trin i forløbet kunne ikke beregnes"
                f" ({detail.get('element') or 'ukendt trin'}). Tjek felterne og prøv igen; bliver fejlen ved,"
                " så kontakt procesejeren."]
