"""Bad and unusual input over HTTP: never a 500, always a JSON error; text round-trips intact."""
from __future__ import annotations

import json

import pytest

from .helpers import CPR_A, REGISTRERING, VISITATION, assert_error, complete, get_case, start, task_id, to_message_wait

DANISH = "Søren Ærø Åsted — blåbærgrød på Ø, ÆØÅ æøå"
EMOJI = "Opfølgning 🎉👩‍💼🇩🇰 ✓"
SCRIPT = "<script>alert('xss')</script>"
ODD = "tab\tnewline\nquote\" backslash\\ null-char-free ∑ 中文 עברית \u202e"


@pytest.fixture
def parallel_case(api, users):
    jc = api("jc")
    case = start(jc, "parallel")
    return case["id"], task_id(jc, case["id"], "task_a")


def post_raw(client, path, content, content_type="application/json"):
    return client.post(path, content=content, headers={"content-type": content_type})


@pytest.mark.parametrize("path", ["/cases", "/cases/search", "/messages", "/tasks/{tid}/complete",
                                  "/tasks/{tid}/assign", "/cases/{cid}/cancel"])
@pytest.mark.parametrize("content", [b"{", b"{'process_key': 'intake'}", b'{"a": 1,}', b"nonsense", b"[1, 2",
                                     b'{"process_key": "intake"} trailing', b"\xff\xfe\x00garbage"])
def test_malformed_json_is_a_json_error_never_a_500(api, parallel_case, path, content):
    cid, tid = parallel_case
    r = post_raw(api("jclead"), path.format(cid=cid, tid=tid), content)
    assert r.status_code in (400, 422), r.text
    assert_error(r, r.status_code)
    assert get_case(api("jc"), cid)["status"] == "running"


@pytest.mark.parametrize("body", [
    [], "intake", 42, None, True,
    {"process_key": 5, "cpr": CPR_A},
    {"process_key": ["intake"], "cpr": CPR_A},
    {"process_key": "intake", "cpr": CPR_A, "data": []},
    {"process_key": "intake", "cpr": CPR_A, "data": "tekst"},
    {"process_key": "intake", "cpr": CPR_A, "data": 1},
    {"process_key": "intake", "cpr": CPR_A, "version": "1.0"},
    {"process_key": "intake", "cpr": CPR_A, "version": 1.5},
    {"process_key": "intake", "cpr": CPR_A, "version": True},
    {"process_key": "", "cpr": CPR_A},
    {"process_key": "x" * 201, "cpr": CPR_A},
    {"process_key": "intake", "cpr": CPR_A, "datta": {}},
])
def test_wrong_json_types_on_start_are_422(api, users, body):
    detail = assert_error(api("jc").post("/cases", json=body), 422)
    assert isinstance(detail, list) and all({"loc", "msg", "type"} <= d.keys() for d in detail)
    assert api("auditor").get("/cases").json() == []


@pytest.mark.parametrize("body", [[], {"data": []}, {"data": "x"}, {"data": None}, {"data": {}, "extra": 1},
                                  {"dat": {}}, "data"])
def test_wrong_json_types_on_complete_are_422(api, parallel_case, body):
    cid, tid = parallel_case
    jc = api("jc")
    assert_error(jc.post(f"/tasks/{tid}/complete", json=body), 422)
    assert jc.get(f"/tasks/{tid}").json()["status"] == "open"


def test_a_json_body_with_another_content_type_is_refused(api, users):
    r = post_raw(api("jc"), "/cases", json.dumps({"process_key": "intake", "cpr": CPR_A}), "text/plain")
    assert r.status_code in (415, 422), r.text
    assert_error(r, r.status_code)
    assert api("auditor").get("/cases").json() == []


@pytest.mark.parametrize("raw", [
    '{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}', '{"x": 1e400}', '{"x": [1, {"y": NaN}]}',
])
def test_numbers_json_cannot_hold_are_422_not_stored(api, parallel_case, raw):
    cid, tid = parallel_case
    jc = api("jc")
    body = '{"process_key": "intake", "cpr": "%s", "data": %s}' % (CPR_A, raw)
    assert_error(post_raw(jc, "/cases", body), 422)
    assert_error(post_raw(jc, f"/tasks/{tid}/complete", '{"data": %s}' % raw), 422)
    assert_error(post_raw(api("system"), "/messages",
                          '{"name": "m", "correlation_key": "%s", "data": %s}' % (cid, raw)), 422)
    assert [c["id"] for c in api("auditor").get("/cases").json()] == [cid]


def test_very_deep_data_is_422(api, users):
    deep: dict = {"leaf": 1}
    for _ in range(200):
        deep = {"n": deep}
    assert_error(api("jc").post("/cases", json={"process_key": "intake", "cpr": CPR_A, "data": deep}), 422)
    fine: dict = {"leaf": 1}
    for _ in range(10):
        fine = {"n": [fine]}
    assert start(api("jc"), data={"nested": fine})["data"] == {"nested": fine}


def test_big_and_odd_numbers_round_trip(api, users):
    data = {"big": 10**30, "negative": -7, "float": 0.1, "zero": 0, "exp": 1.5e300, "tiny": 5e-324}
    case = start(api("jc"), data=data)
    assert case["data"] == data
    assert get_case(api("jc"), case["id"])["data"] == data


def test_unicode_round_trips_through_start_completion_messages_and_audit(api, users):
    jc, ys, system = api("jc"), api("ys"), api("system")
    start_data = {"navn": DANISH, "emoji": EMOJI, "mærkelig nøgle ✓": ODD, "liste": [DANISH, EMOJI]}
    case = start(jc, data=start_data)
    assert case["data"] == start_data
    cid = case["id"]
    after = complete(jc, task_id(jc, cid, "registrering"), {**REGISTRERING, "bemaerkning": f"{DANISH} {EMOJI}"})
    assert after["case"]["data"]["bemaerkning"] == f"{DANISH} {EMOJI}"
    complete(jc, task_id(jc, cid, "visitation"), {**VISITATION, "vurdering": EMOJI})
    assert system.post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": cid,
                                          "data": {"besked": SCRIPT + DANISH}}).status_code == 200
    done = complete(ys, task_id(ys, cid, "afgoerelse"),
                    {"afgoerelse": "afslag", "begrundelse": f"{DANISH}\n{EMOJI}\n{ODD}"})["case"]
    stored = get_case(api("auditor"), cid)["data"]
    assert get_case(ys, cid)["data"] == done["data"]  # Ydelsesservice's share, the same in both answers
    for key, value in start_data.items():
        assert stored[key] == value
    assert stored["vurdering"] == EMOJI
    assert stored["besked"] == SCRIPT + DANISH
    assert stored["begrundelse"] == f"{DANISH}\n{EMOJI}\n{ODD}"
    events = api("auditor").get(f"/cases/{cid}/audit").json()["events"]
    assert events[0]["details"]["data"] == start_data
    texts = [e["details"]["data"] for e in events if e["type"] == "task_completed"]
    assert texts[0]["bemaerkning"] == f"{DANISH} {EMOJI}"
    assert texts[-1]["begrundelse"] == f"{DANISH}\n{EMOJI}\n{ODD}"


def test_unicode_in_the_raw_bytes_is_utf8(api, users):
    case = start(api("jc"), data={"navn": DANISH})
    r = api("jc").get(f"/cases/{case['id']}")
    assert r.headers["content-type"].startswith("application/json")
    assert DANISH in r.content.decode("utf-8") or DANISH in json.loads(r.content)["data"]["navn"]


def test_a_script_tag_is_stored_and_returned_as_plain_text(api, parallel_case):
    cid, tid = parallel_case
    jc = api("jc")
    body = complete(jc, tid, {"note": SCRIPT})
    assert body["case"]["data"]["note"] == SCRIPT
    r = jc.get(f"/cases/{cid}")
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["data"]["note"] == SCRIPT
    lead = api("jclead")
    cancelled = lead.post(f"/cases/{cid}/cancel", json={"reason": SCRIPT}).json()
    assert cancelled["status"] == "cancelled"
    events = lead.get(f"/cases/{cid}/audit").json()["events"]
    assert next(e for e in events if e["type"] == "case_cancelled")["details"]["reason"] == SCRIPT
    assert next(e for e in events if e["type"] == "task_completed")["details"]["data"] == {"note": SCRIPT}


def test_nul_characters_are_refused_or_kept_never_a_500(api, parallel_case):
    """PostgreSQL text cannot hold NUL; whatever the database, the answer is a JSON 2xx/4xx."""
    cid, tid = parallel_case
    jc, lead, system = api("jc"), api("jclead"), api("system")
    attempts = [
        lambda: jc.get("/cases", params={"process_key": "a\x00b"}),
        lambda: jc.get("/cases/a%00b"),
        lambda: jc.get("/tasks/a%00b"),
        lambda: api("auditor").get("/tasks", params={"unit": "job\x00center"}),
        lambda: jc.get("/process-definitions/in%00take"),
        lambda: system.post("/messages", json={"name": "m\u0000", "correlation_key": cid}),
        lambda: lead.post(f"/tasks/{tid}/assign", json={"username": "jc\u00002"}),
        lambda: jc.post("/cases", json={"process_key": "intake\u0000", "cpr": CPR_A}),
    ]
    for attempt in attempts:
        r = attempt()
        assert r.status_code < 500, r.text
        assert r.headers["content-type"].startswith("application/json")
    assert jc.get(f"/tasks/{tid}").json()["status"] == "open"
    r = lead.post(f"/cases/{cid}/cancel", json={"reason": "før\u0000efter"})
    assert r.status_code in (200, 422), r.text
    # NUL inside JSON data is fine: it is stored as JSON text, escaped
    case = start(jc, data={"tekst": "før\u0000efter"})
    assert get_case(jc, case["id"])["data"] == {"tekst": "før\u0000efter"}


def test_a_json_body_over_the_size_limit_is_413(api, users):
    big = {"process_key": "intake", "cpr": CPR_A, "data": {"blob": "x" * (1024 * 1024 + 1)}}
    assert_error(api("jc").post("/cases", json=big), 413)
    assert api("auditor").get("/cases").json() == []


def test_numbers_beyond_the_database_are_handled(api, users):
    jc = api("jc")
    assert_error(jc.post("/cases", json={"process_key": "intake", "cpr": CPR_A, "version": 10**20}), 404)
    assert_error(jc.get("/process-definitions/intake/versions/99999999999999999999/bpmn"), 404)
    for path in ("/cases", "/tasks", "/process-definitions"):
        assert_error(jc.get(path, params={"offset": 10**20}), 422)
        assert jc.get(path, params={"offset": 2**62}).json() == []
    assert_error(jc.post("/cases/search", json={"offset": 10**20}), 422)


def test_query_parameters_of_the_wrong_type_are_422(api, users):
    jc = api("jc")
    for path, params in (("/cases", {"limit": "ten"}), ("/cases", {"offset": "1.5"}),
                         ("/tasks", {"overdue": "sometimes"}), ("/tasks", {"limit": "-1"})):
        assert_error(jc.get(path, params=params), 422)


def test_unknown_routes_and_methods_are_json(api, users):
    jc = api("jc")
    assert_error(jc.get("/nothing-here"), 404)
    assert_error(jc.delete("/cases"), 405)
    assert_error(jc.put("/tasks"), 405)


def test_cpr_digits_never_appear_in_any_response(api, users):
    """The `api` clients check every response; this walks every kind of response that could carry a CPR."""
    jc, ys, lead, auditor, system = api("jc"), api("ys"), api("jclead"), api("auditor"), api("system")
    case = start(jc, cpr=CPR_A, data={"note": "borgeren ringede"})
    cid = case["id"]
    assert case["cpr_masked"] == "010190-****"
    to_message_wait(jc, cid)
    assert system.post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": CPR_A}).status_code == 200
    assert system.post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": CPR_A}).status_code == 404
    assert ys.get("/tasks").status_code == 200
    for client in (jc, ys, lead, auditor):
        assert client.get(f"/cases/{cid}").json()["cpr_masked"] == "010190-****"
        assert client.get(f"/cases/{cid}/audit").json()["events"]
        assert [c["cpr_masked"] for c in client.get("/cases", params={"cpr": CPR_A}).json()] == ["010190-****"]
        found = client.post("/cases/search", json={"cpr": CPR_A.replace("-", "")}).json()
        assert [c["id"] for c in found] == [cid]
        assert client.get("/tasks", params={"case_id": cid}).status_code == 200
    # errors about CPR numbers do not echo them either
    for bad in ("310290-1234", "3102901234", "290201-4123", "011390-1234"):
        assert_error(jc.post("/cases", json={"process_key": "intake", "cpr": bad}), 422)
        assert_error(auditor.get("/cases", params={"cpr": bad}), 422)
        assert_error(auditor.post("/cases/search", json={"cpr": bad}), 422)
    assert_error(jc.post("/cases", json={"process_key": "ukendt", "cpr": CPR_A}), 404)
    assert_error(jc.post("/cases", json={"process_key": "intake", "cpr": CPR_A, "bad": CPR_A}), 422)
    assert_error(jc.post("/cases", json={"process_key": "intake", "cpr": CPR_A + "0" * 10}), 422)
    assert_error(api("owner").get(f"/cases/{cid}"), 403)
