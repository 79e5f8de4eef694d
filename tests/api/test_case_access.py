"""Starting a case gives no lasting read of it: starters who take no part see its status only.

Integration users and caseworkers of other units who start a case get the
status view (id, process, version, status; no data, tasks, waits, audit
trail, attachments or diagram); staff read in full the cases their units take
part in; auditors and admins read everything. All over real HTTP.
"""
from __future__ import annotations

import pytest

from tests import factories as f

from .helpers import (
    AFGOERELSE,
    REGISTRERING,
    VISITATION,
    assert_case_shape,
    assert_error,
    complete,
    get_case,
    start,
    task_id,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOTE = "borgeren har fortalt om sin situation i fortrolighed"


@pytest.fixture
def sof_caseworker(users, session):
    return f.add_user(session, "sof1", "caseworker", ["sof"])


def _assert_status_view(case: dict, case_id: str) -> None:
    assert NOTE not in str(case)
    assert case["data"] == {} and case["open_tasks"] == [] and case["waiting"] == []
    assert_case_shape(case)  # the Case shape still holds, only its contents are left out
    assert case["id"] == case_id and case["access"] == "status"


def _assert_no_content(client, case_id: str, attachment_id: str) -> None:
    for path in (f"/cases/{case_id}/audit", f"/cases/{case_id}/attachments", f"/attachments/{attachment_id}",
                 f"/cases/{case_id}/diagram"):
        assert NOTE not in assert_error(client.get(path), 403), path
    tasks = client.get("/tasks", params={"case_id": case_id})  # integration: no inbox; caseworker: own units
    assert tasks.status_code == 403 or (tasks.status_code == 200 and tasks.json() == []), tasks.text


def _caseworkers_add_notes(jc, case_id: str) -> str:
    """Jobcenter works the case: a confidential note in the data and an attachment; the attachment id."""
    up = jc.post(f"/cases/{case_id}/attachments", files={"file": ("notat.png", PNG, "image/png")})
    assert up.status_code == 201, up.text
    complete(jc, task_id(jc, case_id, "registrering"), {**REGISTRERING, "bemaerkning": NOTE})
    return up.json()["id"]


def test_an_integration_user_sees_only_the_status_of_a_case_it_started(api, users):
    system, jc, auditor = api("system"), api("jc"), api("auditor")
    started = start(system, data={"ansoegning_id": "A-17"})
    cid = started["id"]
    _assert_status_view(started, cid)
    attachment = _caseworkers_add_notes(jc, cid)

    seen = get_case(system, cid)
    _assert_status_view(seen, cid)
    assert (seen["status"], seen["process_key"], seen["version"]) == ("running", "intake", 1)
    [listed] = system.get("/cases").json()
    _assert_status_view(listed, cid)
    _assert_no_content(system, cid, attachment)
    # it may still send what the case waits for, and hand in a document, without reading anything back
    up = system.post(f"/cases/{cid}/attachments", files={"file": ("bilag.png", PNG, "image/png")})
    assert up.status_code == 201, up.text
    assert_error(system.get(f"/attachments/{up.json()['id']}"), 403)
    # the staff who work it, and the auditor, read it all
    assert get_case(auditor, cid)["data"]["bemaerkning"] == NOTE
    assert get_case(jc, cid)["access"] == "full"


def test_a_caseworker_who_starts_another_units_journey_does_not_keep_reading_it(api, users, sof_caseworker):
    sof, jc = api("sof1"), api("jc")
    started = start(sof, data={"kanal": "telefon"})
    cid = started["id"]
    _assert_status_view(started, cid)  # the first task is in Jobcenter's lane, not SOF's
    attachment = _caseworkers_add_notes(jc, cid)
    _assert_status_view(get_case(sof, cid), cid)
    assert [c["access"] for c in sof.get("/cases").json()] == ["status"]
    _assert_no_content(sof, cid, attachment)
    assert_error(sof.post(f"/cases/{cid}/cancel", json={"reason": "fortrudt"}), 403)


def test_a_starter_reads_the_case_once_their_unit_takes_part(api, users):
    """ys (Ydelsesservice) starts an intake case: status only until the case reaches Ydelsesservice's lane
    (there it waits for the application, then has a task); from then on ys reads it in full, also after
    its task there is done."""
    ys, jc, system = api("ys"), api("jc"), api("system")
    cid = start(ys)["id"]
    complete(jc, task_id(jc, cid, "registrering"), {**REGISTRERING, "bemaerkning": NOTE})
    _assert_status_view(get_case(ys, cid), cid)
    assert_error(ys.get(f"/cases/{cid}/audit"), 403)
    complete(jc, task_id(jc, cid, "visitation"), VISITATION)
    case = get_case(ys, cid)  # it waits in Ydelsesservice's lane now
    # full access, but the jobcenter's own note did not cross to Ydelsesservice (engine.handover)
    assert case["access"] == "full" and "bemaerkning" not in case["data"]
    assert get_case(jc, cid)["data"]["bemaerkning"] == NOTE
    assert system.post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": cid}).status_code == 200
    complete(ys, task_id(ys, cid, "afgoerelse"), AFGOERELSE)
    done = get_case(ys, cid)
    assert (done["status"], done["access"]) == ("completed", "full")  # "had a task there" counts too
    assert ys.get(f"/cases/{cid}/audit").status_code == 200
    assert [c["access"] for c in ys.get("/cases").json()] == ["full"]


def test_a_case_list_mixes_full_and_status_views_in_its_order(api, users):
    ys, jc = api("ys"), api("jc")
    mine_only = start(ys)["id"]       # ys started it; Jobcenter works it
    both = start(jc)["id"]            # Jobcenter's, not ys's
    listed = ys.get("/cases").json()
    assert [c["id"] for c in listed] == [mine_only]
    _assert_status_view(listed[0], mine_only)
    assert [c["id"] for c in jc.get("/cases").json()] == [both, mine_only]
    assert {c["access"] for c in jc.get("/cases").json()} == {"full"}
