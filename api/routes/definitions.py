"""Process definitions: deploy (multipart), list, show, download the XML."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from engine import catalog
from engine.access import DEPLOYERS, require_role
from engine.bundles import start_form
from engine.case_rules import rules_from_settings
from engine.errors import EngineError, Invalid

from ..deps import CurrentUser, SessionDep, SettingsDep
from ..responses import BODY, DeploymentRefused, ErrorMessage, errors
from .common import Limit, Offset

router = APIRouter(tags=["process definitions"])


class UnsupportedMediaType(EngineError):
    status = 415


class PayloadTooLarge(EngineError):
    status = 413


@router.post("/process-definitions", response_model=None, status_code=201,
             responses=errors(*BODY, 401, 403, 413, 415, 422, unprocessable=(DeploymentRefused,)),
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "properties": {"files": {"type": "array", "items": {
                     "type": "string", "format": "binary"}}}, "required": ["files"]}}}}})
async def deploy(request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> dict:
    require_role(user, DEPLOYERS, "deploy process definitions")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the diagrams as multipart/form-data in the field 'files'")
    try:
        form = await request.form(max_files=100, max_fields=100)
    except Exception as exc:  # noqa: BLE001 - malformed multipart bodies
        message = f"the multipart body could not be read: {exc}"
        raise Invalid(message, [{"file": None, "element": None, "line": None, "message": message}]) from None
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise Invalid("no files: send one or more .bpmn/.dmn files in the field 'files'",
                      [{"file": None, "element": None, "line": None, "message": "field 'files' is missing"}])
    files = []
    for upload in uploads:
        raw = await upload.read(settings.max_upload_bytes + 1)
        if len(raw) > settings.max_upload_bytes:
            raise PayloadTooLarge(f"{upload.filename} is larger than {settings.max_upload_bytes} bytes")
        files.append((upload.filename or "upload.bpmn", raw))
    deployed = catalog.deploy(session, files, rules=rules_from_settings(settings), actor=user.username)
    session.commit()
    return {"deployed": [d.as_dict() for d in deployed]}


@router.get("/process-definitions", response_model=None, responses=errors(401, 422))
def list_definitions(user: CurrentUser, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    return catalog.list_definitions(session, limit=limit, offset=offset)


@router.get("/process-definitions/{key}", response_model=None, responses=errors(
    401, 404, 422, unprocessable=(ErrorMessage,)))
def show_definition(key: str, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> dict:
    latest = catalog.get_definition(session, key)
    entry = next(d for d in catalog.list_definitions(session, limit=10_000) if d["key"] == key)
    form = start_form(session, latest, forms_dir=settings.forms_dir)  # a new case starts on the latest version
    return {**entry, "start_form": form.as_dict() if form is not None else None, "hash": latest.hash, "source_file": latest.source_file}


@router.get("/process-definitions/{key}/versions/{version}/bpmn", responses={
    200: {"description": "The BPMN XML as deployed", "content": {"application/xml": {"schema": {"type": "string"}}}},
    **errors(401, 404, 422)})
def definition_xml(key: str, version: int, user: CurrentUser, session: SessionDep) -> Response:
    row = catalog.get_definition(session, key, version)
    return Response(row.bpmn_xml, media_type="application/xml; charset=utf-8")
