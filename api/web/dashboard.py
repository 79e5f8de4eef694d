"""The dashboard at `/oversigt` for team leads, auditors and admins: deadlines kept, open and overdue, trends.

Every figure comes from engine/reports.py (period_for, step_rows,
case_rows), the same functions as /api/reports, so page and API agree; a
team lead is held to their own units by period_for. The charts are
server-rendered SVG (no JavaScript) with a title, a description, numbers as
labels and a data table beside them, so nothing is told by colour alone.
Besides the steps and journeys: the § 3 figure per published deadline (a
named deadline with `citizen_letter`), open/overdue/soon due per unit
(TOVHOLDER_SOON_DUE_DAYS working days) and the sick-leave case length in
weeks with the cases over 52 weeks. `/oversigt/varmekort` draws engine/heatmap.py's figures on a journey's
diagram (one version or all), with the same figures in a table.
Read-only: nothing is committed.
"""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import heatmap, reports
from engine.errors import Forbidden, Invalid, NotFound

from ..deps import RulesDep, SessionDep, SettingsDep
from . import queries
from .render import page
from .session import current_user

router = APIRouter()


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"'{text}' er ikke en dato", []) from exc


def _share(on_time: int, late: int) -> int | None:
    return None if on_time + late == 0 else round(100 * on_time / (on_time + late))


@router.get("/oversigt")
def dashboard(request: Request, session: SessionDep, settings: SettingsDep, rules: RulesDep, fra: str = "",
              til: str = "", enhed: str = "", forloeb: str = "") -> Response:
    user = current_user(request, session)
    if user.role not in reports.READERS:
        raise Forbidden("kun teamledere, revisorer og administratorer ser oversigten")
    context: dict = {"fra": fra, "til": til, "enhed": enhed, "forloeb": forloeb,
                     "journeys": queries.journey_names(session),
                     "units": sorted(user.units) if user.role == "teamlead" else None,
                     "error": None, "steps": [], "journey_rows": [], "months": [], "max_month": 1}
    try:
        period = reports.period_for(session, user, from_date=_day(fra[:10]), to_date=_day(til[:10]),
                                    unit=enhed or None, process_key=forloeb or None)
        monthly = reports.period_for(session, user, from_date=period.from_date, to_date=period.to_date,
                                     unit=enhed or None, process_key=forloeb or None, by="month")
    except Invalid as exc:
        context["error"] = f"Filteret kan ikke bruges: {exc}. Ret dato, enhed eller forløb og prøv igen."
        return page(request, "dashboard.html", context, status=422, user=user)
    steps = [{**row, "share": _share(row["on_time"], row["late"])} for row in reports.step_rows(session, period)]
    months = reports.case_rows(session, monthly)
    named = rules.named_deadlines()
    published = {name: named[name].source if name in named else None for name in rules.citizen_letters()}
    areas = [{**row, "share": _share(row["on_time"], row["late"])}
             for row in reports.published_rows(session, period, published)]
    units = reports.unit_rows(session, period, soon_days=settings.soon_due_working_days, calendar=rules.calendar)
    sick = reports.sick_leave(session, period) if forloeb in ("", reports.SICK_LEAVE) else None
    context.update(steps=steps, journey_rows=reports.case_rows(session, period), months=months,
                   max_month=max([1, *(max(m["started"], m["completed"]) for m in months)]),
                   period=period, areas=areas, unit_rows=units, soon_days=settings.soon_due_working_days,
                   max_unit=max([1, *(r["open"] for r in units)]), sick=sick,
                   max_weeks=max([1.0, *(m["median_weeks"] or 0 for m in (sick or {}).get("months", []))]))
    return page(request, "dashboard.html", context, user=user)


def _version(text: str) -> int | None:
    if text in ("", "alle"):
        return None
    if not text.isdigit() or len(text) > 6:
        raise Invalid(f"'{text[:20]}' er ikke et versionsnummer", [])
    return int(text)


@router.get("/oversigt/varmekort")
def heatmap_page(request: Request, session: SessionDep, forloeb: str = "", version: str = "", fra: str = "",
                 til: str = "") -> Response:
    """The journey's diagram with, per element, cases passed, standing there now, median time and share late."""
    user = current_user(request, session)
    if user.role not in reports.READERS:
        raise Forbidden("kun teamledere, revisorer og administratorer ser varmekortet")
    journeys = queries.journey_names(session)
    context: dict = {"fra": fra, "til": til, "forloeb": forloeb, "version": version, "journeys": journeys,
                     "units": sorted(user.units) if user.role == "teamlead" else None, "error": None,
                     "found": None, "svg": None, "versions": []}
    if not forloeb:
        return page(request, "heatmap.html", context, user=user)
    try:
        period = reports.period_for(session, user, from_date=_day(fra[:10]), to_date=_day(til[:10]), unit=None,
                                    process_key=forloeb[:200])
        found = heatmap.heatmap(session, period, process_key=forloeb, version=_version(version[:20]))
    except (Invalid, NotFound) as exc:
        context["error"] = f"Filteret kan ikke bruges: {exc}. Ret forløb, version eller dato og prøv igen."
        return page(request, "heatmap.html", context, status=422, user=user)
    name = journeys.get(forloeb, forloeb)
    label = f"{name}, {'alle versioner' if found.version is None else f'version {found.version}'}"
    context.update(found=found, period=period, label=label,
                   svg=heatmap.heatmap_svg(session, found, label),
                   versions=heatmap.versions_of(session, forloeb),
                   rows=sorted(found.elements, key=lambda e: (e.kind != "userTask", -e.passed, e.name)))
    return page(request, "heatmap.html", context, user=user)
