"""Reports over HTTP: the figures of the generated cases, CSV equal to JSON, who may read what, bad filters."""
from __future__ import annotations

import csv
import io

import pytest

from tests import factories as f
from tests import report_cases as rc

from .helpers import assert_error

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
STEP_FIELDS = {"process_key", "element_id", "name", "unit", "completed", "on_time", "late", "open", "overdue",
               "median_hours", "p90_hours"}
CASE_FIELDS = {"process_key", "started", "completed", "cancelled", "running", "median_days", "outcomes"}


@pytest.fixture
def generated(session):
    users = f.standard_users(session)
    rc.generate(session, users)
    return users


def _from_csv(text: str, *, outcomes: bool) -> list[dict]:
    """CSV cells back to JSON values: numbers, null for an empty cell, `outcomes.X` columns into `outcomes`."""
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        row: dict = {"outcomes": {}} if outcomes else {}
        for column, cell in record.items():
            value = None if cell == "" else cell
            if value is not None and column not in ("process_key", "element_id", "name", "unit", "month"):
                value = float(value) if "." in value else int(value)
            if column.startswith("outcomes."):
                if value is not None:
                    row.setdefault("outcomes", {})[column.removeprefix("outcomes.")] = value
                continue
            row[column] = value
        rows.append(row)
    return rows


def test_steps_answer_the_contract_fields_and_the_figures(api, generated, session):
    r = api("auditor").get("/reports/steps", params=MARCH)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert all(STEP_FIELDS <= row.keys() for row in rows)
    rc.assert_rows_match(rows, rc.expected_steps(session, rc.END_OF_FEBRUARY, rc.END_OF_MARCH, rc.END_OF_MARCH),
                         lambda row: (row["process_key"], row["element_id"], row["unit"]))


def test_cases_answer_the_contract_fields_and_the_figures(api, generated, session):
    rows = api("admin").get("/reports/cases", params={**MARCH, "process_key": "rapport"}).json()["rows"]
    assert all(CASE_FIELDS <= row.keys() for row in rows)
    rc.assert_rows_match(rows, rc.expected_cases(session, rc.END_OF_FEBRUARY, rc.END_OF_MARCH, rc.END_OF_MARCH),
                         lambda row: row["process_key"])


@pytest.mark.parametrize("report", ["steps", "cases"])
@pytest.mark.parametrize("extra", [{}, {"by": "month", "from": "2026-02-01"}, {"unit": "jobcenter"}])
def test_csv_equals_json(api, generated, report, extra):
    auditor = api("auditor")
    params = {**MARCH, **extra}
    as_json = auditor.get(f"/reports/{report}", params=params).json()["rows"]
    r = auditor.get(f"/reports/{report}", params={**params, "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert _from_csv(r.text, outcomes=report == "cases") == as_json
    assert len(as_json) >= 1


def test_a_team_lead_sees_only_their_units(api, generated):
    lead = api("jclead")
    rows = lead.get("/reports/steps", params=MARCH).json()["rows"]
    assert {row["unit"] for row in rows} == {"jobcenter"}
    assert rows == lead.get("/reports/steps", params={**MARCH, "unit": "jobcenter"}).json()["rows"]
    assert_error(lead.get("/reports/steps", params={**MARCH, "unit": "ydelsesservice"}), 403)
    assert_error(lead.get("/reports/cases", params={**MARCH, "unit": "ydelsesservice"}), 403)
    # every case here passes through the jobcenter, so the team lead's journey figures are everyone's
    assert lead.get("/reports/cases", params=MARCH).json() == api("admin").get("/reports/cases", params=MARCH).json()


def test_a_unit_filter_narrows_the_journey_figures(api, generated, session):
    rows = api("auditor").get("/reports/cases", params={**MARCH, "unit": "ydelsesservice"}).json()["rows"]
    rc.assert_rows_match(rows, rc.expected_cases(session, rc.END_OF_FEBRUARY, rc.END_OF_MARCH, rc.END_OF_MARCH,
                                                 units={"ydelsesservice"}), lambda row: row["process_key"])
    assert rows[0]["started"] == 12  # the one from 30 March has not reached the second step


@pytest.mark.parametrize("who", ["jc", "owner", "system"])
def test_other_roles_may_not_read_reports(api, generated, who):
    for report in ("steps", "cases"):
        assert_error(api(who).get(f"/reports/{report}"), 403)
    assert_error(api().get("/reports/steps"), 401)


@pytest.mark.parametrize("params,field", [
    ({"from": "2026-03-32"}, "from"), ({"to": "gisp"}, "to"), ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"unit": "ukendt"}, "unit"), ({"process_key": "ukendt"}, "process_key"), ({"format": "xml"}, "format"),
    ({"by": "week"}, "by"), ({"by": "month", "from": "2001-01-01"}, "from"),
    ({"from": "0001-01-01"}, "from"), ({"to": "9999-12-31"}, "to"),
])
def test_bad_input_is_422_naming_the_field(api, generated, params, field):
    for report in ("steps", "cases"):
        detail = assert_error(api("admin").get(f"/reports/{report}", params=params), 422)
        named = [p.get("field") or p.get("loc", [None, None])[-1] for p in detail]
        assert named == [field], detail


def test_the_default_period_is_this_month_so_far(api, generated):
    """Nothing generated was done this month; what is still open is open now, and long overdue."""
    rows = api("admin").get("/reports/steps").json()["rows"]
    assert [(r["element_id"], r["completed"], r["open"], r["overdue"], r["median_hours"]) for r in rows] == [
        ("afgoerelse", 0, 3, 3, None), ("modtagelse", 0, 1, 1, None)]


def test_the_heatmap_answers_per_element(api, generated):
    r = api("auditor").get("/reports/heatmap", params={**MARCH, "process_key": "rapport"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["process_key"], body["version"], body["drawn_version"], body["from"], body["to"]) == (
        "rapport", None, 1, "2026-03-01", "2026-03-31")
    by = {e["element_id"]: e for e in body["elements"]}
    assert by["modtagelse"] == {"element_id": "modtagelse", "name": "Modtagelse", "kind": "userTask", "passed": 13,
                                "here_now": 1, "median_hours": 40.0, "on_time": 9, "late": 4, "late_share": 31}
    assert (by["udfald"]["passed"], by["bevilget"]["passed"], by["afgoerelse"]["here_now"]) == (8, 4, 3)
    assert api("auditor").get("/reports/heatmap", params={**MARCH, "process_key": "rapport", "version": 1}
                              ).json()["elements"] == body["elements"]
    lead = api("jclead").get("/reports/heatmap", params={**MARCH, "process_key": "rapport"}).json()
    assert {e["element_id"]: e["passed"] for e in lead["elements"]}["afgoerelse"] == 0  # ydelsesservice's step


def test_the_heatmap_refuses_bad_input(api, generated):
    auditor = api("auditor")
    assert auditor.get("/reports/heatmap", params=MARCH).status_code == 422  # no process_key
    assert_error(auditor.get("/reports/heatmap", params={**MARCH, "process_key": "findes_ikke"}), 422)
    assert_error(auditor.get("/reports/heatmap", params={**MARCH, "process_key": "rapport", "version": 7}), 422)
    assert_error(api("jclead").get("/reports/heatmap", params={**MARCH, "process_key": "rapport",
                                                               "unit": "ydelsesservice"}), 403)
    assert_error(api("jc").get("/reports/heatmap", params={**MARCH, "process_key": "rapport"}), 403)
