"""The studio's form editor model: a form file as rows of plain text fields, and back.

A form file (engine.forms) is JSON; the editor shows it as one row per field
(name, label, type, required, help, choices, min, max, pattern) that a
browser form can post without JavaScript. `rows_from_json` reads a file into
rows; `to_json` turns posted rows back into the file's text, with a message
per input it cannot read (a min that is no number) so that nothing typed is
lost; `engine.forms.parse_form_text` then judges the result, as at deploy.
A field's other keys (its rules: `required_when`, `not_future`, `after`,
`not_before`, `prefill`, engine.form_rules) are shown and edited as one JSON
object per field, and kept as they are; JSON that cannot be read is named.

`find_form` says where the studio reads a form of a journey from: the
draft, then the latest version's stored copy, then the forms directory
(the order its publication uses, engine.studio).

Pure, apart from `find_form`'s reads; nothing here flushes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from .drafts import FORM_FILE, DraftView
from .form_sources import read_folder_form
from .forms import FIELD_TYPES

MAX_ROWS = 200
TYPE_NAMES = {"text": "Tekst (én linje)", "textarea": "Tekst (flere linjer)", "number": "Tal", "date": "Dato",
              "boolean": "Ja/nej", "choice": "Valg fra en liste", "file": "Fil (bilag)",
              "staff": "Medarbejder i en enhed", "rule_set": "Regelsæt"}
SHOWN = ("name", "label", "type", "required", "help", "choices", "min", "max", "pattern")


@dataclass(frozen=True)
class Row:
    """One field as the editor shows it: every value as text, as typed."""

    name: str = ""
    label: str = ""
    type: str = "text"
    required: bool = False
    help: str = ""
    choices: str = ""  # one per line: "value = label" or "value"
    min: str = ""
    max: str = ""
    pattern: str = ""
    extra: str = "{}"  # the field's other keys, as JSON, kept as they were


@dataclass(frozen=True)
class Editor:
    title: str = ""
    rows: tuple[Row, ...] = ()
    extra: str = "{}"  # the file's other top-level keys (besides title and fields)
    errors: dict[str, str] = field(default_factory=dict)  # "ed-<row>-<input>": message


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rows_from_json(content: str) -> Editor:
    """The editor's rows of a form file's text; an unreadable file gives an empty editor (its text is shown)."""
    try:
        raw = json.loads(content)
    except ValueError:
        return Editor()
    if not isinstance(raw, dict):
        return Editor()
    rows = []
    for item in raw.get("fields", []) if isinstance(raw.get("fields"), list) else []:
        if not isinstance(item, dict):
            continue
        choices = "\n".join(_choice_line(c) for c in item.get("choices", []) if isinstance(c, dict))
        rows.append(Row(name=_text(item.get("name")), label=_text(item.get("label")),
                        type=str(item.get("type") or "text"), required=bool(item.get("required")),
                        help=_text(item.get("help")), choices=choices, min=_text(item.get("min")),
                        max=_text(item.get("max")), pattern=_text(item.get("pattern")),
                        extra=json.dumps({k: v for k, v in item.items() if k not in SHOWN}, ensure_ascii=False)))
    extra = {k: v for k, v in raw.items() if k not in ("title", "fields")}
    return Editor(title=_text(raw.get("title")), rows=tuple(rows), extra=json.dumps(extra, ensure_ascii=False))


def _choice_line(choice: dict) -> str:
    value, label = _text(choice.get("value")), _text(choice.get("label", choice.get("value")))
    return value if label == value else f"{value} = {label}"


def rows_from_post(posted) -> Editor:
    """The editor as posted: `titel`, `antal` and per row `felt-<i>-<input>`."""
    try:
        count = max(0, min(int(str(posted.get("antal") or "0")), MAX_ROWS))
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        def get(name: str, i=i) -> str:
            return str(posted.get(f"felt-{i}-{name}") or "")
        kind = get("type") if get("type") in FIELD_TYPES else "text"
        rows.append(Row(get("navn").strip(), get("etiket"), kind, bool(get("kraevet")), get("hjaelp"),
                        get("valg"), get("min").strip(), get("max").strip(), get("moenster"), get("ekstra") or "{}"))
    return Editor(title=str(posted.get("titel") or ""), rows=tuple(rows), extra=str(posted.get("ekstra") or "{}"))


def _number(text: str, where: str, errors: dict[str, str]):
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        errors[where] = "Skal være et tal, fx 0 eller 2000."
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _json_object(text: str) -> dict | None:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _object(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def to_json(key: str, editor: Editor) -> tuple[str, Editor]:
    """The form file's text from the editor, and the editor with a message per input it could not read."""
    errors: dict[str, str] = {}
    fields = []
    for i, row in enumerate(editor.rows):
        if _json_object(row.extra) is None:
            errors[f"ed-{i}-ekstra"] = 'Skal være et JSON-objekt, fx {"not_future": true} eller {}.'
        item: dict = {**_object(row.extra), "name": row.name, "label": row.label or row.name, "type": row.type}
        if row.required:
            item["required"] = True
        if row.help.strip():
            item["help"] = row.help.strip()
        if row.type == "choice":
            item["choices"] = [_choice(line) for line in row.choices.splitlines() if line.strip()]
        for name, text in (("min", row.min), ("max", row.max)):
            value = _number(text, f"ed-{i}-{name}", errors)
            if value is not None:
                item[name] = value
        if row.pattern.strip():
            item["pattern"] = row.pattern.strip()
        fields.append(item)
    content = {**_object(editor.extra), "key": key, "title": editor.title.strip() or key, "fields": fields}
    return json.dumps(content, ensure_ascii=False, indent=2) + "\n", replace(editor, errors=errors)


def _choice(line: str) -> dict:
    value, _, label = line.partition("=")
    value, label = value.strip(), label.strip()
    return {"value": value, "label": label or value}


def added_row(editor: Editor) -> Editor:
    return replace(editor, rows=(*editor.rows, Row(name=f"felt_{len(editor.rows) + 1}")))


def without_row(editor: Editor, index: int) -> Editor:
    return replace(editor, rows=tuple(r for i, r in enumerate(editor.rows) if i != index))


def moved_row(editor: Editor, index: int, step: int) -> Editor:
    rows = list(editor.rows)
    target = index + step
    if 0 <= index < len(rows) and 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
    return replace(editor, rows=tuple(rows))


@dataclass(frozen=True)
class FoundForm:
    content: str | None  # None: a new form
    layout: str | None
    source: str  # "draft", "version", "folder" or "new"
    version: int | None = None


def find_form(name: str, *, draft: DraftView | None, version_forms: dict, latest_version: int | None,
              forms_dir: Path) -> FoundForm:
    """Where the studio reads form `name` of a journey: the draft, the latest version, the forms directory."""
    if not FORM_FILE.match(f"{name}.json"):
        raise ValueError(name)
    if draft is not None and f"{name}.json" in draft.forms:
        return FoundForm(draft.forms[f"{name}.json"], draft.forms.get(f"{name}.html"), "draft")
    stored = version_forms.get(name)
    if stored is not None:
        return FoundForm(stored.content, stored.layout, "version", latest_version)
    on_disk = read_folder_form(Path(forms_dir), name)
    if on_disk is not None:
        return FoundForm(on_disk.content, on_disk.layout, "folder")
    return FoundForm(None, None, "new")
