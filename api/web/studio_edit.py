"""The studio's modeler page: /studio/{key}/edit (a journey, from its draft or a deployed version) and /studio/new.

The page is a shell for the bundled bpmn-js modeler (studio/src, built into
api/static/studio/ by `make install`): it hands the modeler a JSON config with the
journey's key, the deployed version's BPMN to start from (?version=N, else the
latest), and the session's CSRF token; drafts, checks and publishing go through
/api/studio (the web session cookie). Process owners and admins only (others 403).
Without the bundle (no npm at install) the page says so instead of showing a
broken editor. Read-only: nothing is committed here.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from engine import catalog
from engine.access import DEPLOYERS, require_role
from engine.errors import NotFound

from ..deps import SessionDep
from . import STATIC
from .render import page
from .session import current_user, web_session

router = APIRouter()
BUNDLE = STATIC / "studio" / "modeler.js"


def _bundle_ready() -> bool:
    return BUNDLE.is_file()


def _modeler_page(request: Request, user, config: dict, title: str):
    config = {**config, "csrf": web_session(request).csrf}
    return page(request, "studio_edit.html", {"config": config, "title": title, "bundle_ready": _bundle_ready(),
                                              "active": "studio"}, user=user)


@router.get("/studio/new")
def new_journey(request: Request, session: SessionDep):
    user = current_user(request, session)
    require_role(user, DEPLOYERS, "model journeys in the studio")
    return _modeler_page(request, user, {"mode": "new", "key": None, "bpmn": None, "version": None,
                                         "latest_version": None}, "Nyt forløb")


@router.get("/studio/{key}/edit")
def edit_journey(request: Request, session: SessionDep, key: str,
                 version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    user = current_user(request, session)
    require_role(user, DEPLOYERS, "model journeys in the studio")
    latest = catalog.latest_definition(session, key)
    if version is not None and latest is None:
        raise NotFound(f"process '{key}' is not deployed")
    row = catalog.get_definition(session, key, version) if version is not None else latest
    name = (row.name if row is not None else None) or key
    return _modeler_page(request, user, {
        "mode": "edit", "key": key, "name": name, "version": version,
        "latest_version": latest.version if latest is not None else None,
        "bpmn": row.bpmn_xml if row is not None else None,
    }, f"Rediger forløb: {name}")
