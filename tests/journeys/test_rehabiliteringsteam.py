"""The rehabiliteringsteam (DOMAIN.md, 004_*) through the real diagram, forms and deadlines.

processes/rehabiliteringsteam/rehabiliteringsteam.bpmn is called the way the journeys call it, from
the small caller tests/data/rehab_caller.bpmn, which branches on `rehab_afgoerelse` as they do. Each
step is done by a user of the unit whose inbox it lands in, at the last moment its deadline allows
(the worst ordinary case); time moves only by clock.at(...) and fire_due_timers(now=...).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.errors import EngineError
from engine.models import AuditEvent, Case, HumanTask
from engine.statuses import CaseStatus
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
REHAB = ROOT / "processes" / "rehabiliteringsteam" / "rehabiliteringsteam.bpmn"
CALLER = f.DATA / "rehab_caller.bpmn"
CONTRIBUTIONS = {"forbered_sag": "jobcenter", "uddannelsesfagligt_bidrag": "jobcenter",
                 "socialfagligt_bidrag": "sof", "sundhedsfagligt_bidrag": "rehabiliteringsteam"}
OUTCOMES = ["ressourceforloeb", "jobafklaringsforloeb", "fleksjob", "foertidspension", "ordinaert_forloeb"]
VISITATION = date(2026, 9, 7)  # a Monday


@pytest.fixture
def users(seed, session):
    return seed(REHAB, CALLER, rules=RULES) | {
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
        "rehablead": f.add_user(session, "rehablead", "teamlead", ["rehabiliteringsteam"]),
    }


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


class Team:
    """One citizen's referral to the team, worked by the units."""

    WORKER = {"jobcenter": "jc", "sof": "sof", "rehabiliteringsteam": "rehab"}

    def __init__(self, db, session, users):
        self.db, self.session, self.users = db, session, users
        self.case_id = ""

    def start(self, on: date, **data) -> Case:
        with clock.at(at(on)):
            case = f.start_case(self.session, "rehab_caller", actor=self.users["jc"], data=data, rules=RULES)
        self.case_id = case.id
        return case

    def open(self) -> dict[str, HumanTask]:
        self.session.expire_all()
        rows = self.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                            HumanTask.status.in_(("open", "claimed"))))
        return {t.element_id: t for t in rows}

    def do(self, element: str, data: dict, on: date, user: str | None = None) -> None:
        row = self.open()[element]
        who = self.users[user or self.WORKER[row.unit]]
        assert row.unit in who.units
        with clock.at(at(on)):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=who, rules=RULES)
        self.session.commit()

    def prepare(self, on: date, henvisning="sygedagpenge_kategori3") -> None:
        self.do("forbered_sag", {"rehab_henvisning": henvisning, "moededato_rehabiliteringsteam": on.isoformat(),
                                 "rehabiliteringsplan_forberedende_del": True,
                                 "beskaeftigelsesfaglig_vurdering": "Kan ikke vende tilbage til sit fag"}, on)
        self.do("uddannelsesfagligt_bidrag", {"uddannelse_vurdering": "Faglært tømrer", "uddannelse_relevant": False}, on)
        self.do("socialfagligt_bidrag", {"sof_problemomraader": "Bolig", "sof_indsats": True,
                                         "sof_bidrag": "Bostøtte er bevilget"}, on)
        self.do("sundhedsfagligt_bidrag", {"sundhed_vurdering": "Kroniske rygsmerter, behandling afsluttet",
                                           "sundhed_yderligere_udredning": False}, on)

    def meet(self, on: date, indstilling: str) -> None:
        self.do("rehabiliteringsmoede", {"rehab_moededato": on.isoformat(), "borger_deltog": True,
                                         "rehab_indstilling": indstilling, "rehab_begrundelse": "Teamets drøftelse"}, on)

    def decide(self, on: date, afgoerelse: str, decided: date | None = None) -> None:
        self.do("kommunens_afgoerelse", {"rehab_afgoerelse": afgoerelse,
                                         "rehab_afgoerelsesdato": (decided or on).isoformat(),
                                         "rehab_afgoerelse_begrundelse": "Følger teamets indstilling"}, on)

    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    def events(self, type_: str) -> list[AuditEvent]:
        return list(self.session.scalars(select(AuditEvent).where(AuditEvent.case_id == self.case_id,
                                                                  AuditEvent.type == type_)
                                         .order_by(AuditEvent.seq)))

    def gateways(self) -> dict[str, list]:
        return {e.element_id: e.details.get("taken") for e in self.events("gateway_taken")}

    def fire(self, now: datetime) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=now).fired


@pytest.fixture
def team(db, session, users):
    return Team(db, session, users)


def test_called_for_category_3_every_unit_uses_its_full_time_and_no_task_is_born_overdue(team):
    meeting_by = VISITATION + timedelta(weeks=4)  # the caller's rule: 4 weeks from the visitation
    team.start(VISITATION, rehab_henvisning="sygedagpenge_kategori3",
               rehab_henvisningsdato=VISITATION.isoformat(), rehab_moede_senest=meeting_by.isoformat())
    tasks = team.open()
    assert {k: t.unit for k, t in tasks.items()} == CONTRIBUTIONS  # the disciplines prepare in parallel
    prepared_by = VISITATION + timedelta(weeks=2)
    assert {danish_day(t.due_at) for t in tasks.values()} == {prepared_by}

    team.prepare(prepared_by)  # the last allowed day, each of them
    [meeting] = team.open().values()
    assert (meeting.element_id, meeting.unit) == ("rehabiliteringsmoede", "rehabiliteringsteam")
    assert danish_day(meeting.due_at) == meeting_by and clock.as_utc(meeting.due_at) > at(prepared_by)

    team.meet(meeting_by, "ressourceforloeb")
    [decision] = team.open().values()
    assert (decision.element_id, decision.unit) == ("kommunens_afgoerelse", "jobcenter")
    assert danish_day(decision.due_at) == meeting_by + timedelta(weeks=2)
    team.decide(meeting_by + timedelta(weeks=2), "ressourceforloeb")

    case = team.case()
    assert case.status == CaseStatus.COMPLETED
    assert case.data["rehab_indstilling"] == case.data["rehab_afgoerelse"] == "ressourceforloeb"
    assert case.data["rehab_afgoerelsesdato"] == (meeting_by + timedelta(weeks=2)).isoformat()
    assert case.data["rehab_henvisning"] == "sygedagpenge_kategori3"
    assert case.data["rehab_forelaeggelsesdato"] == VISITATION.isoformat()
    # The optional inputs are consumed, so a second referral in the same case counts afresh.
    assert case.data["rehab_henvisningsdato"] is None and case.data["rehab_moede_senest"] is None
    assert team.gateways()["efter_rehab"] == ["end_ressourceforloeb"]
    assert not team.events("reminder_sent") and team.fire(at(meeting_by + timedelta(weeks=3))) == 0


@pytest.mark.parametrize("indstilling", OUTCOMES)
def test_every_indstilling_reaches_the_callers_branch_through_the_municipalitys_decision(team, indstilling):
    team.start(VISITATION, rehab_henvisning="aktivitetsparat")
    team.prepare(VISITATION + timedelta(days=3), henvisning="aktivitetsparat")
    team.meet(VISITATION + timedelta(days=10), indstilling)
    team.decide(VISITATION + timedelta(days=12), indstilling)
    case = team.case()
    assert case.status == CaseStatus.COMPLETED
    assert (case.data["rehab_indstilling"], case.data["rehab_afgoerelse"]) == (indstilling, indstilling)
    taken = team.gateways()
    assert taken["rehab_afgoerelse_gw"] == [f"slut_{indstilling}"] and taken["efter_rehab"] == [f"end_{indstilling}"]


def test_the_caller_follows_the_municipalitys_decision_not_the_teams_indstilling(team):
    team.start(VISITATION, rehab_henvisning="jobafklaring")
    team.prepare(VISITATION, henvisning="jobafklaring")
    team.meet(VISITATION + timedelta(days=7), "foertidspension")
    team.decide(VISITATION + timedelta(days=8), "fleksjob")
    case = team.case()
    assert (case.data["rehab_indstilling"], case.data["rehab_afgoerelse"]) == ("foertidspension", "fleksjob")
    assert team.gateways()["efter_rehab"] == ["end_fleksjob"]


def test_without_inputs_the_ordinary_referral_counts_from_the_day_of_the_call(team):
    team.start(VISITATION)
    assert {danish_day(t.due_at) for t in team.open().values()} == {VISITATION + timedelta(weeks=2)}
    team.prepare(VISITATION + timedelta(weeks=2), henvisning="ordinaer")
    assert danish_day(team.open()["rehabiliteringsmoede"].due_at) == VISITATION + timedelta(weeks=4)  # the standard
    team.meet(VISITATION + timedelta(weeks=4), "ordinaert_forloeb")
    team.decide(VISITATION + timedelta(weeks=4), "ordinaert_forloeb")
    case = team.case()
    assert case.data["rehab_forelaeggelsesdato"] == VISITATION.isoformat()
    assert case.data["rehab_moedefrist"] == (VISITATION + timedelta(weeks=4)).isoformat()
    assert case.data["rehab_henvisning"] == "ordinaer"


def test_a_tight_meeting_deadline_pulls_the_preparation_forward(team):
    meeting_by = VISITATION + timedelta(days=9)
    team.start(VISITATION, rehab_henvisning="langvarig_aktivitetsparat", rehab_moede_senest=meeting_by.isoformat())
    assert {danish_day(t.due_at) for t in team.open().values()} == {meeting_by}


def test_an_overdue_step_raises_a_reminder_for_the_team_leads_which_closes_with_the_work(team):
    team.start(VISITATION, rehab_henvisning="sygedagpenge_kategori3", rehab_henvisningsdato=VISITATION.isoformat())
    team.prepare(VISITATION + timedelta(days=2))
    assert team.fire(at(VISITATION + timedelta(weeks=4))) == 0  # due at the end of that day
    assert team.fire(at(VISITATION + timedelta(weeks=4, days=1))) == 1
    reminder = team.open()["rehabiliteringsmoede_paamindelse"]
    assert (reminder.unit, reminder.audience) == ("rehabiliteringsteam", "teamlead")
    team.meet(VISITATION + timedelta(weeks=4, days=2), "ordinaert_forloeb")
    assert set(team.open()) == {"kommunens_afgoerelse"}
    assert [e.element_id for e in team.events("reminder_closed")] == ["rehabiliteringsmoede_paamindelse"]


@pytest.mark.parametrize("data, needle", [
    ({"rehab_henvisning": "sygedagpenge"}, "rehab_henvisning"),
    ({"rehab_henvisningsdato": "2026-09-07", "rehab_moede_senest": "2026-09-01"}, "rehab_moede_senest"),
    ({"rehab_henvisningsdato": "7. september"}, "rehab_henvisningsdato"),
])
def test_bad_input_from_the_caller_is_refused_and_nothing_is_started(team, session, data, needle):
    with pytest.raises(EngineError) as raised:
        team.start(VISITATION, **data)
    session.rollback()
    assert needle in f"{raised.value} {raised.value.detail}"
    assert session.scalar(select(Case).where(Case.process_key == "rehab_caller")) is None


def test_a_decision_dated_before_the_meeting_is_refused_and_nothing_changes(team, session):
    team.start(VISITATION)
    team.prepare(VISITATION)
    team.meet(VISITATION + timedelta(days=7), "fleksjob")
    with pytest.raises(EngineError):
        team.decide(VISITATION + timedelta(days=8), "fleksjob", decided=VISITATION + timedelta(days=6))
    session.rollback()
    assert set(team.open()) == {"kommunens_afgoerelse"}
    assert "rehab_afgoerelse" not in team.case().data
