"""The studio's server-rendered pages for process owners and admins: journeys, versions, comparisons.

`/studio` is a process owner's landing page (the inbox sends them here):
every journey with its latest version, its draft and its running cases.
`/studio/{key}/versions` lists every version with who deployed it, when, and
how many cases run on it; `/studio/{key}/versions/{n}` draws one version with
the running cases per element; `/studio/{key}/compare?from=&to=` draws two
versions side by side with what was added, removed and changed, and lists
the changed attributes (engine.diff). The modeler itself
(/studio/{key}/edit, /studio/new) is a page of its own module.

Other roles get 403 here too. Read-only: nothing is committed.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from engine import studio_views, versions
from engine.access import DEPLOYERS, require_role
from engine.catalog import get_definition
from engine.diff import diff_versions
from engine.drafts import check_key
from engine.errors import Invalid

from ..deps import SessionDep
from .render import page
from .session import current_user

router = APIRouter()

def studio_user(request: Request, session):
    """The logged-in process owner or admin; 403 (a page) for every other role."""
    user = current_user(request, session)
    require_role(user, DEPLOYERS, "use the studio")
    return user


@router.get("/studio")
def landing(request: Request, session: SessionDep):
    user = studio_user(request, session)
    return page(request, "studio.html", {"journeys": studio_views.journeys(session), "active": "studio"},
                user=user)


@router.get("/studio/{key}/versions")
def version_list(request: Request, key: str, session: SessionDep):
    user = studio_user(request, session)
    check_key(key)
    rows = versions.list_versions(session, key)
    latest = get_definition(session, key)
    return page(request, "studio_versions.html", {
        "key": key, "name": latest.name, "versions": list(reversed(rows)), "latest": latest.version,
        "active": "studio"}, user=user)


@router.get("/studio/{key}/versions/{version}")
def version_page(request: Request, key: str, version: int, session: SessionDep):
    user = studio_user(request, session)
    check_key(key)
    detail = versions.version_detail(session, key, version)
    definition = get_definition(session, key, version)
    counts = studio_views.case_counts(session, definition)
    return page(request, "studio_version.html", {
        "key": key, "detail": detail, "svg": studio_views.counted_svg(definition, counts),
        "latest": get_definition(session, key).version, "active": "studio"}, user=user)


def _version_param(value: str, name: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise Invalid(f"Vælg en version ({name}).")
    return int(value)


@router.get("/studio/{key}/compare")
def compare(request: Request, key: str, session: SessionDep):
    user = studio_user(request, session)
    check_key(key)
    params = request.query_params
    all_versions = [v.version for v in versions.list_versions(session, key)]
    default_to = all_versions[-1]
    default_from = all_versions[-2] if len(all_versions) > 1 else all_versions[-1]
    a = _version_param(params.get("from") or str(default_from), "fra")
    b = _version_param(params.get("to") or str(default_to), "til")
    diff = diff_versions(session, key, a, b)
    old, new = get_definition(session, key, a), get_definition(session, key, b)
    old_svg, new_svg = studio_views.diff_svgs(old, new, diff)
    return page(request, "studio_compare.html", {
        "key": key, "name": new.name, "diff": diff, "a": a, "b": b, "old_svg": old_svg, "new_svg": new_svg,
        "versions": all_versions, "running_a": versions.running_cases(session, old.id),
        "affected_cases": len(diff.affected_case_ids), "active": "studio"}, user=user)
