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
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from . import clock, report_rollup
from .access import units_take_part
from .errors import Forbidden, Invalid
from .models import AuditEvent, Case, HumanTask, ProcessDefinition, Unit
from .workdays import DANISH_TIME, WorkCalendar, end_of_day, local_date

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
        result[key] = {p: _interpolate(n, p, lambda rank, v=values: v.get(rank)) for p in percents}
    return result


def _interpolate(n: int, p: int, at) -> float:
    """percentile_cont's value at `p` % of `n` sorted values; `at(rank)` is the value at a 1-based rank (or None)."""
    lo, rest = divmod((n - 1) * p, 100)
    low = at(lo + 1)
    high = at(lo + 2)
    return low + ((low if high is None else high) - low) * rest / 100


def _sorted_quantiles(values: list[float], percents: tuple[int, ...]) -> dict[int, float]:
    """The same figures from a sorted list (the rollup's), the same arithmetic as `_quantiles`."""
    if not values:
        return {}
    n = len(values)
    return {p: _interpolate(n, p, lambda rank: values[rank - 1] if rank <= n else None) for p in percents}


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 3)


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 3)


# -- per step --------------------------------------------------------------------------------------

STEP_KEY = ("process_key", "element_id", "unit")


def step_rows(session: Session, period: Period, *, rollup: bool = True) -> list[dict]:
    """`rollup=False`: every part from the task rows (what the rollup's tests compare it with)."""
    parts = period.months() if period.by_month else [period]
    rolled = _rolled_step_rows(session, [p for p in parts if _rollup_covers(p)]) if rollup else {}

    def rows_of(part: Period) -> list[dict]:
        if part.from_date in rolled:
            return rolled[part.from_date]
        return _current_step_rows(session, part) if rollup else _step_rows(session, part)
    return _joined(period, parts, rows_of)


def _rollup_covers(part: Period) -> bool:
    """The rollup holds whole Danish days; "open at the end" is exact for a part that has ended."""
    return part.end <= clock.now()


def _joined(period: Period, parts: list[Period], rows_of) -> list[dict]:
    if not period.by_month:
        return rows_of(parts[0])
    return [{"month": part.from_date.strftime("%Y-%m"), **row} for part in parts for row in rows_of(part)]


Sums = dict[tuple, dict[str, dict]]  # (process, element, unit) → name → completed, on_time, late, open, overdue
Values = dict[tuple, dict[str, list[float]]]  # (process, element, unit) → durations/waits/works → seconds


def _zero() -> dict:
    return {"completed": 0, "on_time": 0, "late": 0, "open": 0, "overdue": 0}


def _rollup_sums(session: Session, part: Period, first: date, end_day: date, lists: list) -> tuple[Sums, Values]:
    sums: Sums = {}
    for process_key_, element_id, unit, name, completed, on_time, late, open_, overdue in \
            report_rollup.step_counters(session, first, end_day, units=part.units, process_key=part.process_key):
        sums.setdefault((process_key_, element_id, unit or None), {})[name] = {
            "completed": int(completed or 0), "on_time": int(on_time or 0), "late": int(late or 0),
            "open": int(open_ or 0), "overdue": int(overdue or 0)}
    values: Values = {}
    for day, process_key_, element_id, unit, durations, waits, works in lists:
        if first <= day < end_day:
            found = values.setdefault((process_key_, element_id, unit or None),
                                      {"durations": [], "waits": [], "works": []})
            for name, raw in (("durations", durations), ("waits", waits), ("works", works)):
                found[name].extend(report_rollup.unpack(raw))
    return sums, values


def _assembled(sums: Sums, values: Values) -> list[dict]:
    """The report's rows from summed figures and duration lists: a step with a task completed or open."""
    rows = []
    for key in sorted(sums, key=lambda k: tuple(part or "" for part in k)):
        by_name = sums[key]
        done = [n for n, f in by_name.items() if f["completed"]]
        still = [n for n, f in by_name.items() if f["open"]]
        if not done and not still:
            continue
        total = {field: sum(f[field] for f in by_name.values())
                 for field in ("completed", "on_time", "late", "open", "overdue")}
        spans = {name: sorted(v) for name, v in values.get(key, {}).items()}
        duration = _sorted_quantiles(spans.get("durations", []), (50, 90))
        rows.append({**dict(zip(STEP_KEY, key, strict=True)), "name": max(done or still), **total,
                     "median_hours": _hours(duration.get(50)), "p90_hours": _hours(duration.get(90)),
                     "waiting_median_hours": _hours(_sorted_quantiles(spans.get("waits", []), (50,)).get(50)),
                     "working_median_hours": _hours(_sorted_quantiles(spans.get("works", []), (50,)).get(50))})
    return rows


def _rolled_step_rows(session: Session, parts: list[Period]) -> dict[date, list[dict]]:
    """The steps report of each part from the rollup (engine/report_rollup.py): the same figures as the rows give."""
    if not parts:
        return {}
    last = max(p.to_date for p in parts)
    lists = report_rollup.step_lists(session, min(p.from_date for p in parts), last + timedelta(days=1),
                                     units=parts[0].units, process_key=parts[0].process_key)
    result = {}
    for part in parts:  # "at the end": the start of the day after to_date
        result[part.from_date] = _assembled(*_rollup_sums(session, part, part.from_date,
                                                          part.to_date + timedelta(days=1), lists))
    return result


def _current_step_rows(session: Session, part: Period) -> list[dict]:
    """A part not ended: what was completed on its whole days before today from the rollup, what was completed
    today and what is open now from the task rows; the same figures as `_step_rows` gives."""
    now = clock.now()
    today = local_date(now)
    if today <= part.from_date:
        return _step_rows(session, part)
    lists = report_rollup.step_lists(session, part.from_date, today, units=part.units, process_key=part.process_key)
    sums, values = _rollup_sums(session, part, part.from_date, today, lists)
    for by_name in sums.values():
        for figures in by_name.values():
            figures["open"] = figures["overdue"] = 0  # "open" is at this moment: from the rows below
    t = HumanTask
    for process_key_, element_id, unit, name, created, due, claimed, done in session.execute(
            select(t.process_key, t.element_id, t.unit, t.name, t.created_at, t.due_at, t.claimed_at, t.completed_at)
            .where(t.status == "completed", t.completed_at >= _day_start(today), t.completed_at < part.end,
                   *_task_filters(part))):
        if done is None:  # a completed task always has its time; the column allows none
            continue
        key = (process_key_, element_id, unit)
        figures = sums.setdefault(key, {}).setdefault(name, _zero())
        figures["completed"] += 1
        if due is not None:
            figures["on_time" if clock.as_utc(done) <= clock.as_utc(due) else "late"] += 1
        first_claim: datetime = claimed or done
        found = values.setdefault(key, {"durations": [], "waits": [], "works": []})
        found["durations"].append(report_rollup.seconds(done, created))
        found["waits"].append(report_rollup.seconds(first_claim, created))
        found["works"].append(report_rollup.seconds(done, first_claim))
    has_due = t.due_at.is_not(None)
    for process_key_, element_id, unit, name, open_, overdue in session.execute(
            select(t.process_key, t.element_id, t.unit, func.max(t.name), func.count(),
                   func.sum(case((and_(has_due, t.due_at < now), 1), else_=0)))
            .where(t.created_at < now, or_(t.completed_at.is_(None), t.completed_at >= now), *_task_filters(part))
            .group_by(t.process_key, t.element_id, t.unit)):
        figures = sums.setdefault((process_key_, element_id, unit), {}).setdefault(name, _zero())
        figures["open"], figures["overdue"] = int(open_), int(overdue or 0)
    return _assembled(sums, values)


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

def case_rows(session: Session, period: Period, *, rollup: bool = True) -> list[dict]:
    """`rollup=False`: every part from the case rows. A unit filter always reads the rows: a case takes part
    in a unit once it has had a task there, which the day it was counted on cannot know."""
    parts = period.months() if period.by_month else [period]
    use = rollup and period.units is None
    rolled = _rolled_case_rows(session, [p for p in parts if _rollup_covers(p)]) if use else {}
    return _joined(period, parts, lambda part: rolled[part.from_date] if part.from_date in rolled
                   else _case_rows(session, part))


def _rolled_case_rows(session: Session, parts: list[Period]) -> dict[date, list[dict]]:
    if not parts:
        return {}
    days = report_rollup.case_days(session, max(p.to_date for p in parts) + timedelta(days=1),
                                   process_key=parts[0].process_key)
    result = {}
    for part in parts:
        first, end_day = part.from_date, part.to_date + timedelta(days=1)
        rows: dict[str, dict] = {}
        lengths: dict[str, list[float]] = {}
        for day, key, started, closed, completed, cancelled, day_lengths, outcomes in days:
            if day >= end_day:
                continue
            row = rows.setdefault(key, {"process_key": key, "started": 0, "completed": 0, "cancelled": 0,
                                        "running": 0, "outcomes": {}})
            row["running"] += started - closed
            if day >= first:
                row["started"] += started
                row["completed"] += completed
                row["cancelled"] += cancelled
                if completed:
                    lengths.setdefault(key, []).extend(report_rollup.unpack(day_lengths))
                    for end, n in json.loads(outcomes).items():
                        row["outcomes"][end] = row["outcomes"].get(end, 0) + n
        found = []
        for key in sorted(rows):
            row = rows[key]
            if not (row["started"] or row["completed"] or row["cancelled"] or row["running"]):
                continue
            figures = _sorted_quantiles(sorted(lengths.get(key, [])), (50, 90))
            found.append({**row, "median_days": _days(figures.get(50)), "p90_days": _days(figures.get(90))})
        result[part.from_date] = found
    return result


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


# -- the dashboard's further figures (api/web/dashboard.py) ----------------------------------------

UNIT_COLUMNS = ("unit", "open", "overdue", "soon_due")
SICK_LEAVE = "sygedagpenge"  # the journey whose case length Randers and the seeds follow (in weeks)
SICK_LEAVE_START = "foerste_fravaersdag"  # its legal start (DOMAIN.md); without it the case's creation day
LONG_WEEKS = 52


def unit_rows(session: Session, period: Period, *, soon_days: int, calendar: WorkCalendar) -> list[dict]:
    """Per unit, the tasks open at the end of the period (now, for a period not ended): how many, how many past
    their due time then, and how many due within `soon_days` working days (to the end of that day)."""
    t = HumanTask
    as_of = min(period.end, clock.now())
    soon = clock.as_utc(end_of_day(calendar.add_working_days(local_date(as_of), soon_days)))
    has_due = t.due_at.is_not(None)
    rows = []
    for unit, open_, overdue, soon_due in session.execute(
            select(t.unit, func.count(), func.sum(case((and_(has_due, t.due_at < as_of), 1), else_=0)),
                   func.sum(case((and_(has_due, t.due_at >= as_of, t.due_at <= soon), 1), else_=0)))
            .where(t.created_at < as_of, or_(t.completed_at.is_(None), t.completed_at >= as_of),
                   *_task_filters(period))
            .group_by(t.unit)):
        rows.append({"unit": unit, "open": int(open_), "overdue": int(overdue or 0), "soon_due": int(soon_due or 0)})
    return sorted(rows, key=lambda r: r["unit"] or "")


def published_rows(session: Session, period: Period, published: dict[str, str | None]) -> list[dict]:
    """The § 3 figure: per published deadline (a named deadline with `citizen_letter`, its source) and journey,
    the tasks held to it completed in the period, on time and late, and the ones open and overdue at its end."""
    t = HumanTask
    if not published:
        return []
    as_of = min(period.end, clock.now())
    has_due = t.due_at.is_not(None)
    keys = [t.deadline_rule, t.process_key]
    rows: dict[tuple, dict] = {}

    def row(key: tuple) -> dict:
        return rows.setdefault(key, {"deadline": key[0], "source": published.get(key[0]), "process_key": key[1],
                                     "completed": 0, "on_time": 0, "late": 0, "open": 0, "overdue": 0})

    ours = [t.deadline_rule.in_(sorted(published)), *_task_filters(period)]
    for *key, completed, on_time, late in session.execute(
            select(*keys, func.count(), func.sum(case((and_(has_due, t.completed_at <= t.due_at), 1), else_=0)),
                   func.sum(case((and_(has_due, t.completed_at > t.due_at), 1), else_=0)))
            .where(t.status == "completed", t.completed_at >= period.start, t.completed_at < period.end, *ours)
            .group_by(*keys)):
        row(tuple(key)).update(completed=int(completed), on_time=int(on_time or 0), late=int(late or 0))
    for *key, open_, overdue in session.execute(
            select(*keys, func.count(), func.sum(case((and_(has_due, t.due_at < as_of), 1), else_=0)))
            .where(t.created_at < as_of, or_(t.completed_at.is_(None), t.completed_at >= as_of), *ours)
            .group_by(*keys)):
        row(tuple(key)).update(open=int(open_), overdue=int(overdue or 0))
    return [rows[k] for k in sorted(rows)]


def _start_day(case_row) -> date:
    raw = (case_row.data or {}).get(SICK_LEAVE_START) if isinstance(case_row.data, dict) else None
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            pass
    return local_date(clock.as_utc(case_row.created_at))


def sick_leave(session: Session, period: Period) -> dict:
    """Sick-leave case length in weeks, from the first day of absence (the case's start when the data lacks it)
    to the day it closed: the median of the cases completed in each month of the period, and the cases over
    52 weeks: completed in the period, and running at its end."""
    c = Case
    filters: list[ColumnElement[bool]] = [c.process_key == SICK_LEAVE]
    if period.units is not None:
        filters.append(units_take_part(period.units, c.id))
    as_of = min(period.end, clock.now())
    months = []
    long_completed = 0
    for part in period.months():
        weeks = sorted((local_date(clock.as_utc(r.completed_at)) - _start_day(r)).days / 7 for r in session.execute(
            select(c.data, c.created_at, c.completed_at).where(
                c.status == "completed", c.completed_at >= part.start, c.completed_at < part.end, *filters)))
        long_completed += sum(1 for w in weeks if w > LONG_WEEKS)
        median = _sorted_quantiles(weeks, (50,)).get(50)
        months.append({"month": part.from_date.strftime("%Y-%m"), "completed": len(weeks),
                       "median_weeks": None if median is None else round(median, 1)})
    today = local_date(as_of)
    long_running = sum(1 for r in session.execute(
        select(c.data, c.created_at).where(c.created_at < as_of, or_(c.completed_at.is_(None), c.completed_at >= as_of),
                                           *filters))
        if (today - _start_day(r)).days / 7 > LONG_WEEKS)
    return {"months": months, "long_completed": long_completed, "long_running": long_running}
