"""Running cases of version 2 move onto the journeys that fixed the walks' two KNOWN findings (issue 14).

The database has the versions the demo has: version 1 (tests/data/kontanthjaelp_v1.bpmn,
tests/data/sygedagpenge_v1/), version 2 (main before the fix, saved as tests/data/kontanthjaelp_v2.bpmn and
tests/data/sygedagpenge_v2/, with today's forms/: the fix only added the rules `not_before_task` and
`not_future` to a date) and version 3, processes/, deployed as `tovholder demo` and
`deploy --migrate-running` do; engine.catch_up moves the cases with the journeys' own migration files. The
fix kept every element id of version 2, so no line is needed, and version 1's lines (`[when_version_has.…]`:
its `oplysningsskema`, `vent_revurdering`, `jobsamtale` …) must not touch version 2's cases, which have
elements of those names of their own: every case moves.

- Kontanthjælp: a placement begun on version 2 from the first conversation held the contact course; moved,
  it comes back to the course when it ends (no mark `samtaler_ved_siden_af`), so the course neither stops
  nor runs twice. A case moved at its first conversation gets the offer beside the conversations.
- Sygedagpenge: a case whose first follow-up was in the inbox from the report keeps that task; a case moved
  in the follow-up loop goes on there.

Time moves with clock.at and fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import catalog, catch_up, clock
from tests import factories as f
from tests.journeys import sdp_journey as sdp
from tests.journeys.kh_v1 import PROCESSES_V1
from tests.journeys.test_kontanthjaelp import Journey, at, danish_day
from tests.journeys.test_sygedagpenge_migration import V1_FILES

ROOT = f.ROOT
KH_V2 = (ROOT / "processes" / "shared" / "virksomhedsplacering.bpmn", ROOT / "processes" / "sof" / "sof_vurdering.bpmn",
         ROOT / "processes" / "rehabiliteringsteam" / "rehabiliteringsteam.bpmn",
         ROOT / "processes" / "langvarig_aktivitetsparat" / "langvarig_aktivitetsparat.bpmn",
         f.DATA / "kontanthjaelp_v2.bpmn")
SDP_V2 = (f.DATA / "sygedagpenge_v2",)  # the rehabiliteringsteam journey comes with KH_V2


@pytest.fixture
def users(seed, session):
    users = seed(*PROCESSES_V1, *V1_FILES, rules=sdp.RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
    }
    with clock.at(at(date(2026, 1, 2))):  # version 2, before the cases start
        deployed = catalog.deploy(session, catalog.collect_files([*KH_V2, *SDP_V2]), rules=sdp.RULES, actor="owner")
        session.commit()
    assert {d.key: d.version for d in deployed if d.key in ("kontanthjaelp", "sygedagpenge")} == {
        "kontanthjaelp": 2, "sygedagpenge": 2}
    return users


def deploy_latest_and_catch_up(db, session, key: str, moved_at):
    with clock.at(moved_at):
        deployed = catalog.deploy(session, catalog.collect_files([ROOT / "processes"]), rules=sdp.RULES,
                                  actor="owner")
        session.commit()
        [latest] = [d.version for d in deployed if d.key == key]
        mapping = catch_up.mapping_files([ROOT / "processes"]).get(key, {})
        done = catch_up.catch_up(db.session_factory, process_key=key, mapping=mapping, actor="owner", rules=sdp.RULES)
    [(from_version, result)] = done.batches
    assert (from_version, latest) == (2, 3)
    assert result.refused == []
    return result


def test_running_kontanthjaelp_cases_move_and_a_placement_begun_before_comes_back_to_the_course(db, session, users):
    placed = Journey(db, session, users)
    placed.grant(placed.to_decision(date(2026, 9, 7)))
    placed.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Praktik",
                                     "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 21)))
    placed.agree(date(2026, 9, 22))
    placed.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 23)))
    placed.fire(at(date(2026, 9, 24), 8))                                       # the agreed start: visits begin
    assert placed.open() == ["opfoelgning"]                                     # version 2: the course waits
    talking = Journey(db, session, users)
    talking.grant(talking.to_decision(date(2026, 9, 7)))
    assert talking.open() == ["jobsamtale_1"]
    result = deploy_latest_and_catch_up(db, session, "kontanthjaelp", at(date(2026, 10, 1), 7))
    assert sorted(result.migrated) == sorted([placed.case_id, talking.case_id])
    assert placed.case().version == talking.case().version == 3
    placed.follow_up("afbrudt", date(2026, 10, 1))
    # no mark from version 3's split: the course that waited goes on, once
    assert ("nyt_tilbud_gw", ["kontaktforloeb_samlet"]) in placed.gateways()
    assert placed.open() == ["jobsamtale_2"] and danish_day(placed.task("jobsamtale_2").due_at) == date(2026, 12, 7)
    # moved at its first conversation: the offer now runs beside the second
    talking.do("jc", "jobsamtale_1", {"samtaledato": "2026-10-05", "samtale_referat": "Praktik",
                                      "jobsamtale_udfald": "tilbud"}, at(date(2026, 10, 5)))
    assert talking.open() == ["jobsamtale_2", "match"]


def test_running_sygedagpenge_cases_move_and_keep_their_first_follow_up(db, session, users):
    early = sdp.Sdp(db, session, users, cpr="0303903456")
    early.report()
    early.message("arbejdsgiversamtale_afholdt", sdp.EMPLOYER_MESSAGE, date(2026, 1, 26))
    assert "foerste_opfoelgning" in early.open()  # version 2: in the inbox from the report
    looping = sdp.Sdp(db, session, users, cpr="0404904567")
    looping.report()
    looping.message("arbejdsgiversamtale_afholdt", sdp.EMPLOYER_MESSAGE, date(2026, 1, 26))
    looping.do("ys", "oplysningsskema", sdp.oplysninger(20, True, False, date(2026, 1, 14)), date(2026, 1, 14))
    looping.do("jc", "visitation", sdp.visitation(date(2026, 1, 15), "2"), date(2026, 1, 15))
    looping.do("ys", "berettigelse", sdp.ret(date(2026, 1, 16)), date(2026, 1, 16))
    looping.fire(date(2026, 2, 2))
    looping.do("jc", "foerste_opfoelgning", sdp.samtale(date(2026, 2, 23)), date(2026, 2, 23))
    # version 1's lines name these ids too (its oplysningsskema, vent_revurdering): they must not touch these cases
    assert {"vent_opfoelgning", "vent_revurdering"} <= set(looping.timers())
    result = deploy_latest_and_catch_up(db, session, "sygedagpenge", sdp.at(date(2026, 2, 10), 12))
    assert sorted(result.migrated) == sorted([early.case_id, looping.case_id])
    assert early.case().version == looping.case().version == 3
    assert "foerste_opfoelgning" in early.open() and early.due("foerste_opfoelgning") == date(2026, 3, 1)
    early.do("jc", "foerste_opfoelgning", sdp.samtale(date(2026, 2, 20)), date(2026, 2, 20))
    assert early.timers()["vent_opfoelgning"] == date(2026, 3, 13)
    assert looping.timers()["vent_opfoelgning"] == date(2026, 3, 16)  # 3 weeks from 23 February, kept
    assert looping.timers()["vent_revurdering"] == date(2026, 6, 1)   # week 22, kept
    assert early.born_overdue() == [] and looping.born_overdue() == []
