"""Journey 1 (DOMAIN.md): kontanthjælp from the first visit to a job, driven through the real diagrams.

The files in processes/ (kontanthjaelp, shared/virksomhedsplacering, sof/sof_vurdering), the forms
in forms/ and the named deadlines in config/deadlines.toml are deployed as they are; each step is
done by a user of the unit whose inbox the task lands in. Time moves with clock.at and
fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
PROCESSES = (ROOT / "processes" / "shared" / "virksomhedsplacering.bpmn",
             ROOT / "processes" / "sof" / "sof_vurdering.bpmn",
             ROOT / "processes" / "rehabiliteringsteam" / "rehabiliteringsteam.bpmn",
             ROOT / "processes" / "langvarig_aktivitetsparat" / "langvarig_aktivitetsparat.bpmn",
             ROOT / "processes" / "kontanthjaelp" / "kontanthjaelp.bpmn")


TIMER_EVENTS = {"klagefrist_udloebet", "klagefrist_fra_modtagelsen", "ansoegning_ikke_modtaget", "ingen_bekraeftelse",
                "hoeringsfrist_udloebet", "visitation_frist", "ydelsesafgoerelse_frist", "opfoelgning_frist", "match_frist",
                "dokumentation_udeblevet"}
REFUSAL_SENT = {"afslag_forsendelse": "digital_post"}  # with afslag_sendt_dato: the receipt the complaint counts from


def at(day: date, hour: int = 9) -> datetime:
    """A moment on a Danish working day (UTC; Denmark is UTC+1/+2, so 07:00 UTC is morning)."""
    return datetime(day.year, day.month, day.day, hour - 2, tzinfo=timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


@pytest.fixture
def users(seed, session):
    """The standard users and some more, with the journey's processes deployed (as they are in processes/)."""
    return seed(*PROCESSES, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "yslead": f.add_user(session, "yslead", "teamlead", ["ydelsesservice"]),
        "vslead": f.add_user(session, "vslead", "teamlead", ["virksomhedsservice"]),
    }


class Journey:
    """One citizen's kontanthjælp case, worked the way the units would (version 2 of the journey)."""

    V1 = False  # tests/journeys/kh_v1.py drives the saved version 1 (no CV step, SOF after the decision)

    def __init__(self, db, session, users):  # `users` (the fixture) has deployed PROCESSES
        self.db, self.session, self.users = db, session, users
        self.case_id: str | None = None

    def start(self, when: datetime, **data) -> Case:
        with clock.at(when):
            case = f.start_case(self.session, "kontanthjaelp", actor=self.users["jc"], data=data, rules=RULES)
        self.case_id = case.id
        return case

    def tasks(self, case_id=None) -> list[HumanTask]:
        self.session.expire_all()
        return list(self.session.scalars(
            select(HumanTask).where(HumanTask.case_id == (case_id or self.case_id),
                                    HumanTask.status.in_(("open", "claimed")))
            .order_by(HumanTask.created_at, HumanTask.element_id)))

    def open(self, case_id=None) -> list[str]:
        return sorted(t.element_id for t in self.tasks(case_id))

    def open_of(self, unit: str, case_id=None) -> list[str]:
        """One unit's open tasks: in version 2 the jobcenter's contact course runs beside Ydelsesservice's work."""
        return sorted(t.element_id for t in self.tasks(case_id) if t.unit == unit)

    def task(self, element, case_id=None) -> HumanTask:
        [row] = [t for t in self.tasks(case_id) if t.element_id == element]
        return row

    def do(self, user, element, data, when: datetime, case_id=None) -> HumanTask:
        row = self.task(element, case_id)
        assert row.unit in self.users[user].units, (element, row.unit, user)
        with clock.at(when):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users[user], rules=RULES)
        self.session.commit()
        return row

    def message(self, name, data, when: datetime) -> Case:
        with clock.at(when):
            case = runtime.correlate_message(self.session, name=name, correlation_key=self.case_id, data=data,
                                             user=self.users["system"], rules=RULES)
        self.session.commit()
        return case

    def fire(self, now: datetime) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=now).fired

    def waits(self, case_id=None) -> dict[str, Wait]:
        self.session.expire_all()
        return {w.element_id: w for w in self.session.scalars(
            select(Wait).where(Wait.case_id == (case_id or self.case_id)))}

    def events(self, type_=None, case_id=None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.case_id == (case_id or self.case_id)).order_by(AuditEvent.seq)
        if type_:
            query = query.where(AuditEvent.type == type_)
        return list(self.session.scalars(query))

    def done_by(self, case_id=None) -> list[tuple[str, str, str]]:
        """(element, unit, user) of every completed task, in order: who did the work."""
        self.session.expire_all()
        rows = self.session.scalars(select(HumanTask).where(HumanTask.case_id == (case_id or self.case_id),
                                                            HumanTask.status == "completed")
                                    .order_by(HumanTask.completed_at, HumanTask.element_id))
        return [(r.element_id, r.unit, r.completed_by) for r in rows]

    def timers_passed(self, case_id=None) -> list[str]:
        """The timer events the case went through, in order (a one-off timer is audited as passed)."""
        return [e.element_id for e in self.events(case_id=case_id)
                if e.type in ("timer_fired", "element_passed") and e.element_id in TIMER_EVENTS]

    def gateways(self, case_id=None) -> list[tuple[str, list]]:
        return [(e.element_id, e.details.get("taken")) for e in self.events("gateway_taken", case_id)]

    def case(self, case_id=None) -> Case:
        self.session.expire_all()
        return self.session.get(Case, case_id or self.case_id)

    # -- the common steps ------------------------------------------------------------------------

    def to_decision(self, monday: date, *, kategori="jobparat", problemer=False):
        """Henvendelse, tilmelding, visitation, application and completeness check, from a Monday."""
        self.start(at(monday), henvendelsesdato=monday.isoformat(), forsikret=False)
        assert self.open() == ["tilmelding"]
        assert danish_day(self.task("tilmelding").due_at) == monday  # the same day
        self.do("jc", "tilmelding", {"tilmeldingsdato": monday.isoformat(), "jobnet_tilmeldt": True}, at(monday))
        assert danish_day(self.task("visitation").due_at) == monday + timedelta(days=7)
        visit_day = monday + timedelta(days=2)
        self.do("jc", "visitation", {
            "visitationsdato": visit_day.isoformat(), "til_raadighed": True, "kategori": kategori,
            "problemer_ud_over_ledighed": problemer, "cv_frist": (monday + timedelta(weeks=3)).isoformat(),
            "vurdering": "Står til rådighed", **({"problemomraader": "bolig, misbrug"} if problemer else {}),
            **({"koordinerende_sagsbehandler": "jc"} if kategori == "aktivitetsparat" else {})},
            at(visit_day))
        if self.V1:
            assert self.open() == []
        else:  # the CV on Jobnet (3 weeks from the henvendelse) and the contact course start at the visitation
            first = "jobsamtale_1" if kategori == "jobparat" else "tilbudsplan"
            assert self.open() == sorted(["cv_paa_jobnet", first])
            assert danish_day(self.task("cv_paa_jobnet").due_at) == monday + timedelta(weeks=3)
            self.do("jc", "cv_paa_jobnet", {"cv_paa_jobnet_dato": visit_day.isoformat()}, at(visit_day, 11))
        waits = self.waits()
        assert waits["ansoegning_modtaget"].kind == "message"
        assert danish_day(waits["ansoegning_ikke_modtaget"].due_at) == visit_day + timedelta(days=7)
        application_day = visit_day + timedelta(days=2)
        self.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": application_day.isoformat()}, at(application_day))
        self.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True,
                                                "ansoegning_komplet_dato": application_day.isoformat()},
                at(application_day))
        return application_day

    def refuse(self, when: date, element="ydelsesafgoerelse", **extra):
        data = {"afgoerelsesdato": when.isoformat(), "begrundelse": "Formue over grænsen",
                "afslag_sendt_dato": when.isoformat(), **REFUSAL_SENT, **extra}
        if element == "ydelsesafgoerelse":
            data["afgoerelse"] = "afslag"
        self.do("ys", element, data, at(when))

    def grant(self, when: date):
        self.do("ys", "ydelsesafgoerelse", {"afgoerelse": "bevilget", "sats": 12_000, "ydelse_fra": when.isoformat(),
                                            "afgoerelsesdato": when.isoformat(), "begrundelse": "Betingelser opfyldt"},
                at(when))

    def agree(self, when: date, virksomhed="Byggefirma A/S", cvr="12345678"):
        self.do("vs", "match", {"virksomhed": virksomhed, "cvr": cvr, "kontaktperson": "Mette",
                                "match_begrundelse": "Erfaring fra byggeri"}, at(when))
        # virksomhedsplacering v2: the length is checked against the praktik's frame (4 weeks, 13 by agreement),
        # the mentor is a grant step of its own (tests/journeys/test_virksomhedsplacering.py), and the start
        # (two days on: the first weekly visit falls a week after the start) anchors the placement's clocks.
        self.do("vs", "aftale", {"virksomhed": virksomhed, "cvr": cvr, "tilbudstype": "virksomhedspraktik",
                                 "aftale_dato": when.isoformat(), "startdato": (when + timedelta(days=2)).isoformat(),
                                 "praktik_ramme": "standard", "praktik_uger": 4, "mentor_soeges": False},
                at(when, 11))

    def follow_up(self, udfald, when: date, **extra):
        self.do("vs", "opfoelgning", {"besoegsdato": when.isoformat(), "placering_udfald": udfald,
                                      "opfoelgning_notat": "Besøg på arbejdspladsen", **extra}, at(when))


@pytest.fixture
def journey(db, session, users):
    return Journey(db, session, users)


# -- the journeys ------------------------------------------------------------------------------------


def test_happy_path_jobparat_to_an_ordinary_job(journey):
    j = journey
    monday = date(2026, 9, 7)
    complete_day = j.to_decision(monday)                                         # Friday 11 September
    # 14 working days from the complete application: 14, 15, …, 30 September, 1 October
    assert danish_day(j.task("ydelsesafgoerelse").due_at) == date(2026, 10, 1)
    assert j.task("ydelsesafgoerelse").deadline_rule == "ydelsesafgoerelse"
    # the contact course began at the visitation, beside Ydelsesservice: the first job conversation is due
    # six weeks after the henvendelse (7 September), not six weeks after the grant
    assert j.open() == ["jobsamtale_1", "ydelsesafgoerelse"]
    j.grant(complete_day + timedelta(days=3))                                    # Monday 14 September
    assert j.open() == ["jobsamtale_1"]
    assert danish_day(j.task("jobsamtale_1").due_at) == monday + timedelta(weeks=6)
    assert "sof_tilbagemelding" not in j.waits()  # no SOF referral without problems beyond unemployment

    j.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Søger bredt",
                                "jobsamtale_udfald": "ny_samtale"}, at(date(2026, 9, 21)))
    assert danish_day(j.task("jobsamtale_2").due_at) == date(2026, 12, 7)       # 3 months from the henvendelse
    j.do("jc", "jobsamtale_2", {"samtaledato": "2026-10-26", "samtale_referat": "Praktik aftalt",
                                "jobsamtale_udfald": "tilbud"}, at(date(2026, 10, 26)))
    # issue 14: the offer runs beside the job conversations, which keep their dates from the henvendelse
    assert [(t.element_id, t.unit) for t in j.tasks()] == [("jobsamtale_3", "jobcenter"), ("match", "virksomhedsservice")]
    j.agree(date(2026, 10, 27))
    waits = j.waits()
    assert waits["virksomhed_bekraeftelse"].message == "virksomhed_bekraeftelse"
    # five working days from Tuesday 27 October: 28, 29, 30 October, 2, 3 November
    assert danish_day(waits["ingen_bekraeftelse"].due_at) == date(2026, 11, 3)
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 10, 29)))
    assert j.open_of("virksomhedsservice") == ["opfoelgning"]
    assert danish_day(j.task("opfoelgning").due_at) == date(2026, 11, 5)        # weekly
    j.follow_up("fortsaetter", date(2026, 11, 5))
    assert danish_day(j.task("opfoelgning").due_at) == date(2026, 11, 12)
    j.follow_up("ordinaert_job", date(2026, 11, 12))  # v2: the scorecard is a monthly step, not a field here
    assert j.open_of("ydelsesservice") == ["stop_ydelse"] and j.open_of("virksomhedsservice") == []
    j.do("ys", "stop_ydelse", {"ophoersdato": "2026-11-30", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 11, 13)))

    assert j.case().status == "completed"
    assert j.events("case_completed")[0].element_id == "sag_afsluttet"
    assert j.done_by() == [
        ("tilmelding", "jobcenter", "jc"), ("visitation", "jobcenter", "jc"), ("cv_paa_jobnet", "jobcenter", "jc"),
        ("kontroller_ansoegning", "ydelsesservice", "ys"), ("ydelsesafgoerelse", "ydelsesservice", "ys"),
        ("jobsamtale_1", "jobcenter", "jc"), ("jobsamtale_2", "jobcenter", "jc"),
        ("match", "virksomhedsservice", "vs"), ("aftale", "virksomhedsservice", "vs"),
        ("opfoelgning", "virksomhedsservice", "vs"), ("opfoelgning", "virksomhedsservice", "vs"),
        ("stop_ydelse", "ydelsesservice", "ys")]
    gateways = j.gateways()
    for step in [("forsikret_gw", ["tilmelding"]), ("raadighed_gw", ["overdraget_til_ydelsesservice"]),
                 ("komplet_gw", ["ydelsesafgoerelse"]), ("afgoerelse_gw", ["bevilget_kontaktforloeb"]),
                 ("sen_start_gw", ["ydelse_bevilget"]),
                 ("sof_gw", ["ingen_sof_henvisning"]), ("kategori_gw", ["jobsamtale_samlet"]),
                 ("naeste_samtale_gw", ["jobsamtale_1"]), ("naeste_samtale_gw", ["jobsamtale_2"]),
                 ("tre_maaneder_gw", ["jobsamtale_samlet"]),
                 ("jobsamtale_gw", ["tilbud_samlet"]), ("bekraeftet_gw", ["aftaleperiode"]),  # placement v2
                 ("opfoelgning_gw", ["placering_job"]), ("placering_gw", ["afslutning_samlet"])]:
        assert step in gateways, step
    assert [e.element_id for e in j.events("message_received")] == ["ansoegning_modtaget", "virksomhed_bekraeftelse"]
    passed = [e.element_id for e in j.events("element_passed")]
    assert "overdraget_til_ydelsesservice" in passed and "virksomhedsplacering" in passed
    assert j.timers_passed() == []


def test_not_available_is_refused_by_ydelsesservice_with_four_weeks_to_complain(journey):
    j = journey
    monday = date(2026, 6, 1)
    j.start(at(monday), henvendelsesdato="2026-06-01", forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": "2026-06-01", "jobnet_tilmeldt": True}, at(monday))
    j.do("jc", "visitation", {"visitationsdato": "2026-06-03", "til_raadighed": False, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": False, "cv_frist": "2026-06-22",
                              "vurdering": "Afviser at tage imod arbejde"}, at(date(2026, 6, 3)))
    j.do("jc", "cv_paa_jobnet", {"cv_paa_jobnet_dato": "2026-06-03"}, at(date(2026, 6, 3), 11))
    refusal = j.task("afslag_raadighed")
    assert refusal.unit == "ydelsesservice"
    # 14 working days from 3 June: Grundlovsdag (5 June) is a closing day -> 4, 8-12, 15-19, 22, 23, 24
    assert danish_day(refusal.due_at) == date(2026, 6, 24)
    j.do("ys", "afslag_raadighed", {"afgoerelsesdato": "2026-06-10", "begrundelse": "Ikke til rådighed",
                                    "klagevejledning_sendt": True, "afslag_sendt_dato": "2026-06-10",
                                    **REFUSAL_SENT}, at(date(2026, 6, 10)))
    [complaint] = [w for w in j.waits().values() if w.kind == "timer"]
    # four weeks from the day the citizen received it: by Digital Post, the day it was sent
    assert complaint.element_id == "klagefrist_fra_modtagelsen" and danish_day(complaint.due_at) == date(2026, 7, 8)
    assert j.case().data["afslag_modtaget_dato"] == "2026-06-10"
    assert j.fire(clock.as_utc(complaint.due_at) - timedelta(hours=1)) == 0
    assert j.fire(clock.as_utc(complaint.due_at) + timedelta(seconds=1)) == 1
    assert j.case().status == "completed"
    assert j.events("case_completed")[0].element_id == "afslag_endeligt"
    assert j.done_by() == [("tilmelding", "jobcenter", "jc"), ("visitation", "jobcenter", "jc"),
                           ("cv_paa_jobnet", "jobcenter", "jc"), ("afslag_raadighed", "ydelsesservice", "ys")]
    assert ("raadighed_gw", ["afslag_raadighed"]) in j.gateways()
    assert j.timers_passed() == ["klagefrist_fra_modtagelsen"]
    assert "ydelsesafgoerelse" not in [e.element_id for e in j.events("task_created")]


def test_insured_citizen_is_referred_to_the_a_kasse(journey):
    j = journey
    j.start(at(date(2026, 9, 7)), henvendelsesdato="2026-09-07", forsikret=True, akasse="3F A-kasse")
    row = j.task("henvis_akasse")
    assert row.unit == "jobcenter" and danish_day(row.due_at) == date(2026, 9, 7)
    j.do("jc", "henvis_akasse", {"akasse": "3F A-kasse", "henvist_dato": "2026-09-07"}, at(date(2026, 9, 7)))
    assert j.case().status == "completed"
    assert j.events("case_completed")[0].element_id == "henvist_til_akasse"
    assert j.gateways() == [("forsikret_gw", ["henvis_akasse"])]
    assert j.done_by() == [("henvis_akasse", "jobcenter", "jc")]
    assert "tilmelding" not in [e.element_id for e in j.events("task_created")]


def test_aktivitetsparat_with_a_sof_referral_beside_the_jobcenter(journey, session):
    j = journey
    complete_day = j.to_decision(date(2026, 9, 7), kategori="aktivitetsparat", problemer=True)
    # the referral left at the visitation (Wednesday 9 September), before Ydelsesservice decided
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))
    assert sof_case is not None and sof_case.citizen_id == j.case().citizen_id
    assert j.open() == ["tilbudsplan", "ydelsesafgoerelse"]
    sof_task = j.task("socialfaglig_vurdering", sof_case.id)
    assert sof_task.unit == "sof" and danish_day(sof_task.created_at) == date(2026, 9, 9)
    assert danish_day(sof_task.due_at) == date(2026, 9, 9) + timedelta(weeks=4)
    j.grant(complete_day)
    assert sof_case.data["problemomraader"] == "bolig, misbrug"  # SOF gets the jobcenter's assessment
    # ... and only what the referral's `payload` names: not the benefit decision or the rate
    referral = j.events("case_started", sof_case.id)[0].details["message_data"]
    assert set(referral) <= {"henvendelsesdato", "visitationsdato", "kategori", "problemer_ud_over_ledighed",
                             "problemomraader", "vurdering"} and "kategori" in referral
    assert "sats" not in sof_case.data and "begrundelse" not in sof_case.data
    [sent] = j.events("message_sent")
    assert sent.details == {"name": "sof_henvisning", "element_name": "Henvis til SOF", "to_case": sof_case.id,
                            "started": True, "cause": "jc"}  # sent by the system, caused by jc's visitation
    assert sent.actor == "system:engine" and sent.element_id == "henvis_sof"
    # the jobcenter carries on: the offer is due six months after the visitation (9 September)
    plan = j.task("tilbudsplan")
    assert plan.unit == "jobcenter" and danish_day(plan.due_at) == date(2027, 3, 9)
    assert "sof_tilbagemelding" in j.waits()

    j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik", "mentor_behov": True,
                               "koordinerende_sagsbehandler": "Hanne", "plan": "Praktik med mentor"},
         at(date(2026, 9, 16)))
    assert j.open() == ["bevilg_mentor", "match"]                                # mentor when needed, beside
    j.do("jc", "bevilg_mentor", {"mentor_navn": "Jens", "mentor_fra": "2026-09-21", "mentor_timer_pr_uge": 3,
                                 "mentor_formaal": "Støtte i praktikken"}, at(date(2026, 9, 17)))
    j.do("sof", "socialfaglig_vurdering", {"sof_vurderingsdato": "2026-09-21", "sof_vurdering": "Boligproblem",
                                           "sof_indsats": "Bostøtte", "sof_enkeltydelse_behov": True},
         at(date(2026, 9, 21)), case_id=sof_case.id)
    j.do("sof", "enkeltydelse", {"sof_enkeltydelse_type": "tandbehandling", "sof_enkeltydelse_bevilget": True,
                                 "sof_enkeltydelse_beloeb": 4_500, "sof_enkeltydelse_begrundelse": "Akut"},
         at(date(2026, 9, 22)), case_id=sof_case.id)
    assert j.case(sof_case.id).status == "completed"
    assert j.events("case_completed", sof_case.id)[0].element_id == "meld_tilbage"
    # SOF reported back; both units now have work on the case
    assert [(t.element_id, t.unit) for t in j.tasks()] == [("match", "virksomhedsservice"),
                                                           ("laes_sof_tilbagemelding", "jobcenter")]
    [received] = j.events("message_received")[1:]
    assert received.element_id == "sof_tilbagemelding" and received.actor == "system:engine"
    assert received.details["from_case"] == sof_case.id and received.details["cause"] == "sofie"
    assert received.details["data"]["sof_enkeltydelse_bevilget"] is True
    assert "sof_enkeltydelse_begrundelse" not in received.details["data"]  # SOF's own reasoning stays in SOF
    assert danish_day(j.task("laes_sof_tilbagemelding").due_at) == date(2026, 9, 29)  # 5 working days
    j.do("jc", "laes_sof_tilbagemelding", {"plan_tilpasning": "Bostøtte indgår"}, at(date(2026, 9, 23)))
    assert j.done_by(sof_case.id) == [("socialfaglig_vurdering", "sof", "sofie"), ("enkeltydelse", "sof", "sofie")]
    assert ("sof_gw", ["henvis_sof"]) in j.gateways()
    assert ("kategori_gw", ["tilbudsplan"]) in j.gateways() and ("tilbud_gw", ["placering_samlet"]) in j.gateways()
    assert ("kh_mentor_gw", ["bevilg_mentor", "forloeb_gw"]) in j.gateways() or \
        ("kh_mentor_gw", ["forloeb_gw", "bevilg_mentor"]) in j.gateways()
    assert j.case().status == "running" and j.open() == ["match"]


def test_employer_declines_and_virksomhedsservice_makes_a_new_match(journey):
    j = journey
    j.grant(j.to_decision(date(2026, 9, 7)))
    j.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Praktik",
                                "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 21)))
    j.agree(date(2026, 9, 22))
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": False}, at(date(2026, 9, 23)))
    assert j.open_of("virksomhedsservice") == ["match"] and j.open_of("jobcenter") == ["jobsamtale_2"]
    assert danish_day(j.task("match").due_at) == date(2026, 10, 7)
    assert ("bekraeftet_gw", ["match_samlet"]) in j.gateways()
    j.agree(date(2026, 9, 24), virksomhed="Plejehjemmet Solgården", cvr="87654321")
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 25)))
    assert j.open_of("virksomhedsservice") == [] and "besoeg_fra_start" in j.waits()  # visits begin at the start
    j.fire(at(date(2026, 9, 26), 8))                                             # agreed start: 26 September
    assert j.open_of("virksomhedsservice") == ["opfoelgning"]
    agreements = [e.details["data"] for e in j.events("task_completed") if e.element_id == "aftale"]
    assert [a["cvr"] for a in agreements] == ["12345678", "87654321"]
    # a drop-out during the placement also means a new match
    j.follow_up("frafald", date(2026, 10, 1))
    assert j.open_of("virksomhedsservice") == ["match"]
    assert ("opfoelgning_gw", ["match_samlet"]) in j.gateways()
    assert [e for e, _, _ in j.done_by()].count("match") == 2


def test_employer_never_answers_and_virksomhedsservice_gets_a_reminder(journey):
    j = journey
    j.grant(j.to_decision(date(2026, 9, 7)))
    j.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Praktik",
                                "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 21)))
    j.agree(date(2026, 9, 22))                                                   # Tuesday
    due = clock.as_utc(j.waits()["ingen_bekraeftelse"].due_at)
    assert danish_day(due) == date(2026, 9, 29)                                  # 5 working days
    assert j.fire(due - timedelta(hours=1)) == 0
    assert j.fire(due + timedelta(seconds=1)) == 1
    reminder = j.task("rykker_virksomhed")
    assert reminder.unit == "virksomhedsservice" and reminder.deadline_rule == "vp_rykker"
    assert danish_day(reminder.due_at) == date(2026, 10, 2)                      # 2 working days from Wednesday
    assert "virksomhed_bekraeftelse" not in j.waits()
    j.do("vs", "rykker_virksomhed", {"rykket_dato": "2026-09-30"}, at(date(2026, 9, 30)))
    assert "virksomhed_bekraeftelse" in j.waits()                                # waiting again
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 10, 1)))
    assert j.open_of("virksomhedsservice") == ["opfoelgning"]
    assert j.timers_passed() == ["ingen_bekraeftelse"]
    assert ("rykker_virksomhed", "virksomhedsservice", "vs") in j.done_by()


def test_absence_leads_to_a_sanction_decided_after_partshoering(journey):
    j = journey
    j.grant(j.to_decision(date(2026, 9, 7)))
    j.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Praktik",
                                "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 21)))
    j.agree(date(2026, 9, 22))
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 23)))
    j.fire(at(date(2026, 9, 24), 8))                                             # the agreed start: visits begin
    j.follow_up("fortsaetter", date(2026, 9, 30))
    # the employer reports absence; the placement goes on while the sanction is handled
    j.message("fravaer", {"fravaer_meldt_af": "Byggefirma A/S"}, at(date(2026, 10, 5)))  # Monday
    assert [(t.element_id, t.unit) for t in j.tasks() if t.element_id != "jobsamtale_2"] == [
        ("opfoelgning", "virksomhedsservice"), ("indstilling_sanktion", "jobcenter")]
    assert danish_day(j.task("indstilling_sanktion").due_at) == date(2026, 10, 12)
    j.do("jc", "indstilling_sanktion", {"fravaer_beskrivelse": "Udeblev 1.-2. oktober", "rimelig_grund": False,
                                        "indstilling": "sanktion", "indstilling_begrundelse": "Ingen afbud"},
         at(date(2026, 10, 6)))
    assert j.task("partshoering").unit == "ydelsesservice"
    j.do("ys", "partshoering", {"partshoering_sendt_dato": "2026-10-07", "partshoering_tekst": "Fravær"},
         at(date(2026, 10, 7)))
    j.follow_up("fortsaetter", date(2026, 10, 7))
    waits = j.waits()
    assert danish_day(waits["hoeringsfrist_udloebet"].due_at) == date(2026, 10, 21)  # two weeks to answer
    j.message("partshoering_svar", {"borgerens_bemaerkninger": "Var syg"}, at(date(2026, 10, 12)))
    decision = j.task("sanktion_afgoerelse")
    assert decision.unit == "ydelsesservice" and danish_day(decision.due_at) == date(2026, 10, 19)
    j.do("ys", "sanktion_afgoerelse", {"sanktion_afgoerelse": "sanktion", "sanktion_fradrag": 1_200,
                                       "sanktion_afgoerelsesdato": "2026-10-13",
                                       "sanktion_begrundelse": "Sygdom ikke dokumenteret"}, at(date(2026, 10, 13)))
    assert j.open_of("virksomhedsservice") == ["opfoelgning"]                                           # the placement carried on
    assert [d for d in j.done_by() if d[0] != "opfoelgning"][-3:] == [("indstilling_sanktion", "jobcenter", "jc"), ("partshoering", "ydelsesservice", "ys"),
                                ("sanktion_afgoerelse", "ydelsesservice", "ys")]
    assert ("indstilling_gw", ["partshoering"]) in j.gateways()
    assert [e.element_id for e in j.events("message_received")][-2:] == ["fravaer_meldt", "partshoering_svar"]
    passed = [e.element_id for e in j.events("element_passed")]
    assert "sanktion_afgjort" in passed
    # the placement still ends in a job and the case closes
    j.follow_up("ordinaert_job", date(2026, 10, 15))
    j.do("ys", "stop_ydelse", {"ophoersdato": "2026-10-31", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 10, 16)))
    assert j.case().status == "completed"


def test_no_answer_to_partshoering_the_decision_follows_the_deadline(journey):
    j = journey
    j.grant(j.to_decision(date(2026, 9, 7)))
    j.message("fravaer", {}, at(date(2026, 9, 21)))
    j.do("jc", "indstilling_sanktion", {"fravaer_beskrivelse": "Udeblev fra jobsamtale", "rimelig_grund": False,
                                        "indstilling": "sanktion", "indstilling_begrundelse": "Intet afbud"},
         at(date(2026, 9, 21)))
    j.do("ys", "partshoering", {"partshoering_sendt_dato": "2026-09-22", "partshoering_tekst": "Fravær"},
         at(date(2026, 9, 22)))
    due = clock.as_utc(j.waits()["hoeringsfrist_udloebet"].due_at)
    assert danish_day(due) == date(2026, 10, 6)
    assert j.fire(due + timedelta(seconds=1)) >= 1
    assert "sanktion_afgoerelse" in j.open()
    assert j.timers_passed() == ["hoeringsfrist_udloebet"]


def test_deadlines_across_a_weekend_and_easter_and_the_escalations(journey):
    j = journey
    friday = date(2026, 3, 27)
    j.start(at(friday), henvendelsesdato="2026-03-27", forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": "2026-03-27", "jobnet_tilmeldt": True}, at(friday))
    visitation = j.task("visitation")
    # one calendar week after the henvendelse: Good Friday, 3 April (a calendar rule does not skip holidays)
    assert visitation.deadline_rule == "visitation" and danish_day(visitation.due_at) == date(2026, 4, 3)
    # the visitation is late: the non-interrupting timer raises a reminder for the jobcenter's team lead
    assert j.fire(clock.as_utc(visitation.due_at) + timedelta(seconds=1)) == 1
    reminder = j.task("visitation_paamindelse")
    assert reminder.unit == "jobcenter" and reminder.deadline_rule == "kh_paamindelse"
    # created Saturday 4 April; 2 working days skip Easter Sunday and Monday: 7, 8 April
    assert danish_day(reminder.due_at) == date(2026, 4, 8)
    assert j.open() == ["visitation", "visitation_paamindelse"]                 # the visitation goes on
    j.do("jclead", "visitation_paamindelse", {"handling": "Omfordelt til jc"}, at(date(2026, 4, 7)))
    assert "visitation_paamindelse_frist" not in j.waits()                      # no further escalation
    j.do("jc", "visitation", {"visitationsdato": "2026-04-07", "til_raadighed": True, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": False, "cv_frist": "2026-04-17",
                              "vurdering": "Til rådighed"}, at(date(2026, 4, 7), 11))
    j.do("jc", "cv_paa_jobnet", {"cv_paa_jobnet_dato": "2026-04-07"}, at(date(2026, 4, 7), 12))
    # no application within a week of the visitation: Ydelsesservice reminds the citizen, then waits again
    no_application = clock.as_utc(j.waits()["ansoegning_ikke_modtaget"].due_at)
    assert danish_day(no_application) == date(2026, 4, 14)
    assert j.fire(no_application + timedelta(seconds=1)) == 1
    assert [(t.element_id, t.unit) for t in j.tasks()] == [("jobsamtale_1", "jobcenter"),
                                                           ("rykker_ansoegning", "ydelsesservice")]
    j.do("ys", "rykker_ansoegning", {"rykker_sendt_dato": "2026-04-15"}, at(date(2026, 4, 15)))
    # the final deadline counts from the visitation too (two weeks: 21 April), not from the reminder
    assert danish_day(j.waits()["dokumentation_udeblevet"].due_at) == date(2026, 4, 21)
    assert "dokumentation_modtaget" in j.waits()
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-04-16"}, at(date(2026, 4, 16)))
    # an incomplete application: the citizen is reminded again, and the final deadline stays where it was
    j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": False, "manglende_dokumentation": "Kontoudtog"},
         at(date(2026, 4, 16)))
    j.do("ys", "rykker_ansoegning", {"rykker_sendt_dato": "2026-04-16", "rykker_note": "Kontoudtog"},
         at(date(2026, 4, 16), 11))
    assert danish_day(j.waits()["dokumentation_udeblevet"].due_at) == date(2026, 4, 21)
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-04-17"}, at(date(2026, 4, 17)))
    # the decision is due 14 working days after the complete application, here dated back to
    # Friday 27 March: 30, 31 March, 1 April, (Easter 2-6 April), 7-10, 13-17, 20, 21 April
    j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-03-27"},
         at(date(2026, 4, 17)))
    decision = j.task("ydelsesafgoerelse")
    assert decision.deadline_rule == "ydelsesafgoerelse" and danish_day(decision.due_at) == date(2026, 4, 21)
    late = j.waits()["ydelsesafgoerelse_frist"]
    assert clock.as_utc(late.due_at) == clock.as_utc(decision.due_at)           # the escalation matches the deadline
    assert j.fire(clock.as_utc(late.due_at) + timedelta(seconds=1)) == 1
    ys_reminder = j.task("ydelsesafgoerelse_paamindelse")
    assert ys_reminder.unit == "ydelsesservice" and danish_day(ys_reminder.due_at) == date(2026, 4, 24)
    j.do("yslead", "ydelsesafgoerelse_paamindelse", {"handling": "Prioriteret"}, at(date(2026, 4, 22)))
    # sent on paper: received 5 working days later (Wednesday 29 April), four weeks from then
    j.do("ys", "ydelsesafgoerelse", {"afgoerelse": "afslag", "afgoerelsesdato": "2026-04-22",
                                     "begrundelse": "Formue over grænsen", "afslag_sendt_dato": "2026-04-22",
                                     "afslag_forsendelse": "papirpost"}, at(date(2026, 4, 22), 11))
    complaint = j.waits()["klagefrist_fra_modtagelsen"]
    assert j.case().data["afslag_modtaget_dato"] == "2026-04-29"
    assert danish_day(complaint.due_at) == date(2026, 5, 27)
    assert j.timers_passed() == ["visitation_frist", "ansoegning_ikke_modtaget", "ydelsesafgoerelse_frist"]
    assert ("komplet_gw", ["rykker_samlet"]) in j.gateways()
    assert ("afgoerelse_gw", ["afslag_samlet"]) in j.gateways()
    assert [(e, u) for e, u, _ in j.done_by()] == [
        ("tilmelding", "jobcenter"), ("visitation_paamindelse", "jobcenter"), ("visitation", "jobcenter"),
        ("cv_paa_jobnet", "jobcenter"), ("rykker_ansoegning", "ydelsesservice"),
        ("kontroller_ansoegning", "ydelsesservice"), ("rykker_ansoegning", "ydelsesservice"),
        ("kontroller_ansoegning", "ydelsesservice"), ("ydelsesafgoerelse_paamindelse", "ydelsesservice"),
        ("ydelsesafgoerelse", "ydelsesservice")]
