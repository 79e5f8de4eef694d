"""Versions of a process: one version's deploy record and where its running cases stand, and diffs.

Read: process owners, admins and auditors (engine.access.VERSION_READERS).
Read-only routes: nothing is committed.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine import diff, versions
from engine.access import VERSION_READERS, require_role

from ..deps import CurrentUser, SessionDep
from ..responses import ErrorMessage, RequestInvalid, errors

READ_ERRORS = errors(401, 403, 404, 422, unprocessable=(RequestInvalid, ErrorMessage))

router = APIRouter(tags=["process definitions"])

Version = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/process-definitions/{key}/versions", response_model=None, responses=READ_ERRORS)
def list_versions(key: str, user: CurrentUser, session: SessionDep) -> list[dict]:
    require_role(user, VERSION_READERS, "read the deploy history")
    return [v.as_dict() for v in versions.list_versions(session, key)]


@router.get("/process-definitions/{key}/versions/{version}", response_model=None,
            responses=READ_ERRORS)
def version_detail(key: str, version: int, user: CurrentUser, session: SessionDep) -> dict:
    require_role(user, VERSION_READERS, "read the deploy history")
    return versions.version_detail(session, key, version).as_dict()


@router.get("/process-definitions/{key}/diff", response_model=None, responses=READ_ERRORS)
def diff_versions(key: str, user: CurrentUser, session: SessionDep,
                  from_version: Annotated[Version, Query(alias="from")],
                  to_version: Annotated[Version, Query(alias="to")]) -> dict:
    require_role(user, VERSION_READERS, "compare versions")
    return diff.diff_versions(session, key, from_version, to_version).as_dict()
