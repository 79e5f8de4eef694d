"""POST /api/messages: correlation by CPR and by case id, who may send, 404 when no case waits."""
from __future__ import annotations

import pytest

from .helpers import (
    CPR_A,
    CPR_B,
    REGISTRERING,
    VISITATION,
    assert_case_shape,
    assert_error,
    audit_types,
    complete,
    get_case,
    start,
    task_id,
    to_message_wait,
)

MESSAGE = "ansoegning_modtaget"


@pytest.fixture
def waiting_case(api, users):
    """An intake case of CPR_A that waits for the message ansoegning_modtaget (Ydelsesservice's lane)."""
    jc = api("jc")
    case = start(jc, cpr=CPR_A)
    to_message_wait(jc, case["id"])
    return case["id"]


def send(client, correlation_key, name=MESSAGE, data=None):
    body = {"name": name, "correlation_key": correlation_key}
    if data is not None:
        body["data"] = data
    return client.post("/messages", json=body)


@pytest.mark.parametrize("key", [CPR_A, CPR_A.replace("-", ""), "case id"])
def test_message_by_cpr_or_case_id_moves_the_case(api, waiting_case, key):
    key = waiting_case if key == "case id" else key
    r = send(api("system"), key, data={"ansoegning_id": "A-17", "bilag": ["lønsedler", "kontoudtog"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"case_id": waiting_case}
    case = get_case(api("ys"), waiting_case)
    assert_case_shape(case)
    assert case["waiting"] == []
    assert [(t["element_id"], t["unit"]) for t in case["open_tasks"]] == [("afgoerelse", "ydelsesservice")]
    assert case["data"]["ansoegning_id"] == "A-17"                    # merged into the case data
    assert case["data"]["bilag"] == ["lønsedler", "kontoudtog"]
    assert "forsikret" not in case["data"]  # the jobcenter's registration did not cross to Ydelsesservice
    assert get_case(api("jc"), waiting_case)["data"]["forsikret"] is False  # what was there stays
    events = api("auditor").get(f"/cases/{waiting_case}/audit").json()["events"]
    [received] = [e for e in events if e["type"] == "message_received"]
    assert (received["actor"], received["element_id"]) == ("system", "ansoegning_modtaget")
    assert received["details"]["data"]["ansoegning_id"] == "A-17"


def test_a_message_is_taken_once(api, waiting_case):
    system = api("system")
    assert send(system, waiting_case).status_code == 200
    assert isinstance(assert_error(send(system, waiting_case), 404), str)
    assert audit_types(api("auditor"), waiting_case).count("message_received") == 1


def test_no_waiting_case_is_404(api, users):
    system = api("system")
    assert_error(send(system, CPR_A), 404)                            # nobody at all
    case = start(api("jc"), cpr=CPR_A)
    assert_error(send(system, CPR_A), 404)                            # a case, but not waiting yet
    assert_error(send(system, case["id"]), 404)
    to_message_wait(api("jc"), case["id"])
    assert_error(send(system, CPR_B), 404)                            # another citizen
    assert_error(send(system, CPR_A, name="ukendt_besked"), 404)      # another message
    assert_error(send(system, "00000000-0000-0000-0000-000000000000"), 404)
    assert_error(send(system, "310290-1234"), 404)                    # not even a valid CPR
    assert get_case(api("auditor"), case["id"])["waiting"][0]["kind"] == "message"


def test_two_waiting_cases_of_one_citizen_need_the_case_id(api, users):
    jc, system = api("jc"), api("system")
    first, second = start(jc, cpr=CPR_A)["id"], start(jc, cpr=CPR_A)["id"]
    to_message_wait(jc, first)
    to_message_wait(jc, second)
    assert_error(send(system, CPR_A), 409)
    assert send(system, second).json() == {"case_id": second}
    assert send(system, CPR_A).json() == {"case_id": first}          # now only one waits


def test_who_may_send(api, waiting_case):
    # a caseworker of a unit the waiting element's lane does not name may not
    for username in ("jc", "jclead"):
        assert_error(send(api(username), waiting_case), 403)
    for username in ("auditor", "owner"):
        assert_error(send(api(username), waiting_case), 403)
        assert_error(send(api(username), "ingen-sag"), 403)           # 403 for the role, whatever waits
    assert get_case(api("ys"), waiting_case)["waiting"] != []
    # a caseworker of the waiting unit may
    assert send(api("ys"), CPR_A).json() == {"case_id": waiting_case}


def test_an_admin_may_send(api, waiting_case):
    assert send(api("admin"), waiting_case).status_code == 200


@pytest.mark.parametrize("body", [
    {},
    {"name": MESSAGE},
    {"correlation_key": CPR_A},
    {"name": "", "correlation_key": CPR_A},
    {"name": MESSAGE, "correlation_key": ""},
    {"name": MESSAGE, "correlation_key": 101901234},
    {"name": 5, "correlation_key": CPR_A},
    {"name": MESSAGE, "correlation_key": CPR_A, "data": []},
    {"name": MESSAGE, "correlation_key": CPR_A, "data": "x"},
    {"name": MESSAGE, "correlation_key": CPR_A, "data": None},
    {"name": MESSAGE, "correlation_key": CPR_A, "extra": True},
    {"name": MESSAGE, "correlation_key": "x" * 101},
])
def test_malformed_messages_are_422_and_nothing_moves(api, waiting_case, body):
    assert_error(api("system").post("/messages", json=body), 422)
    assert get_case(api("auditor"), waiting_case)["waiting"][0]["message"] == MESSAGE


def test_message_data_from_a_complete_run(api, users):
    """The whole intake journey with the message in the middle."""
    jc, ys = api("jc"), api("ys")
    case = start(jc, cpr=CPR_B)
    complete(jc, task_id(jc, case["id"], "registrering"), REGISTRERING)
    assert_error(send(api("system"), CPR_B), 404)  # visitation is not done yet
    complete(jc, task_id(jc, case["id"], "visitation"), VISITATION)
    assert send(api("system"), CPR_B, data={"sats": 9000}).status_code == 200
    tid = task_id(ys, case["id"], "afgoerelse")
    done = complete(ys, tid, {"afgoerelse": "bevilget", "sats": 11000, "begrundelse": "OK"})["case"]
    assert done["status"] == "completed" and done["data"]["sats"] == 11000
