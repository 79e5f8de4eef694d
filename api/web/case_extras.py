"""Attachments and the case diagram for the pages (engine.attachments, engine.diagram).

Access is checked by the engine functions. Only `add_upload` writes (flushes).
"""
from __future__ import annotations

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from engine import attachments as engine_attachments
from engine.accounts import UserView
from engine.attachments import AttachmentView
from engine.diagram import case_diagram_svg
from engine.errors import EngineError
from engine.models import HumanTask
from engine.settings import Settings


def attachments(session: Session, case_id: str, user: UserView) -> list[AttachmentView]:
    return engine_attachments.list_attachments(session, case_id=case_id, user=user)


def add_upload(session: Session, *, user: UserView, row: HumanTask, field: str, upload: UploadFile,
               settings: Settings) -> AttachmentView:
    limits = engine_attachments.upload_limits(settings)
    data = upload.file.read(limits.max_bytes + 1)  # one byte more tells it is too large; the rest is not read
    return engine_attachments.add_attachment(
        session, case_id=row.case_id, user=user, field=field, filename=upload.filename or "",
        content_type=upload.content_type, data=data, task_id=row.id, limits=limits)


def open_file(session: Session, attachment_id: str, user: UserView) -> tuple[AttachmentView, bytes]:
    return engine_attachments.open_attachment(session, attachment_id=attachment_id, user=user)


def diagram_svg(session: Session, case_id: str, user: UserView) -> Markup | None:
    """The case's process as inline SVG (completed and current elements marked), or None."""
    try:
        svg = case_diagram_svg(session, case_id=case_id, user=user)
    except EngineError:  # no diagram for this definition: the page goes on without it
        return None
    # The engine builds the SVG itself and escapes every name it puts in (engine/diagram/svg.py).
    return Markup(svg) if svg else None
