"""Kontanthjælp version 2 (issue 14): the rules of DOMAIN.md journey 1 that version 1 broke, one test each.

The real diagrams, forms and named deadlines (tests/journeys/test_kontanthjaelp.py's Journey and fixtures).
Staff use their full allowed time where the rule is about time: each step is done at the end of its due
day. Time moves with clock.at and fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.errors import FormRejected
from engine.models import Case, HumanTask
from tests.journeys.test_kontanthjaelp import REFUSAL_SENT, at, danish_day, journey, users  # noqa: F401 - fixtures

MONDAY = date(2026, 9, 7)
# the deadlines the law sets (config/deadlines.toml marks them "Lov"): none may be born overdue
LEGAL = {"kh_tilmelding", "visitation", "cv_paa_jobnet", "ydelsesafgoerelse", "kh_jobsamtale_2", "kh_jobsamtale_6",
         "kh_jobparat_tilbud", "aktivitetsparat_tilbud", "kh_nyt_tilbud", "kh_genvurdering", "kh_oversend_ankestyrelsen"}


def last_minute(day: date):
    """Late afternoon on the due day: the caseworker used all the time the deadline allows."""
    return at(day, 16)


def visit(j, day: date, *, kategori="jobparat", problemer=False, til_raadighed=True, when=None):
    j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, at(MONDAY))
    j.do("jc", "visitation", {
        "visitationsdato": day.isoformat(), "til_raadighed": til_raadighed, "kategori": kategori,
        "problemer_ud_over_ledighed": problemer, "cv_frist": (MONDAY + timedelta(weeks=3)).isoformat(),
        "vurdering": "Vurderet", **({"problemomraader": "bolig, misbrug"} if problemer else {})}, when or at(day))


def sof_case(j) -> Case | None:
    j.session.expire_all()
    return j.session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))


def apply_complete(j, day: date):
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": day.isoformat()}, at(day))
    j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": day.isoformat()},
         at(day, 11))


def conversation(j, element: str, day: date, udfald="ny_samtale"):
    j.do("jc", element, {"samtaledato": day.isoformat(), "samtale_referat": "Søger job",
                         "jobsamtale_udfald": udfald}, last_minute(day))


def born_in_time(j):
    """Every task with a legal deadline was created on or before its due day."""
    j.session.expire_all()
    rows = j.session.scalars(select(HumanTask).where(HumanTask.case_id == j.case_id))
    late = [(r.element_id, r.created_at, r.due_at) for r in rows
            if r.deadline_rule in LEGAL and clock.as_utc(r.created_at) > clock.as_utc(r.due_at)]
    assert late == []


# -- SOF at the visitation ------------------------------------------------------------------------------------


def test_sof_has_a_task_before_ydelsesservice_decides_and_keeps_it_after_a_refusal(journey):
    j = journey
    visit(j, date(2026, 9, 9), problemer=True)
    sof = sof_case(j)
    assert sof is not None and sof.citizen_id == j.case().citizen_id
    assert [t.element_id for t in j.tasks(sof.id)] == ["socialfaglig_vurdering"]
    assert "ydelsesafgoerelse" not in [e.element_id for e in j.events("task_created")]  # not decided yet
    assert ("sof_gw", ["henvis_sof"]) in j.gateways()
    j.do("jc", "cv_paa_jobnet", {"cv_paa_jobnet_dato": "2026-09-09"}, at(date(2026, 9, 9), 11))
    apply_complete(j, date(2026, 9, 11))
    j.refuse(date(2026, 9, 14))
    complaint = clock.as_utc(j.waits()["klagefrist_fra_modtagelsen"].due_at)
    assert danish_day(complaint) == date(2026, 10, 12)
    assert j.fire(complaint + timedelta(seconds=1)) >= 1
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "afslag_endeligt"
    # the refusal ended the kontanthjælp case; SOF's assessment goes on in SOF's own case
    assert j.case(sof.id).status == "running" and "socialfaglig_vurdering" in j.open(sof.id)
    assert j.open() == [] and j.waits() == {}


def test_a_citizen_refused_for_availability_is_referred_to_sof_all_the_same(journey):
    j = journey
    visit(j, date(2026, 9, 9), problemer=True, til_raadighed=False)
    assert j.open() == ["afslag_raadighed", "cv_paa_jobnet"]
    sof = sof_case(j)
    assert sof is not None and j.open(sof.id) == ["socialfaglig_vurdering"]


# -- the contact course, counted from the henvendelse ----------------------------------------------------------


def test_jobparat_conversations_fall_due_from_the_henvendelse_with_staff_using_all_their_time(journey):
    j = journey
    j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, last_minute(MONDAY))
    visit_day = danish_day(j.task("visitation").due_at)
    assert visit_day == date(2026, 9, 14)                                              # one week
    j.do("jc", "visitation", {"visitationsdato": visit_day.isoformat(), "til_raadighed": True, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28", "vurdering": "Ok"},
         last_minute(visit_day))
    # Ydelsesservice's work, also at the last minute, runs beside the course and does not hold it up
    apply_complete(j, date(2026, 9, 21))
    assert danish_day(j.task("cv_paa_jobnet").due_at) == date(2026, 9, 28)             # 3 weeks from 7 September
    j.do("jc", "cv_paa_jobnet", {"cv_paa_jobnet_dato": "2026-09-28"}, last_minute(date(2026, 9, 28)))
    decision_day = danish_day(j.task("ydelsesafgoerelse").due_at)
    assert decision_day == date(2026, 10, 9)                                           # 14 working days
    first = danish_day(j.task("jobsamtale_1").due_at)
    assert first == date(2026, 10, 19)                                                 # 6 weeks
    j.grant(decision_day)
    conversation(j, "jobsamtale_1", first)
    second = danish_day(j.task("jobsamtale_2").due_at)
    assert second == date(2026, 12, 7)                                                 # 3 months from 7 September
    assert first <= second <= date(2026, 12, 7)
    conversation(j, "jobsamtale_2", second)
    # no job after 3 months: an offer, as a step of its own
    offer = j.task("jobparat_tilbud")
    assert offer.unit == "jobcenter" and danish_day(offer.due_at) == date(2026, 12, 21)
    with pytest.raises(FormRejected):                                                  # the start date is needed
        j.do("jc", "jobparat_tilbud", {"jobparat_tilbud_valg": "nytteindsats", "jobparat_tilbud_note": "x"},
             at(date(2026, 12, 21)))
    assert j.open() == ["jobparat_tilbud"]
    j.do("jc", "jobparat_tilbud", {"jobparat_tilbud_valg": "nytteindsats", "jobparat_tilbud_start": "2027-01-04",
                                   "jobparat_tilbud_note": "Nytteindsats i parkafdelingen"},
         last_minute(date(2026, 12, 21)))
    # four more within 12 months of the henvendelse, beside the nytteindsats
    for element, due in (("jobsamtale_3", date(2027, 2, 7)), ("jobsamtale_4", date(2027, 4, 7)),
                         ("jobsamtale_5", date(2027, 6, 7)), ("jobsamtale_6", date(2027, 9, 7))):
        assert j.open() == [element] and danish_day(j.task(element).due_at) == due, element
        conversation(j, element, due)
    assert danish_day(j.task("jobsamtale").due_at) == date(2027, 12, 7)                # then every 3 months
    assert j.case().data["jobsamtaler"] == 6
    born_in_time(j)
    conversation(j, "jobsamtale", date(2027, 10, 1), udfald="job")
    j.do("ys", "stop_ydelse", {"ophoersdato": "2027-10-31", "ophoersaarsag": "ordinaert_job"}, at(date(2027, 10, 4)))
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "sag_afsluttet"


def test_an_offer_from_the_first_conversation_and_back_the_course_goes_on_where_it_was(journey):
    j = journey
    j.grant(j.to_decision(MONDAY))
    conversation(j, "jobsamtale_1", date(2026, 9, 21), udfald="tilbud")
    j.agree(date(2026, 9, 22))
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 23)))
    j.fire(at(date(2026, 9, 24), 8))                                             # the agreed start: visits begin
    j.follow_up("afbrudt", date(2026, 9, 30))
    # the contact course went on beside the offer: the second conversation, still due 3 months from the henvendelse
    assert j.open() == ["jobsamtale_2"] and danish_day(j.task("jobsamtale_2").due_at) == date(2026, 12, 7)
    assert ("placering_gw", ["tilbud_afsluttet"]) in j.gateways()
    assert ("nyt_tilbud_gw", ["tilbud_sluttet"]) in j.gateways()                     # jobparat: no new plan, and
    assert len([t for t in j.tasks() if t.element_id == "jobsamtale_2"]) == 1      # the course is not started twice


def test_a_long_placement_from_the_first_conversation_leaves_two_conversations_in_the_first_3_months(journey):
    """Issue 14 (walk finding, tests/journeys/test_walks.py KNOWN). Traced: a jobparat citizen offered a placement
    at the first conversation (jobsamtale_gw "tilbud") went into virksomhedsplacering and came back to the contact
    course only when it ended; with the match, the agreement, the wait for its agreed start, extensions and a
    new agreement (vp_aftale: løntilskud up to 52 weeks) that lay past 3 months from the henvendelse, so the
    second conversation (kh_jobsamtale_2, the law) was born overdue, the later ones too. Now the offer runs beside
    the conversations (samtaler_og_tilbud): staff using all their time, the first two fall due and are held within
    3 months of the henvendelse while the løntilskud goes on."""
    j = journey
    j.grant(j.to_decision(MONDAY))                                                     # henvendelse 7 September
    first = danish_day(j.task("jobsamtale_1").due_at)
    assert first == date(2026, 10, 19)
    conversation(j, "jobsamtale_1", first, udfald="tilbud")
    # the offer: a year's løntilskud starting in a month, at Virksomhedsservice's last minute each step
    j.do("vs", "match", {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "kontaktperson": "Mette",
                         "match_begrundelse": "Erfaring fra byggeri"}, last_minute(date(2026, 11, 2)))
    j.do("vs", "aftale", {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "tilbudstype": "loentilskud",
                          "aftale_dato": "2026-11-09", "startdato": "2026-12-14", "loentilskud_uger": 52,
                          "mentor_soeges": False}, last_minute(date(2026, 11, 9)))
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 11, 16)))
    # the second conversation did not wait for the placement: open since the first, due 3 months from 7 September
    second = j.task("jobsamtale_2")
    assert danish_day(second.created_at) == first and danish_day(second.due_at) == date(2026, 12, 7)
    conversation(j, "jobsamtale_2", date(2026, 12, 7))
    held = [e.details["data"]["samtaledato"] for e in j.events("task_completed")
            if e.element_id in ("jobsamtale_1", "jobsamtale_2")]
    assert held == ["2026-10-19", "2026-12-07"] and all(d <= "2026-12-07" for d in held)  # 2 within 3 months
    # after the second, no job: the offer step; the løntilskud and the course go on side by side
    assert {"jobparat_tilbud", "jobsamtale_3"} & set(j.open())
    j.fire(at(date(2026, 12, 14), 8))                                                  # the agreed start
    assert "opfoelgning" in j.open_of("virksomhedsservice")
    born_in_time(j)
    assert ("samtaler_og_tilbud", ["jobsamtale_samlet", "tilbud_ved_siden_af"]) in [
        (g, sorted(t)) for g, t in j.gateways()]


def test_the_cv_deadline_reminds_the_team_lead_when_it_passes(journey):
    j = journey
    visit(j, date(2026, 9, 9))
    cv = j.task("cv_paa_jobnet")
    assert cv.deadline_rule == "cv_paa_jobnet" and danish_day(cv.due_at) == date(2026, 9, 28)
    assert j.fire(clock.as_utc(cv.due_at) + timedelta(seconds=1)) >= 1
    assert j.task("cv_paa_jobnet_paamindelse").unit == "jobcenter"
    assert "cv_paa_jobnet" in j.open()


# -- aktivitetsparate ---------------------------------------------------------------------------------------------


def test_aktivitetsparat_offer_within_six_months_and_follow_up_not_every_third_month(journey):
    j = journey
    j.grant(j.to_decision(MONDAY, kategori="aktivitetsparat"))
    assert danish_day(j.task("tilbudsplan").due_at) == date(2027, 3, 9)                 # 6 months from 9 September
    j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "vejledning_opkvalificering",
                               "mentor_behov": False, "koordinerende_sagsbehandler": "Hanne", "plan": "Kursus"},
         at(date(2026, 9, 16)))
    follow_up = j.task("opfoelgning_opkvalificering")
    assert j.open() == ["opfoelgning_opkvalificering"]                                 # no mentor step: not needed
    assert follow_up.deadline_rule == "kh_aktivitetsparat_opfoelgning"
    assert danish_day(follow_up.due_at) == date(2027, 3, 16)                           # 6 months, not 3


def test_a_new_offer_after_a_placement_ends_is_due_six_months_from_its_end_not_from_the_visitation(journey):
    """Issue 14 (walk finding): a placement that ended without a job led back to the plan, still due six months
    after the first visitation, so with the first plan made on its last day the second was born overdue. The
    new plan is a step of its own, due six months after the day the previous offer ended."""
    j = journey
    j.grant(j.to_decision(MONDAY, kategori="aktivitetsparat"))
    assert danish_day(j.task("tilbudsplan").due_at) == date(2027, 3, 9)                 # 6 months from the visitation
    j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik", "mentor_behov": False,
                               "koordinerende_sagsbehandler": "Hanne", "plan": "Praktik"}, last_minute(date(2027, 3, 9)))
    j.agree(date(2027, 3, 10))                                                         # start Friday 12 March
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2027, 3, 11)))
    j.fire(at(date(2027, 3, 12), 8))
    j.follow_up("fortsaetter", date(2027, 3, 19))
    j.follow_up("afbrudt", date(2027, 3, 24))                                          # ended at this visit
    assert "tilbudsplan" not in j.open()
    plan = j.task("nyt_tilbud")
    assert plan.unit == "jobcenter" and plan.deadline_rule == "kh_nyt_tilbud"
    assert j.case().data["tilbud_afsluttet_dato"] == "2027-03-24"
    assert danish_day(plan.due_at) == date(2027, 9, 24)                                # 6 months from the end
    assert ("nyt_tilbud_gw", ["nyt_tilbud"]) in j.gateways()
    born_in_time(j)
    # the new plan leads on like the first: here to vejledning and opkvalificering
    j.do("jc", "nyt_tilbud", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "vejledning_opkvalificering",
                              "mentor_behov": False, "koordinerende_sagsbehandler": "Hanne", "plan": "Kursus"},
         last_minute(date(2027, 9, 24)))
    assert "opfoelgning_opkvalificering" in j.open()
    born_in_time(j)


# -- the application, its documentation and the decision deadline ----------------------------------------------


def test_documentation_deadline_does_not_restart_and_nothing_arriving_leads_to_a_refusal(journey):
    j = journey
    visit(j, date(2026, 9, 9))
    first = clock.as_utc(j.waits()["ansoegning_ikke_modtaget"].due_at)
    assert danish_day(first) == date(2026, 9, 16)                                      # a week from the visitation
    assert j.fire(first + timedelta(seconds=1)) >= 1
    j.do("ys", "rykker_ansoegning", {"rykker_sendt_dato": "2026-09-18"}, at(date(2026, 9, 18)))  # a late reminder
    final = clock.as_utc(j.waits()["dokumentation_udeblevet"].due_at)
    assert danish_day(final) == date(2026, 9, 23)                                      # 2 weeks from the visitation
    assert j.fire(final - timedelta(hours=1)) == 0
    assert j.fire(final + timedelta(seconds=1)) >= 1
    refusal = j.task("afslag_dokumentation")
    assert refusal.unit == "ydelsesservice" and "dokumentation_modtaget" not in j.waits()
    j.refuse(date(2026, 9, 25), element="afslag_dokumentation")
    complaint = clock.as_utc(j.waits()["klagefrist_fra_modtagelsen"].due_at)
    assert danish_day(complaint) == date(2026, 10, 23)
    assert j.fire(complaint + timedelta(seconds=1)) >= 1
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "afslag_endeligt"
    assert j.timers_passed()[-1] == "klagefrist_fra_modtagelsen"
    cancelled = {r.element_id for r in j.session.scalars(select(HumanTask).where(
        HumanTask.case_id == j.case_id, HumanTask.status == "cancelled"))}
    assert "jobsamtale_1" in cancelled and "cv_paa_jobnet" in cancelled                # the course ended with it


def test_a_complete_application_needs_the_date_it_became_complete(journey):
    j = journey
    visit(j, date(2026, 9, 9))
    # a paper application registered a day late: the check counts from the day it came in (10 September)
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-10"}, at(date(2026, 9, 11)))
    assert danish_day(j.task("kontroller_ansoegning").due_at) == date(2026, 9, 14)    # 2 working days
    before = j.case().data
    with pytest.raises(FormRejected) as refused:
        j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True}, at(date(2026, 9, 10)))
    assert [e["field"] for e in refused.value.detail] == ["ansoegning_komplet_dato"]
    j.session.rollback()
    assert j.open() == ["cv_paa_jobnet", "jobsamtale_1", "kontroller_ansoegning"] and j.case().data == before
    j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-09-10"},
         at(date(2026, 9, 10)))
    assert danish_day(j.task("ydelsesafgoerelse").due_at) == date(2026, 9, 30)         # 14 working days


# -- the complaint: receipt, genvurdering, Ankestyrelsen ------------------------------------------------------------


def refused_with_complaint(j, *, forsendelse="digital_post"):
    j.refuse(j.to_decision(MONDAY), afslag_forsendelse=forsendelse)                   # sent Friday 11 September
    j.message("klage", {"klage_modtaget_dato": "2026-09-28", "klage_begrundelse": "Jeg har ingen formue"},
              at(date(2026, 9, 28)))
    review = j.task("genvurdering")
    assert review.unit == "ydelsesservice" and danish_day(review.due_at) == date(2026, 10, 26)  # 4 weeks
    return review


def test_a_complaint_is_reassessed_and_when_upheld_goes_on_to_ankestyrelsen(journey):
    j = journey
    refused_with_complaint(j)
    assert "klagefrist_fra_modtagelsen" not in j.waits()
    j.do("ys", "genvurdering", {"genvurdering_dato": "2026-10-20", "genvurdering_udfald": "fastholdt",
                                "genvurdering_begrundelse": "Formuen er dokumenteret"}, last_minute(date(2026, 10, 20)))
    send_on = j.task("oversend_ankestyrelsen")
    assert send_on.unit == "ydelsesservice" and danish_day(send_on.due_at) == date(2026, 10, 26)
    j.do("ys", "oversend_ankestyrelsen", {"oversendt_dato": "2026-10-21", "oversendelse_note": "Udtalelse"},
         at(date(2026, 10, 21)))
    assert "ankestyrelsens_afgoerelse" in j.waits()
    j.message("ankestyrelsens_afgoerelse", {"ankestyrelsen_afgoerelsesdato": "2027-01-15",
                                            "ankestyrelsen_udfald": "stadfaestet"}, at(date(2027, 1, 18)))
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "afslag_stadfaestet"
    assert ("genvurdering_gw", ["oversend_ankestyrelsen"]) in j.gateways()


def test_a_complaint_the_municipality_grants_on_reassessment_leaves_the_course_running(journey):
    j = journey
    refused_with_complaint(j)
    j.do("ys", "genvurdering", {"genvurdering_dato": "2026-10-01", "genvurdering_udfald": "omgjort",
                                "genvurdering_begrundelse": "Formuen var opsparet ydelse"}, at(date(2026, 10, 1)))
    j.do("ys", "ny_afgoerelse", {"ny_afgoerelse_udfald": "bevilget", "ny_afgoerelsesdato": "2026-10-02",
                                 "ny_afgoerelse_begrundelse": "Omgjort", "sats": 12_000}, at(date(2026, 10, 2)))
    assert j.case().status == "running" and j.open() == ["jobsamtale_1"]
    assert "klage_afsluttet" in [e.element_id for e in j.events("element_passed")] or \
        ("ny_afgoerelse_gw", ["klage_afsluttet"]) in j.gateways()


def test_the_complaint_deadline_counts_from_receipt_of_a_paper_letter(journey):
    j = journey
    j.refuse(j.to_decision(MONDAY), afslag_forsendelse="papirpost")                   # sent Friday 11 September
    # received 5 working days later (Friday 18 September); four weeks from then
    assert j.case().data["afslag_modtaget_dato"] == "2026-09-18"
    assert danish_day(j.waits()["klagefrist_fra_modtagelsen"].due_at) == date(2026, 10, 16)


# -- the exit ------------------------------------------------------------------------------------------------------


def test_the_exit_closes_the_case_while_sofs_report_is_pending_and_sof_carries_on(journey):
    j = journey
    j.grant(j.to_decision(MONDAY, problemer=True))
    sof = sof_case(j)
    assert "sof_tilbagemelding" in j.waits()
    conversation(j, "jobsamtale_1", date(2026, 9, 21), udfald="job")
    j.do("ys", "stop_ydelse", {"ophoersdato": "2026-09-30", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 9, 22)))
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "sag_afsluttet"
    assert j.waits() == {} and j.open() == []
    # SOF's case is its own: it carries on, and its report back finds no kontanthjælp case waiting
    assert j.case(sof.id).status == "running"
    j.do("sof", "socialfaglig_vurdering", {"sof_vurderingsdato": "2026-09-28", "sof_vurdering": "Ingen indsats",
                                           "sof_enkeltydelse_behov": False}, at(date(2026, 9, 28)), case_id=sof.id)
    assert j.case(sof.id).status == "completed"
    assert [e.details.get("name") for e in j.events("message_not_delivered", sof.id)] == ["sof_tilbagemelding"]
    assert j.case().status == "completed"
