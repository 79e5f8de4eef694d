"""The report rollup gives the figures the task and case rows give (engine/report_rollup.py, both databases).

Random cases of tests/data/reports.bpmn are driven through the engine with
the clock moved over four months (starts, claims, completions, cancels, some
left open across month ends, due times passed and not); then every report the
rollup answers is compared with the row-based computation of the same
period (`rollup=False`), and the rollup kept flush by flush with one rebuilt
from the rows.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from engine import clock, inbox, report_rollup, reports, runtime
from engine.models import Case, HumanTask, ReportCaseDay, ReportStepDay, new_id
from tests import factories as f

START = datetime(2026, 1, 3, 7, 0, tzinfo=timezone.utc)


def _open_task(session, case_id):
    return session.scalar(select(HumanTask).where(HumanTask.case_id == case_id,
                                                  HumanTask.status.in_(("open", "claimed"))))


def _drive(session, users, rng: random.Random, cases: int) -> None:
    """Each case: started at a random moment, then its steps one by one, each after a random wait."""
    f.deploy_data(session, "reports.bpmn")
    plans = []
    for i in range(cases):
        plans.append((START + timedelta(days=rng.uniform(0, 110), seconds=rng.randrange(86400)), i))
    events = []  # (moment, case index, action)
    for began, i in sorted(plans):
        events.append((began, i, "start"))
    state: dict[int, str] = {}
    jc, ys = users["jc"], users["ys"]
    while events:
        events.sort(key=lambda e: e[0])
        moment, i, action = events.pop(0)
        with clock.at(moment):
            if action == "start":
                state[i] = f.start_case(session, "rapport", actor=jc, cpr=f"{1010700000 + i}",
                                        data={"bevilges": rng.random() < 0.5}).id
            else:
                row = _open_task(session, state[i])
                if row is None:
                    continue
                worker = jc if row.element_id == "modtagelse" else ys
                if action == "claim":
                    inbox.claim(session, task_id=row.id, user=worker)
                elif action == "cancel":
                    runtime.cancel_case(session, case_id=state[i], reason="flyttet", actor="jclead", rules=f.RULES)
                else:
                    runtime.complete_task(session, task_id=row.id, data={"note": "ok"}, user=worker, rules=f.RULES)
            session.commit()
        if action in ("start", "complete") and rng.random() < 0.9:
            gap = timedelta(hours=rng.uniform(1, 140), seconds=rng.randrange(3600))
            if rng.random() < 0.6:
                events.append((moment + gap / 3, i, "claim"))
            events.append((moment + gap, i, "cancel" if rng.random() < 0.08 else "complete"))


def _snapshot(session) -> tuple[list, list]:
    report_rollup.apply_pending(session)  # the rollup rows as a commit (or a report read) would leave them
    steps = [tuple(r) for r in session.execute(select(ReportStepDay.__table__)).all()]
    cases = [tuple(r) for r in session.execute(select(ReportCaseDay.__table__)).all()]
    nonzero = [r for r in steps if any(r[5:12]) or any(r[12:])]
    return sorted(nonzero, key=str), sorted([r for r in cases if any(r[2:6]) or r[6] or r[7] != "{}"], key=str)


PERIODS = [
    {"from_date": date(2026, 1, 1), "to_date": date(2026, 4, 30), "by": "month"},
    {"from_date": date(2026, 1, 15), "to_date": date(2026, 5, 20), "by": "month"},  # parts that start mid-month
    {"from_date": date(2026, 2, 1), "to_date": date(2026, 2, 28)},
    {"from_date": date(2026, 3, 10), "to_date": date(2026, 3, 10)},
    {"from_date": date(2026, 1, 1), "to_date": date(2026, 12, 31)},
]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rollup_gives_the_rows_figures(session, seed):
    users = f.standard_users(session)
    _drive(session, users, random.Random(seed), cases=24)
    now = datetime(2026, 6, 2, 12, 0, tzinfo=timezone.utc)  # every period above has ended
    with clock.at(now):
        compared = 0
        for asked in PERIODS:
            for unit in (None, "jobcenter", "ydelsesservice"):
                period = reports.period_for(session, users["auditor"], unit=unit, process_key=None, **asked)
                raw = reports.step_rows(session, period, rollup=False)
                assert reports.step_rows(session, period) == raw, (asked, unit)
                compared += len(raw)
            period = reports.period_for(session, users["auditor"], unit=None, process_key="rapport", **asked)
            assert reports.case_rows(session, period) == reports.case_rows(session, period, rollup=False), asked
        assert compared > 40
        months = reports.step_rows(session, reports.period_for(session, users["auditor"], unit=None,
                                                               process_key=None, **PERIODS[0]))
        assert sum(r["open"] for r in months) > 0 and sum(r["overdue"] for r in months) > 0
        assert sum(r["late"] for r in months) > 0 and sum(r["on_time"] for r in months) > 0


@pytest.mark.parametrize("now", [datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc),
                                 datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc),  # the part's first day
                                 datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc),  # 1 March in Copenhagen
                                 datetime(2026, 4, 20, 21, 59, tzinfo=timezone.utc)])  # just before midnight
def test_a_period_not_ended_gives_the_rows_figures(session, now):
    """Today's part: its whole days before today from the rollup, today and "open now" from the rows."""
    users = f.standard_users(session)
    _drive(session, users, random.Random(3), cases=18)
    with clock.at(now):
        for by in (None, "month"):
            for unit in (None, "jobcenter"):
                period = reports.period_for(session, users["auditor"], unit=unit, process_key=None,
                                            from_date=date(2026, 1, 1), to_date=None, by=by)
                raw = reports.step_rows(session, period, rollup=False)
                assert reports.step_rows(session, period) == raw, (by, unit)
                assert raw
        period = reports.period_for(session, users["auditor"], unit=None, process_key=None,
                                    from_date=date(2026, 1, 1), to_date=None, by="month")
        assert reports.case_rows(session, period) == reports.case_rows(session, period, rollup=False)


def test_the_rollup_kept_transaction_by_transaction_equals_one_rebuilt_from_the_rows(session):
    users = f.standard_users(session)
    _drive(session, users, random.Random(4), cases=16)
    kept = _snapshot(session)
    assert kept[0] and kept[1]
    report_rollup.rebuild(session.connection())
    assert _snapshot(session) == kept


def test_a_rolled_back_change_leaves_the_rollup_as_it_was(session):
    users = f.standard_users(session)
    f.deploy_data(session, "reports.bpmn")
    with clock.at(START):
        case = f.start_case(session, "rapport", actor=users["jc"], data={"bevilges": True})
    before = _snapshot(session)
    with clock.at(START + timedelta(hours=3)):
        row = _open_task(session, case.id)
        runtime.complete_task(session, task_id=row.id, data={"note": "ok"}, user=users["jc"], rules=f.RULES)
        session.flush()
        assert _snapshot(session) != before
        session.rollback()
    assert _snapshot(session) == before


def test_one_flush_moving_many_rows_at_once_keeps_the_rollup_exact(session):
    """One flush that touches many days and steps (counter-only keys batched, list keys between them,
    new, changed and completed rows of tasks and cases) leaves what a rebuild from the rows gives."""
    users = f.standard_users(session)
    _drive(session, users, random.Random(5), cases=14)
    tasks = list(session.scalars(select(HumanTask).order_by(HumanTask.id)))
    cases = list(session.scalars(select(Case).order_by(Case.id)))
    moved: Counter = Counter()
    with session.no_autoflush:
        for i, row in enumerate(tasks):
            if row.status == "completed":
                row.completed_at = row.completed_at + timedelta(days=i % 3, minutes=7)  # lists and days move
                moved["completed"] += 1
            elif row.status in ("open", "claimed") and i % 2:
                row.status, row.completed_at = "completed", row.created_at + timedelta(days=2, hours=i)
                moved["completing"] += 1
            elif row.due_at is not None:
                row.due_at = row.due_at + timedelta(days=4)  # overdue days only: a counter-only key
                moved["due"] += 1
        for i, row in enumerate(tasks[:8]):  # new rows on their own days: counter-only keys beside list keys
            session.add(HumanTask(id=new_id(), case_id=row.case_id, process_key=row.process_key,
                                  process_version=row.process_version, element_id=row.element_id, name=row.name,
                                  unit=row.unit, status="open", created_at=row.created_at + timedelta(days=30 + i),
                                  due_at=row.due_at))
        for case in cases:
            if case.status == "running" and case.created_at.day % 2:
                case.created_at = case.created_at - timedelta(days=1)  # a started count moves a day
    session.flush()
    assert min(moved.values()) > 0 and len(moved) == 3, moved
    kept = _snapshot(session)
    report_rollup.rebuild(session.connection())
    assert _snapshot(session) == kept


def test_the_rollup_is_written_last_before_commit_so_its_shared_rows_stay_locked_only_for_the_commit(session):
    """A day row is shared by every case of a journey closing that day: its upsert locks it until COMMIT.
    Every other write of a completion comes first (bench rows h found backends queued on report_case_days)."""
    users = f.standard_users(session)
    f.deploy_data(session, "reports.bpmn")
    with clock.at(START):
        case = f.start_case(session, "rapport", actor=users["jc"], data={"bevilges": True})
        session.commit()
    writes: list[str] = []

    def listen(_conn, _cursor, statement, _params, _context, _many):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with clock.at(START + timedelta(hours=3)):
            row = _open_task(session, case.id)
            runtime.complete_task(session, task_id=row.id, data={"note": "ok"}, user=users["jc"], rules=f.RULES)
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    rollup = [i for i, s in enumerate(writes) if "report_step_days" in s or "report_case_days" in s]
    assert rollup, writes
    assert rollup == list(range(len(writes) - len(rollup), len(writes))), writes  # all of them at the end


def test_a_savepoint_rolled_back_takes_its_figures_with_it_and_one_released_keeps_them(session):
    users = f.standard_users(session)
    f.deploy_data(session, "reports.bpmn")
    with clock.at(START):
        case = f.start_case(session, "rapport", actor=users["jc"], data={"bevilges": True})
        session.commit()
    before = _snapshot(session)
    with clock.at(START + timedelta(hours=3)):
        row = _open_task(session, case.id)
        with session.begin_nested() as savepoint:
            runtime.complete_task(session, task_id=row.id, data={"note": "ok"}, user=users["jc"], rules=f.RULES)
            session.flush()
            savepoint.rollback()
        session.commit()
        assert _snapshot(session) == before
        row = _open_task(session, case.id)
        with session.begin_nested():
            runtime.complete_task(session, task_id=row.id, data={"note": "ok"}, user=users["jc"], rules=f.RULES)
        session.commit()
    kept = _snapshot(session)
    assert kept != before
    report_rollup.rebuild(session.connection())  # and the figures are what the rows give
    assert _snapshot(session) == kept
