"""Conditional rules a process owner writes on a form field, and Danish numbers.

A field of a form file (engine.forms) may carry, besides its type checks:

    "required_when": "other"                      required when field `other` has a value
    "required_when": {"field": "other", "equals": true}     ... when it has this value
    "required_when": {"field": "other", "in": ["a", "b"]}   ... when it has one of these
    "not_future": true                            a date that is today or earlier
    "after": "other"                              a date later than the date in `other`
    "not_before": "other"                         a date on or after the date in `other`
    "not_before": {"field": "other", "label": "the words for other"}   (`other` of the case data)
    "not_before_task": true                       a date on or after the day the task was created
    "prefill": false                              not prefilled from the case data

`other` in `required_when` is a field of the same form; in `after` and
`not_before` it is a field of the form or of the case data (a date an earlier
step recorded); a rule whose other date is not there yet does not apply.
`not_before_task` is for what happened for this task (a conversation it asks
for cannot have been held before it existed); it applies to a task's form
only (a start or message form has no task).
Messages are in the engine's wording (api/web/formdata.py says them in Danish).

Danish numbers: `danish_number` reads a number as a Danish caseworker writes
it — `12.345,50`, `12345,5`, `1 000` — for the web UI's number fields (the
JSON API takes JSON numbers).
Pure functions; no database.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import clock

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
_GROUPED = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d{1,12})?$")  # 12.345,50 or 1.000
_COMMA = re.compile(r"^-?\d{1,18}(,\d{1,12})?$")               # 12345,5
_POINT = re.compile(r"^-?\d{1,18}\.\d{1,12}$")                 # 12.5 (not 1.000: that is a thousand)


@dataclass(frozen=True)
class RequiredWhen:
    field: str
    values: tuple[object, ...] | None = None  # None: any value

    def applies(self, value: object) -> bool:
        if value is None or value == "":
            return False
        return self.values is None or value in self.values


@dataclass(frozen=True)
class DateRef:
    field: str
    label: str | None = None  # how a message names a date of the case data (a field of the form: its label)


@dataclass(frozen=True)
class Rules:
    required_when: RequiredWhen | None = None
    not_future: bool = False
    after: DateRef | None = None
    not_before: DateRef | None = None
    not_before_task: bool = False
    prefill: bool = True

    def as_dict(self) -> dict:
        when = None
        if self.required_when is not None:
            when = {"field": self.required_when.field,
                    "in": list(self.required_when.values) if self.required_when.values is not None else None}
        return {"required_when": when, "not_future": self.not_future,
                "after": self.after.field if self.after else None,
                "not_before": self.not_before.field if self.not_before else None,
                "not_before_task": self.not_before_task, "prefill": self.prefill}


def parse_rules(item: dict, ftype: str, names: set[str]) -> Rules:
    """A field's rules from its entry in the form file; ValueError names what is wrong."""
    name = item.get("name")
    when = item.get("required_when")
    required_when = None
    if isinstance(when, str):
        required_when = RequiredWhen(when)
    elif isinstance(when, dict):
        if "equals" in when and "in" in when:
            raise ValueError(f"field '{name}': required_when takes 'equals' or 'in', not both")
        values = when.get("in")
        if "equals" in when:
            values = [when["equals"]]
        if values is not None and not isinstance(values, list):
            raise ValueError(f"field '{name}': required_when 'in' must be a list")
        required_when = RequiredWhen(str(when.get("field", "")), tuple(values) if values is not None else None)
    elif when is not None:
        raise ValueError(f"field '{name}': required_when must name a field")
    if required_when is not None and required_when.field not in names:
        raise ValueError(f"field '{name}': required_when names '{required_when.field}', no field of this form")
    if required_when is not None and required_when.field == name:
        raise ValueError(f"field '{name}': required_when names the field itself")
    for key in ("not_future", "after", "not_before", "not_before_task"):
        if item.get(key) not in (None, False) and ftype != "date":
            raise ValueError(f"field '{name}': {key} is for date fields")
    dates: dict[str, DateRef | None] = {}
    for key in ("after", "not_before"):
        ref = item.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("field"), str):
            dates[key] = DateRef(ref["field"], str(ref["label"]) if ref.get("label") else None)
        elif isinstance(ref, str) or ref is None:
            dates[key] = DateRef(ref) if ref else None
        else:
            raise ValueError(f"field '{name}': {key} must name a date field")
    for key in ("not_future", "not_before_task", "prefill"):
        if key in item and not isinstance(item[key], bool):
            raise ValueError(f"field '{name}': {key} must be true or false")
    return Rules(required_when=required_when, not_future=bool(item.get("not_future")), after=dates["after"],
                 not_before=dates["not_before"], not_before_task=bool(item.get("not_before_task")),
                 prefill=item.get("prefill", True))


def today() -> date:
    """Today in Denmark, by the engine's clock (tests move it)."""
    return clock.now().astimezone(DANISH_TIME).date()


def danish_day(moment: datetime) -> date:
    """The day a moment (a task's creation) falls on in Denmark."""
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


def shown(value: object, choices: tuple[tuple[str, str], ...] = ()) -> str:
    """A rule's value as the form shows it: Ja/Nej, a choice's label."""
    if value is True:
        return "Ja"
    if value is False:
        return "Nej"
    return dict(choices).get(str(value), str(value))


def rule_errors(fields: tuple, data: Mapping, known: Mapping, task_created: date | None = None) -> list[dict]:
    """Messages of the fields whose rules the data breaks; `known` is the case data the rules may refer to,
    `task_created` the Danish day the task whose form it is was created (None: no task, the rule does not apply)."""
    by_name = {f.name: f for f in fields}
    errors: list[dict] = []
    for fld in fields:
        rules: Rules = fld.rules
        value = data.get(fld.name)
        when = rules.required_when
        if when is not None and (value is None or value == "") and when.applies(data.get(when.field)):
            other = by_name[when.field]
            condition = f"»{other.label}« has a value" if when.values is None else \
                f"»{other.label}« is {' or '.join(shown(v, other.choices) for v in when.values)}"
            errors.append({"field": fld.name, "message": f"{fld.label}: skal udfyldes (required when {condition})"})
            continue
        if fld.type != "date" or not isinstance(value, str):
            continue
        day = date.fromisoformat(value)
        if rules.not_future and day > today():
            errors.append({"field": fld.name, "message": f"{fld.label}: must not be in the future"})
            continue
        if rules.not_before_task and task_created is not None and day < task_created:
            errors.append({"field": fld.name,
                           "message": f"{fld.label}: must not be before the task was created ({task_created})"})
            continue
        for ref, strict in ((rules.after, True), (rules.not_before, False)):
            other_day = _date_of(ref.field, data, known) if ref is not None else None
            if ref is None or other_day is None:
                continue
            label = by_name[ref.field].label if ref.field in by_name else ref.label or ref.field
            if (strict and day <= other_day) or (not strict and day < other_day):
                verb = "must be after" if strict else "must not be before"
                errors.append({"field": fld.name, "message": f"{fld.label}: {verb} »{label}« ({other_day})"})
                break
    return errors


def _date_of(name: str, data: Mapping, known: Mapping) -> date | None:
    value = data.get(name, known.get(name))
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def danish_number(text: str) -> int | float | None:
    """`12.345,50` → 12345.5, `12345,5` → 12345.5, `1.000` → 1000, `12.5` → 12.5; None when no number."""
    clean = text.strip().replace("\u00a0", "").replace(" ", "")
    if _GROUPED.match(clean):
        clean = clean.replace(".", "")
    elif _POINT.match(clean):
        return float(clean)
    if not _COMMA.match(clean):
        return None
    if "," in clean:
        return float(clean.replace(",", "."))
    return int(clean)
