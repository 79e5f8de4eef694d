"""The heatmap of a journey (engine/heatmap.py) over the generated cases of tests/report_cases.py, both databases.

The figures are known from how the cases were planned (see tests/report_cases.py and the steps report's
own test): in March, 13 cases passed the first step (9 on time, 4 late), 8 the decision (6 on time, 2
late), the gateway and the end events 8 (4 + 4); one running case stands at the first step, three at
the decision.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine import clock, heatmap, reports, runtime
from engine.errors import Invalid
from tests import factories as f
from tests import report_cases as rc


@pytest.fixture
def generated(session):
    users = f.standard_users(session)
    rc.generate(session, users)
    return users


def _march(session, user, **asked):
    return reports.period_for(session, user, from_date=rc.MARCH[0], to_date=rc.MARCH[1], unit=None,
                              process_key="rapport", **asked)


def _figures(found) -> dict[str, tuple]:
    return {e.element_id: (e.passed, e.here_now, e.on_time, e.late, e.late_share) for e in found.elements}


def test_each_element_has_its_figures(session, generated):
    period = _march(session, generated["auditor"])
    found = heatmap.heatmap(session, period, process_key="rapport", version=None)
    assert _figures(found) == {
        "start": (13, 0, 0, 0, None), "modtagelse": (13, 1, 9, 4, 31), "afgoerelse": (8, 3, 6, 2, 25),
        "udfald": (8, 0, 0, 0, None), "bevilget": (4, 0, 0, 0, None), "afslaaet": (4, 0, 0, 0, None)}
    by = {e.element_id: e for e in found.elements}
    steps = {r["element_id"]: r for r in reports.step_rows(session, period)}
    assert by["modtagelse"].median_hours == steps["modtagelse"]["median_hours"] == 40.0  # the 7th of 13 durations
    assert by["afgoerelse"].median_hours == steps["afgoerelse"]["median_hours"]
    assert found.as_json(period)["elements"][1] == {
        "element_id": "modtagelse", "name": "Modtagelse", "kind": "userTask", "passed": 13, "here_now": 1,
        "median_hours": 40.0, "on_time": 9, "late": 4, "late_share": 31}


def test_the_diagram_carries_the_numbers_and_a_legend(session, generated):
    found = heatmap.heatmap(session, _march(session, generated["auditor"]), process_key="rapport", version=1)
    svg = heatmap.heatmap_svg(session, found, "Test: rapporter, version 1")
    assert svg is not None and svg.startswith("<svg")
    assert 'data-element="modtagelse" data-passed="13" data-here="1" data-level="over 30 % for sent"' in svg
    assert 'data-element="afgoerelse" data-passed="8" data-here="3" data-level="10–30 % for sent"' in svg
    assert "Forbi 13 · Nu 1" in svg and "40,0 t · 31 % sent" in svg
    assert "Signaturforklaring" in svg and 'aria-label="Varmekort over Test: rapporter, version 1' in svg


def test_a_team_lead_sees_the_tasks_of_their_units(session, generated):
    found = heatmap.heatmap(session, _march(session, generated["jclead"]), process_key="rapport", version=None)
    figures = _figures(found)
    assert figures["modtagelse"] == (13, 1, 9, 4, 31)
    assert figures["afgoerelse"][0] == 0  # the decision is ydelsesservice's
    assert figures["udfald"][0] == 8  # every case took part in jobcenter (its first step)


def test_one_version_or_all(session, generated, tmp_path):
    source = (f.DATA / "reports.bpmn").read_text(encoding="utf-8")
    newer = tmp_path / "reports.bpmn"
    newer.write_text(source.replace('name="Modtagelse"', 'name="Modtagelse (ny)"'), encoding="utf-8")
    f.deploy_files(session, newer)
    with clock.at(datetime(2026, 3, 20, 9, 0, tzinfo=timezone.utc)):
        case = f.start_case(session, "rapport", actor=generated["jc"], data={"bevilges": True})
    assert case.version == 2
    with clock.at(datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)):
        task = rc._task(session, case.id, "modtagelse")
        runtime.complete_task(session, task_id=task, data={"note": "ok"}, user=generated["jc"], rules=f.RULES)
        session.commit()
    period = _march(session, generated["auditor"])
    every = heatmap.heatmap(session, period, process_key="rapport", version=None)
    first = heatmap.heatmap(session, period, process_key="rapport", version=1)
    second = heatmap.heatmap(session, period, process_key="rapport", version=2)
    assert (_figures(first)["modtagelse"][0], _figures(second)["modtagelse"][0],
            _figures(every)["modtagelse"][0]) == (13, 1, 14)
    assert _figures(second)["afgoerelse"][:2] == (0, 1)  # the new case stands at the decision now
    assert {e.element_id: e.name for e in every.elements}["modtagelse"] == "Modtagelse (ny)"  # the newest name
    assert (every.drawn_version, first.drawn_version) == (2, 1)
    with pytest.raises(Invalid, match="no version 3"):
        heatmap.heatmap(session, period, process_key="rapport", version=3)
