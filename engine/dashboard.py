"""The managers' overview (`/overblik`): the figures a team lead reads at a glance, from engine.reports.

Read-only, plain SQL, never a workflow state. Everything per period comes
from engine.reports' step and case rows (so the overview and the reports API
can never disagree); what is "now" (open, overdue, soon due per unit; cases
past 52 weeks) is counted here.

- **Deadlines kept per area** (the § 3 figure of retssikkerhedsloven: the
  share decided within the published deadline): of the tasks with a deadline
  completed in the period, the share completed by it, per journey.
- **Load per unit now**: open tasks, of them overdue, and due within
  SOON_DAYS days.
- **Per month**: tasks with a deadline completed, and the share on time.
- **Sick leave** (sygedagpenge): the median length of the cases completed
  in the period in weeks, and the running cases older than 52 weeks.
- **Slowest steps**: the steps with the longest median time, created → completed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from . import clock, reports
from .access import units_take_part
from .models import Case, HumanTask
from .statuses import OPEN_TASK_STATES

SOON_DAYS = 3
SICK_LEAVE = "sygedagpenge"
LONG_SICK_LEAVE = timedelta(weeks=52)
SLOWEST = 5


@dataclass(frozen=True)
class Share:
    key: str          # a process key, a month (YYYY-MM)
    on_time: int
    late: int

    @property
    def total(self) -> int:
        return self.on_time + self.late

    @property
    def percent(self) -> float | None:
        return 100.0 * self.on_time / self.total if self.total else None


@dataclass(frozen=True)
class UnitLoad:
    unit: str
    open: int
    overdue: int
    soon: int


@dataclass(frozen=True)
class Overview:
    period: reports.Period
    deadlines: list[Share]
    load: list[UnitLoad]
    months: list[Share]
    sick_leave_median_weeks: float | None
    sick_leave_completed: int
    sick_leave_over_52_weeks: int
    slowest: list[dict]


def _shares(rows: list[dict], key: str) -> list[Share]:
    totals: dict[str, list[int]] = {}
    for row in rows:
        pair = totals.setdefault(row[key], [0, 0])
        pair[0] += row["on_time"]
        pair[1] += row["late"]
    return [Share(k, on_time, late) for k, (on_time, late) in sorted(totals.items())]


def _every_month(period: reports.Period, found: list[Share]) -> list[Share]:
    """One share per month of the period, zero where nothing with a deadline was completed."""
    by_key = {s.key: s for s in found}
    keys = [part.from_date.strftime("%Y-%m") for part in period.months()]
    return [by_key.get(k, Share(k, 0, 0)) for k in keys]


def unit_load(session: Session, period: reports.Period) -> list[UnitLoad]:
    """Open tasks per unit now, of them overdue and due within SOON_DAYS days."""
    t, now = HumanTask, clock.now()
    filters: list[ColumnElement[bool]] = [t.status.in_(OPEN_TASK_STATES), t.unit.is_not(None)]
    if period.units is not None:
        filters.append(t.unit.in_(sorted(period.units)))
    if period.process_key is not None:
        filters.append(t.process_key == period.process_key)
    due = t.due_at.is_not(None)
    rows = session.execute(
        select(t.unit, func.count(), func.sum(case((and_(due, t.due_at < now), 1), else_=0)),
               func.sum(case((and_(due, t.due_at >= now, t.due_at < now + timedelta(days=SOON_DAYS)), 1), else_=0)))
        .where(*filters).group_by(t.unit).order_by(t.unit))
    return [UnitLoad(unit, int(n), int(overdue or 0), int(soon or 0)) for unit, n, overdue, soon in rows]


def _long_sick_leave(session: Session, period: reports.Period) -> int:
    c = Case
    filters: list[ColumnElement[bool]] = [c.process_key == SICK_LEAVE, c.status == "running",
                                          c.created_at < clock.now() - LONG_SICK_LEAVE]
    if period.units is not None:
        filters.append(units_take_part(period.units, c.id))
    return int(session.scalar(select(func.count()).select_from(c).where(*filters)) or 0)


def overview(session: Session, period: reports.Period) -> Overview:
    steps = reports.step_rows(session, period)
    monthly = reports.step_rows(session, reports.Period(period.from_date, period.to_date, period.units,
                                                        period.process_key, by_month=True))
    sick = next((r for r in reports.case_rows(session, period) if r["process_key"] == SICK_LEAVE), None)
    timed = [r for r in steps if r["median_hours"] is not None]
    return Overview(
        period=period,
        deadlines=[s for s in _shares(steps, "process_key") if s.total],
        load=unit_load(session, period),
        months=_every_month(period, _shares(monthly, "month")),
        sick_leave_median_weeks=(sick["median_days"] / 7 if sick and sick["median_days"] is not None else None),
        sick_leave_completed=sick["completed"] if sick else 0,
        sick_leave_over_52_weeks=_long_sick_leave(session, period),
        slowest=sorted(timed, key=lambda r: -r["median_hours"])[:SLOWEST],
    )
