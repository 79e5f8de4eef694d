"""Attachments: upload to a case (multipart), list a case's files, download one.

Downloads are always `Content-Disposition: attachment` with `nosniff` and a
sandboxing CSP, so a file is saved, never rendered in the app's origin.
"""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from engine import filetypes
from engine.attachments import add_attachment, list_attachments, open_attachment, upload_limits

from ..deps import CurrentUser, SessionDep, SettingsDep
from ..responses import BODY, ErrorMessage, RequestInvalid, errors

router = APIRouter(tags=["attachments"])


@router.post("/cases/{case_id}/attachments", response_model=None, status_code=201, responses=errors(
    *BODY, 401, 403, 404, 409, 415, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def upload(case_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep,
           file: Annotated[UploadFile, File(description="the file")],
           field: Annotated[str | None, Form(max_length=200, description="the form field it belongs to")] = None,
           task_id: Annotated[str | None, Form(max_length=36)] = None) -> dict:
    # One byte more than allowed is enough to know it is too large; the rest is never read.
    data = file.file.read(settings.max_upload_bytes + 1)
    view = add_attachment(session, case_id=case_id, user=user, field=field or None, filename=file.filename or "",
                          content_type=file.content_type, data=data, task_id=task_id or None,
                          limits=upload_limits(settings))
    session.commit()
    return view.as_dict()


@router.get("/cases/{case_id}/attachments", response_model=None, responses=errors(401, 403, 404))
def listing(case_id: str, user: CurrentUser, session: SessionDep) -> list[dict]:
    views = [v.as_dict() for v in list_attachments(session, case_id=case_id, user=user)]
    session.commit()  # the access log
    return views


FILE = {"description": "The file, as it was uploaded",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}


@router.get("/attachments/{attachment_id}", responses={200: FILE, **errors(401, 403, 404)})
def download(attachment_id: str, user: CurrentUser, session: SessionDep) -> Response:
    view, data = open_attachment(session, attachment_id=attachment_id, user=user)
    session.commit()  # the access log
    media_type = view.content_type
    if media_type == filetypes.TEXT:
        media_type += f"; charset={filetypes.text_charset(data) or 'utf-8'}"
    return Response(content=data, media_type=media_type, headers={
        "Content-Disposition": content_disposition(view.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name plus the exact UTF-8 name (filename*)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
