"""Reports: per step and per journey (engine/reports.py), as JSON or, with `?format=csv`, as CSV.

Read: team leads (their own units: without `unit` the report covers all of
them, another unit is 403), auditors and admins (every unit). Read-only:
nothing is committed.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from engine import heatmap, reports

from ..deps import CurrentUser, SessionDep
from ..responses import ErrorMessage, FieldsRejected, RequestInvalid, errors

router = APIRouter(tags=["reports"])

READ_ERRORS = errors(401, 403, 422, unprocessable=(RequestInvalid, FieldsRejected, ErrorMessage))


class StepRow(BaseModel):
    month: str | None = None
    process_key: str
    element_id: str
    name: str
    unit: str | None
    completed: int
    on_time: int
    late: int
    open: int
    overdue: int
    median_hours: float | None
    p90_hours: float | None
    waiting_median_hours: float | None
    working_median_hours: float | None


class CaseRow(BaseModel):
    month: str | None = None
    process_key: str
    started: int
    completed: int
    cancelled: int
    running: int
    median_days: float | None
    p90_days: float | None
    outcomes: dict[str, int]


class StepReport(BaseModel):
    rows: list[StepRow]


class CaseReport(BaseModel):
    rows: list[CaseRow]


def _documented(model: type[BaseModel]) -> dict:
    return {**READ_ERRORS, 200: {"model": model, "content": {"text/csv": {"schema": {"type": "string"}}},
                                 "description": "the report (JSON, or CSV with format=csv: the same figures)"}}


From = Annotated[date | None, Query(alias="from", description="first day (Danish time), default: the 1st of `to`'s month")]
To = Annotated[date | None, Query(description="last day (Danish time), default: today")]
UnitQuery = Annotated[str | None, Query(max_length=64, description="one unit's key")]
KeyQuery = Annotated[str | None, Query(max_length=200, description="one journey's process key")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the same figures as CSV")]
By = Annotated[Literal["month"] | None, Query(description="month: one set of rows per calendar month")]


def _answer(rows: list[dict], columns: tuple[str, ...], fmt: str, name: str):
    if fmt == "csv":
        return Response(reports.to_csv(rows, columns), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return {"rows": rows}


@router.get("/reports/steps", responses=_documented(StepReport), response_model=None)
def steps(user: CurrentUser, session: SessionDep, from_date: From = None, to: To = None, unit: UnitQuery = None,
          process_key: KeyQuery = None, format: Format = "json", by: By = None):  # noqa: A002 - the contract's name
    """Per step: completed, on time, late, open and overdue, and how long it took (median, 90th percentile),
    split into waiting (created → first claimed) and working (claimed → completed)."""
    period = reports.period_for(session, user, from_date=from_date, to_date=to, unit=unit, process_key=process_key,
                                by=by)
    return _answer(reports.step_rows(session, period), reports.STEP_COLUMNS, format, "steps")


@router.get("/reports/cases", responses=_documented(CaseReport), response_model=None)
def cases(user: CurrentUser, session: SessionDep, from_date: From = None, to: To = None, unit: UnitQuery = None,
          process_key: KeyQuery = None, format: Format = "json", by: By = None):  # noqa: A002 - the contract's name
    """Per journey: cases started, completed, cancelled, running, their median length and their end events."""
    period = reports.period_for(session, user, from_date=from_date, to_date=to, unit=unit, process_key=process_key,
                                by=by)
    return _answer(reports.case_rows(session, period), reports.CASE_COLUMNS, format, "cases")


class HeatmapElement(BaseModel):
    element_id: str
    name: str
    kind: str
    passed: int
    here_now: int
    median_hours: float | None
    on_time: int
    late: int
    late_share: int | None


class HeatmapReport(BaseModel):
    process_key: str
    version: int | None
    drawn_version: int
    from_: date = Field(alias="from")
    to: date
    elements: list[HeatmapElement]


@router.get("/reports/heatmap", responses={**READ_ERRORS, 404: {"model": ErrorMessage}, 200: {"model": HeatmapReport}},
            response_model=None)
def heatmap_report(user: CurrentUser, session: SessionDep,
                   process_key: Annotated[str, Query(max_length=200, description="the journey's process key")],
                   version: Annotated[int | None, Query(ge=1, description="one version; without it: all")] = None,
                   from_date: From = None, to: To = None, unit: UnitQuery = None):
    """Per element of the journey's diagram: cases that passed it in the period, running cases standing there now,
    and for user tasks the median time spent (hours) and the share completed late (percent)."""
    period = reports.period_for(session, user, from_date=from_date, to_date=to, unit=unit, process_key=process_key)
    return heatmap.heatmap(session, period, process_key=process_key, version=version).as_json(period)
