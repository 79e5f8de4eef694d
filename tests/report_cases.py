"""A generated set of cases with known timings for the report tests, and the figures their audit trails give.

`generate` drives tests/data/reports.bpmn through the engine with the clock
moved (engine.clock.at) to planned moments in February and March 2026.
`expected_*` recount the reports from the audit events alone (task_created,
task_claimed/assigned, task_completed, task_cancelled, case_*), a path
independent of engine/reports.py's SQL, so the two must agree.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from engine import clock, inbox, runtime
from engine.models import AuditEvent, Case
from tests import factories as f

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)  # a Monday
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
END_OF_MARCH = datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc)  # 1 April 00:00 in Copenhagen (summer time)
END_OF_FEBRUARY = datetime(2026, 2, 28, 23, 0, tzinfo=timezone.utc)  # 1 March 00:00 in Copenhagen
PLANNED = 14  # cases


def _task(session, case_id: str, element_id: str) -> str:
    from engine.models import HumanTask
    return session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                     HumanTask.element_id == element_id))


def _at(moment: datetime, action) -> None:
    with clock.at(moment):
        action()


def generate(session, users) -> list[str]:
    """Twelve cases through both steps (late and on time, claimed or not, open, cancelled), one still at the
    first step at the end of March, one started in February whose first step ends on 1 March Danish time."""
    f.deploy_data(session, "reports.bpmn")
    jc, ys = users["jc"], users["ys"]
    ids = []

    def start(moment, data):
        with clock.at(moment):
            case = f.start_case(session, "rapport", actor=jc, data=data)
        ids.append(case.id)
        return case.id

    def claim(moment, task_id, user):
        _at(moment, lambda: (inbox.claim(session, task_id=task_id, user=user), session.commit()))

    def cancel(moment, case_id):
        _at(moment, lambda: (runtime.cancel_case(session, case_id=case_id, reason="flyttet", actor="jclead",
                                                 rules=f.RULES), session.commit()))

    def complete(moment, task_id, user):
        _at(moment, lambda: (runtime.complete_task(session, task_id=task_id, data={"note": "ok"}, user=user,
                                                   rules=f.RULES), session.commit()))

    for i in range(12):
        began = T0 + timedelta(days=i, hours=i % 3)
        case_id = start(began, {"bevilges": i % 2 == 0})
        first = _task(session, case_id, "modtagelse")
        if i % 4 != 3:  # every fourth is completed without a claim
            claim(began + timedelta(hours=i % 3 + 1), first, jc)
        first_done = began + timedelta(hours=5 + 7 * i)  # late (over 48 h) from i = 7
        complete(first_done, first, jc)
        second = _task(session, case_id, "afgoerelse")
        claim(first_done + timedelta(hours=2), second, ys)
        if i % 5 == 4:
            cancel(first_done + timedelta(hours=100), case_id)
        elif i % 5 != 3:  # i % 5 == 3 stays open
            complete(first_done + timedelta(hours=10 + 9 * i), second, ys)
    start(datetime(2026, 3, 30, 20, 0, tzinfo=timezone.utc), {"bevilges": True})  # open, due after March
    late_case = start(datetime(2026, 2, 27, 10, 0, tzinfo=timezone.utc), {"bevilges": False})
    complete(datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc), _task(session, late_case, "modtagelse"), jc)
    assert len(ids) == PLANNED
    return ids


# -- the same figures, counted from the audit trails ----------------------------------------------

def percentile(values: list[float], p: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _trails(session) -> dict[str, tuple[Case, list[AuditEvent]]]:
    trails = {}
    for case in session.scalars(select(Case)):
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                      .order_by(AuditEvent.seq)))
        trails[case.id] = (case, events)
    return trails


def _tasks_from(session) -> list[dict]:
    tasks: dict[str, dict] = {}
    for case, events in _trails(session).values():
        for e in events:
            at = clock.as_utc(e.at)
            if e.type == "task_created":
                due = e.details.get("due_at")
                tasks[e.task_id] = {"process_key": case.process_key, "element_id": e.element_id,
                                    "name": e.details["name"], "unit": e.details["unit"], "created": at,
                                    "due": clock.as_utc(datetime.fromisoformat(due)) if due else None,
                                    "claimed": None, "done": None, "ended": None}
            elif e.type in ("task_claimed", "task_assigned") and tasks[e.task_id]["claimed"] is None:
                tasks[e.task_id]["claimed"] = at
            elif e.type == "task_completed":
                tasks[e.task_id].update(done=at, ended=at)
            elif e.type == "task_cancelled":
                tasks[e.task_id]["ended"] = at
    return list(tasks.values())


def expected_steps(session, start: datetime, end: datetime, as_of: datetime, units=None) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}
    spans: dict[tuple, dict[str, list[float]]] = {}
    for t in _tasks_from(session):
        if units is not None and t["unit"] not in units:
            continue
        key = (t["process_key"], t["element_id"], t["unit"])
        done_here = t["done"] is not None and start <= t["done"] < end
        open_then = t["created"] < as_of and (t["ended"] is None or t["ended"] >= as_of)
        if not (done_here or open_then):
            continue
        row = rows.setdefault(key, {"process_key": key[0], "element_id": key[1], "name": t["name"],
                                    "unit": key[2], "completed": 0, "on_time": 0, "late": 0, "open": 0,
                                    "overdue": 0})
        lists = spans.setdefault(key, {"duration": [], "waiting": [], "working": []})
        if done_here:
            row["completed"] += 1
            if t["due"] is not None:
                row["on_time" if t["done"] <= t["due"] else "late"] += 1
            claimed = t["claimed"] or t["done"]
            lists["duration"].append((t["done"] - t["created"]).total_seconds())
            lists["waiting"].append((claimed - t["created"]).total_seconds())
            lists["working"].append((t["done"] - claimed).total_seconds())
        if open_then:
            row["open"] += 1
            row["overdue"] += int(t["due"] is not None and t["due"] < as_of)
    for key, row in rows.items():
        hours = {name: [v / 3600 for v in values] for name, values in spans[key].items()}
        row.update(median_hours=percentile(hours["duration"], 50), p90_hours=percentile(hours["duration"], 90),
                   waiting_median_hours=percentile(hours["waiting"], 50),
                   working_median_hours=percentile(hours["working"], 50))
    return rows


def expected_cases(session, start: datetime, end: datetime, as_of: datetime, units=None) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    lengths: dict[str, list[float]] = {}
    for case, events in _trails(session).values():
        if units is not None and not {e.details.get("unit") for e in events if e.type == "task_created"} & units:
            continue
        began = clock.as_utc(next(e.at for e in events if e.type == "case_started"))
        ended = next(((e.type, clock.as_utc(e.at), e.element_id) for e in events
                      if e.type in ("case_completed", "case_cancelled")), None)
        row = rows.setdefault(case.process_key, {"process_key": case.process_key, "started": 0, "completed": 0,
                                                 "cancelled": 0, "running": 0, "outcomes": {}})
        row["started"] += int(start <= began < end)
        if ended and start <= ended[1] < end:
            if ended[0] == "case_completed":
                row["completed"] += 1
                row["outcomes"][ended[2]] = row["outcomes"].get(ended[2], 0) + 1
                lengths.setdefault(case.process_key, []).append((ended[1] - began).total_seconds() / 86400)
            else:
                row["cancelled"] += 1
        row["running"] += int(began < as_of and (ended is None or ended[1] >= as_of))
    for key, row in rows.items():
        row.update(median_days=percentile(lengths.get(key, []), 50), p90_days=percentile(lengths.get(key, []), 90))
    return {k: r for k, r in rows.items() if r["started"] or r["completed"] or r["cancelled"] or r["running"]}


def assert_rows_match(actual: list[dict], expected: dict, key_of) -> None:
    """Counts exactly; times to the report's rounding (3 decimals)."""
    assert {key_of(r) for r in actual} == set(expected), (sorted(map(key_of, actual)), sorted(expected))
    for row in actual:
        want = expected[key_of(row)]
        for field, value in want.items():
            if isinstance(value, float):
                assert row[field] is not None and abs(row[field] - value) < 0.0015, (key_of(row), field, row, want)
            else:
                assert row[field] == value, (key_of(row), field, row[field], value)
