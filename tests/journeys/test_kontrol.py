"""Ydelsesservice's control cases (kontrol) through the real diagram in processes/kontrol.

A suspicion comes in as a message (a tip, a register match) or is typed in from "Opret sag";
Ydelsesservice registers it, investigates (oplysning), hears the citizen (partshøring) before any
claim, decides (no basis, repayment claim, police report), and the jobcenter, which coordinates the
citizen's case, is told the outcome. Forms in forms/, deadlines in config/deadlines.toml; time moves
with clock.at and fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, handover, runtime
from engine.case_rules import CaseRules
from engine.errors import FormRejected
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
KONTROL = ROOT / "processes" / "kontrol" / "kontrol.bpmn"
CPR = "0101901234"
MONDAY = date(2026, 9, 7)
TIP = {"mistanke_modtaget_dato": MONDAY.isoformat(), "mistanke_kilde": "anonym_henvendelse", "ydelse": "kontanthjaelp",
       "mistanke_beskrivelse": "Arbejder sort som tømrer", "mistanke_periode_fra": "2026-05-01"}


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


@pytest.fixture
def users(seed, session):
    return seed(KONTROL, rules=RULES) | {"yslead": f.add_user(session, "yslead", "teamlead", ["ydelsesservice"])}


class Kontrol:
    def __init__(self, db, session, users):
        self.db, self.session, self.users = db, session, users
        self.case_id: str | None = None

    def tip(self, when: datetime, **data) -> Case:
        """The suspicion as a message from outside (a tip, a register match), keyed by the citizen's CPR."""
        with clock.at(when):
            case = runtime.correlate_message(self.session, name="kontrol_mistanke", correlation_key=CPR,
                                             data={**TIP, **data}, user=self.users["system"], rules=RULES)
        self.session.commit()
        self.case_id = case.id
        return case

    def opret(self, when: datetime, **data) -> Case:
        """The same suspicion typed in by Ydelsesservice ("Opret sag"): the start form is the message's."""
        with clock.at(when):
            case = f.start_case(self.session, "kontrol", actor=self.users["ys"], cpr=CPR, data={**TIP, **data},
                                rules=RULES)
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

    def do(self, element, data, when: datetime, user="ys") -> HumanTask:
        row = self.task(element)
        assert row.unit in self.users[user].units, (element, row.unit, user)
        with clock.at(when):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users[user], rules=RULES)
        self.session.commit()
        return row

    def refused(self, element, data, when: datetime) -> dict:
        row = self.task(element)
        with clock.at(when), pytest.raises(FormRejected) as caught:
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users["ys"], rules=RULES)
        self.session.rollback()
        return {e["field"]: e["message"] for e in caught.value.detail}

    def answer(self, data, when: datetime) -> None:
        with clock.at(when):
            runtime.correlate_message(self.session, name="kontrol_partshoering_svar", correlation_key=self.case_id,
                                      data=data, user=self.users["system"], rules=RULES)
        self.session.commit()

    def waits(self) -> dict[str, Wait]:
        self.session.expire_all()
        return {w.element_id: w for w in self.session.scalars(select(Wait).where(Wait.case_id == self.case_id))}

    def fire(self, now: datetime) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=now).fired

    def events(self, type_=None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.case_id == self.case_id).order_by(AuditEvent.seq)
        if type_:
            query = query.where(AuditEvent.type == type_)
        return list(self.session.scalars(query))

    def gateways(self) -> list[tuple[str, list]]:
        return [(e.element_id, e.details.get("taken")) for e in self.events("gateway_taken")]

    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    def done_by(self) -> list[tuple[str, str]]:
        self.session.expire_all()
        rows = self.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                            HumanTask.status == "completed")
                                    .order_by(HumanTask.completed_at, HumanTask.element_id))
        return [(r.element_id, r.unit) for r in rows]

    # -- the steps, each on the last day its deadline allows (the worst ordinary case) -------------------

    def last_day(self, element) -> date:
        return danish_day(self.task(element).due_at)

    def register(self, undersoeges=True) -> date:
        day = self.last_day("registrering")
        self.do("registrering", {"kontrol_registreret_dato": day.isoformat(), "undersoeges": undersoeges,
                                 "registrering_begrundelse": "Konkret og troværdig henvendelse"}, at(day))
        return day

    def investigate(self, underbygget=True) -> date:
        day = self.last_day("oplysning")
        data = {"oplysning_kilder": "eIndkomst, kontoudtog", "oplysning_afsluttet_dato": day.isoformat(),
                "mistanke_underbygget": underbygget}
        if underbygget:
            data |= {"uberettiget_beloeb": 24_000, "uberettiget_fra": "2026-05-01", "uberettiget_til": "2026-07-31"}
        self.do("oplysning", data, at(day))
        return day

    def hear(self) -> date:
        day = self.last_day("partshoering")
        self.do("partshoering", {"kontrol_partshoering_sendt_dato": day.isoformat(),
                                 "kontrol_partshoering_tekst": "Indtægt fra arbejde maj-juli"}, at(day))
        return day

    def decide(self, afgoerelse, day: date | None = None) -> date:
        day = day or self.last_day("afgoerelse")
        data = {"kontrol_afgoerelse": afgoerelse, "kontrol_afgoerelsesdato": day.isoformat(),
                "kontrol_begrundelse": "Se oplysningerne"}
        if afgoerelse != "intet_grundlag":
            data |= {"tilbagebetaling_beloeb": 24_000, "klagevejledning_givet": True}
        self.do("afgoerelse", data, at(day))
        return day

    def notified(self) -> HumanTask:
        row = self.task("orientering_jobcenter")
        assert row.unit == "jobcenter"
        day = danish_day(row.due_at)
        self.do("orientering_jobcenter", {"orientering_laest_dato": day.isoformat(),
                                          "betydning_for_forloebet": "Ingen ændring i planen"}, at(day), user="jc")
        return row


@pytest.fixture
def kontrol(db, session, users) -> Kontrol:
    return Kontrol(db, session, users)


def test_a_tip_by_message_starts_a_case_and_no_basis_after_investigation(kontrol, session):
    k = kontrol
    case = k.tip(at(MONDAY))
    assert case.process_key == "kontrol" and case.status == "running"
    assert k.open() == ["registrering"]
    reg = k.task("registrering")
    assert reg.unit == "ydelsesservice" and reg.deadline_rule == "kontrol_registrering"
    assert danish_day(reg.due_at) == date(2026, 9, 14)                           # 5 working days from the tip
    k.register()
    assert k.task("oplysning").deadline_rule == "kontrol_oplysning"
    assert k.last_day("oplysning") == MONDAY + timedelta(weeks=6)               # from the tip, not the task
    k.investigate(underbygget=False)
    # nothing against the citizen: no partshøring, straight to the decision
    assert k.open() == ["afgoerelse"] and ("underbygget_gw", ["afgoerelse_samlet"]) in k.gateways()
    assert k.last_day("afgoerelse") == date(2026, 12, 7)                         # 3 months from the tip
    decided = k.decide("intet_grundlag")
    row = k.notified()
    assert danish_day(row.due_at) == decided + timedelta(days=7)                 # 5 working days (Mon -> Mon)
    assert k.case().status == "completed" and k.events("case_completed")[0].element_id == "kontrol_afsluttet"
    assert k.done_by() == [("registrering", "ydelsesservice"), ("oplysning", "ydelsesservice"),
                           ("afgoerelse", "ydelsesservice"), ("orientering_jobcenter", "jobcenter")]


def test_repayment_claim_after_the_citizen_answers_the_partshoering(kontrol, session):
    k = kontrol
    k.opret(at(MONDAY), mistanke_kilde="registersamkoering")                    # typed in: "Opret sag"
    assert k.open() == ["registrering"]
    assert "mistanke_modtaget" not in k.waits()                                   # begun with the message itself
    k.register()
    investigated = k.investigate()
    assert k.open() == ["partshoering"]
    assert k.last_day("partshoering") == investigated + timedelta(days=7)       # 5 working days
    sent = k.hear()
    wait = k.waits()
    assert wait["partshoering_svar"].message == "kontrol_partshoering_svar"
    assert danish_day(wait["hoeringsfrist_udloebet"].due_at) == sent + timedelta(days=14)
    k.answer({"kontrol_bemaerkninger": "Det var hjælp til en ven, ikke arbejde",
              "kontrol_bemaerkninger_modtaget_dato": (sent + timedelta(days=3)).isoformat()}, at(sent + timedelta(days=3)))
    assert k.open() == ["afgoerelse"] and "hoeringsfrist_udloebet" not in k.waits()
    decided = k.decide("tilbagebetaling", sent + timedelta(days=4))
    assert ("afgoerelse_gw", ["underret_samlet"]) in k.gateways()
    row = k.notified()
    # the jobcenter sees what was decided and when, not the amount or Ydelsesservice's reasons
    context = {r.field for r in handover.task_context(session, row, forms_dir=RULES.forms_dir)}
    assert {"kontrol_afgoerelse", "kontrol_afgoerelsesdato", "ydelse"} <= context
    assert not {"tilbagebetaling_beloeb", "kontrol_begrundelse", "uberettiget_beloeb"} & context
    assert danish_day(row.due_at) == decided + timedelta(days=7)
    assert k.case().status == "completed"
    assert k.case().data["tilbagebetaling_beloeb"] == 24_000


def test_no_answer_by_the_partshoering_deadline_then_a_police_report(kontrol):
    k = kontrol
    k.tip(at(MONDAY), mistanke_kilde="registersamkoering")
    k.register()
    k.investigate()
    sent = k.hear()
    due = clock.as_utc(k.waits()["hoeringsfrist_udloebet"].due_at)
    assert k.fire(due - timedelta(seconds=1)) == 0                               # the citizen has the whole period
    assert k.fire(due + timedelta(seconds=1)) >= 1
    assert danish_day(due) == sent + timedelta(days=14)
    assert k.open() == ["afgoerelse"] and "partshoering_svar" not in k.waits()
    assert "hoeringsfrist_udloebet" in [e.element_id for e in k.events() if e.type in ("timer_fired", "element_passed")]
    decided = k.decide("politianmeldelse", sent + timedelta(days=15))
    report = k.task("politianmeldelse")
    assert report.unit == "ydelsesservice" and danish_day(report.due_at) == decided + timedelta(days=7)
    errors = k.refused("politianmeldelse", {"politianmeldt_dato": (decided - timedelta(days=1)).isoformat(),
                                            "politikreds": "Nordjyllands Politi"}, at(decided))
    assert set(errors) == {"politianmeldt_dato"} and "Afgørelsen er truffet den" in errors["politianmeldt_dato"]
    k.do("politianmeldelse", {"politianmeldt_dato": decided.isoformat(), "politikreds": "Nordjyllands Politi"},
         at(decided))
    k.notified()
    assert k.case().status == "completed"
    assert [e for e, _ in k.done_by()] == ["registrering", "oplysning", "partshoering", "afgoerelse",
                                           "politianmeldelse", "orientering_jobcenter"]


def test_a_claim_is_never_decided_without_partshoering(kontrol):
    k = kontrol
    k.tip(at(MONDAY))
    k.register()
    k.investigate(underbygget=False)
    k.decide("tilbagebetaling", date(2026, 10, 20))                              # a claim, but nobody was heard
    assert k.open() == ["partshoering"] and ("afgoerelse_gw", ["partshoering_samlet"]) in k.gateways()
    assert "orientering_jobcenter" not in k.open()
    sent = k.hear()
    k.answer({"kontrol_bemaerkninger": "Ingen bemærkninger",
              "kontrol_bemaerkninger_modtaget_dato": sent.isoformat()}, at(sent, 12))
    k.decide("tilbagebetaling", sent + timedelta(days=1))                        # now it may stand
    assert ("afgoerelse_gw", ["underret_samlet"]) in k.gateways()
    k.notified()
    assert k.case().status == "completed"


def test_a_groundless_tip_is_shelved_without_investigation_or_the_jobcenter(kontrol):
    k = kontrol
    k.tip(at(MONDAY))
    k.register(undersoeges=False)
    assert k.case().status == "completed" and k.events("case_completed")[0].element_id == "henlagt"
    assert k.done_by() == [("registrering", "ydelsesservice")]


def test_bad_input_is_refused_in_danish_and_nothing_is_lost(kontrol, session):
    k = kontrol
    # a message whose data the start form refuses starts no case
    with clock.at(at(MONDAY)), pytest.raises(FormRejected) as caught:
        runtime.correlate_message(session, name="kontrol_mistanke", correlation_key=CPR,
                                  data={"mistanke_modtaget_dato": "2026-09-30", "mistanke_kilde": "naboen",
                                        "ydelse": "kontanthjaelp"}, user=k.users["system"], rules=RULES)
    session.rollback()
    errors = {e["field"]: e["message"] for e in caught.value.detail}
    assert set(errors) == {"mistanke_modtaget_dato", "mistanke_kilde", "mistanke_beskrivelse"}
    assert session.scalar(select(Case).where(Case.process_key == "kontrol")) is None
    k.tip(at(MONDAY))
    errors = k.refused("registrering", {"kontrol_registreret_dato": "2026-09-04", "undersoeges": True,
                                        "registrering_begrundelse": "x"}, at(MONDAY))
    assert set(errors) == {"kontrol_registreret_dato"} and "Mistanken er modtaget den" in errors["kontrol_registreret_dato"]
    k.register()
    errors = k.refused("oplysning", {"oplysning_kilder": "eIndkomst", "oplysning_afsluttet_dato": "2026-09-14",
                                     "mistanke_underbygget": True}, at(date(2026, 9, 14)))
    assert set(errors) == {"uberettiget_beloeb", "uberettiget_fra", "uberettiget_til"}
    k.investigate()
    sent = k.hear()
    # the citizen's answer cannot be dated in the future (a message from outside is checked by its form)
    with clock.at(at(sent)), pytest.raises(FormRejected) as caught:
        runtime.correlate_message(session, name="kontrol_partshoering_svar", correlation_key=k.case_id,
                                  data={"kontrol_bemaerkninger": "Nej",
                                        "kontrol_bemaerkninger_modtaget_dato": (sent + timedelta(days=1)).isoformat()},
                                  user=k.users["system"], rules=RULES)
    session.rollback()
    assert [e["field"] for e in caught.value.detail] == ["kontrol_bemaerkninger_modtaget_dato"]
    assert "partshoering_svar" in k.waits()                                      # still waiting, nothing lost
    k.answer({"kontrol_bemaerkninger": "Nej", "kontrol_bemaerkninger_modtaget_dato": sent.isoformat()}, at(sent, 12))
    errors = k.refused("afgoerelse", {"kontrol_afgoerelse": "tilbagebetaling", "kontrol_afgoerelsesdato": sent.isoformat(),
                                      "kontrol_begrundelse": "Krav"}, at(sent, 13))
    assert set(errors) == {"tilbagebetaling_beloeb", "klagevejledning_givet"}
    assert errors["tilbagebetaling_beloeb"].startswith("Tilbagebetalingskrav (kr.): skal udfyldes")
    assert errors["klagevejledning_givet"].startswith("Klagevejledning er givet: skal udfyldes")
    assert k.open() == ["afgoerelse"]
