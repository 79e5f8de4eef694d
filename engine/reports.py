"""Reports for team leads, auditors and admins: per step and per journey, from the task and case rows.

Read-only, and never loads a workflow state: plain SQL through SQLAlchemy
Core. Medians and the 90th percentile come from window functions
(ROW_NUMBER and COUNT over each group, integer arithmetic to find the ranks,
linear interpolation between the two middle values as percentile_cont does),
so SQLite and PostgreSQL give the same figures; only "seconds between two
times" is spelt per database.

A period is Danish calendar days: `from` 00:00 to the end of `to` in
Europe/Copenhagen time. Per step (process, element, unit), from the tasks
completed in the period: how many, on time (completed_at <= due_at), late,
the median and 90th percentile of created → completed, and the medians of
waiting (created → first claimed or assigned) and working (→ completed; a
task completed without being claimed waited all the time). A task without a
deadline is neither on time nor late. `open` and `overdue` count the tasks
open at the end of the period (now, for a period that has not ended) and,
of those, the ones past their due time then. Per journey: cases started,
completed and cancelled in the period, running at its end, the median (and
p90) length of the completed ones and their end events. `by="month"` splits
the period into calendar months, each answered the same way.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from . import clock
from .access import units_take_part
from .errors import Forbidden, Invalid
from .models import AuditEvent, Case, HumanTask, ProcessDefinition, Unit
from .workdays import DANISH_TIME

READERS = ("teamlead", "auditor", "admin")
MAX_MONTHS = 60
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # beyond these a day's bounds would not compute
STEP_COLUMNS = ("process_key", "element_id", "name", "unit", "completed", "on_time", "late", "open", "overdue",
                "median_hours", "p90_hours", "waiting_median_hours", "working_median_hours")
CASE_COLUMNS = ("process_key", "started", "completed", "cancelled", "running", "median_days", "p90_days",
                "outcomes")


@dataclass(frozen=True)
class Period:
    from_date: date
    to_date: date
    units: frozenset[str] | None  # None: every unit
    process_key: str | None
    by_month: bool = False

    @property
    def start(self) -> datetime:
        return _day_start(self.from_date)

    @property
    def end(self) -> datetime:
        return _day_start(self.to_date + timedelta(days=1))

    def months(self) -> list[Period]:
        parts, first = [], self.from_date
        while first <= self.to_date:
            next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
            parts.append(replace(self, from_date=first, to_date=min(self.to_date, next_month - timedelta(days=1))))
            first = next_month
        return parts


def _day_start(day: date) -> datetime:
    return clock.as_utc(datetime.combine(day, time(0), tzinfo=DANISH_TIME))


def period_for(session: Session, user, *, from_date: date | None, to_date: date | None, unit: str | None,
               process_key: str | None, by: str | None = None) -> Period:
    """The period and filters a user asked for, checked; team leads are held to their own units."""
    if user.role not in READERS:
        raise Forbidden(f"role '{user.role}' may not read reports (team leads, auditors and admins may)")
    for field, day in (("from", from_date), ("to", to_date)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise Invalid(f"{field} must lie between {EARLIEST} and {LATEST}",
                          [{"field": field, "message": f"must lie between {EARLIEST} and {LATEST}"}])
    today = clock.now().astimezone(DANISH_TIME).date()
    to_date = to_date or max(today, from_date or today)
    from_date = from_date or to_date.replace(day=1)
    if from_date > to_date:
        raise Invalid("from is after to", [{"field": "from", "message": f"{from_date} is after to ({to_date})"}])
    if by == "month" and (to_date.year - from_date.year) * 12 + to_date.month - from_date.month >= MAX_MONTHS:
        raise Invalid(f"by=month covers at most {MAX_MONTHS} months",
                      [{"field": "from", "message": f"by=month covers at most {MAX_MONTHS} months"}])
    if unit is not None and session.get(Unit, unit) is None:
        raise Invalid(f"unknown unit '{unit}'", [{"field": "unit", "message": f"no unit '{unit}'"}])
    if process_key is not None and session.scalar(
            select(exists().where(ProcessDefinition.key == process_key))) is False:
        raise Invalid(f"unknown process '{process_key}'",
                      [{"field": "process_key", "message": f"no process '{process_key}' is deployed"}])
    units = None if unit is None else frozenset({unit})
    if user.role == "teamlead":
        if unit is not None and unit not in user.units:
            raise Forbidden(f"unit '{unit}' is not one of yours: a team lead reads the reports of their own units")
        units = units or frozenset(user.units)
    return Period(from_date, to_date, units, process_key, by == "month")


def _per_month(period: Period, rows_of) -> list[dict]:
    if not period.by_month:
        return rows_of(period)
    return [{"month": part.from_date.strftime("%Y-%m"), **row} for part in period.months() for row in rows_of(part)]


# -- SQL building blocks ---------------------------------------------------------------------------

def _seconds(session: Session, later, earlier):
    """Seconds from `earlier` to `later`, as a float, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _quantiles(session: Session, source: Select, keys: tuple[str, ...], percents: tuple[int, ...]) -> dict:
    """{group key tuple: {percent: value}} for `source` (columns `keys` and `value`), percentile_cont style.

    The database ranks each group's values and hands back only the one or two rows around each rank
    wanted ((n-1)·p/100, in integers so both databases floor alike); the interpolation between them
    is the one step done here.
    """
    sub = source.subquery()
    group = [sub.c[k] for k in keys]
    ranked = select(*group, sub.c.value, func.row_number().over(partition_by=group, order_by=sub.c.value).label("rn"),
                    func.count().over(partition_by=group).label("n")).subquery()
    near = [ranked.c.rn - (ranked.c.n - 1) * p // 100 for p in percents]
    rows = session.execute(select(ranked).where(or_(*[offset.in_((1, 2)) for offset in near])))
    found: dict[tuple, dict] = {}
    for row in rows:
        entry = found.setdefault(tuple(row[:len(keys)]), {"n": row.n, "values": {}})
        entry["values"][row.rn] = float(row.value)
    result: dict[tuple, dict[int, float]] = {}
    for key, entry in found.items():
        n, values = entry["n"], entry["values"]
        result[key] = {}
        for p in percents:
            lo, rest = divmod((n - 1) * p, 100)
            low = values[lo + 1]
            result[key][p] = low + (values.get(lo + 2, low) - low) * rest / 100
    return result


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 3)


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 3)


# -- per step --------------------------------------------------------------------------------------

STEP_KEY = ("process_key", "element_id", "unit")


def step_rows(session: Session, period: Period) -> list[dict]:
    return _per_month(period, lambda part: _step_rows(session, part))


def _task_filters(period: Period) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if period.units is not None:
        found.append(HumanTask.unit.in_(sorted(period.units)))
    if period.process_key is not None:
        found.append(HumanTask.process_key == period.process_key)
    return found


def _step_rows(session: Session, period: Period) -> list[dict]:
    t = HumanTask
    key_columns = [t.process_key, t.element_id, t.unit]
    done = and_(t.status == "completed", t.completed_at >= period.start, t.completed_at < period.end,
                *_task_filters(period))
    as_of = min(period.end, clock.now())
    open_then = and_(t.created_at < as_of, or_(t.completed_at.is_(None), t.completed_at >= as_of),
                     *_task_filters(period))
    rows: dict[tuple, dict] = {}

    def row(key, name) -> dict:
        return rows.setdefault(key, dict(zip(STEP_KEY, key, strict=True), name=name, completed=0, on_time=0,
                                          late=0, open=0, overdue=0))

    has_due = t.due_at.is_not(None)
    for *group, name, completed, on_time, late in session.execute(
            select(*key_columns, func.max(t.name), func.count(),
                   func.sum(case((and_(has_due, t.completed_at <= t.due_at), 1), else_=0)),
                   func.sum(case((and_(has_due, t.completed_at > t.due_at), 1), else_=0)))
            .where(done).group_by(*key_columns)):
        row(tuple(group), name).update(completed=completed, on_time=int(on_time or 0), late=int(late or 0))
    for *group, name, open_, overdue in session.execute(
            select(*key_columns, func.max(t.name), func.count(),
                   func.sum(case((and_(has_due, t.due_at < as_of), 1), else_=0)))
            .where(open_then).group_by(*key_columns)):
        row(tuple(group), name).update(open=open_, overdue=int(overdue or 0))

    claimed = func.coalesce(t.claimed_at, t.completed_at)
    spans = {"duration": _seconds(session, t.completed_at, t.created_at),
             "waiting": _seconds(session, claimed, t.created_at),
             "working": _seconds(session, t.completed_at, claimed)}
    figures = {name: _quantiles(session, select(*key_columns, value.label("value")).where(done), STEP_KEY,
                                (50, 90) if name == "duration" else (50,)) for name, value in spans.items()}
    result = []
    for key in sorted(rows, key=lambda k: tuple(part or "" for part in k)):
        duration = figures["duration"].get(key, {})
        result.append({**rows[key], "median_hours": _hours(duration.get(50)), "p90_hours": _hours(duration.get(90)),
                       "waiting_median_hours": _hours(figures["waiting"].get(key, {}).get(50)),
                       "working_median_hours": _hours(figures["working"].get(key, {}).get(50))})
    return result


# -- per journey -----------------------------------------------------------------------------------

def case_rows(session: Session, period: Period) -> list[dict]:
    return _per_month(period, lambda part: _case_rows(session, part))


def _case_rows(session: Session, period: Period) -> list[dict]:
    c = Case
    filters: list[ColumnElement[bool]] = []
    if period.units is not None:
        filters.append(units_take_part(period.units, c.id))
    if period.process_key is not None:
        filters.append(c.process_key == period.process_key)
    start, end, as_of = period.start, period.end, min(period.end, clock.now())
    in_period = and_(c.completed_at >= start, c.completed_at < end)
    completed = and_(c.status == "completed", in_period)

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    rows: dict[str, dict] = {}
    for key, started, done, cancelled, running in session.execute(
            select(c.process_key, count(and_(c.created_at >= start, c.created_at < end)), count(completed),
                   count(and_(c.status == "cancelled", in_period)),
                   count(and_(c.created_at < as_of, or_(c.completed_at.is_(None), c.completed_at >= as_of))))
            .where(c.created_at < end, or_(c.completed_at.is_(None), c.completed_at >= start), *filters)
            .group_by(c.process_key)):
        if started or done or cancelled or running:
            rows[key] = {"process_key": key, "started": int(started), "completed": int(done),
                         "cancelled": int(cancelled), "running": int(running), "outcomes": {}}
    lengths = _quantiles(session, select(c.process_key, _seconds(session, c.completed_at, c.created_at)
                                         .label("value")).where(completed, *filters), ("process_key",), (50, 90))
    for key, end_element, n in session.execute(
            select(c.process_key, func.coalesce(AuditEvent.element_id, literal("(unknown)")), func.count())
            .join(AuditEvent, and_(AuditEvent.case_id == c.id, AuditEvent.type == "case_completed"))
            .where(completed, *filters).group_by(c.process_key, AuditEvent.element_id)):
        rows[key]["outcomes"][end_element] = int(n)
    result = []
    for key in sorted(rows):
        figures = lengths.get((key,), {})
        result.append({**rows[key], "median_days": _days(figures.get(50)), "p90_days": _days(figures.get(90))})
    return result


# -- CSV -------------------------------------------------------------------------------------------

def to_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    """The rows as CSV, the same figures as the JSON: `outcomes` becomes one `outcomes.<end event>` column each,
    `month` leads when the rows have one, an empty cell is null (or an outcome that did not occur)."""
    outcomes = sorted({k for r in rows for k in r.get("outcomes", {})}) if "outcomes" in columns else []
    header = (["month"] if rows and "month" in rows[0] else []) + [c for c in columns if c != "outcomes"]
    header += [f"outcomes.{k}" for k in outcomes]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        flat = {**r, **{f"outcomes.{k}": v for k, v in r.get("outcomes", {}).items()}}
        writer.writerow(["" if flat.get(h) is None else flat[h] for h in header])
    return out.getvalue()
