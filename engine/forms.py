"""Forms: `forms/<key>.json` files that process owners edit, and validation of task data.

A form file:
    {"key": "visitation", "title": "Visitation",
     "fields": [{"name": "til_raadighed", "label": "Til rådighed", "type": "boolean", "required": true},
                {"name": "sats", "label": "Sats", "type": "number", "min": 0, "help": "kr. pr. måned"},
                {"name": "kategori", "label": "Kategori", "type": "choice",
                 "choices": [{"value": "jobparat", "label": "Jobparat"}, ...]}]}
A `file` field's value is {"attachment_id": ..., "filename": ..., "size": ...}
naming an uploaded attachment (engine/attachments.py defines and checks it).
A field may also carry conditional rules (`required_when`, `not_future`,
`after`, `not_before`, `not_before_task`) and `"prefill": false`; engine.form_rules reads and
checks them. Data is JSON: a number field takes a JSON number (the web UI reads
the Danish `12.345,50` with engine.form_rules.danish_number before it gets here).
docs/modelling.md documents the whole file.
Reads files only; no database.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .attachments import parse_file_value
from .errors import FormRejected, Invalid
from .form_rules import Rules, parse_rules, rule_errors

FIELD_TYPES = ("text", "textarea", "number", "date", "boolean", "choice", "file", "staff", "rule_set")
# whose choices come from the database or the configuration when the form is shown (engine.case_attributes)
CHOSEN_TYPES = ("choice", "staff", "rule_set")
CASE_ROLES = ("coordinator",)
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    help: str | None = None
    rules: Rules = field(default_factory=Rules)
    unit: str | None = None       # staff: the unit whose caseworkers and team leads may be chosen
    case_role: str | None = None  # staff: "coordinator" makes the chosen user the case's coordinator

    def as_dict(self) -> dict:
        chosen = self.type in CHOSEN_TYPES
        extra = {"unit": self.unit, "case_role": self.case_role} if self.type == "staff" else {}
        return {
            "name": self.name, "label": self.label, "type": self.type, "required": self.required,
            "choices": [{"value": v, "label": lbl} for v, lbl in self.choices] if chosen else None,
            "min": self.min, "max": self.max, "pattern": self.pattern, "help": self.help, **self.rules.as_dict(),
            **extra,
        }


@dataclass(frozen=True)
class Form:
    key: str
    title: str
    fields: tuple[FormField, ...] = field(default_factory=tuple)
    template: str | None = None  # forms/<key>.html: a Jinja2 layout for the web UI, optional

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "fields": [f.as_dict() for f in self.fields],
                "has_template": self.template is not None}


def form_path(forms_dir: Path, key: str) -> Path | None:
    if not _KEY.match(key or ""):
        return None
    return Path(forms_dir) / f"{key}.json"


def form_exists(forms_dir: Path, key: str) -> bool:
    path = form_path(forms_dir, key)
    return path is not None and path.is_file()


def load_form(forms_dir: Path, key: str) -> Form:
    """A form as the files on disk say now; running cases read their version's copy (engine.bundles)."""
    path = form_path(forms_dir, key)
    if path is None or not path.is_file():
        raise Invalid(f"form '{key}' does not exist in {forms_dir}")
    template = path.with_suffix(".html")
    try:
        content = path.read_text(encoding="utf-8")
        layout = template.read_text(encoding="utf-8") if template.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"form file {path.name} cannot be read (save it as UTF-8): {exc}") from None
    return parse_form_text(key, content, layout, file_name=path.name)


def parse_form_text(key: str, content: str, layout: str | None = None, *, file_name: str | None = None) -> Form:
    """A form from the text of its .json file (and its optional .html layout); Invalid names the file."""
    try:
        form = _parse_form(key, json.loads(content))
    except (ValueError, TypeError, KeyError, AttributeError, re.error) as exc:
        raise Invalid(f"form file {file_name or key + '.json'} is invalid: {exc}") from None
    return Form(form.key, form.title, form.fields, layout) if layout is not None else form


def form_digest(content: str, layout: str | None) -> str:
    """What a form is, for a version's content hash: its JSON (key order and spacing aside) and its layout.

    migrations/versions/0009_version_bundles.py computes the same digest for
    forms attached at upgrade; keep the two in step.
    """
    canonical = json.dumps(json.loads(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(b"\0" + (b"-" if layout is None else b"+" + layout.encode("utf-8")))
    return digest.hexdigest()


def _parse_form(key: str, raw: dict) -> Form:
    if not isinstance(raw, dict) or not isinstance(raw.get("fields", []), list):
        raise ValueError('expected {"title": ..., "fields": [...]}')
    fields = []
    names: set[str] = set()
    all_names = {str(item.get("name")) for item in raw.get("fields", []) if isinstance(item, dict)}
    for item in raw.get("fields", []):
        if not isinstance(item, dict) or not _KEY.match(str(item.get("name", ""))):
            raise ValueError(f"each field needs a name of letters, digits, _ or - (got {item!r:.60})")
        if item["name"] in names:
            raise ValueError(f"field '{item['name']}' appears twice")
        names.add(item["name"])
        if item.get("pattern"):
            re.compile(item["pattern"])
        ftype = item.get("type", "text")
        if ftype not in FIELD_TYPES:
            raise ValueError(f"field '{item.get('name')}' has unknown type '{ftype}'")
        choices = tuple((str(c["value"]), str(c.get("label", c["value"]))) for c in item.get("choices", []))
        if ftype == "choice" and not choices:
            raise ValueError(f"choice field '{item['name']}' has no choices")
        unit, case_role = _staff_keys(item, ftype)
        fields.append(FormField(
            name=item["name"], label=item["label"] if "label" in item else item["name"], type=ftype,
            required=bool(item.get("required", False)), choices=choices,
            min=item.get("min"), max=item.get("max"), pattern=item.get("pattern"), help=item.get("help"),
            rules=parse_rules(item, ftype, all_names), unit=unit, case_role=case_role,
        ))
    return Form(key=key, title=raw.get("title", key), fields=tuple(fields))


def _staff_keys(item: dict, ftype: str) -> tuple[str | None, str | None]:
    """A staff field names the unit it chooses from, and may give the chosen user a role on the case."""
    if ftype != "staff":
        if "unit" in item or "case_role" in item:
            raise ValueError(f"field '{item['name']}': unit and case_role belong to a field of type staff")
        return None, None
    unit, role = item.get("unit"), item.get("case_role")
    if not isinstance(unit, str) or not _KEY.match(unit):
        raise ValueError(f"staff field '{item['name']}' needs \"unit\": the key of the unit to choose from")
    if role is not None and role not in CASE_ROLES:
        raise ValueError(f"staff field '{item['name']}': case_role must be one of {', '.join(CASE_ROLES)}")
    return unit, role


def validate_data(form: Form | None, data: object, *, case_data: Mapping | None = None,
                  task_created: date | None = None) -> dict:
    """Return the cleaned data or raise FormRejected with one message per field.

    `case_data` is the case's data so far: the dates a form's `after`/`not_before` rules may refer to;
    `task_created` the Danish day the task was created, for `not_before_task` (None: a start or message form)."""
    if not isinstance(data, dict):
        raise FormRejected("data must be a JSON object", [{"field": None, "message": "data must be a JSON object"}])
    if form is None:
        return data
    errors: list[dict] = []
    known = {f.name: f for f in form.fields}
    for name in data:
        if name not in known:
            errors.append({"field": name, "message": f"'{name}' is not a field of form '{form.key}'"})
    cleaned: dict = {}
    for fld in form.fields:
        value = data.get(fld.name)
        if value is None or value == "":
            if fld.required:
                errors.append({"field": fld.name, "message": f"{fld.label}: skal udfyldes (required)"})
            continue
        try:
            cleaned[fld.name] = _check_value(fld, value)
        except ValueError as exc:
            errors.append({"field": fld.name, "message": f"{fld.label}: {exc}"})
    failed = {e["field"] for e in errors}
    errors += [e for e in rule_errors(form.fields, cleaned, case_data or {}, task_created) if e["field"] not in failed]
    if errors:
        raise FormRejected("the form rejected the data", errors)
    return cleaned


def _check_value(fld: FormField, value: object) -> object:
    if fld.type == "file":  # the shape is defined in engine.attachments (FILE_VALUE_KEYS)
        return parse_file_value(value)
    if fld.type in ("text", "textarea"):
        if not isinstance(value, str):
            raise ValueError("must be text")
        if fld.pattern and not re.fullmatch(fld.pattern, value):
            raise ValueError("has the wrong format")
        if fld.max is not None and len(value) > fld.max:
            raise ValueError(f"at most {int(fld.max)} characters")
        return value
    if fld.type == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        if fld.min is not None and value < fld.min:
            raise ValueError(f"must be at least {fld.min}")
        if fld.max is not None and value > fld.max:
            raise ValueError(f"must be at most {fld.max}")
        return value
    if fld.type == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if fld.type == "date":
        if not isinstance(value, str):
            raise ValueError("must be a date YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
        return value
    if fld.type in ("staff", "rule_set"):  # who or which exists is checked by engine.case_attributes
        if not isinstance(value, str):
            raise ValueError("must be text")
        return value.strip()
    if fld.type == "choice":
        if str(value) not in {v for v, _ in fld.choices}:
            raise ValueError(f"must be one of {', '.join(v for v, _ in fld.choices)}")
        return value
    raise ValueError(f"unsupported type {fld.type}")
