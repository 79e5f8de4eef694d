"""Moving running cases to another version, from the studio: the plan, a dry run, the run, a report per case.

`GET /studio/{key}/migrate?from=A&to=B` shows the plan: every element of
version A that version B removed, with how many running cases stand there and
a choice of the element of B they move to (the diff's suggestion
preselected; none means those cases are refused), and the changed elements
cases stand on. `POST` the same page with `handling=proev` for a dry run or
`handling=flyt` for the run: both go through engine.migration_batch.run_batch
exactly as POST /api/migrations does (one transaction per case; a dry run
changes nothing), and the page answers with the report per case.

Process owners and admins; every POST carries the session's CSRF token.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from engine import studio_views, studio_words, versions
from engine.case_rules import rules_from_settings
from engine.catalog import get_definition
from engine.diff import diff_versions
from engine.drafts import check_key
from engine.errors import Invalid
from engine.migration_batch import run_batch

from ..deps import SessionDep
from .render import page
from .session import check_csrf
from .studio_pages import studio_user

router = APIRouter()
MAX_REPORT_ROWS = 1000


def _versions(session, key: str, params) -> tuple[int, int]:
    summaries = versions.list_versions(session, key)
    numbers = [v.version for v in summaries]

    def number(name: str, default: int) -> int:
        value = str(params.get(name) or default)
        if not value.isdigit() or int(value) not in numbers:
            raise Invalid(f"Version {value} findes ikke af dette forløb.")
        return int(value)
    b = number("to", numbers[-1])
    with_cases = [v.version for v in summaries if v.running_cases and v.version != b]
    a = number("from", with_cases[-1] if with_cases else (numbers[-2] if len(numbers) > 1 else numbers[-1]))
    if a == b:
        raise Invalid("Vælg to forskellige versioner at flytte sager imellem.")
    return a, b


def _plan(session, key: str, a: int, b: int) -> dict:
    diff = diff_versions(session, key, a, b)
    old, new = get_definition(session, key, a), get_definition(session, key, b)
    affected = {x.element_id: x.cases for x in diff.affected}
    removed = sorted(diff.removed, key=lambda e: (-affected.get(e.element_id, 0), e.name.lower()))
    positions = versions.case_positions(session, old.id)
    return {"key": key, "name": new.name, "a": a, "b": b, "diff": diff, "removed": removed, "affected": affected,
            "changed_with_cases": [e for e in diff.changed if affected.get(e.element_id)],
            "choices": studio_views.element_choices(new), "old_names": {c.element_id: c.name for c in
                                                                       studio_views.element_choices(old)},
            "running": versions.running_cases(session, old.id), "positions": positions,
            "selected": {e.element_id: diff.suggested_mapping.get(e.element_id, "") for e in removed},
            "versions": [v.version for v in versions.list_versions(session, key)], "active": "studio"}


@router.get("/studio/{key}/migrate")
def plan_page(request: Request, key: str, session: SessionDep):
    user = studio_user(request, session)
    check_key(key)
    a, b = _versions(session, key, request.query_params)
    return page(request, "studio_migrate.html", {**_plan(session, key, a, b), "report": None, "error": None},
                user=user)


@router.post("/studio/{key}/migrate")
async def run(request: Request, key: str, session: SessionDep):
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_run, request, key, posted, session)


def _run(request: Request, key: str, posted, session):
    user = studio_user(request, session)
    check_key(key)
    a, b = _versions(session, key, posted)
    context = _plan(session, key, a, b)
    removed = {e.element_id for e in context["removed"]}
    selected = {old: str(posted.get(f"map.{old}") or "") for old in removed}
    context["selected"] = selected
    mapping = {old: new for old, new in selected.items() if new}
    dry_run = posted.get("handling") != "flyt"
    positions = context["positions"]
    session.rollback()  # the batch runs in transactions of its own; this request's read ends here
    try:
        result = run_batch(request.app.state.session_factory, process_key=key, from_version=a, to_version=b,
                           mapping=mapping, dry_run=dry_run, actor=user.username,
                           rules=rules_from_settings(request.app.state.settings))
    except Invalid as exc:
        return page(request, "studio_migrate.html", {**context, "report": None, "error": _words(exc)},
                    status=422, user=user)
    standing: dict[str, list[str]] = {}
    for element, cases in positions.items():
        for case_id in cases:
            standing.setdefault(case_id, []).append(context["old_names"].get(element, element))
    rows = [{"case_id": c, "ok": True, "where": sorted(standing.get(c, []))} for c in result.migrated]
    rows += [{"case_id": r["case_id"], "ok": False, "where": sorted(standing.get(r["case_id"], [])),
              "reason": studio_words.danish_reasons(r["reason"])} for r in result.refused]
    rows.sort(key=lambda r: (r["ok"], r["case_id"]))
    report = {"dry_run": dry_run, "migrated": len(result.migrated), "refused": len(result.refused),
              "rows": rows[:MAX_REPORT_ROWS], "cut": max(0, len(rows) - MAX_REPORT_ROWS)}
    if not dry_run:  # the plan is now that of the cases still on version A
        context = {**_plan(session, key, a, b), "selected": selected}
    return page(request, "studio_migrate.html", {**context, "report": report, "error": None}, user=user)


def _words(exc: Invalid) -> str:
    detail = exc.detail if isinstance(exc.detail, list) else []
    parts = [studio_words.danish(str(p.get("message"))) for p in detail if isinstance(p, dict)]
    return "Planen kan ikke bruges: " + ("; ".join(parts) or studio_words.danish(exc.message))
