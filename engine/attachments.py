"""Attachments: files on a case, uploaded on a form's `file` field or to the case itself.

Storage: in the database (`attachments.content`, a LargeBinary: BLOB on
SQLite, BYTEA on PostgreSQL), not in a folder. A file is then added in the
same transaction as its audit event and the task completion that names it, so
a rollback leaves neither a file without a trace nor a trace without a file;
the database backup holds the files; nothing is ever inside a web root; and
several app servers need no shared disk. The cost (rows of up to
TOVHOLDER_MAX_UPLOAD_BYTES, 5 MiB by default) is fine for case documents;
the column is deferred, so listing never loads the bytes.

Rules: the content decides the type (engine/filetypes.py sniffs magic bytes;
a declared type that disagrees is refused, 415); over the size limit is 413;
the file name is reduced to a safe base name. Whoever may read the case in
full (engine.access.check_case_visible) may list and download its
attachments, except a file another unit's step took in a form field that
never crosses to the reader's units (engine.handover.withheld_files:
Ydelsesservice's documentation of the citizen's means is not
Virksomhedsservice's); every such read is logged as an access to the case;
caseworkers, team leads, admins and integration users who may see a running
case, also only its status as its starter (engine.access.case_access), may
add one: a portal that started a case can send documents to it without
reading what others added.

The value a completed form stores for a `file` field (FILE_VALUE_KEYS):

    {"attachment_id": "<id from add_attachment>", "filename": "brev.pdf", "size": 12345}

i.e. `AttachmentView.field_value()`. engine.forms.validate_data checks the
shape; `check_form_files` checks, where the case is known, that each named
attachment belongs to that case (and takes filename and size from the row).

Transaction rule: functions only flush; the route commits. `add_attachment`
takes the case lock (engine.locking) because it writes an audit event.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock, filetypes
from .access import READ_ALL, case_access
from .accounts import UserView
from .cases import get_case
from .errors import Conflict, Forbidden, FormRejected, Invalid, NotFound, TooLarge, UnsupportedType
from .locking import lock_case, read_case
from .models import Attachment, Case, HumanTask

if TYPE_CHECKING:  # forms builds on this module
    from .forms import Form
    from .settings import Settings

UPLOADERS = ("caseworker", "teamlead", "admin", "integration")
FILE_VALUE_KEYS = ("attachment_id", "filename", "size")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # the Settings default (TOVHOLDER_MAX_UPLOAD_BYTES)
_FIELD = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


@dataclass(frozen=True)
class UploadLimits:
    """What Settings allows; build with `upload_limits(settings)` at the edge."""

    max_bytes: int = DEFAULT_MAX_BYTES
    allowed_types: tuple[str, ...] = tuple(filetypes.UPLOAD_TYPES)


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(max_bytes=settings.max_upload_bytes, allowed_types=tuple(settings.allowed_upload_types))


@dataclass(frozen=True)
class AttachmentView:
    id: str
    case_id: str
    task_id: str | None
    field: str | None
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime

    def field_value(self) -> dict:
        """What a completed form stores for a `file` field naming this attachment."""
        return {"attachment_id": self.id, "filename": self.filename, "size": self.size}

    def as_dict(self) -> dict:
        return {"id": self.id, "case_id": self.case_id, "task_id": self.task_id, "field": self.field,
                "filename": self.filename, "content_type": self.content_type, "size": self.size,
                "uploaded_by": self.uploaded_by, "uploaded_at": clock.as_utc(self.uploaded_at).isoformat()}


def _view(row: Attachment) -> AttachmentView:
    return AttachmentView(id=row.id, case_id=row.case_id, task_id=row.task_id, field=row.field,
                          filename=row.filename, content_type=row.content_type, size=row.size,
                          uploaded_by=row.uploaded_by, uploaded_at=clock.as_utc(row.uploaded_at))


def add_attachment(session: Session, *, case_id: str, user: UserView, field: str | None, filename: str,
                   content_type: str | None, data: bytes, task_id: str | None = None,
                   limits: UploadLimits | None = None) -> AttachmentView:
    """Check and store one file on a running case, with an `attachment_added` audit event."""
    limits = limits or UploadLimits()
    if user.role not in UPLOADERS:
        raise Forbidden(f"role '{user.role}' may not add attachments")
    case = read_case(session, case_id)
    case_access(session, user, case)  # Forbidden unless the user reads it or started it
    if case.status != "running":
        raise Conflict(f"case {case_id} is {case.status}; attachments can only be added to a running case")
    if field is not None and (not isinstance(field, str) or not _FIELD.match(field)):
        raise Invalid("field must be a form field name (letters, digits, _ or -)")
    if task_id is not None and session.scalar(select(HumanTask.id).where(
            HumanTask.id == task_id, HumanTask.case_id == case.id)) is None:
        raise Invalid(f"task {task_id} is not a task of case {case_id}")
    detected = check_content(data, content_type, limits)
    name = filetypes.safe_filename(filename, detected)
    case = lock_case(session, case.id)
    row = Attachment(case_id=case.id, task_id=task_id, field=field or None, filename=name,
                     content_type=detected, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                     uploaded_by=user.username, uploaded_at=clock.now(), content=bytes(data))
    session.add(row)
    session.flush()
    audit.record(session, case, "attachment_added", actor=user.username, task_id=task_id,
                 details={"attachment_id": row.id, "filename": name, "size": row.size,
                          "content_type": detected, "field": row.field})
    session.flush()
    return _view(row)


def check_content(data: object, declared: str | None, limits: UploadLimits) -> str:
    """The file's real type if size and content are allowed; else TooLarge, UnsupportedType or Invalid."""
    if not isinstance(data, (bytes, bytearray)):
        raise Invalid("the file's content must be bytes")
    if len(data) > limits.max_bytes:
        raise TooLarge(f"Filen er for stor: {_mb(len(data))} – højst {_mb(limits.max_bytes)} er tilladt "
                       f"(file larger than {limits.max_bytes} bytes)")
    if not data:
        raise Invalid("Filen er tom (the file is empty)")
    detected = filetypes.sniff(bytes(data))
    allowed = ", ".join(filetypes.label(t) for t in limits.allowed_types)
    if detected is None or detected not in limits.allowed_types:
        raise UnsupportedType(f"Filtypen er ikke tilladt; tilladt er: {allowed} "
                              f"(the file's content is not an allowed type)")
    said = filetypes.declared_type(declared)
    if said not in filetypes.GENERIC_DECLARED and said != detected:
        raise UnsupportedType(f"Filen siger, den er {said}, men indholdet er {filetypes.label(detected)}; "
                              f"tilladt er: {allowed} (declared type does not match the content)")
    return detected


def _mb(size: int) -> str:
    """A size as staff read it: kB below a megabyte (a 2 kB limit is not "0,0 MB")."""
    if size < 1024 * 1024:
        return f"{max(size / 1024, 0.1):.1f} kB".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def list_attachments(session: Session, *, case_id: str, user: UserView) -> list[AttachmentView]:
    case = get_case(session, case_id, user, action="attachments")
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                           .order_by(Attachment.uploaded_at, Attachment.id))
    hidden = _withheld(session, case, user)
    return [_view(r) for r in rows if r.id not in hidden]


def _withheld(session: Session, case: Case, user: UserView) -> set[str]:
    """The files of the case another unit's step took and that never crossed to the user's units."""
    if user.role in READ_ALL:
        return set()
    from . import handover  # here: handover reads forms, and forms import this module
    return handover.unit_withheld_files(session, case, user.units)


def open_attachment(session: Session, *, attachment_id: str, user: UserView) -> tuple[AttachmentView, bytes]:
    """The attachment and its bytes, for whoever may see its case; the read is logged on the case."""
    row = session.get(Attachment, attachment_id) if isinstance(attachment_id, str) and len(attachment_id) <= 36 \
        else None
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found")
    case = get_case(session, row.case_id, user, action="attachment_download")
    if row.id in _withheld(session, case, user):
        raise Forbidden(f"attachment {attachment_id} was taken by another unit's step and does not cross to yours")
    return _view(row), row.content


# -- form `file` fields ---------------------------------------------------------------------------

def parse_file_value(value: object) -> dict:
    """A form's file field value in its one shape, or ValueError (engine.forms uses this)."""
    if not isinstance(value, dict) or set(value) != set(FILE_VALUE_KEYS):
        raise ValueError('must be {"attachment_id": ..., "filename": ..., "size": ...} '
                         "naming an uploaded attachment")
    ident, name, size = value["attachment_id"], value["filename"], value["size"]
    if not isinstance(ident, str) or not 1 <= len(ident) <= 36:
        raise ValueError("attachment_id must be an attachment's id")
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise ValueError("filename must be text of 1 to 255 characters")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError("size must be a whole number of bytes")
    return {"attachment_id": ident, "filename": name, "size": size}


def check_form_files(session: Session, *, case_id: str, form: Form | None, data: dict) -> dict:
    """`data` (already validated) with each file field checked against this case's attachments.

    Refuses (FormRejected) an attachment id that does not exist or belongs to
    another case; filename and size are taken from the stored row.
    """
    if form is None:
        return data
    errors, result = [], dict(data)
    for fld in form.fields:
        value = data.get(fld.name)
        if fld.type != "file" or not isinstance(value, dict):
            continue
        row = session.get(Attachment, value["attachment_id"])
        if row is None or row.case_id != case_id:
            errors.append({"field": fld.name, "message": f"{fld.label}: bilaget findes ikke på denne sag "
                                                         "(no such attachment on this case)"})
            continue
        result[fld.name] = _view(row).field_value()
    if errors:
        raise FormRejected("the form rejected the data", errors)
    return result
