"""Shared constants and small steps for the API tests (all through HTTP)."""
from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests import factories as f

CPR_A = f.CPR                      # 010190-1234
CPR_B = "241182-1111"              # 24 Nov 1982
CPR_LEAP = "290200-4123"           # 29 Feb 2000 (serial 4xxx: born 2000, a leap year)
INVALID_CPRS = ["310290-1234",     # 31 February: the shape is right, the date impossible
                "290201-4123",     # 29 Feb 2001: no leap year
                "320190-1234", "011390-1234", "0101901", "01019012345", "abcdefghij", "010190_1234", ""]
FORBIDDEN_CPR_STRINGS = frozenset(
    form for cpr in (CPR_A, CPR_B, CPR_LEAP, "310290-1234", "290201-4123", "320190-1234", "011390-1234")
    for form in (cpr, cpr.replace("-", "")))

REGISTRERING = {"forsikret": False, "henvendelsesdato": "2026-11-23"}
VISITATION = {"til_raadighed": True, "kategori": "jobparat", "problemer_ud_over_ledighed": False,
              "vurdering": "Klar til job"}
AFGOERELSE = {"afgoerelse": "bevilget", "sats": 12000, "begrundelse": "Betingelserne er opfyldt"}

CASE_FIELDS = {"id", "process_key", "version", "status", "cpr_masked", "created_at", "completed_at",
               "open_tasks", "waiting", "data"}
TASK_FIELDS = {"id", "case_id", "process_key", "element_id", "name", "unit", "assignee", "status", "created_at",
               "due_at", "completed_at", "form_key"}
WAIT_FIELDS = {"element_id", "name", "kind", "message", "due_at"}
EVENT_FIELDS = {"seq", "at", "type", "actor", "element_id", "task_id", "details"}
DEFINITION_FIELDS = {"key", "name", "latest_version", "versions"}
DEPLOYED_FIELDS = {"key", "version", "name", "hash", "new"}
FORM_FIELD_FIELDS = {"name", "label", "type", "required", "choices"}
PROBLEM_FIELDS = {"file", "element", "line", "message"}


def iso_with_offset(value) -> datetime:
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None, f"{value} has no UTC offset"
    return parsed


def assert_case_shape(case: dict) -> None:
    assert CASE_FIELDS <= case.keys(), CASE_FIELDS - case.keys()
    assert isinstance(case["id"], str) and isinstance(case["version"], int)
    assert case["status"] in ("running", "completed", "cancelled")
    iso_with_offset(case["created_at"])
    if case["completed_at"] is not None:
        iso_with_offset(case["completed_at"])
    assert isinstance(case["data"], dict)
    for task in case["open_tasks"]:
        assert_task_shape(task)
        assert task["status"] in ("open", "claimed")
    for wait in case["waiting"]:
        assert WAIT_FIELDS <= wait.keys(), WAIT_FIELDS - wait.keys()
        assert wait["kind"] in ("message", "timer")


def assert_task_shape(task: dict) -> None:
    assert TASK_FIELDS <= task.keys(), TASK_FIELDS - task.keys()
    assert isinstance(task["id"], str) and isinstance(task["case_id"], str)
    assert task["status"] in ("open", "claimed", "completed", "cancelled")
    iso_with_offset(task["created_at"])
    for key in ("due_at", "completed_at"):
        if task[key] is not None:
            iso_with_offset(task[key])


def assert_error(response: httpx.Response, status: int):
    """The status, and an error body that is JSON with a `detail`."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    body = response.json()
    assert set(body) == {"detail"} and body["detail"], body
    return body["detail"]


def start(client: httpx.Client, process_key: str = "intake", *, cpr: str = CPR_A, data: dict | None = None,
          version: int | None = None) -> dict:
    r = client.post("/cases", json={"process_key": process_key, "version": version, "cpr": cpr,
                                    "data": data or {}})
    assert r.status_code == 201, r.text
    return r.json()


def get_case(client: httpx.Client, case_id: str) -> dict:
    r = client.get(f"/cases/{case_id}")
    assert r.status_code == 200, r.text
    return r.json()


def task_id(client: httpx.Client, case_id: str, element_id: str) -> str:
    """The id of the open task at `element_id` in the case."""
    matches = [t["id"] for t in get_case(client, case_id)["open_tasks"] if t["element_id"] == element_id]
    assert len(matches) == 1, f"open tasks at {element_id}: {matches}"
    return matches[0]


def complete(client: httpx.Client, tid: str, data: dict) -> dict:
    r = client.post(f"/tasks/{tid}/complete", json={"data": data})
    assert r.status_code == 200, r.text
    return r.json()


def to_message_wait(jc: httpx.Client, case_id: str) -> dict:
    """Drive an intake case through registrering and visitation: it then waits for ansoegning_modtaget."""
    complete(jc, task_id(jc, case_id, "registrering"), REGISTRERING)
    return complete(jc, task_id(jc, case_id, "visitation"), VISITATION)["case"]


def audit_types(client: httpx.Client, case_id: str) -> list[str]:
    r = client.get(f"/cases/{case_id}/audit")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["events"]]


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    """A fixed instant in the near future to travel to (tokens refuse an issue time in their future, so
    log in inside the travel; an 8-hour token does not survive a shift of days either)."""
    from engine import clock
    return (clock.now() + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
