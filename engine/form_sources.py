"""Where a deployment finds the forms its diagrams name, before a version stores its own copy.

A version is its diagrams plus every form they name (engine.bundles stores
the copy). At deploy a form comes from, in this order: the upload (form files
sent with the diagrams: strict, each must be valid and named by a diagram),
form folders given to the deploy (`tovholder deploy FOLDER`), then
TOVHOLDER_FORMS_DIR. A studio draft's publication puts the forms of the
version it replaces right after the upload (`base`), so a form edited in the
studio is not replaced by an older file on disk. A form named only by a called process taken from an
earlier deployment comes from that deployment's stored copy first, so the
called process runs with the forms it was deployed with.

Pure: reads files, no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import Invalid
from .forms import Form, form_digest, form_path, parse_form_text

FORM_SUFFIXES = (".json", ".html")
MAX_FORM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FormFile:
    """One form as a version stores it: the .json text and the optional .html layout."""

    key: str
    content: str
    layout: str | None
    origin: str  # where it was found, for problems and `tovholder versions`

    def form(self) -> Form:
        return parse_form_text(self.key, self.content, self.layout, file_name=self.origin)

    @property
    def digest(self) -> str:
        return form_digest(self.content, self.layout)


def is_form_file(name: str) -> bool:
    return Path(name).suffix.lower() in FORM_SUFFIXES


def _problem(file: str | None, message: str) -> dict:
    return {"file": file, "element": None, "line": None, "message": message}


def _text(name: str, raw: bytes, problems: list) -> str | None:
    if len(raw) > MAX_FORM_BYTES:
        problems.append(_problem(name, f"form file is larger than {MAX_FORM_BYTES} bytes"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(_problem(name, "the form file is not UTF-8 encoded"))
        return None


def uploaded_forms(files: list[tuple[str, bytes]], problems: list) -> dict[str, FormFile]:
    """The forms sent with a deployment, by key (the file name without .json/.html), each checked."""
    parts: dict[str, dict[str, tuple[str, str]]] = {}
    for name, raw in files:
        key, suffix = Path(name).stem, Path(name).suffix.lower()
        if form_path(Path("."), key) is None:
            problems.append(_problem(name, "a form file is named after its form key: letters, digits, _ or -"))
            continue
        if suffix in parts.get(key, {}):
            problems.append(_problem(name, f"form '{key}' is sent twice ({parts[key][suffix][0]} and {name})"))
            continue
        text = _text(name, raw, problems)
        if text is not None:
            parts.setdefault(key, {})[suffix] = (name, text)
    found: dict[str, FormFile] = {}
    for key, kinds in parts.items():
        if ".json" not in kinds:
            name = kinds[".html"][0]
            problems.append(_problem(name, f"the layout {name} needs its form {key}.json in the same upload"))
            continue
        name, content = kinds[".json"]
        candidate = FormFile(key, content, kinds[".html"][1] if ".html" in kinds else None, name)
        try:
            candidate.form()
        except Invalid as exc:
            problems.append(_problem(name, exc.message))
            continue
        found[key] = candidate
    return found


def read_folder_form(folder: Path, key: str) -> FormFile | None:
    """<key>.json (and <key>.html beside it) directly in a folder: TOVHOLDER_FORMS_DIR."""
    path = form_path(folder, key)
    return _read(path) if path is not None and path.is_file() else None


def _read(path: Path) -> FormFile:
    layout = path.with_suffix(".html")
    try:
        return FormFile(path.stem, path.read_text(encoding="utf-8"),
                        layout.read_text(encoding="utf-8") if layout.is_file() else None, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"form file {path} cannot be read (save it as UTF-8): {exc}") from None


def _index(folder: Path) -> dict[str, list[Path]]:
    """Every .json below a deployed folder by its stem; built once, as a folder may be large."""
    found: dict[str, list[Path]] = {}
    for path in sorted(Path(folder).rglob("*.json")):
        if path.is_file():
            found.setdefault(path.stem, []).append(path)
    return found


@dataclass
class FormSources:
    """Finds a form for a deployment: upload, then folders, then the forms directory (see module doc)."""

    uploaded: dict[str, FormFile]
    folders: list[Path]
    forms_dir: Path
    stored: dict[str, FormFile] = field(default_factory=dict)  # copies of called, already deployed processes
    base: dict[str, FormFile] = field(default_factory=dict)  # the replaced version's forms (a studio draft)
    used: set[str] = field(default_factory=set)
    _indexes: dict[Path, dict[str, list[Path]]] = field(default_factory=dict)

    def _in_folder(self, folder: Path, key: str) -> FormFile | None:
        """<key>.json anywhere below a folder given to the deploy; two of them is a problem, not a guess."""
        if folder not in self._indexes:
            self._indexes[folder] = _index(folder)
        matches = self._indexes[folder].get(key, []) if form_path(folder, key) is not None else []
        if len(matches) > 1:
            raise Invalid(f"form '{key}' is found twice under {folder}: {matches[0]} and {matches[1]}")
        return _read(matches[0]) if matches else None

    def find(self, key: str, *, prefer_stored: bool = False) -> FormFile | None:
        found = self.uploaded.get(key)
        if found is None and prefer_stored:
            found = self.stored.get(key)
        if found is None:
            found = self.base.get(key)
        for folder in self.folders:
            if found is None:
                found = self._in_folder(folder, key)
        if found is None:
            found = read_folder_form(self.forms_dir, key)
        if found is None and not prefer_stored:
            found = self.stored.get(key)
        if found is not None:
            self.used.add(key)
        return found

    def get(self, key: str, *, prefer_stored: bool = False) -> FormFile:
        """The form file, checked; Invalid says where it was looked for, or what is wrong with it."""
        found = self.find(key, prefer_stored=prefer_stored)
        if found is None:
            where = " nor ".join(["in the upload", *(["in the latest version"] if self.base else []),
                                  *(f"under {f}/" for f in self.folders), f"in {self.forms_dir}/"])
            raise Invalid(f"form '{key}' is neither {where}")
        found.form()
        return found

    def load(self, key: str, *, prefer_stored: bool = False) -> Form:
        return self.get(key, prefer_stored=prefer_stored).form()

    def unused_uploads(self) -> list[FormFile]:
        return [f for key, f in sorted(self.uploaded.items()) if key not in self.used]
