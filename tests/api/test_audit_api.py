"""Auditing over HTTP: who read a case (the access log) and the audit trail's chain check, tampered with too."""
from __future__ import annotations

import pytest

from tests import audit_tamper as tamper

from .helpers import REGISTRERING, assert_error, complete, iso_with_offset, start, task_id, to_message_wait

UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def case(api, users):
    jc = api("jc")
    started = start(jc)
    to_message_wait(jc, started["id"])
    return started


def _verify(client, case_id: str) -> dict:
    r = client.get(f"/cases/{case_id}/audit/verify")
    assert r.status_code == 200, r.text
    return r.json()


def test_the_access_log_says_who_read_what(api, case):
    api("jclead").get(f"/cases/{case['id']}")
    api("auditor").get(f"/cases/{case['id']}/audit")
    r = api("auditor").get(f"/cases/{case['id']}/access-log", params={"limit": 500})
    assert r.status_code == 200, r.text
    entries = r.json()
    assert all(set(e) == {"at", "username", "what"} for e in entries)
    for e in entries:
        iso_with_offset(e["at"])
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    read = [(e["username"], e["what"]) for e in entries]
    assert ("jclead", "view") in read and ("auditor", "audit") in read
    assert read[-1] == ("auditor", "access_log")  # reading the log is logged too
    assert api("admin").get(f"/cases/{case['id']}/access-log", params={"limit": 1, "offset": 1}).json() == [
        entries[1]]


def test_the_access_log_is_for_auditors_and_admins(api, case):
    for who in ("jc", "jclead", "owner", "system"):
        assert_error(api(who).get(f"/cases/{case['id']}/access-log"), 403)
    assert_error(api("auditor").get(f"/cases/{UNKNOWN_ID}/access-log"), 404)
    assert_error(api().get(f"/cases/{case['id']}/access-log"), 401)
    assert_error(api("auditor").get(f"/cases/{case['id']}/access-log", params={"limit": 501}), 422)


def test_an_untouched_trail_verifies(api, case):
    events = len(api("auditor").get(f"/cases/{case['id']}/audit").json()["events"])
    for who in ("auditor", "admin", "jc"):  # whoever may read the trail may check it
        verdict = _verify(api(who), case["id"])
        assert {k: verdict[k] for k in ("ok", "events", "first_bad_seq")} == {
            "ok": True, "events": events, "first_bad_seq": None}
    fresh = start(api("jc"))  # ydelsesservice takes no part in it yet
    assert_error(api("ys").get(f"/cases/{fresh['id']}/audit/verify"), 403)
    assert_error(api("auditor").get(f"/cases/{UNKNOWN_ID}/audit/verify"), 404)


@pytest.mark.parametrize("attack,seq", [
    (lambda db, case_id: tamper.change(db, case_id, 3, actor="mallory"), 3),
    (lambda db, case_id: tamper.change(db, case_id, 2, details={"name": "noget andet"}), 2),
    (lambda db, case_id: tamper.remove(db, case_id, 4), 4),
    (lambda db, case_id: tamper.insert(db, case_id, 5), 5),
])
def test_a_tampered_trail_is_found_at_its_seq(api, db, case, attack, seq):
    attack(db, case["id"])
    verdict = _verify(api("auditor"), case["id"])
    assert (verdict["ok"], verdict["first_bad_seq"]) == (False, seq), verdict
    assert verdict["reason"]


def test_the_chain_keeps_growing_intact(api, case):
    jc = api("jc")
    other = start(jc)
    complete(jc, task_id(jc, other["id"], "registrering"), REGISTRERING)
    assert api("jclead").post(f"/cases/{case['id']}/cancel", json={"reason": "fejl"}).status_code == 200
    assert _verify(api("auditor"), case["id"])["ok"] and _verify(api("auditor"), other["id"])["ok"]
