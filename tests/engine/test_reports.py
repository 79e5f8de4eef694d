"""Reports agree with what the audit trails of a generated set of cases say (engine/reports.py, both databases)."""
from __future__ import annotations

from datetime import date

import pytest

from engine import reports
from engine.errors import Forbidden, Invalid
from tests import factories as f
from tests import report_cases as rc


@pytest.fixture
def generated(session):
    users = f.standard_users(session)
    rc.generate(session, users)
    return users


def _period(session, user, **asked):
    asked = {"from_date": rc.MARCH[0], "to_date": rc.MARCH[1], "unit": None, "process_key": None, **asked}
    return reports.period_for(session, user, **asked)


def step_key(row):
    return (row["process_key"], row["element_id"], row["unit"])


def test_steps_agree_with_the_audit_trails(session, generated):
    rows = reports.step_rows(session, _period(session, generated["auditor"]))
    expected = rc.expected_steps(session, rc.END_OF_FEBRUARY, rc.END_OF_MARCH, rc.END_OF_MARCH)
    rc.assert_rows_match(rows, expected, step_key)
    by_step = {r["element_id"]: r for r in rows}
    # what was planned: 12 cases plus the one from February finish the first step in March; P2D runs to the end
    # of the second day, so the ones done after 61 hours and more (from the ninth case on) are late
    first = by_step["modtagelse"]
    assert (first["completed"], first["late"], first["on_time"], first["open"], first["overdue"]) == (13, 4, 9, 1, 0)
    second = by_step["afgoerelse"]  # 8 completed, 2 open from March and 1 from February (all overdue)
    assert (second["completed"], second["open"], second["overdue"]) == (8, 3, 3)
    assert first["waiting_median_hours"] + first["working_median_hours"] <= first["p90_hours"]


def test_cases_agree_with_the_audit_trails(session, generated):
    rows = reports.case_rows(session, _period(session, generated["admin"]))
    expected = rc.expected_cases(session, rc.END_OF_FEBRUARY, rc.END_OF_MARCH, rc.END_OF_MARCH)
    rc.assert_rows_match(rows, expected, lambda r: r["process_key"])
    [row] = rows
    assert (row["started"], row["completed"], row["cancelled"], row["running"]) == (13, 8, 2, 4)
    assert row["outcomes"] == {"bevilget": 4, "afslaaet": 4}


def test_a_unit_filter_counts_that_unit_only(session, generated):
    rows = reports.step_rows(session, _period(session, generated["auditor"], unit="ydelsesservice"))
    assert {r["element_id"] for r in rows} == {"afgoerelse"}
    rc.assert_rows_match(rows, rc.expected_steps(session, rc.END_OF_FEBRUARY, rc.END_OF_MARCH, rc.END_OF_MARCH,
                                                 units={"ydelsesservice"}), step_key)


def test_months_split_the_period_at_danish_midnight(session, generated):
    period = _period(session, generated["auditor"], from_date=date(2026, 2, 1), by="month")
    rows = reports.step_rows(session, period)
    february = [r for r in rows if r["month"] == "2026-02"]
    # the February case's first step ended 28 February 23:30 UTC, which is 1 March in Copenhagen
    [first] = february
    assert (first["element_id"], first["completed"], first["open"]) == ("modtagelse", 0, 1)
    march = [{k: v for k, v in r.items() if k != "month"} for r in rows if r["month"] == "2026-03"]
    assert march == reports.step_rows(session, _period(session, generated["auditor"]))
    cases = reports.case_rows(session, period)
    assert [(r["month"], r["started"], r["running"]) for r in cases] == [("2026-02", 1, 1), ("2026-03", 13, 4)]


def test_a_team_lead_is_held_to_their_units(session, generated):
    lead = generated["jclead"]
    assert _period(session, lead).units == frozenset({"jobcenter"})
    rows = reports.step_rows(session, _period(session, lead))
    assert {r["unit"] for r in rows} == {"jobcenter"}
    with pytest.raises(Forbidden):
        _period(session, lead, unit="ydelsesservice")
    for role in ("jc", "owner", "system"):
        with pytest.raises(Forbidden):
            _period(session, generated[role])


@pytest.mark.parametrize("asked,field", [
    ({"from_date": date(2026, 3, 2), "to_date": date(2026, 3, 1)}, "from"),
    ({"unit": "ukendt"}, "unit"),
    ({"process_key": "ukendt"}, "process_key"),
    ({"from_date": date(2020, 1, 1), "by": "month"}, "from"),
])
def test_bad_filters_name_their_field(session, generated, asked, field):
    with pytest.raises(Invalid) as refused:
        _period(session, generated["admin"], **asked)
    assert [p["field"] for p in refused.value.detail] == [field]


def test_csv_holds_the_json_figures(session, generated):
    rows = reports.case_rows(session, _period(session, generated["admin"]))
    lines = reports.to_csv(rows, reports.CASE_COLUMNS).splitlines()
    assert lines[0] == ("process_key,started,completed,cancelled,running,median_days,p90_days,"
                        "outcomes.afslaaet,outcomes.bevilget")
    assert lines[1].startswith("rapport,13,8,2,4,")
