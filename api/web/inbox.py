"""The inbox at `/`: tabs Mine / Min enhed / Forfaldne / Snart forfaldne, filters, pages.

All task rows and counts come from engine.inbox (list_tasks / count_tasks /
workload_across), which apply the unit rules of engine.access; nothing here
decides who sees what. Read-only.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from engine import clock, outside_steps
from engine import inbox as tasks
from engine.accounts import UserView
from engine.errors import Forbidden

from ..deps import SessionDep
from . import queries
from .render import SOON, page, redirect
from .session import current_user

router = APIRouter()
PAGE_SIZE = 25


@dataclass(frozen=True)
class Tab:
    key: str
    label: str


TABS = (Tab("mine", "Mine"), Tab("enhed", "Min enhed"), Tab("forfaldne", "Forfaldne"),
        Tab("snart", "Snart forfaldne"))


def tab_filters(tab: str) -> dict:
    if tab == "mine":
        return {"assignee": "me", "open_only": True}
    if tab == "forfaldne":
        return {"overdue": True}
    if tab == "snart":
        return {"due_before": clock.now() + SOON, "open_only": True}
    return {"open_only": True}


@router.get("/")
def inbox(request: Request, session: SessionDep, fane: str = "enhed", forloeb: str = "", opgave: str = "",
          side: int = 1) -> Response:
    user = current_user(request, session)
    if user.role == "process_owner":  # no inbox: the studio is where a process owner works
        return redirect(request, "/studio")
    fane = fane if fane in {t.key for t in TABS} else "enhed"
    side = max(1, min(side, 100000))
    filters = {"process_key": forloeb or None, "element_id": opgave or None}
    try:
        counts = {t.key: tasks.count_tasks(session, user, **tab_filters(t.key), **filters) for t in TABS}
    except Forbidden:  # roles without an inbox (process owner, integration)
        return page(request, "inbox.html", {"no_inbox": True}, user=user)
    rows = tasks.list_tasks(session, user, limit=PAGE_SIZE, offset=(side - 1) * PAGE_SIZE,
                            **tab_filters(fane), **filters)
    pages = max(1, -(-counts[fane] // PAGE_SIZE))
    waiting = outside_steps.inbox_steps(session, user) if fane == "enhed" and side == 1 else []

    def link(**change: object) -> str:
        params = {"fane": fane, "forloeb": forloeb, "opgave": opgave, "side": side, **change}
        return "/?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return page(request, "inbox.html", {
        "tabs": TABS, "fane": fane, "counts": counts, "rows": rows, "side": side, "pages": pages, "link": link,
        "forloeb": forloeb, "opgave": opgave, "journeys": queries.journey_names(session),
        "task_choices": queries.task_choices(session, user, forloeb or None),
        "cprs": queries.masked_cprs(session, {r.case_id for r in rows} | {w.case_id for w in waiting}),
        "units": queries.unit_names(session), "waiting": waiting,
        "lead": _lead_view(session, user) if user.role == "teamlead" else None,
    }, user=user)


def _lead_view(session: Session, user: UserView) -> dict:
    """Per unit the team lead leads: who to assign to; and across them all, per person (members with none
    included) the open and overdue tasks and the one due first."""
    units = {unit: {"members": queries.unit_members(session, unit)} for unit in sorted(user.units)}
    members = sorted({name for info in units.values() for name, _role in info["members"]})
    return {"units": units, "people": tasks.workload_across(session, user, members)}
