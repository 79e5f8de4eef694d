"""Long-term aktivitetsparate (DOMAIN.md, 004_* s. 9-11) through the real diagrams, forms and deadlines.

processes/langvarig_aktivitetsparat is started from »Opret sag« with its start form, or called (as
kontanthjælp's aktivitetsparat branch calls it; here from tests/data/langvarig_caller.bpmn), and calls
processes/rehabiliteringsteam for the team's target group. Staff use their full allowed time at every
step (the worst ordinary case); time moves only by clock.at(...) and fire_due_timers(now=...).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from api.web import queries
from engine import case_attributes, clock, runtime
from engine.case_rules import CaseRules
from engine.errors import EngineError
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.statuses import CaseStatus
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
DEADLINES = ROOT / "config" / "deadlines.toml"
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=DEADLINES)
PROCESSES = (ROOT / "processes" / "rehabiliteringsteam", ROOT / "processes" / "langvarig_aktivitetsparat")
CALLER = f.DATA / "langvarig_caller.bpmn"
START = date(2026, 9, 1)
REHAB_TASKS = {"forbered_sag", "uddannelsesfagligt_bidrag", "socialfagligt_bidrag", "sundhedsfagligt_bidrag"}


@pytest.fixture
def users(seed, session):
    return seed(*PROCESSES, CALLER, rules=RULES) | {
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
    }


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


class Forloeb:
    """One citizen's forløb, worked by the jobcenter (and, for the team, by its disciplines)."""

    WORKER = {"jobcenter": "jc", "sof": "sof", "rehabiliteringsteam": "rehab"}

    def __init__(self, db, session, users):
        self.db, self.session, self.users = db, session, users
        self.case_id = ""

    def start(self, on: date, process="langvarig_aktivitetsparat", **data) -> Case:
        with clock.at(at(on)):
            case = f.start_case(self.session, process, actor=self.users["jc"], data=data, rules=RULES)
        self.case_id = case.id
        self.check_none_born_overdue(on)
        return case

    def open(self) -> dict[str, HumanTask]:
        self.session.expire_all()
        rows = self.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                            HumanTask.status.in_(("open", "claimed"))))
        return {t.element_id: t for t in rows}

    def due(self, element: str) -> date:
        return danish_day(self.open()[element].due_at)

    def check_none_born_overdue(self, on: date) -> None:
        for row in self.open().values():
            assert row.due_at is not None and danish_day(row.due_at) >= on, (row.element_id, row.due_at, on)

    def do(self, element: str, data: dict, on: date, rules: CaseRules = RULES) -> None:
        row = self.open()[element]
        who = self.users[self.WORKER[row.unit]]
        with clock.at(at(on)):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=who, rules=rules)
        self.session.commit()
        self.check_none_born_overdue(on)

    def waits(self) -> dict[str, Wait]:
        self.session.expire_all()
        return {w.element_id: w for w in self.session.scalars(select(Wait).where(Wait.case_id == self.case_id))}

    def fire(self, now: datetime) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=now).fired

    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    def gateways(self) -> list[tuple[str, list]]:
        return [(e.element_id, e.details.get("taken")) for e in self.session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == self.case_id, AuditEvent.type == "gateway_taken")
            .order_by(AuditEvent.seq))]

    # -- the steps, each on the last day its deadline allows unless told ------------------------------

    def samtale(self, on: date | None = None) -> date:
        on = on or self.due("forberedende_samtale")
        self.do("forberedende_samtale", {"la_samtaledato": on.isoformat(), "la_samtale_referat": "Ønsker job i detail",
                                         "fagpersoner": "Socialrådgiver, sundhedskoordinator"}, on)
        return on

    def stepup(self, vurdering: str, element="stepup_moede", on: date | None = None) -> date:
        on = on or self.due(element)
        self.do(element, {"stepup_dato": on.isoformat(), "stepup_deltagere": "Borger, sagsbehandler, SOF, sundhed",
                          "stepup_vurdering": vurdering, "stepup_begrundelse": "Tværfaglig vurdering"}, on)
        return on

    def tilknyt(self, on: date | None = None) -> date:
        on = on or self.due("tilknyt_jobformidler")
        self.do("tilknyt_jobformidler", {"jobformidler": "Jonas Jobformidler", "tilknytningsdato": on.isoformat()}, on)
        return on

    def uge(self, status="fortsat", on: date | None = None, start: date | None = None,
            rules: CaseRules = RULES) -> date:
        on = on or self.due("ugentlig_kontakt")
        data = {"kontaktdato": on.isoformat(), "kontaktform": "personligt", "kontakt_referat": "Jobsøgning",
                "kontakt_status": status}
        if start:
            data["placering_startdato"] = start.isoformat()
        self.do("ugentlig_kontakt", data, on, rules=rules)
        return on

    def maaned(self, status="fortsat", on: date | None = None, slut: date | None = None) -> date:
        on = on or self.due("maanedlig_kontakt")
        data = {"kontaktdato": on.isoformat(), "kontaktform": "virksomhed", "kontakt_referat": "Praktikken går godt",
                "placering_status": status}
        if slut:
            data["placering_slutdato"] = slut.isoformat()
        self.do("maanedlig_kontakt", data, on)
        return on

    def team(self, afgoerelse: str) -> date:
        """The rehabiliteringsteam's steps, each discipline on its last day; returns the decision's day."""
        prepared = self.due("forbered_sag")
        self.do("forbered_sag", {"rehab_henvisning": "langvarig_aktivitetsparat",
                                 "moededato_rehabiliteringsteam": prepared.isoformat(),
                                 "rehabiliteringsplan_forberedende_del": True,
                                 "beskaeftigelsesfaglig_vurdering": "Lang tid uden for arbejdsmarkedet"}, prepared)
        self.do("uddannelsesfagligt_bidrag", {"uddannelse_vurdering": "Ingen uddannelse", "uddannelse_relevant": True},
                prepared)
        self.do("socialfagligt_bidrag", {"sof_problemomraader": "Misbrug", "sof_indsats": True, "sof_bidrag": "Behandling"},
                prepared)
        self.do("sundhedsfagligt_bidrag", {"sundhed_vurdering": "Skånehensyn", "sundhed_yderligere_udredning": False},
                prepared)
        met = self.due("rehabiliteringsmoede")
        self.do("rehabiliteringsmoede", {"rehab_moededato": met.isoformat(), "borger_deltog": True,
                                         "rehab_indstilling": afgoerelse, "rehab_begrundelse": "Teamets drøftelse"}, met)
        decided = self.due("kommunens_afgoerelse")
        self.do("kommunens_afgoerelse", {"rehab_afgoerelse": afgoerelse, "rehab_afgoerelsesdato": decided.isoformat(),
                                         "rehab_afgoerelse_begrundelse": "Følger indstillingen"}, decided)
        return decided


@pytest.fixture
def forloeb(db, session, users):
    return Forloeb(db, session, users)


def start(forloeb, **extra):
    return forloeb.start(START, la_startdato=START.isoformat(), aar_paa_kontanthjaelp=9, allerede_i_rehab=False, **extra)


def to_job_broker(forloeb) -> date:
    """Start, the preparatory conversation, an afklaringsforløb from the step-up meeting, and the job broker
    assigned; returns the day of that assignment (the weekly contact counts from it)."""
    start(forloeb)
    forloeb.samtale()
    forloeb.stepup("afklaringsforloeb")
    return forloeb.tilknyt()


def test_worst_ordinary_case_keeps_every_clock_and_no_task_is_born_overdue(forloeb):
    start(forloeb)
    assert set(forloeb.open()) == {"forberedende_samtale"}
    assert forloeb.due("forberedende_samtale") == START + timedelta(weeks=2)
    forloeb.samtale()
    assert forloeb.due("stepup_moede") == START + timedelta(weeks=8)  # straksafklaring within 8 weeks of the start
    stepup = forloeb.stepup("afklaringsforloeb")
    assert stepup == START + timedelta(weeks=8)
    assert forloeb.due("tilknyt_jobformidler") == stepup + timedelta(weeks=1)
    contact = forloeb.tilknyt()
    six_months = stepup + relativedelta(months=6)
    assert danish_day(forloeb.waits()["ingen_placering"].due_at) == six_months
    while forloeb.due("ugentlig_kontakt") < six_months:  # weekly until praktik or paid hours
        assert forloeb.due("ugentlig_kontakt") == contact + timedelta(weeks=1)
        contact = forloeb.uge()
    assert forloeb.fire(at(six_months, 23)) == 0
    forloeb.fire(at(six_months + timedelta(days=1), 1))  # no placement within 6 months
    assert "ugentlig_kontakt" not in forloeb.open() and "nyt_stepup_moede" in forloeb.open()
    assert forloeb.due("nyt_stepup_moede") == six_months + timedelta(weeks=4)
    forloeb.check_none_born_overdue(six_months + timedelta(days=1))
    again = forloeb.stepup("afklaringsforloeb", element="nyt_stepup_moede")
    forloeb.tilknyt()
    assert danish_day(forloeb.waits()["ingen_placering"].due_at) == again + relativedelta(months=6)  # a new 6 months
    assert ("stepup_gw", ["afklaring_fra_stepup"]) in forloeb.gateways()


def test_weekly_contact_switches_to_monthly_in_praktik_and_back_to_weekly_when_it_ends(forloeb):
    start(forloeb)
    forloeb.samtale(START + timedelta(days=3))
    stepup = forloeb.stepup("afklaringsforloeb", on=START + timedelta(weeks=3))
    forloeb.tilknyt(stepup + timedelta(days=2))
    forloeb.uge()
    praktik = forloeb.uge("praktik", start=forloeb.due("ugentlig_kontakt") + timedelta(days=7))
    assert set(forloeb.open()) == {"opfoelgningsplan"} and "ingen_placering" not in forloeb.waits()
    assert forloeb.due("opfoelgningsplan") == praktik + timedelta(days=14)  # one week from the placement's start
    forloeb.do("opfoelgningsplan", {"opfoelgningsplan": "Mål: 10 timer om ugen", "la_virksomhed": "Brugsen"},
               forloeb.due("opfoelgningsplan"))
    assert forloeb.due("maanedlig_kontakt") == praktik + relativedelta(months=1)  # monthly from the last contact
    contact = forloeb.maaned()
    assert forloeb.due("maanedlig_kontakt") == contact + relativedelta(months=1)
    contact = forloeb.maaned()
    ended = contact + timedelta(days=10)
    contact = forloeb.maaned("ophoert", on=ended, slut=ended - timedelta(days=2))
    assert set(forloeb.open()) == {"ugentlig_kontakt"}
    assert forloeb.due("ugentlig_kontakt") == contact + timedelta(weeks=1)  # weekly again
    assert danish_day(forloeb.waits()["ingen_placering"].due_at) == ended - timedelta(days=2) + relativedelta(months=6)
    forloeb.uge("selvforsoergende")
    case = forloeb.case()
    assert case.status == CaseStatus.COMPLETED and case.data["la_udfald"] == "selvforsoergende"


def test_weekly_contact_after_a_placement_ends_counts_from_the_day_the_end_is_registered(forloeb):
    """Issue 14 (walk finding): after a placement ended, the weekly contact was due a week after the monthly
    contact that reported it; that contact may be dated up to a month back (the monthly deadline allows it),
    so the weekly contact was born overdue. It is now due a week after the end is registered."""
    to_job_broker(forloeb)
    on = forloeb.due("ugentlig_kontakt")
    forloeb.uge("praktik", start=on)
    forloeb.do("opfoelgningsplan", {"opfoelgningsplan": "Mål: 10 timer om ugen", "la_virksomhed": "Brugsen"},
               forloeb.due("opfoelgningsplan"))
    contact = forloeb.maaned()
    registered = forloeb.due("maanedlig_kontakt")                  # the last day the monthly deadline allows
    held = contact + timedelta(days=5)                             # the contact itself, more than 3 weeks back
    forloeb.do("maanedlig_kontakt", {"kontaktdato": held.isoformat(), "kontaktform": "telefon",
                                     "kontakt_referat": "Praktikken stoppede", "placering_status": "ophoert",
                                     "placering_slutdato": (held - timedelta(days=1)).isoformat()}, registered)
    weekly = forloeb.open()["ugentlig_kontakt"]                    # (Forloeb.do: nothing was born overdue)
    assert danish_day(weekly.due_at) == registered + timedelta(weeks=1)
    assert danish_day(forloeb.waits()["ingen_placering"].due_at) == held - timedelta(days=1) + relativedelta(months=6)
    # and from then on weekly after each contact, as before the placement
    contact = forloeb.uge()
    assert forloeb.due("ugentlig_kontakt") == contact + timedelta(weeks=1)


def test_paid_hours_also_switch_to_monthly_and_a_job_in_the_monthly_phase_ends_the_case(forloeb):
    to_job_broker(forloeb)
    on = forloeb.due("ugentlig_kontakt")
    forloeb.uge("loennede_timer", start=on)
    forloeb.do("opfoelgningsplan", {"opfoelgningsplan": "8 timer om ugen", "la_virksomhed": "Netto"}, on)
    forloeb.maaned("selvforsoergende")
    assert forloeb.case().status == CaseStatus.COMPLETED
    assert ("maanedlig_gw", ["selvforsoergende_udfald"]) in forloeb.gateways()


def test_the_rehab_target_group_goes_to_the_team_within_8_weeks_of_the_step_up_meeting(forloeb):
    start(forloeb)
    forloeb.samtale()
    stepup = forloeb.stepup("rehabiliteringsteam")
    assert set(forloeb.open()) == REHAB_TASKS
    assert forloeb.due("forbered_sag") == stepup + timedelta(weeks=2)
    forloeb.team("fleksjob")
    case = forloeb.case()
    assert case.status == CaseStatus.COMPLETED
    assert (case.data["la_udfald"], case.data["rehab_afgoerelse"]) == ("afklaret_rehab", "fleksjob")
    assert case.data["rehab_moedefrist"] == (stepup + timedelta(weeks=8)).isoformat()
    assert case.data["rehab_henvisning"] == "langvarig_aktivitetsparat"


def test_back_to_the_ordinary_course_after_the_team_means_the_afklaringsforloeb(forloeb):
    start(forloeb)
    forloeb.samtale()
    forloeb.stepup("rehabiliteringsteam")
    decided = forloeb.team("ordinaert_forloeb")
    assert set(forloeb.open()) == {"tilknyt_jobformidler"}
    assert forloeb.due("tilknyt_jobformidler") == decided + timedelta(weeks=1)
    forloeb.tilknyt()
    assert danish_day(forloeb.waits()["ingen_placering"].due_at) == decided + relativedelta(months=6)


def test_a_case_already_on_its_way_to_the_team_skips_the_straksafklaring(forloeb):
    forloeb.start(START, la_startdato=START.isoformat(), allerede_i_rehab=True)
    assert set(forloeb.open()) == REHAB_TASKS
    assert danish_day(forloeb.open()["forbered_sag"].due_at) == START + timedelta(weeks=2)
    forloeb.team("ressourceforloeb")
    assert forloeb.case().data["rehab_moedefrist"] == (START + timedelta(weeks=8)).isoformat()


def test_called_from_kontanthjaelp_without_a_start_date_it_counts_from_the_day_of_the_call(forloeb):
    forloeb.start(START, process="langvarig_caller")
    assert set(forloeb.open()) == {"forberedende_samtale"}
    assert forloeb.due("forberedende_samtale") == START + timedelta(weeks=2)
    forloeb.samtale()
    assert forloeb.due("stepup_moede") == START + timedelta(weeks=8)


def test_called_with_a_start_date_it_counts_from_that_date(forloeb):
    forloeb.start(START + timedelta(days=3), process="langvarig_caller", la_startdato=START.isoformat())
    assert forloeb.due("forberedende_samtale") == START + timedelta(weeks=2)


def test_a_trial_rule_set_changes_the_weekly_cadence_by_name(forloeb, tmp_path):
    text = DEADLINES.read_text(encoding="utf-8")
    marker = '[la_ugentlig_kontakt]\nduration = "P1W"'
    assert marker in text
    trial_file = tmp_path / "deadlines.toml"
    trial_file.write_text(text.replace(marker, '[la_ugentlig_kontakt]\nduration = "P2W"'), encoding="utf-8")
    trial = CaseRules(forms_dir=ROOT / "forms", deadlines_file=trial_file)
    to_job_broker(forloeb)
    contact = forloeb.uge(rules=trial)
    assert forloeb.due("ugentlig_kontakt") == contact + timedelta(weeks=2)


def test_a_case_on_the_frikommune_rule_set_gets_the_trials_contact_cadence_and_another_the_ordinary(forloeb,
                                                                                                   session):
    """config/deadlines.toml [rule_sets.frikommune]: contact every 2 weeks until praktik (ordinary: weekly) and
    every 2 months during it (ordinary: monthly), for the case whose rule set is the trial's only."""
    for rule_set, weeks, months in ((None, 1, 1), ("frikommune", 2, 2)):
        start(forloeb)
        if rule_set:  # chosen by the team lead while the case runs: what is created from now on follows it
            case_attributes.change_rule_set(session, case_id=forloeb.case_id, rule_set=rule_set,
                                            reason="Forsøgsborger", user=forloeb.users["jclead"], rules=RULES)
            session.commit()
        forloeb.samtale()
        forloeb.stepup("afklaringsforloeb")
        tilknyttet = forloeb.tilknyt()
        assert forloeb.due("ugentlig_kontakt") == tilknyttet + timedelta(weeks=weeks), rule_set
        placed = forloeb.uge("praktik", start=forloeb.due("ugentlig_kontakt"))
        forloeb.do("opfoelgningsplan", {"opfoelgningsplan": "10 timer om ugen", "la_virksomhed": "Brugsen"},
                   forloeb.due("opfoelgningsplan"))
        assert forloeb.due("maanedlig_kontakt") == placed + relativedelta(months=months), rule_set
        assert forloeb.case().rule_set == (rule_set or "ordinaer")


def test_startable_from_opret_sag_although_called_while_the_team_is_not(forloeb, session):
    journeys = queries.startable_journeys(session)
    assert "langvarig_aktivitetsparat" in journeys  # it has a start form of its own
    assert "rehabiliteringsteam" not in journeys  # called, and nothing to start it with


@pytest.mark.parametrize("data, field", [
    ({"allerede_i_rehab": False}, "la_startdato"),
    ({"la_startdato": "2099-01-01", "allerede_i_rehab": False}, "la_startdato"),
    ({"la_startdato": START.isoformat()}, "allerede_i_rehab"),
])
def test_the_start_form_refuses_what_the_clocks_cannot_count_from_and_nothing_starts(forloeb, session, data, field):
    with pytest.raises(EngineError) as raised:
        forloeb.start(START, **data)
    session.rollback()
    assert field in str(raised.value.detail)
    assert session.scalar(select(Case)) is None


def test_a_bad_start_date_from_a_caller_is_refused_clearly(forloeb, session):
    with pytest.raises(EngineError) as raised:
        forloeb.start(START, process="langvarig_caller", la_startdato="1. september")
    session.rollback()
    assert "la_startdato" in str(raised.value)
    assert session.scalar(select(Case)) is None


def test_a_contact_dated_before_the_last_one_is_refused_and_nothing_changes(forloeb, session):
    tilknyttet = to_job_broker(forloeb)
    with pytest.raises(EngineError) as raised:
        forloeb.do("ugentlig_kontakt", {"kontaktdato": (tilknyttet - timedelta(days=1)).isoformat(), "kontaktform": "telefon",
                                        "kontakt_referat": "x", "kontakt_status": "fortsat"}, tilknyttet + timedelta(days=3))
    session.rollback()
    assert "kontaktdato" in str(raised.value.detail)
    with pytest.raises(EngineError) as raised:
        forloeb.do("ugentlig_kontakt", {"kontaktdato": tilknyttet.isoformat(), "kontaktform": "telefon",
                                        "kontakt_referat": "x", "kontakt_status": "praktik"}, tilknyttet)
    session.rollback()
    assert "placering_startdato" in str(raised.value.detail)
    assert set(forloeb.open()) == {"ugentlig_kontakt"}
