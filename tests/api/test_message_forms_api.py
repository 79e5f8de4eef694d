"""Messages have forms: POST /api/messages is checked against the catching event's form, GET /api/messages lists them.

The real journeys (processes/, forms/) are deployed; cases are brought to
their waits through the engine, as the units would, and the messages come
over HTTP. A refused message answers 422 with a message per field and
changes nothing: not the case row, its audit trail, its waits or its tasks.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Case, HumanTask, Wait
from tests import factories as f
from tests.journeys.test_kontanthjaelp import PROCESSES, RULES, Journey, at

from .helpers import assert_error

ROOT = f.ROOT
MESSAGE_KEYS = {"name", "process_key", "element_id", "unit", "form"}


@pytest.fixture
def journey(db, session, seed):
    users = seed(*PROCESSES, rules=RULES) | {"vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
                     "sof": f.add_user(session, "sofie", "caseworker", ["sof"])}
    j = Journey(db, session, users)
    # sygedagpenge (version 2) calls the rehabiliteringsteam journey: deployed with it
    f.deploy_files(session, ROOT / "processes" / "sygedagpenge", ROOT / "processes" / "rehabiliteringsteam", rules=RULES)
    return j


def snapshot(session, case_id: str) -> tuple:
    """Everything a refused message must leave as it was."""
    session.expire_all()
    case = session.get(Case, case_id)
    audit = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))
    waits = sorted(w.element_id for w in session.scalars(select(Wait).where(Wait.case_id == case_id)))
    tasks = sorted((t.element_id, t.status) for t in session.scalars(select(HumanTask)
                                                                      .where(HumanTask.case_id == case_id)))
    return case.lock_version, case.state_json, case.data, audit, waits, tasks


def to_company_answer(j) -> str:
    """A granted jobparat case with an agreement sent to the company: waits for `virksomhed_bekraeftelse`."""
    j.grant(j.to_decision(date(2026, 9, 7)))
    j.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Praktik",
                                "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 21)))  # version 2: the first of six
    j.agree(date(2026, 9, 22))
    assert "virksomhed_bekraeftelse" in j.waits()
    return j.case_id


def test_get_messages_lists_what_the_deployed_processes_wait_for(api, journey):
    r = api("system").get("/messages")
    assert r.status_code == 200, r.text
    messages = r.json()
    assert messages and all(set(m) == MESSAGE_KEYS for m in messages)
    by_key = {(m["process_key"], m["element_id"]): m for m in messages}
    application = by_key[("kontanthjaelp", "ansoegning_modtaget")]
    assert (application["name"], application["unit"]) == ("ansoegning_modtaget", "ydelsesservice")
    assert application["form"]["key"] == "kh_ansoegning_modtaget"
    [date_field] = [fld for fld in application["form"]["fields"] if fld["name"] == "ansoegning_modtaget_dato"]
    assert date_field["required"] is True and date_field["type"] == "date"
    # a called process's catch is waited for by the caller's cases too, with the gateway's field required
    answer = by_key[("kontanthjaelp", "virksomhed_bekraeftelse")]
    assert answer["unit"] == "virksomhedsservice" and answer["form"]["key"] == "vp_bekraeftelse"
    assert {"name": "virksomhed_accepterer", "required": True}.items() <= \
        next(fld for fld in answer["form"]["fields"] if fld["name"] == "virksomhed_accepterer").items()
    assert ("virksomhedsplacering", "virksomhed_bekraeftelse") in by_key
    # what may come at any time, and what starts a case
    assert by_key[("kontanthjaelp", "fravaer_meldt")]["unit"] == "jobcenter"
    assert by_key[("sygedagpenge", "sygemelding")]["form"]["key"] == "sdp_sygemelding"
    assert by_key[("sygedagpenge", "raskmelding_modtaget")]["form"]["key"] == "sdp_raskmelding"
    # messages between cases carry what the sending case's forms took: no form of their own
    assert by_key[("kontanthjaelp", "sof_tilbagemelding")]["form"] is None
    assert by_key[("sof_vurdering", "henvisning_modtaget")]["form"] is None
    assert messages == sorted(messages, key=lambda m: (m["name"], m["process_key"], m["element_id"]))
    assert api("jc").get("/messages").status_code == 200  # any signed-in role: no case data in it
    assert api().get("/messages").status_code == 401


def test_a_company_answer_without_its_field_is_422_per_field_and_changes_nothing(api, journey, session, time_machine):
    case_id = to_company_answer(journey)
    time_machine.move_to(at(date(2026, 9, 23)), tick=False)  # the server's "now": before the company's deadline
    before = snapshot(session, case_id)
    system = api("system")
    for data, field in (({}, "virksomhed_accepterer"),                           # the gateway reads it
                        ({"virksomhed_accepterer": "ja"}, "virksomhed_accepterer"),  # not a boolean
                        ({"virksomhed_accepterer": True, "virksomhed_svar_dato": "29-10-2026"},
                         "virksomhed_svar_dato"),
                        ({"virksomhed_accepterer": True, "loen": 10}, "loen")):      # not a field of the form
        r = system.post("/messages", json={"name": "virksomhed_bekraeftelse", "correlation_key": case_id,
                                           "data": data})
        detail = assert_error(r, 422)
        assert [d["field"] for d in detail] == [field], detail
        assert all(d["message"] for d in detail)
        assert "Error evaluating expression" not in r.text
        assert snapshot(session, case_id) == before
    r = system.post("/messages", json={"name": "virksomhed_bekraeftelse", "correlation_key": case_id,
                                       "data": {"virksomhed_accepterer": True, "virksomhed_svar_dato": "2026-10-29"}})
    assert r.status_code == 200, r.text
    # accepted: the placement waits for its agreed start (24 September), when the weekly visits begin; the job
    # conversations go on beside it (issue 14)
    assert journey.open_of("virksomhedsservice") == [] and "besoeg_fra_start" in journey.waits()
    assert journey.open() == ["jobsamtale_2"]


def test_several_missing_fields_are_named_each(api, journey, session):
    journey.to_decision(date(2026, 9, 7))  # the application came; now the sanction track's answer
    case_id = journey.case_id
    journey.message("fravaer", {"fravaer_meldt_af": "Byggefirma A/S"}, at(date(2026, 9, 14)))
    journey.do("jc", "indstilling_sanktion", {"fravaer_beskrivelse": "Udeblev", "rimelig_grund": False,
                                              "indstilling": "sanktion", "indstilling_begrundelse": "Intet afbud"},
               at(date(2026, 9, 14)))
    journey.do("ys", "partshoering", {"partshoering_sendt_dato": "2026-09-15", "partshoering_tekst": "Fravær"},
               at(date(2026, 9, 15)))
    before = snapshot(session, case_id)
    r = api("system").post("/messages", json={"name": "partshoering_svar", "correlation_key": case_id,
                                              "data": {"bemaerkninger_modtaget_dato": "i går", "x": 1}})
    detail = assert_error(r, 422)
    assert sorted(d["field"] for d in detail) == ["bemaerkninger_modtaget_dato", "borgerens_bemaerkninger", "x"]
    assert snapshot(session, case_id) == before


def test_a_message_that_starts_a_case_is_checked_and_starts_nothing_when_refused(api, journey, session):
    count = session.scalar(select(func.count()).select_from(Case))
    r = api("system").post("/messages", json={"name": "sygemelding_fra_arbejdsgiver", "correlation_key": f.CPR,
                                              "data": {"arbejdsgiver_cvr": "1234"}})
    detail = assert_error(r, 422)
    assert sorted(d["field"] for d in detail) == ["arbejdsgiver_cvr", "foerste_fravaersdag"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Case)) == count


def test_a_sygedagpenge_case_started_from_its_form_does_not_wait_for_the_report_it_took(api, journey, session):
    r = api("ys").post("/cases", json={"process_key": "sygedagpenge", "cpr": f.CPR, "data": {
        "foerste_fravaersdag": "2026-09-01", "arbejdsgiver_cvr": "12345678", "arbejdsgiver_navn": "Maskinfabrik"}})
    assert r.status_code == 201, r.text
    case = r.json()
    assert "sygemelding_fra_arbejdsgiver" not in [w["message"] for w in case["waiting"]]
    # version 2: the jobcenter's first follow-up starts with the report, beside Ydelsesservice's oplysningsskema
    # (counted from the first day of absence: what else is open depends on how long ago that was)
    assert {"foerste_opfoelgning", "oplysningsskema"} <= {t["element_id"] for t in case["open_tasks"]}
    assert case["data"]["foerste_fravaersdag"] == "2026-09-01"
    events = api("auditor").get(f"/cases/{case['id']}/audit").json()["events"]
    [started] = [e for e in events if e["type"] == "case_started"]
    assert started["actor"] == "ys" and started["details"]["message"] == "sygemelding_fra_arbejdsgiver"
    assert started["details"]["from_unit"] == "ydelsesservice"  # registered by Ydelsesservice, by hand
    # the start form still refuses what the report must carry
    r = api("ys").post("/cases", json={"process_key": "sygedagpenge", "cpr": f.CPR, "data": {}})
    assert sorted(d["field"] for d in assert_error(r, 422)) == ["arbejdsgiver_cvr", "foerste_fravaersdag"]
