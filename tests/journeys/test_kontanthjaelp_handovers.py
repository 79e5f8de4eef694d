"""Kontanthjælp's handovers: what each receiving task is handed, what must not cross, and who the audit credits.

The real diagrams and forms, worked through the engine as the units would
(tests/journeys/test_kontanthjaelp.py's Journey). A task's context is read
with engine.task_read.read_task, the one read behind GET /api/tasks/{id}
and the task page.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, Case, HumanTask
from engine.task_read import read_task
from tests import factories as f

from .test_kontanthjaelp import PROCESSES, RULES, Journey, at

CONTEXT_KEYS = {"label", "value", "from_unit", "element_id", "at"}
# what a person does is theirs; everything the engine runs after it is the system's, with the person as cause
PERSONAL = {"case_started", "task_completed", "task_claimed", "task_released", "task_assigned", "case_cancelled",
            "attachment_added"}
CHOSEN = {"coordinator_set", "rule_set_chosen"}  # by a person; taken over from the sender's case: the system


@pytest.fixture
def journey(db, session, seed):
    users = seed(*PROCESSES, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "vslead": f.add_user(session, "vslead", "teamlead", ["virksomhedsservice"]),
    }
    return Journey(db, session, users)


def context(j, element, user, case_id=None) -> list[dict]:
    read = read_task(j.session, j.task(element, case_id).id, j.users[user], forms_dir=RULES.forms_dir)
    items = read.as_dict()["context"]
    assert all(set(item) == CONTEXT_KEYS for item in items)
    return items


def by_label(items) -> dict[str, dict]:
    return {item["label"]: item for item in items}


def to_sof_and_placement(j):
    """Aktivitetsparat with problems beyond unemployment: granted, SOF referred, a placement offered."""
    complete_day = j.to_decision(date(2026, 9, 7), kategori="aktivitetsparat", problemer=True)
    j.grant(complete_day)
    j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik", "mentor_behov": True,
                               "koordinerende_sagsbehandler": "Hanne", "plan": "Praktik med mentor"},
         at(date(2026, 9, 16)))
    # version 2: a mentor when needed is a step of its own (issue 14)
    j.do("jc", "bevilg_mentor", {"mentor_navn": "Jens", "mentor_fra": "2026-09-21", "mentor_timer_pr_uge": 3,
                                 "mentor_formaal": "Støtte i praktikken"}, at(date(2026, 9, 16), 11))
    return j.session.scalar(select(Case).where(Case.process_key == "sof_vurdering")).id


def test_sof_is_handed_the_jobcenters_referral_with_the_jobcenters_labels(journey):
    j = journey
    sof_case = to_sof_and_placement(j)
    items = by_label(context(j, "socialfaglig_vurdering", "sof", sof_case))
    problems = items["Problemer ud over ledighed (misbrug, psykisk, bolig, familie …)"]
    assert problems["value"] == "bolig, misbrug"
    assert (problems["from_unit"], problems["element_id"]) == ("jobcenter", "visitation")
    assert problems["at"] == at(date(2026, 9, 9)).isoformat()          # when the jobcenter recorded it
    assert items["Jobcentrets vurdering af rådigheden"]["value"] == "Står til rådighed"
    assert items["Kategori"]["value"] == "aktivitetsparat"
    # only what the referral's payload names: not Ydelsesservice's decision or the rate
    assert not {"Afgørelse", "Sats pr. måned (kr.)", "Begrundelse"} & set(items)


def test_the_jobcenter_is_handed_sofs_assessment(journey):
    j = journey
    sof_case = to_sof_and_placement(j)
    j.do("sof", "socialfaglig_vurdering", {"sof_vurderingsdato": "2026-09-21", "sof_vurdering": "Boligproblem",
                                           "sof_indsats": "Bostøtte", "sof_enkeltydelse_behov": False},
         at(date(2026, 9, 21)), case_id=sof_case)
    items = by_label(context(j, "laes_sof_tilbagemelding", "jc"))
    assessment = items["Socialfaglig vurdering"]
    assert assessment["value"] == "Boligproblem"
    assert (assessment["from_unit"], assessment["element_id"]) == ("sof", "socialfaglig_vurdering")
    assert assessment["at"] == at(date(2026, 9, 21)).isoformat()
    assert items["Indsats fra SOF (bostøtte, behandling …)"]["value"] == "Bostøtte"


def test_ydelsesservice_decides_on_the_jobcenters_availability_assessment(journey):
    j = journey
    j.to_decision(date(2026, 9, 7))
    items = by_label(context(j, "ydelsesafgoerelse", "ys"))
    assessment = items["Jobcentrets vurdering af rådigheden"]
    assert assessment["value"] == "Står til rådighed"
    assert (assessment["from_unit"], assessment["element_id"]) == ("jobcenter", "visitation")
    assert items["Borgeren står til rådighed for arbejdsmarkedet"]["value"] is True
    # the application that came in, as it was registered
    assert items["Ansøgningen er modtaget den"]["element_id"] == "ansoegning_modtaget"
    # what the jobcenter wrote that Ydelsesservice's decision does not need stays with the jobcenter
    assert "Frist for CV på Jobnet" not in items


def test_virksomhedsservice_gets_the_plan_but_not_the_benefit_history_or_the_rate(journey):
    j = journey
    to_sof_and_placement(j)
    items = context(j, "match", "vs")
    labels = by_label(items)
    assert labels["Plan (Min Plan)"]["value"] == "Praktik med mentor"
    assert labels["Tilbud"]["from_unit"] == "jobcenter" and labels["Kategori"]["value"] == "aktivitetsparat"
    # none of Ydelsesservice's decision, the application or the jobcenter's assessment of the citizen crosses
    assert {item["from_unit"] for item in items} == {"jobcenter"}
    assert not {"Sats pr. måned (kr.)", "Afgørelse", "Begrundelse", "Kontanthjælp fra", "Afgørelsesdato",
                "Ansøgningen er modtaget den", "Jobcentrets vurdering af rådigheden",
                "Problemer ud over ledighed (misbrug, psykisk, bolig, familie …)"} & set(labels)
    assert 12_000 not in [item["value"] for item in items]


def test_a_completed_task_keeps_what_it_was_handed_then(journey):
    j = journey
    j.to_decision(date(2026, 9, 7))
    row = j.task("ydelsesafgoerelse")
    before = read_task(j.session, row.id, j.users["ys"], forms_dir=RULES.forms_dir).as_dict()["context"]
    j.grant(date(2026, 9, 14))
    j.session.expire_all()
    after = read_task(j.session, row.id, j.users["ys"], forms_dir=RULES.forms_dir).as_dict()["context"]
    assert after == before  # its own decision and what came later are not its handover


def walk_to_job(j) -> str:
    """`to_sof_and_placement`, then a boundary timer, SOF, the team lead's reminder, the company's yes and a
    job: every kind of actor, through to the end of the case. Returns the SOF case's id."""
    sof_case = to_sof_and_placement(j)
    visitation_late = j.task("match")
    assert j.fire(clock.as_utc(visitation_late.due_at) + timedelta(seconds=1)) >= 1  # a boundary timer fires
    j.do("sof", "socialfaglig_vurdering", {"sof_vurderingsdato": "2026-09-21", "sof_vurdering": "Boligproblem",
                                           "sof_enkeltydelse_behov": False}, at(date(2026, 10, 1)), case_id=sof_case)
    j.do("vslead", "match_paamindelse", {"handling": "Prioriteret"}, at(date(2026, 10, 1), 10))
    j.agree(date(2026, 10, 2))
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 10, 5)))
    j.do("jc", "laes_sof_tilbagemelding", {"plan_tilpasning": "Bostøtte indgår"}, at(date(2026, 10, 6)))
    j.follow_up("ordinaert_job", date(2026, 10, 8))
    assert j.open() == ["stop_ydelse"], j.open()
    j.do("ys", "stop_ydelse", {"ophoersdato": "2026-10-31", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 10, 9)))
    assert j.case().status == "completed"
    return sof_case


def test_every_audit_event_of_a_kontanthjaelp_walk_credits_the_right_actor(journey):
    j = journey
    sof_case = walk_to_job(j)
    seen = assert_credited(j.session, (j.case_id, sof_case), people={u.username for u in j.users.values()},
                           starter="jc", outside={"system"})  # the integration user sends the messages here
    kategori = [e for e in j.events("gateway_taken") if e.element_id == "kategori_gw"]
    # version 2: the contact course and the SOF referral start at jc's visitation, not after ys's decision
    assert [(e.actor, e.details["cause"]) for e in kategori] == [("system:engine", "jc")]
    referral = [e for e in j.events("message_sent") if e.element_id == "henvis_sof"]
    assert [(e.actor, e.details["cause"]) for e in referral] == [("system:engine", "jc")]
    [sof_started] = j.events("case_started", sof_case)
    assert (sof_started.actor, sof_started.details["cause"], sof_started.details["from_case"]) == \
        ("system:engine", "jc", j.case_id)
    reminder = [e for e in j.events("task_created") if e.element_id == "match_paamindelse"]
    assert [e.actor for e in reminder] == ["system:timer"]
    assert {("timer_fired", "system:timer"), ("element_passed", "system:timer")} & seen
    assert ("message_received", "system:engine") in seen and ("task_created", "system:engine") in seen


def assert_credited(session, case_ids, *, people: set[str], starter: str, outside: set[str],
                    trails: dict[str, list[dict]] | None = None) -> set[tuple[str, str]]:
    """Every audit event of these cases credits the right actor: a person what they did (`starter` the
    case they opened, whoever completed a task its completion, `outside` a message from outside that they
    sent or registered), `system:timer` a timer, and the engine's own steps and deliveries between cases
    `system:engine` with the person who caused them. `trails`: each case's events as GET
    /api/cases/{id}/audit answers them (else the rows). Returns the (type, system actor or "person") seen."""
    session.expire_all()
    done_by = {r.id: r.completed_by for r in session.scalars(
        select(HumanTask).where(HumanTask.case_id.in_(case_ids), HumanTask.status == "completed"))}
    if trails is None:
        trails = {case_id: [{"seq": e.seq, "type": e.type, "actor": e.actor, "element_id": e.element_id,
                             "task_id": e.task_id, "details": e.details}
                            for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                                     .order_by(AuditEvent.seq))] for case_id in case_ids}
    seen = set()
    for case_id in case_ids:
        assert trails[case_id], case_id
        for event in trails[case_id]:
            kind, actor, details = event["type"], event["actor"] or "", event["details"] or {}
            what = (case_id, event["seq"], kind, event["element_id"], actor, details.get("cause"))
            assert not actor.startswith("case:"), what
            if kind == "case_started" and "from_case" not in details:
                assert actor == starter, what
            elif kind == "task_completed":
                assert actor == done_by[event["task_id"]] and actor in people, what
            elif kind in PERSONAL - {"case_started"} or (kind in CHOSEN and "from_case" not in details):
                assert actor in people, what
            elif kind == "message_received" and "from_case" not in details:
                assert actor in outside and "cause" not in details, what
            elif actor == "system:timer":
                assert "cause" not in details, what
            else:  # the engine's own steps, and deliveries between cases: the system's, with the person who caused it
                assert actor == "system:engine" and details.get("cause") in people, what
            seen.add((kind, actor if actor.startswith("system:") else "person"))
    return seen
