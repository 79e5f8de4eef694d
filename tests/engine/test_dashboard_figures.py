"""The dashboard's further figures (engine/reports.py): the § 3 share per published deadline, open/overdue/soon
due per unit, sick-leave case length in weeks and the cases over 52 weeks. Both databases, the clock moved."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, reports, runtime
from engine.case_rules import CaseRules
from engine.models import HumanTask
from tests import factories as f
from tests import report_cases as rc

LETTERS = CaseRules(forms_dir=f.FORMS, deadlines_file=f.DATA / "letters_deadlines.toml")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday; both tasks are due at the end of 16 March
APRIL = datetime(2026, 4, 2, 12, 0, tzinfo=timezone.utc)


def _period(session, user, **asked):
    asked = {"from_date": date(2026, 3, 1), "to_date": date(2026, 3, 31), "unit": None, "process_key": None,
             **asked}
    return reports.period_for(session, user, **asked)


def _tasks(session, case_id) -> dict[str, HumanTask]:
    return {t.element_id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case_id))}


@pytest.fixture
def letters(session):
    """Three cases of the § 3 journey: one decided on time (10 March), one late (18 March), one still open."""
    users = f.standard_users(session)
    f.deploy_files(session, f.DATA / "letters.bpmn", rules=LETTERS)
    cases = []
    for i in range(3):
        with clock.at(T0):
            cases.append(f.start_case(session, "brevfrist", cpr=f"{1010700010 + i}", data={}, rules=LETTERS).id)
    for case_id, moment in zip(cases, (datetime(2026, 3, 10, 9, tzinfo=timezone.utc),
                                       datetime(2026, 3, 18, 9, tzinfo=timezone.utc)), strict=False):
        with clock.at(moment):
            runtime.complete_task(session, task_id=_tasks(session, case_id)["afgoerelse"].id, data={"note": "ok"},
                                  user=users["ys"], rules=LETTERS)
            session.commit()
    return users


def test_the_share_decided_within_the_published_deadline(session, letters):
    with clock.at(APRIL):
        rows = reports.published_rows(session, _period(session, letters["auditor"]),
                                      {"afgoerelse_brev": "Test: afgørelse inden 10 arbejdsdage"})
    # the note task ("P10D working", not a named deadline with a letter) is not a published deadline
    assert rows == [{"deadline": "afgoerelse_brev", "source": "Test: afgørelse inden 10 arbejdsdage",
                     "process_key": "brevfrist", "completed": 2, "on_time": 1, "late": 1, "open": 1, "overdue": 1}]
    with clock.at(APRIL):
        assert reports.published_rows(session, _period(session, letters["jclead"]), {"afgoerelse_brev": None}) == []
        assert reports.published_rows(session, _period(session, letters["auditor"]), {}) == []


@pytest.mark.parametrize(("days", "soon"), [(0, 0), (1, 5), (3, 5)])
def test_open_overdue_and_soon_due_per_unit(session, letters, days, soon):
    """On Friday 13 March: five tasks open (two decisions, three notes), all due at the end of Monday 16th:
    within one working day, not within zero (the rest of Friday)."""
    moment = datetime(2026, 3, 13, 12, 0, tzinfo=timezone.utc)
    with clock.at(moment):
        rows = reports.unit_rows(session, _period(session, letters["auditor"]), soon_days=days,
                                 calendar=LETTERS.calendar)
    open_then = [t for t in session.scalars(select(HumanTask)) if clock.as_utc(t.created_at) < moment
                 and (t.completed_at is None or clock.as_utc(t.completed_at) >= moment)]
    assert len(open_then) == 5
    assert rows == [{"unit": "ydelsesservice", "open": 5, "overdue": 0, "soon_due": soon}]
    with clock.at(APRIL):  # at the end of March: the open decision and the notes are overdue
        [row] = reports.unit_rows(session, _period(session, letters["auditor"]), soon_days=days,
                                  calendar=LETTERS.calendar)
    assert row["overdue"] == row["open"] > 0 and row["soon_due"] == 0


def test_sick_leave_length_in_weeks_and_the_cases_over_52_weeks(session, tmp_path):
    users = f.standard_users(session)
    journey = tmp_path / "sygedagpenge.bpmn"
    journey.write_text((f.DATA / "reports.bpmn").read_text(encoding="utf-8")
                       .replace('id="rapport"', 'id="sygedagpenge"'), encoding="utf-8")
    f.deploy_files(session, journey)
    plans = [("2026-01-05", datetime(2026, 3, 2, 9, tzinfo=timezone.utc)),  # 8 weeks when closed on 2 March
             ("2026-02-02", datetime(2026, 3, 3, 9, tzinfo=timezone.utc)),  # 4 weeks + 1 day
             ("2025-02-24", datetime(2026, 3, 4, 9, tzinfo=timezone.utc)),  # 53 weeks + 2 days: over 52
             (None, None)]  # running since 1 March, its start from the case (no first day of absence)
    long_ago = None
    for i, (absent, done) in enumerate(plans):
        with clock.at(datetime(2026, 3, 1, 9, tzinfo=timezone.utc)):
            data = {"bevilges": True, **({"foerste_fravaersdag": absent} if absent else {})}
            case = f.start_case(session, "sygedagpenge", actor=users["jc"], cpr=f"{1010700020 + i}", data=data)
        if done is None:
            continue
        for element, worker in (("modtagelse", users["jc"]), ("afgoerelse", users["ys"])):
            with clock.at(done - timedelta(hours=1 if element == "modtagelse" else 0)):
                task = rc._task(session, case.id, element)
                runtime.complete_task(session, task_id=task, data={"note": "ok"}, user=worker, rules=f.RULES)
                session.commit()
    with clock.at(datetime(2026, 3, 10, 9, tzinfo=timezone.utc)):
        long_ago = f.start_case(session, "sygedagpenge", actor=users["jc"], cpr="1010700029",
                                data={"bevilges": True, "foerste_fravaersdag": "2025-01-02"})
    assert long_ago.status == "running"
    with clock.at(APRIL):
        found = reports.sick_leave(session, _period(session, users["auditor"], from_date=date(2026, 2, 1)))
    assert found == {"months": [{"month": "2026-02", "completed": 0, "median_weeks": None},
                                {"month": "2026-03", "completed": 3, "median_weeks": 8.0}],
                     "long_completed": 1, "long_running": 1}
