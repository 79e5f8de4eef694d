"""The employer placement (DOMAIN.md journey 1 step 7), version 2, through the real diagram in processes/shared.

`virksomhedsplacering` is called from kontanthjælp; here it is started directly as a case of its own
(the engine starts any deployed process), so each test walks the placement alone: match, agreement,
the mentor grant, the employer's confirmation, then the placement itself with its weekly visits,
monthly scorecard, competence card at 13 weeks and the timer at the agreed end. The forms in forms/
and the named deadlines in config/deadlines.toml are used as they are. Time moves with clock.at and
fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.errors import FormRejected
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
PLACERING = ROOT / "processes" / "shared" / "virksomhedsplacering.bpmn"


def at(day: date, hour: int = 9) -> datetime:
    """A Danish working hour on that day, as the clock sees it."""
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


@pytest.fixture
def users(seed, session):
    return seed(PLACERING, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "vslead": f.add_user(session, "vslead", "teamlead", ["virksomhedsservice"]),
    }


class Placement:
    """One citizen's placement, worked by Virksomhedsservice."""

    def __init__(self, db, session, users):
        self.db, self.session, self.users = db, session, users
        self.case_id: str | None = None

    def start(self, when: datetime, **data) -> Case:
        with clock.at(when):
            case = f.start_case(self.session, "virksomhedsplacering", actor=self.users["jc"],
                                data={"kategori": "aktivitetsparat", **data}, rules=RULES)
        self.case_id = case.id
        return case

    def tasks(self) -> list[HumanTask]:
        self.session.expire_all()
        return list(self.session.scalars(
            select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.status.in_(("open", "claimed")))
            .order_by(HumanTask.created_at, HumanTask.element_id)))

    def open(self) -> list[str]:
        return sorted(t.element_id for t in self.tasks())

    def task(self, element) -> HumanTask:
        [row] = [t for t in self.tasks() if t.element_id == element]
        return row

    def do(self, element, data, when: datetime, user="vs") -> HumanTask:
        row = self.task(element)
        assert row.unit in self.users[user].units, (element, row.unit, user)
        with clock.at(when):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users[user], rules=RULES)
        self.session.commit()
        return row

    def refused(self, element, data, when: datetime) -> dict:
        row = self.task(element)
        with clock.at(when), pytest.raises(FormRejected) as caught:
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users["vs"], rules=RULES)
        self.session.rollback()
        return {e["field"]: e["message"] for e in caught.value.detail}

    def message(self, name, data, when: datetime) -> None:
        with clock.at(when):
            runtime.correlate_message(self.session, name=name, correlation_key=self.case_id, data=data,
                                      user=self.users["system"], rules=RULES)
        self.session.commit()

    def fire(self, now: datetime) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=now).fired

    def waits(self) -> dict[str, Wait]:
        self.session.expire_all()
        return {w.element_id: w for w in self.session.scalars(select(Wait).where(Wait.case_id == self.case_id))}

    def events(self, type_=None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.case_id == self.case_id).order_by(AuditEvent.seq)
        if type_:
            query = query.where(AuditEvent.type == type_)
        return list(self.session.scalars(query))

    def gateways(self) -> list[tuple[str, list]]:
        return [(e.element_id, e.details.get("taken")) for e in self.events("gateway_taken")]

    def completed(self, element=None) -> list[HumanTask]:
        self.session.expire_all()
        rows = self.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                            HumanTask.status == "completed")
                                    .order_by(HumanTask.completed_at, HumanTask.element_id))
        return [r for r in rows if element is None or r.element_id == element]

    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    # -- the common steps ---------------------------------------------------------------------------

    def match(self, day: date, virksomhed="Byggefirma A/S", cvr="12345678"):
        self.do("match", {"virksomhed": virksomhed, "cvr": cvr, "kontaktperson": "Mette",
                          "match_begrundelse": "Erfaring fra byggeri"}, at(day))

    def agree(self, day: date, start: date, *, mentor=False, **offer):
        offer = offer or {"tilbudstype": "virksomhedspraktik", "praktik_ramme": "standard", "praktik_uger": 4}
        self.do("aftale", {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "aftale_dato": day.isoformat(),
                           "startdato": start.isoformat(), "mentor_soeges": mentor,
                           **({"mentor_soeges_begrundelse": "Har brug for støtte i starten"} if mentor else {}),
                           **offer}, at(day, 11))

    def confirm(self, day: date, accepts=True):
        self.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": accepts}, at(day))

    def placed(self, start: date, *, mentor=False, **offer):
        """Match and agreement the week before `start` (a Monday), confirmed on the Wednesday; the citizen
        starts on `start` (the timer at the agreed start fires)."""
        self.start(at(start - timedelta(days=14)))
        self.match(start - timedelta(days=14))
        self.agree(start - timedelta(days=7), start, mentor=mentor, **offer)
        if mentor:
            self.grant_mentor(start - timedelta(days=6), start)
        self.confirm(start - timedelta(days=5))
        self.begins(start)

    def begins(self, start: date) -> None:
        """The agreed start comes: nothing to visit before it, the weekly visit from its first moment."""
        assert "opfoelgning" not in self.open()
        due = self.fire_wait("besoeg_fra_start")       # the moment the day before the start ends
        assert due.astimezone(DANISH_TIME) == datetime.combine(start - timedelta(days=1), time(23, 59, 59),
                                                               tzinfo=DANISH_TIME)

    def grant_mentor(self, day: date, start: date, granted=True):
        data = {"mentor_bevilget": granted, "mentor_afgoerelsesdato": day.isoformat(),
                "mentor_begrundelse": "Behov for støtte de første uger"}
        if granted:
            data |= {"mentor_type": "virksomhedsmentor", "mentor_navn": "Jens Hansen", "mentor_timer_pr_uge": 3,
                     "mentor_fra": start.isoformat(), "mentor_til": (start + timedelta(weeks=4)).isoformat()}
        self.do("mentorbevilling", data, at(day))

    def visit(self, day: date, udfald="fortsaetter"):
        self.do("opfoelgning", {"besoegsdato": day.isoformat(), "placering_udfald": udfald,
                                "opfoelgning_notat": "Besøg på arbejdspladsen"}, at(day))

    def score(self, day: date, score=3):
        self.do("scorecard", {"scorecard_dato": day.isoformat(), "scorecard": score, "scorecard_mentor_deltog": True,
                              "scorecard_borger_deltog": True, "scorecard_udvikling": "Møder stabilt"}, at(day))

    def finish(self, day: date, udfald="ordinaert_job", score=4):
        self.do("afslutning", {"afslutning_dato": day.isoformat(), "slut_scorecard": score, "placering_udfald": udfald,
                               "afslutning_notat": "Slutevaluering med virksomheden"}, at(day))

    def fire_wait(self, element) -> datetime:
        """Fire the wait at `element` just after it is due (and check it is not due a second before)."""
        due = clock.as_utc(self.waits()[element].due_at)
        assert self.fire(due - timedelta(seconds=1)) == 0, element
        assert self.fire(due + timedelta(seconds=1)) >= 1, element
        return due

    def live(self) -> dict[str, list[HumanTask]]:
        """Work the placement until it ends: each weekly visit on its last allowed day, each scorecard and the
        competence card on the morning of the visit day they are open on; return the completed steps."""
        while "opfoelgning" in self.open():
            day = danish_day(self.task("opfoelgning").due_at)
            self.fire(at(day, 8))                        # what fell due since the last visit (timers, the end)
            if "scorecard" in self.open():
                self.score(day)
            if "kompetencekort" in self.open():
                self.do("kompetencekort", {"kompetencekort_dato": day.isoformat(), "kompetencekort_score": 3,
                                           "udvikle_sociale_kompetencer": False, "udvikle_faglige_kompetencer": True,
                                           "kompetencekort_notat": "Klar til truckcertifikat"}, at(day, 10))
            if "opfoelgning" in self.open():
                self.visit(day)
        return {e: self.completed(e) for e in ("opfoelgning", "scorecard", "kompetencekort")}


@pytest.fixture
def placement(db, session, users) -> Placement:
    return Placement(db, session, users)


def test_praktik_of_four_weeks_ends_by_its_timer(placement):
    p = placement
    start = date(2026, 10, 5)                                                    # a Monday
    p.placed(start)
    assert p.open() == ["opfoelgning"]
    assert danish_day(p.task("opfoelgning").due_at) == date(2026, 10, 12)        # a week after the start
    assert p.case().data["aftale_slutdato"] == "2026-11-01"                      # 4 weeks: 5 Oct - 1 Nov
    end = clock.as_utc(p.waits()["aftale_udloeber"].due_at)
    assert danish_day(end) == date(2026, 11, 1)
    for day in (date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)):
        p.visit(day)
    assert p.fire_wait("aftale_udloeber") == end
    assert p.open() == ["afslutning"]                                            # the visit of week 5 is gone
    assert set(p.waits()) == {"afslutning_frist"}                                # and every clock of the placement
    assert danish_day(p.task("afslutning").due_at) == date(2026, 11, 6)          # 5 working days after 1 Nov
    p.finish(date(2026, 11, 2))
    assert p.case().status == "completed"
    assert p.events("case_completed")[0].element_id == "placering_job"
    assert "scorecard" not in [t.element_id for t in p.completed()]              # under a month: the final score
    assert p.case().data["slut_scorecard"] == 4


def test_the_weekly_visits_begin_at_the_agreed_start_and_not_before(placement):
    """Issue 14 (walk finding): the weekly follow-up was open from the employer's confirmation, before the
    start, and its visit date may lie neither before the start nor in the future: nothing could complete it.
    Now the visits wait for the start; the placement's other clocks run from the start as before."""
    p = placement
    start = date(2026, 10, 5)                                                    # a Monday
    p.start(at(date(2026, 9, 14)))
    p.match(date(2026, 9, 14))
    p.agree(date(2026, 9, 21), start)
    p.confirm(date(2026, 9, 23))                                                 # 12 days before the start
    assert p.open() == []
    assert {"besoeg_fra_start", "scorecard_maaned", "kompetencekort_klar", "aftale_udloeber"} <= set(p.waits())
    p.fire(at(date(2026, 10, 4), 23))                                            # the evening before: still nothing
    assert p.open() == []
    p.begins(start)
    visit = p.task("opfoelgning")
    assert danish_day(visit.created_at) == start and danish_day(visit.due_at) == start + timedelta(weeks=1)
    assert clock.as_utc(visit.created_at) <= clock.as_utc(visit.due_at)
    # a visit on the very first day is a valid visit; the next is due a week after it
    p.visit(start)
    assert danish_day(p.task("opfoelgning").due_at) == start + timedelta(weeks=1)
    # an agreement confirmed on or after its start day opens the visit at once (the timer has passed)
    p.visit(date(2026, 10, 9), udfald="forlaengelse")
    p.agree(date(2026, 10, 12), date(2026, 10, 12))
    p.confirm(date(2026, 10, 13))
    assert p.open() == ["opfoelgning"]
    assert danish_day(p.task("opfoelgning").due_at) == date(2026, 10, 19)


def test_the_day_the_offer_ended_is_left_for_the_caller(placement):
    """The caller's next offer counts from the day this one ended (kontanthjælp's nyt_tilbud): the agreed last
    day when the agreement runs out, the visit's date when a visit ends it earlier."""
    p = placement
    start = date(2026, 10, 5)
    p.placed(start)
    for day in (date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)):
        p.visit(day)
    p.fire_wait("aftale_udloeber")
    assert p.case().data["placering_ophoert_dato"] == "2026-11-01"              # the agreed last day
    p.finish(date(2026, 11, 4), udfald="frafald")
    p.match(date(2026, 11, 5))
    p.agree(date(2026, 11, 6), date(2026, 11, 9))
    p.confirm(date(2026, 11, 6))
    p.begins(date(2026, 11, 9))
    p.visit(date(2026, 11, 12), udfald="afbrudt")                                # ended at a visit
    assert p.case().status == "completed" and p.case().data["placering_ophoert_dato"] == "2026-11-12"


def test_praktik_of_thirteen_weeks_by_agreement_has_monthly_scorecards_and_the_competence_card(placement):
    p = placement
    start = date(2026, 10, 5)
    p.placed(start, tilbudstype="virksomhedspraktik", praktik_ramme="udvidet", praktik_uger_udvidet=13)
    assert p.case().data["aftale_slutdato"] == "2027-01-03"                      # 13 weeks: day 91
    done = p.live()
    assert p.open() == ["afslutning"]
    assert ("aftale_udloeber", "timer_fired") in [(e.element_id, e.type) for e in p.events()]
    # one scorecard per month of the placement, each due a week after its month (5 Nov, 5 Dec) ...
    assert [danish_day(t.due_at) for t in done["scorecard"]] == [date(2026, 11, 12), date(2026, 12, 12)]
    # ... and the third month would end after the agreement: no scorecard then, the final score instead
    assert all(clock.as_utc(t.completed_at) <= clock.as_utc(t.due_at) for t in done["scorecard"])
    # the competence card in week 13: there on its first day (28 December), due when the week ends
    [card] = done["kompetencekort"]
    assert danish_day(card.created_at) == date(2026, 12, 28) and danish_day(card.due_at) == date(2027, 1, 3)
    assert len(done["opfoelgning"]) == 12                                        # weekly, 12 Oct - 28 Dec
    # the first visit is due a week after the start, each next one a week after the last visit
    assert danish_day(done["opfoelgning"][0].due_at) == start + timedelta(weeks=1)
    assert all(danish_day(t.due_at) - danish_day(t.created_at) == timedelta(days=7) for t in done["opfoelgning"][1:])
    # an extension is a new agreement with the employer
    p.finish(date(2027, 1, 4), udfald="forlaengelse")
    assert p.open() == ["aftale"] and ("opfoelgning_gw", ["aftale_samlet"]) in p.gateways()


def test_loentilskud_up_to_a_year_with_a_scorecard_every_month(placement):
    p = placement
    start = date(2027, 1, 4)
    p.start(at(date(2026, 12, 14)))
    p.match(date(2026, 12, 14))
    base = {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "aftale_dato": "2026-12-21",
            "startdato": start.isoformat(), "mentor_soeges": False}
    # the legal and agreed maxima hold at the form, in Danish, and nothing is lost
    errors = p.refused("aftale", {**base, "tilbudstype": "loentilskud", "loentilskud_uger": 53}, at(date(2026, 12, 21)))
    assert set(errors) == {"loentilskud_uger"} and "52" in errors["loentilskud_uger"]
    errors = p.refused("aftale", {**base, "tilbudstype": "loentilskud"}, at(date(2026, 12, 21)))
    assert set(errors) == {"loentilskud_uger"}
    errors = p.refused("aftale", {**base, "tilbudstype": "virksomhedspraktik", "praktik_ramme": "standard",
                                  "praktik_uger": 5}, at(date(2026, 12, 21)))
    assert set(errors) == {"praktik_uger"} and "4" in errors["praktik_uger"]
    errors = p.refused("aftale", {**base, "tilbudstype": "virksomhedspraktik", "praktik_ramme": "udvidet",
                                  "praktik_uger_udvidet": 14}, at(date(2026, 12, 21)))
    assert set(errors) == {"praktik_uger_udvidet"} and "13" in errors["praktik_uger_udvidet"]
    errors = p.refused("aftale", {**base, "tilbudstype": "virksomhedspraktik"}, at(date(2026, 12, 21)))
    assert set(errors) == {"praktik_ramme"}
    errors = p.refused("aftale", {**base, "tilbudstype": "loentilskud", "loentilskud_uger": 52,
                                  "startdato": "2026-12-20"}, at(date(2026, 12, 21)))
    assert set(errors) == {"startdato"} and "Aftalen er indgået den" in errors["startdato"]
    assert p.open() == ["aftale"] and p.completed("aftale") == []
    p.agree(date(2026, 12, 21), start, tilbudstype="loentilskud", loentilskud_uger=52)
    p.confirm(date(2026, 12, 22))
    assert p.case().data["aftale_slutdato"] == "2028-01-02"                      # 52 weeks: 364 days
    p.begins(start)
    done = p.live()
    assert p.open() == ["afslutning"]
    # a scorecard each month, due a week after the month: 11 Feb 2027 ... 11 Dec 2027
    assert [danish_day(t.due_at) for t in done["scorecard"]] == [
        date(2027, m, 11) for m in range(2, 13)]
    assert len(done["kompetencekort"]) == 1 and danish_day(done["kompetencekort"][0].due_at) == date(2027, 4, 4)
    assert len(done["opfoelgning"]) == 51
    p.finish(date(2028, 1, 3), udfald="afbrudt", score=2)
    assert p.case().status == "completed" and p.events("case_completed")[0].element_id == "placering_afbrudt"


def test_mentor_is_a_grant_by_virksomhedsservice_with_who_hours_and_period(placement):
    p = placement
    start = date(2026, 10, 5)
    p.start(at(date(2026, 9, 21)))
    p.match(date(2026, 9, 21))
    p.agree(date(2026, 9, 28), start, mentor=True)                              # Monday 28 September
    grant = p.task("mentorbevilling")
    assert grant.unit == "virksomhedsservice" and grant.deadline_rule == "vp_mentorbevilling"
    assert danish_day(grant.due_at) == date(2026, 10, 5)                         # 5 working days from the agreement
    assert "virksomhed_bekraeftelse" not in p.waits()                            # the offer is not complete yet
    errors = p.refused("mentorbevilling", {"mentor_bevilget": True, "mentor_afgoerelsesdato": "2026-09-29",
                                           "mentor_begrundelse": "Behov"}, at(date(2026, 9, 29)))
    assert set(errors) == {"mentor_type", "mentor_navn", "mentor_timer_pr_uge", "mentor_fra", "mentor_til"}
    errors = p.refused("mentorbevilling", {
        "mentor_bevilget": True, "mentor_afgoerelsesdato": "2026-09-29", "mentor_begrundelse": "Behov",
        "mentor_type": "ekstern", "mentor_navn": "Jens", "mentor_timer_pr_uge": 40,
        "mentor_fra": "2026-10-05", "mentor_til": "2026-10-01"}, at(date(2026, 9, 29)))
    assert set(errors) == {"mentor_timer_pr_uge", "mentor_til"} and "Mentor fra" in errors["mentor_til"]
    p.grant_mentor(date(2026, 9, 29), start)
    assert "virksomhed_bekraeftelse" in p.waits()
    assert ("mentor_gw", ["mentorbevilling"]) in p.gateways()
    data = p.case().data
    assert (data["mentor_bevilget"], data["mentor_navn"], data["mentor_timer_pr_uge"]) == (True, "Jens Hansen", 3)
    p.confirm(date(2026, 9, 30))
    assert p.open() == [] and "besoeg_fra_start" in p.waits()                  # the visits begin at the start


def test_a_mentor_can_be_refused_and_no_mentor_means_no_grant_step(placement):
    p = placement
    p.start(at(date(2026, 9, 21)))
    p.match(date(2026, 9, 21))
    p.agree(date(2026, 9, 28), date(2026, 10, 5), mentor=True)
    p.grant_mentor(date(2026, 9, 29), date(2026, 10, 5), granted=False)         # only the reasons are needed
    assert p.case().data["mentor_bevilget"] is False and "virksomhed_bekraeftelse" in p.waits()
    p.confirm(date(2026, 9, 30), accepts=False)                                  # the employer says no
    assert p.open() == ["match"]
    p.match(date(2026, 10, 1), virksomhed="Plejehjemmet Solgården", cvr="87654321")
    p.agree(date(2026, 10, 2), date(2026, 10, 12))
    assert "mentorbevilling" not in p.open() and ("mentor_gw", ["bekraeftelse_samlet"]) in p.gateways()


def test_drop_out_ends_the_placement_and_a_new_match_follows(placement):
    p = placement
    start = date(2026, 10, 5)
    p.placed(start, tilbudstype="loentilskud", loentilskud_uger=26)
    assert {"aftale_udloeber", "scorecard_maaned", "kompetencekort_klar"} <= set(p.waits())
    p.visit(date(2026, 10, 12))
    errors = p.refused("opfoelgning", {"besoegsdato": "2026-10-20", "placering_udfald": "frafald",
                                       "opfoelgning_notat": "Udeblevet"}, at(date(2026, 10, 19)))
    assert set(errors) == {"besoegsdato"}                                        # a visit cannot be in the future
    p.visit(date(2026, 10, 19), udfald="frafald")
    assert p.open() == ["match"]
    # the placement's clocks are gone with it: no end, no scorecard, no competence card is left waiting
    assert not {"aftale_udloeber", "scorecard_maaned", "kompetencekort_klar"} & set(p.waits())
    assert ("besoeg_gw", ["ophoert_foer_aftalt"]) in p.gateways() and ("opfoelgning_gw", ["match_samlet"]) in p.gateways()
    assert set(p.waits()) == {"match_frist"}                                     # only the new match's reminder
    # the new match starts a new agreement with its own dates
    p.match(date(2026, 10, 20), virksomhed="Plejehjemmet Solgården", cvr="87654321")
    p.agree(date(2026, 10, 21), date(2026, 10, 26))
    p.confirm(date(2026, 10, 22))
    assert p.case().data["aftale_slutdato"] == "2026-11-22"
    p.begins(date(2026, 10, 26))
    assert danish_day(p.task("opfoelgning").due_at) == date(2026, 11, 2)
    p.visit(date(2026, 10, 30), udfald="ordinaert_job")                          # hired before the end
    assert p.case().status == "completed" and p.events("case_completed")[0].element_id == "placering_job"


def test_the_match_names_one_fixed_contact_at_the_company(placement):
    p = placement
    p.start(at(date(2026, 9, 21)))
    errors = p.refused("match", {"virksomhed": "Byggefirma A/S", "cvr": "1234", "match_begrundelse": "Erfaring"},
                       at(date(2026, 9, 21)))
    assert set(errors) == {"cvr", "kontaktperson"} and errors["kontaktperson"].startswith("Fast kontaktperson")
    p.match(date(2026, 9, 21))
    assert p.case().data["kontaktperson"] == "Mette" and p.open() == ["aftale"]


def test_the_employer_who_does_not_answer_is_reminded(placement):
    p = placement
    p.start(at(date(2026, 9, 21)))
    p.match(date(2026, 9, 21))
    p.agree(date(2026, 9, 22), date(2026, 10, 5))                                # Tuesday
    due = p.fire_wait("ingen_bekraeftelse")
    assert danish_day(due) == date(2026, 9, 29)                                  # 5 working days
    assert p.open() == ["rykker_virksomhed"] and "virksomhed_bekraeftelse" not in p.waits()
    p.do("rykker_virksomhed", {"rykket_dato": "2026-09-30"}, at(date(2026, 9, 30)))
    p.confirm(date(2026, 10, 1))
    p.begins(date(2026, 10, 5))
    assert p.open() == ["opfoelgning"]


def test_the_step_table_shows_the_agreed_end_that_interrupts_the_placement():
    from engine.deadlines import load_rules
    from scripts import journey_tables
    rows = journey_tables.table(PLACERING, load_rules(RULES.deadlines_file)).splitlines()
    [end] = [r for r in rows if "⏱ Aftalt ophør" in r]
    assert "`vp_aftale_ophoer`" in end and "afbryder `forloeb`" in end


@pytest.mark.parametrize("udfald, end", [("ordinaert_job", "job"), ("afbrudt", "tilbage")])
def test_a_caller_reads_placering_udfald_after_the_call(db, session, seed, udfald, end):
    """What kontanthjælp relies on, through a tiny caller (tests/data/vp_caller.bpmn): the placement ends
    with `placering_udfald` ordinaert_job or afbrudt in the case data, and the caller decides on it."""
    users = seed(PLACERING, f.DATA / "vp_caller.bpmn", rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])}
    p = Placement(db, session, users)
    with clock.at(at(date(2026, 9, 21))):
        p.case_id = f.start_case(session, "vp_caller", actor=users["jc"], data={}, rules=RULES).id
    start = date(2026, 10, 5)
    p.match(date(2026, 9, 21))
    p.agree(date(2026, 9, 28), start)
    p.confirm(date(2026, 9, 30))
    p.begins(start)
    for day in (date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)):
        p.visit(day)
    p.fire_wait("aftale_udloeber")
    p.finish(date(2026, 11, 2), udfald=udfald)
    assert p.case().status == "completed" and p.events("case_completed")[0].element_id == end
    assert ("placering_udfald_gw", [end]) in p.gateways()
