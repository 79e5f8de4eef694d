"""Publishing a draft from a page: the confirmation with the diff and the running cases it reaches, then the deploy.

`GET /studio/{key}/publish` shows what publishing the draft changes
(engine.studio.preview: its problems, the diff against the latest version
and how many of that version's running cases stand on what changed);
`POST` publishes it (engine.studio.publish: the normal deploy, one
transaction) and, when the replaced version has running cases, goes on to
the migration page to move them. `POST /studio/{key}/discard` throws the
draft away. Both name the draft's revision, so a draft changed meanwhile is
refused (409) and nothing is published or lost; both carry the CSRF token.
Each POST commits once, at the end (a refusal rolls back).
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from engine import catalog, drafts, studio, versions
from engine.case_rules import rules_from_settings

from ..deps import SessionDep, SettingsDep
from .render import page, redirect
from .session import check_csrf
from .studio_pages import studio_user

router = APIRouter()


def _context(session, settings, key: str) -> dict:
    draft = drafts.get_draft(session, key)
    latest = catalog.latest_definition(session, key)
    preview = studio.preview(session, key, rules=rules_from_settings(settings), processes_dir=settings.processes_dir)
    names = {}
    running = versions.running_cases(session, latest.id) if latest is not None else 0
    on_any = sum(v.running_cases for v in versions.list_versions(session, key)) if latest is not None else 0
    if preview.diff is not None:
        names = {e.element_id: e.name for e in (*preview.diff.removed, *preview.diff.changed)}
    return {"key": key, "draft": draft, "latest": latest, "preview": preview, "names": names,
            "errors": [p for p in preview.problems if p.severity == studio.ERROR],
            "warnings": [p for p in preview.problems if p.severity == studio.WARNING],
            "running": running, "older": on_any - running, "active": "studio"}


@router.get("/studio/{key}/publish")
def confirm(request: Request, key: str, session: SessionDep, settings: SettingsDep):
    user = studio_user(request, session)
    return page(request, "studio_publish.html", {**_context(session, settings, key), "notice": None}, user=user)


@router.post("/studio/{key}/publish")
async def publish(request: Request, key: str, session: SessionDep, settings: SettingsDep):
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_publish, request, key, posted, session, settings)


def _revision(posted) -> int:
    text = str(posted.get("revision") or "")
    return int(text) if text.isdigit() and len(text) < 10 else 0


def _publish(request, key, posted, session, settings):
    user = studio_user(request, session)
    before = catalog.latest_definition(session, key)
    try:
        deployed = studio.publish(session, key, revision=_revision(posted), actor=user.username,
                                  rules=rules_from_settings(settings), processes_dir=settings.processes_dir)
    except (studio.PublishRefused, drafts.DraftStale) as exc:
        session.rollback()
        stale = isinstance(exc, drafts.DraftStale)
        notice = ("Udkastet er ændret imens (i en anden fane eller af en kollega), så intet er udgivet. "
                  "Se den nye udgave herunder." if stale else "Udkastet har fejl, så intet er udgivet.")
        return page(request, "studio_publish.html", {**_context(session, settings, key), "notice": notice},
                    status=409 if stale else 422, user=user)
    session.commit()
    done = f"Version {deployed.version} af »{key}« er udgivet." if deployed.new else \
        f"Udkastet var magen til version {deployed.version}; intet nyt er udgivet."
    if before is not None and deployed.new and versions.running_cases(session, before.id):
        return redirect(request, f"/studio/{key}/migrate?from={before.version}&to={deployed.version}",
                        flash=done + f" Version {before.version} har stadig kørende sager: flyt dem her.")
    return redirect(request, f"/studio/{key}/versions" if deployed.version else "/studio", flash=done)


@router.post("/studio/{key}/discard")
async def discard(request: Request, key: str, session: SessionDep):
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_discard, request, key, posted, session)


def _discard(request, key, posted, session):
    studio_user(request, session)
    try:
        drafts.delete_draft(session, key, revision=_revision(posted))
    except drafts.DraftStale:
        session.rollback()
        return redirect(request, f"/studio/{key}/publish", flash="Udkastet er ændret imens (i en anden fane eller "
                        "af en kollega), så den er ikke kasseret. Her er den nye udgave.")
    session.commit()
    return redirect(request, "/studio", flash=f"Udkastet af »{key}« er kasseret.")
