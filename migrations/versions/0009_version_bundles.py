"""Versions as bundles: the forms each version names, stored with it and covered by its hash.

Versions deployed before this revision read their forms from the forms
directory. On upgrade each stored version gets a copy of the forms it names
*as they are on disk now* (the forms directory `tovholder db upgrade` is
configured with: TOVHOLDER_FORMS_DIR, default forms/), and its hash is
extended with them the way engine.bundles.bundle_hash does, so deploying the
same files again finds the existing version. A form missing or broken on disk
is reported on stderr and left out; such a version keeps reading that one
form from the forms directory. Who deployed a version (deployed_by) and when
(created_at, shown as deployed_at) were recorded from the start.

The digest and hash code is repeated here on purpose: a migration must mean
the same thing forever, whatever the engine later does.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import hashlib
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FORM_KEY_ATTR = "{http://camunda.org/schema/1.0/bpmn}formKey"
BPMN_PROCESS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}process"
KEY = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


def upgrade() -> None:
    op.create_table(
        "definition_forms",
        sa.Column("definition_id", sa.String(36), sa.ForeignKey("process_definitions.id"), primary_key=True),
        sa.Column("form_key", sa.String(200), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("layout", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(500), nullable=True),
    )
    _attach_forms(op.get_bind(), _forms_dir())


def downgrade() -> None:
    # The extended hashes stay: they still identify each version uniquely.
    op.drop_table("definition_forms")


def _forms_dir() -> Path:
    configured = context.config.attributes.get("forms_dir") if context.config is not None else None
    return Path(configured or os.environ.get("TOVHOLDER_FORMS_DIR") or "forms")


def _attach_forms(bind, forms_dir: Path) -> None:
    forms_table = sa.table("definition_forms", sa.column("definition_id"), sa.column("form_key"),
                           sa.column("content"), sa.column("layout"), sa.column("digest"), sa.column("origin"))
    rows = bind.execute(sa.text("SELECT id, key, version, hash, bpmn_xml, spec_json FROM process_definitions"
                                " ORDER BY key, version")).all()
    for definition_id, key, version, old_hash, bpmn_xml, spec_json in rows:
        digests = {}
        for form_key in sorted(_named_forms(key, bpmn_xml, spec_json)):
            found = _read_form(forms_dir, form_key)
            if isinstance(found, str):
                print(f"migration 0009: {key} version {version} names form '{form_key}': {found}; "
                      "that form is read from the forms directory until the next deploy", file=sys.stderr)
                continue
            content, layout, origin = found
            digests[form_key] = _digest(content, layout)
            bind.execute(forms_table.insert().values(definition_id=definition_id, form_key=form_key,
                                                     content=content, layout=layout, digest=digests[form_key],
                                                     origin=origin[:500]))
        bind.execute(sa.text("UPDATE process_definitions SET hash = :hash WHERE id = :id"),
                     {"hash": _bundle_hash(old_hash, digests), "id": definition_id})


def _named_forms(key: str, bpmn_xml: str, spec_json: str) -> set[str]:
    """Forms the version names: user tasks of every spec it runs, and formKey attributes of its processes."""
    specs = json.loads(spec_json)
    names = {key, *specs.get("subprocess_specs", {})}
    found = set()
    for spec in [specs.get("spec", {}), *specs.get("subprocess_specs", {}).values()]:
        for task in (spec.get("task_specs") or {}).values():
            form = task.get("form") if isinstance(task, dict) else None
            if isinstance(form, dict) and form.get("key"):
                found.add(form["key"])
    root = ET.fromstring(bpmn_xml.encode("utf-8"))
    for process in root.iter(BPMN_PROCESS):
        if process.get("id") in names:
            found.update(node.get(FORM_KEY_ATTR) for node in process.iter() if node.get(FORM_KEY_ATTR))
    return found


def _read_form(forms_dir: Path, form_key: str):
    """(content, layout, origin), or a string saying why not."""
    if not KEY.match(form_key):
        return "not a valid form key"
    path = forms_dir / f"{form_key}.json"
    if not path.is_file():
        return f"no file {path}"
    try:
        content = path.read_text(encoding="utf-8")
        json.loads(content)
        layout_path = path.with_suffix(".html")
        layout = layout_path.read_text(encoding="utf-8") if layout_path.is_file() else None
    except (OSError, ValueError) as exc:
        return f"{path} cannot be read ({exc})"
    return content, layout, str(path)


def _digest(content: str, layout) -> str:
    """engine.forms.form_digest as of this revision."""
    canonical = json.dumps(json.loads(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(b"\0" + (b"-" if layout is None else b"+" + layout.encode("utf-8")))
    return digest.hexdigest()


def _bundle_hash(definition_hash: str, digests: dict) -> str:
    """engine.bundles.bundle_hash as of this revision."""
    digest = hashlib.sha256(definition_hash.encode("ascii"))
    for key in sorted(digests):
        digest.update(b"\n" + key.encode("utf-8") + b"\0" + digests[key].encode("ascii"))
    return digest.hexdigest()
