"""Kontanthjælp version 2: aktivitetsparate with complex problems go to the rehabiliteringsteam, long-term
aktivitetsparate to the intensive clarification (both called processes of their own, processes/rehabiliteringsteam
and processes/langvarig_aktivitetsparat).

The real diagrams and forms (tests/journeys/test_kontanthjaelp.py's Journey); time moves with clock.at.
"""
from __future__ import annotations

from datetime import date

import pytest

from tests import factories as f
from tests.journeys.test_kontanthjaelp import Journey, at, danish_day, users  # noqa: F401 - users is a fixture

MONDAY = date(2026, 9, 7)


@pytest.fixture
def journey(db, session, users):  # noqa: F811 - the fixture imported above
    users["rt"] = f.add_user(session, "rt", "caseworker", ["rehabiliteringsteam"])
    return Journey(db, session, users)


def to_the_team(j, forloeb="rehabiliteringsteam"):
    j.grant(j.to_decision(MONDAY, kategori="aktivitetsparat", problemer=False))
    j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": forloeb, "tilbud": "vejledning_opkvalificering",
                               "mentor_behov": False, "koordinerende_sagsbehandler": "Hanne",
                               "plan": "Komplekse problemer"}, at(date(2026, 9, 16)))


def prepare_and_meet(j, indstilling: str):
    j.do("jc", "forbered_sag", {"rehab_henvisning": "aktivitetsparat", "moededato_rehabiliteringsteam": "2026-10-07",
                                "rehabiliteringsplan_forberedende_del": True,
                                "beskaeftigelsesfaglig_vurdering": "Langt fra arbejdsmarkedet"}, at(date(2026, 9, 21)))
    j.do("jc", "uddannelsesfagligt_bidrag", {"uddannelse_vurdering": "Ingen", "uddannelse_relevant": False},
         at(date(2026, 9, 21), 11))
    j.do("sof", "socialfagligt_bidrag", {"sof_problemomraader": "Bolig", "sof_indsats": True,
                                         "sof_bidrag": "Bostøtte"}, at(date(2026, 9, 22)))
    j.do("rt", "sundhedsfagligt_bidrag", {"sundhed_vurdering": "Kroniske smerter",
                                          "sundhed_yderligere_udredning": False}, at(date(2026, 9, 23)))
    j.do("rt", "rehabiliteringsmoede", {"rehab_moededato": "2026-10-07", "borger_deltog": True,
                                        "rehab_indstilling": indstilling, "rehab_begrundelse": "Vurderet"},
         at(date(2026, 10, 7)))
    j.do("jc", "kommunens_afgoerelse", {"rehab_afgoerelse": indstilling, "rehab_afgoerelsesdato": "2026-10-09",
                                        "rehab_afgoerelse_begrundelse": "Som indstillet"}, at(date(2026, 10, 9)))


def test_complex_problems_go_to_the_rehabiliteringsteam_and_a_ressourceforloeb_ends_kontanthjaelp(journey):
    j = journey
    to_the_team(j)
    assert j.case().data["rehab_henvisning"] == "aktivitetsparat"
    assert "forbered_sag" in j.open() and "sof" in {t.unit for t in j.tasks()}
    prepare_and_meet(j, "ressourceforloeb")
    assert ("kh_rehab_gw", ["afslutning_samlet"]) in j.gateways()
    assert j.open() == ["stop_ydelse"]
    j.do("ys", "stop_ydelse", {"ophoersdato": "2026-10-31", "ophoersaarsag": "anden_ydelse"}, at(date(2026, 10, 12)))
    assert j.case().status == "completed"


def test_back_to_the_ordinary_course_the_offer_chosen_in_the_plan_follows(journey):
    j = journey
    to_the_team(j)
    prepare_and_meet(j, "ordinaert_forloeb")
    assert ("kh_rehab_gw", ["tilbud_gw"]) in j.gateways()
    assert j.open() == ["opfoelgning_opkvalificering"]


def test_long_term_aktivitetsparat_go_to_the_intensive_clarification(journey):
    j = journey
    to_the_team(j, forloeb="langvarig")
    assert j.case().data["la_startdato"] == "2026-09-16"
    assert ("forloeb_gw", ["langvarig_henvis"]) in j.gateways()
    # the clarification's first step, in the jobcenter, counted from the day it began
    assert [(t.element_id, t.unit) for t in j.tasks()] == [("forberedende_samtale", "jobcenter")]
    assert j.task("forberedende_samtale").deadline_rule == "la_forberedende_samtale"
    assert danish_day(j.task("forberedende_samtale").due_at) == date(2026, 9, 30)

