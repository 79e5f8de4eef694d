"""The report rollup: per step and per journey, day by day, what engine/reports.py would count from the rows.

Role: the reports split by month (twelve months of "open at the end of
each month") read every task closed after each month end; at a million
task rows that is seconds per month. This module keeps, per Danish day,

- `report_step_days` (process, element, unit, name, day): day deltas whose
  running sum is the steps report's `open` and `overdue` at any day's start
  (opened/closed; overdue_from/overdue_to: a task counts as overdue at a
  day start E from the day its due time has passed, max(created day,
  due day) + 1, until it is closed), the tasks completed that day (on time,
  late) and their durations, waiting and working times in seconds (sorted
  lists packed as float64: the medians and p90 stay exact, not estimated);
- `report_case_days` (process, day): cases started, closed, completed (their
  lengths), cancelled, and the end events of the completed ones.

Transaction rule: the rollup changes in the same transaction as the rows
it counts: each flush computes its changes, and they are written as the
transaction's last statements before COMMIT (`_before_commit`; in a
savepoint, at once), so the shared day rows stay locked only for the commit
(docs/performance.md, rows h); engine.reports writes them first
(`apply_pending`) when it reads in a transaction that changed rows.
A `before_flush` listener on every session engine.db makes (`install`)
looks at the human task and case rows
being inserted, changed or deleted and at new `case_completed` audit events,
computes what each row contributed before (read from the database, as
committed or flushed so far) and contributes now, and applies the difference:
counters as one atomic upsert (`x = x + d`), lists read and rewritten under
the row lock that upsert took. It runs in every flush of every completion,
so its statements are built once per dialect and only bound per flush, the
counter-only rows of a flush go in one executemany, and the upsert of a row
whose lists change gives them back (RETURNING) instead of a second SELECT
(docs/performance.md, "CPU per completion"). So whichever mutation path moves a task
(engine.projections creating and cancelling, engine.runtime completing,
engine.migration moving it to another version's element, unit or deadline),
the figures follow, or roll back with it. Rows written with plain SQL
(bench/volume_data.py) are not seen: `rebuild` recomputes everything from the
rows (migration 0021 does it once; the bench after generating).

engine/reports.py reads the rollup only where it is exact: a period part
that has ended (its "open at the end" is a day start in the past), the whole
days before today of the steps report's current part and, for the cases
report, no unit filter (a case "takes part" in a unit once it has
had a task there, which can change after the day it was counted).
"""
from __future__ import annotations

import bisect
import functools
import json
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, case, delete, event, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from . import clock
from .models import AuditEvent, Case, HumanTask, ReportCaseDay, ReportStepDay
from .statuses import CaseStatus, TaskStatus
from .workdays import DANISH_TIME

STEP_COUNTERS = ("opened", "closed", "overdue_from", "overdue_to", "completed", "on_time", "late")
STEP_LISTS = ("durations", "waits", "works")
CASE_COUNTERS = ("started", "closed", "completed", "cancelled")
TASK_FIELDS = ("process_key", "element_id", "unit", "name", "status", "created_at", "due_at", "completed_at",
               "claimed_at")
CASE_FIELDS = ("process_key", "status", "created_at", "completed_at")
STEP_TABLE = cast(Table, ReportStepDay.__table__)
CASE_TABLE = cast(Table, ReportCaseDay.__table__)
PENDING = "report_rollup_pending"  # session.info: the deltas of this transaction's flushes, applied at commit
UNKNOWN_END = "(unknown)"  # what engine/reports.py calls a completed case whose end event has no element id


def danish_day(moment: datetime) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


def seconds(later: datetime, earlier: datetime) -> float:
    return (clock.as_utc(later) - clock.as_utc(earlier)).total_seconds()


# -- what one row contributes ---------------------------------------------------------------------

@dataclass
class Delta:
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    added: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    removed: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def empty(self) -> bool:
        return (not any(self.counters.values()) and not any(self.added.values()) and not any(self.removed.values())
                and not any(self.outcomes.values()))


Deltas = dict[tuple, Delta]


def _task_parts(t: dict, sign: int, out: Deltas) -> None:
    """Add (sign 1) or take away (sign -1) what a task row with these fields contributes."""
    group = (t["process_key"], t["element_id"], t["unit"] or "", t["name"])

    def at(day: date) -> Delta:
        return out.setdefault(("step", day, *group), Delta())

    created, done = danish_day(t["created_at"]), t["completed_at"]
    closed = danish_day(done) if done is not None else None
    at(created).counters["opened"] += sign
    if closed is not None:
        at(closed).counters["closed"] += sign
    if t["due_at"] is not None:
        # overdue at a day start E when due_at < E: from the day after the due day (not before the task exists)
        overdue = max(created, danish_day(t["due_at"])) + timedelta(days=1)
        if closed is None or closed >= overdue:
            at(overdue).counters["overdue_from"] += sign
            if closed is not None:
                at(closed).counters["overdue_to"] += sign
    if t["status"] == TaskStatus.COMPLETED and done is not None:
        row = at(closed)  # type: ignore[arg-type]
        row.counters["completed"] += sign
        if t["due_at"] is not None:
            row.counters["on_time" if clock.as_utc(done) <= clock.as_utc(t["due_at"]) else "late"] += sign
        claimed = t["claimed_at"] or done
        values = {"durations": seconds(done, t["created_at"]), "waits": seconds(claimed, t["created_at"]),
                  "works": seconds(done, claimed)}
        for name, value in values.items():
            (row.added if sign > 0 else row.removed)[name].append(value)


def _case_parts(c: dict, sign: int, out: Deltas) -> None:
    def at(day: date) -> Delta:
        return out.setdefault(("case", day, c["process_key"]), Delta())

    at(danish_day(c["created_at"])).counters["started"] += sign
    done = c["completed_at"]
    if done is None:
        return
    row = at(danish_day(done))
    row.counters["closed"] += sign
    if c["status"] == CaseStatus.COMPLETED:
        row.counters["completed"] += sign
        (row.added if sign > 0 else row.removed)["lengths"].append(seconds(done, c["created_at"]))
    elif c["status"] == CaseStatus.CANCELLED:
        row.counters["cancelled"] += sign


def _outcome_part(session: Session, ev: AuditEvent, out: Deltas) -> None:
    case = session.get(Case, ev.case_id)
    if case is None or case.status != CaseStatus.COMPLETED or case.completed_at is None:
        return  # engine/reports.py counts the end events of completed cases only
    delta = out.setdefault(("case", danish_day(case.completed_at), case.process_key), Delta())
    delta.outcomes[ev.element_id or UNKNOWN_END] += 1


# -- the flush listener -----------------------------------------------------------------------------

def _fields(obj: Any, names: tuple[str, ...]) -> dict:
    return {n: getattr(obj, n) for n in names}


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


@functools.cache
def _stored_query(model: Any, names: tuple[str, ...]) -> Any:
    query = select(model.id, *[getattr(model, n) for n in names]).where(model.id.in_(bindparam("ids", expanding=True)))
    if model is HumanTask:  # name the partitions the objects are in: the live one, on PostgreSQL (task_archive)
        query = query.where(HumanTask.archived.in_(bindparam("archived", expanding=True)))
    return query


def _stored(session: Session, model: Any, names: tuple[str, ...], objects: list[Any]) -> dict[str, dict]:
    """The rows as the database holds them now (before this flush writes them)."""
    if not objects:
        return {}
    ids = [o.id for o in objects]
    params: dict[str, Any] = {}
    if model is HumanTask:
        params["archived"] = sorted({bool(o.archived) for o in objects})
    found = {}
    for chunk in range(0, len(ids), 500):
        for row in session.connection().execute(_stored_query(model, names), {"ids": ids[chunk:chunk + 500], **params}):
            found[row[0]] = dict(zip(names, row[1:], strict=True))
    return found


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    out: Deltas = {}
    for model, names, parts in ((HumanTask, TASK_FIELDS, _task_parts), (Case, CASE_FIELDS, _case_parts)):
        new = [o for o in session.new if isinstance(o, model)]
        dirty = [o for o in session.dirty if isinstance(o, model) and _changed(o, names)]
        gone = [o for o in session.deleted if isinstance(o, model)]
        before = _stored(session, model, names, dirty + gone)
        for obj in new:
            parts(_fields(obj, names), 1, out)
        for obj in dirty + gone:
            if obj.id in before:
                parts(before[obj.id], -1, out)
        for obj in dirty:
            parts(_fields(obj, names), 1, out)
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.type == "case_completed":
            _outcome_part(session, obj, out)
    if not out:
        return
    if session.in_nested_transaction():  # a savepoint's rollback must take its figures with it: apply now
        apply(session.connection(), out)
        return
    _merge_into(session.info.setdefault(PENDING, {}), out)


def _merge_into(pending: Deltas, out: Deltas) -> None:
    for key, delta in out.items():
        into = pending.setdefault(key, Delta())
        for name, n in delta.counters.items():
            into.counters[name] += n
        for name, values in delta.added.items():
            into.added[name].extend(values)
        for name, values in delta.removed.items():
            into.removed[name].extend(values)
        for end, n in delta.outcomes.items():
            into.outcomes[end] += n


def _before_commit(session: Session) -> None:
    """The transaction's rollup changes, as its last statements before COMMIT.

    A rollup row is shared by every case of a journey that closes on one day (and every task of a step
    completed on it); its upsert locks the row until commit. Written at each flush, that lock was held
    through the rest of the transaction (the state save, the audit events) and concurrent completions
    queued on it (bench rows h: PostgreSQL's backends waited on `report_case_days` most of the time);
    written here, it is held for the commit alone. Same transaction, same figures."""
    if session.in_nested_transaction():
        return  # a savepoint's release: the outer transaction commits later
    apply_pending(session)


def apply_pending(session: Session) -> None:
    """Write this transaction's rollup changes now: at commit, and before anything reads the rollup in a
    transaction that changed tasks or cases (engine.reports), so it reads its own changes."""
    session.flush()  # the last changes join the pending ones (a commit would flush only after its hook)
    pending = session.info.pop(PENDING, None)
    if pending:
        apply(session.connection(), pending)


def _transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back, or committed (then already applied): nothing carries over
        session.info.pop(PENDING, None)


def install(factory: sessionmaker) -> None:
    """Keep the rollup in every session this factory makes (engine.db.make_session_factory calls it)."""
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_transaction_end", _transaction_end)


# -- writing -------------------------------------------------------------------------------------

def _insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _key_columns(kind: str) -> tuple:
    return (("day", "process_key", "element_id", "unit", "name") if kind == "step" else ("day", "process_key"))


@dataclass(frozen=True)
class _Statements:
    """One kind's statements, built once per dialect: each flush only binds values (no SQL built or compiled)."""

    names: tuple[str, ...]     # the key columns
    counters: tuple[str, ...]
    lists: tuple[str, ...]     # the packed lists, and for cases the outcomes (JSON)
    upsert: Any                # insert the row or add the counters to it
    upsert_lists: Any          # the same, giving back the row's lists (RETURNING): they are locked now
    write_lists: Any           # the merged lists back


@functools.cache
def _statements(dialect: str, kind: str) -> _Statements:
    table = STEP_TABLE if kind == "step" else CASE_TABLE
    names = _key_columns(kind)
    counters = STEP_COUNTERS if kind == "step" else CASE_COUNTERS
    lists = STEP_LISTS if kind == "step" else ("lengths", "outcomes")
    insert = _insert(dialect)(table).values({c: bindparam(c) for c in (*names, *counters, *lists)})
    upsert = insert.on_conflict_do_update(index_elements=list(names),
                                          set_={c: table.c[c] + insert.excluded[c] for c in counters})
    write = (update(table).where(*[table.c[n] == bindparam(f"key_{n}") for n in names])
             .values({n: bindparam(f"new_{n}") for n in lists}))
    return _Statements(names, counters, lists, upsert, upsert.returning(*[table.c[n] for n in lists]), write)


def apply(conn: Connection, deltas: Deltas) -> None:
    """Add the deltas to the rollup rows, in key order (two transactions lock the rows they share alike).

    Consecutive keys that only move counters go in one executemany of the upsert; a key whose
    lists change is upserted alone, the upsert giving back its stored lists (the row is locked by
    it until commit, so this read-modify-write cannot interleave), and the merged lists are written."""
    batch: list[dict] = []
    batch_kind = ""

    def send() -> None:
        if batch:
            conn.execute(_statements(conn.dialect.name, batch_kind).upsert, list(batch))
            batch.clear()

    for key in sorted(deltas, key=lambda k: (k[0], k[1].isoformat(), *k[2:])):
        delta = deltas[key]
        if delta.empty():
            continue
        kind = key[0]
        sql = _statements(conn.dialect.name, kind)
        values = {**dict(zip(sql.names, key[1:], strict=True)), **{c: delta.counters.get(c, 0) for c in sql.counters},
                  **{n: b"" for n in sql.lists}}
        if kind == "case":
            values["outcomes"] = "{}"
        if not (any(delta.added.values()) or any(delta.removed.values()) or any(delta.outcomes.values())):
            if kind != batch_kind:
                send()
                batch_kind = kind
            batch.append(values)
            continue
        send()
        stored = conn.execute(sql.upsert_lists, values).one()
        changes: dict[str, object] = {f"key_{n}": values[n] for n in sql.names}
        for i, name in enumerate(sql.lists):
            if name == "outcomes":
                outcomes = json.loads(stored[i])
                for end, n in delta.outcomes.items():
                    outcomes[end] = outcomes.get(end, 0) + n
                changes["new_outcomes"] = json.dumps({k: v for k, v in sorted(outcomes.items()) if v},
                                                     separators=(",", ":"))
            elif delta.added.get(name) or delta.removed.get(name):
                changes[f"new_{name}"] = pack(_merged(unpack(stored[i]), delta.added.get(name, []),
                                                      delta.removed.get(name, [])))
            else:
                changes[f"new_{name}"] = stored[i]  # unchanged: written back as it is
        conn.execute(sql.write_lists, changes)
    send()


def _merged(values: array, added: list[float], removed: list[float]) -> array:
    for v in added:
        bisect.insort(values, v)
    for v in removed:
        i = bisect.bisect_left(values, v)
        if i < len(values) and values[i] == v:
            del values[i]
    return values


def pack(values: Iterable[float]) -> bytes:
    """A sorted list of seconds as stored: float64, little-endian (exact; unpacking is one copy, no parsing)."""
    packed = values if isinstance(values, array) else array("d", values)
    if sys.byteorder != "little":
        packed = array("d", packed)
        packed.byteswap()
    return packed.tobytes()


def unpack(raw: bytes | None) -> array:
    values = array("d")
    values.frombytes(bytes(raw or b""))
    if sys.byteorder != "little":
        values.byteswap()
    return values


def rebuild(conn: Connection, *, batch: int = 20_000) -> None:
    """Recompute the whole rollup from the task, case and audit rows (migration 0021; the bench's generator)."""
    conn.execute(delete(STEP_TABLE))
    conn.execute(delete(CASE_TABLE))
    out: Deltas = {}
    t = HumanTask.__table__
    for row in conn.execute(select(*[t.c[n] for n in TASK_FIELDS]).execution_options(yield_per=batch)):
        _task_parts(dict(zip(TASK_FIELDS, row, strict=True)), 1, out)
    c = Case.__table__
    for row in conn.execute(select(*[c.c[n] for n in CASE_FIELDS]).execution_options(yield_per=batch)):
        _case_parts(dict(zip(CASE_FIELDS, row, strict=True)), 1, out)
    a = AuditEvent.__table__
    for process_key, completed_at, end in conn.execute(
            select(c.c.process_key, c.c.completed_at, a.c.element_id)
            .join(a, (a.c.case_id == c.c.id) & (a.c.type == "case_completed"))
            .where(c.c.status == CaseStatus.COMPLETED, c.c.completed_at.is_not(None))):
        out.setdefault(("case", danish_day(completed_at), process_key), Delta()).outcomes[end or UNKNOWN_END] += 1
    _bulk_insert(conn, out)


def _bulk_insert(conn: Connection, deltas: Deltas) -> None:
    steps, cases = [], []
    for key, delta in deltas.items():
        if key[0] == "step":
            steps.append({**dict(zip(_key_columns("step"), key[1:], strict=True)),
                          **{c: delta.counters.get(c, 0) for c in STEP_COUNTERS},
                          **{n: pack(sorted(delta.added.get(n, []))) for n in STEP_LISTS}})
        else:
            cases.append({**dict(zip(_key_columns("case"), key[1:], strict=True)),
                          **{c: delta.counters.get(c, 0) for c in CASE_COUNTERS},
                          "lengths": pack(sorted(delta.added.get("lengths", []))),
                          "outcomes": json.dumps({k: v for k, v in sorted(delta.outcomes.items()) if v},
                                                 separators=(",", ":"))})
    for table, rows in ((STEP_TABLE, steps), (CASE_TABLE, cases)):
        for start in range(0, len(rows), 1000):
            conn.execute(table.insert(), rows[start:start + 1000])


# -- reading -------------------------------------------------------------------------------------

def step_counters(session: Session, first: date, end_day: date, *, units: Iterable[str] | None,
                  process_key: str | None) -> list:
    """Per step and name: completed, on time and late on the days [first, end_day), and open and overdue at the
    start of end_day (running sums of the day deltas), summed by the database."""
    apply_pending(session)
    s = ReportStepDay

    def total(condition: Any, column: Any) -> Any:
        return func.sum(case((condition, column), else_=0))

    inside = and_(s.day >= first, s.day < end_day)
    before = s.day < end_day
    query = (select(s.process_key, s.element_id, s.unit, s.name, total(inside, s.completed),
                    total(inside, s.on_time), total(inside, s.late), total(before, s.opened - s.closed),
                    total(s.day <= end_day, s.overdue_from) - total(before, s.overdue_to))
             .where(s.day <= end_day).group_by(s.process_key, s.element_id, s.unit, s.name))
    if units is not None:
        query = query.where(s.unit.in_(sorted(units)))
    if process_key is not None:
        query = query.where(s.process_key == process_key)
    return list(session.execute(query))


def step_lists(session: Session, first: date, before: date, *, units: Iterable[str] | None,
               process_key: str | None) -> list:
    apply_pending(session)
    s = ReportStepDay
    query = select(s.day, s.process_key, s.element_id, s.unit, s.durations, s.waits, s.works).where(
        s.day >= first, s.day < before, s.completed > 0)
    if units is not None:
        query = query.where(s.unit.in_(sorted(units)))
    if process_key is not None:
        query = query.where(s.process_key == process_key)
    return list(session.execute(query))


def case_days(session: Session, before: date, *, process_key: str | None) -> list:
    """Every journey's day rows before `before` (few: one per journey and day)."""
    apply_pending(session)
    c = ReportCaseDay
    query = select(c.day, c.process_key, *[getattr(c, n) for n in CASE_COUNTERS], c.lengths, c.outcomes).where(
        c.day < before)
    if process_key is not None:
        query = query.where(c.process_key == process_key)
    return list(session.execute(query))
