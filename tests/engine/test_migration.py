"""Migration of running cases through the engine: what SpiffWorkflow's migrate_workflow drops and we keep,
multi-instance tasks, embedded and event subprocesses, changed timers, units, service tasks, moving back.

The process is tests/data/semantics/structure.bpmn (inclusive gateway, event-based gateway with a
message and a P5D working-day timer, a multi-instance task, an embedded subprocess, a message event
subprocess); each test deploys a changed copy as version 2. Real database, both kinds; time moves
with clock.at (and time-machine where SpiffWorkflow's own wall-clock record is read), never by sleeping.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from sqlalchemy import select

from engine import audit, catalog, clock, escalations, runtime
from engine import inbox as tasks
from engine.bpmn.serializer import SERIALIZER, new_workflow, workflow_from_json
from engine.bpmn.workflow_tasks import timer_due
from engine.migration_batch import run_batch
from engine.models import Case, HumanTask, ProcessDefinition, ServiceTask, TaskDeadlineNotice, Wait
from engine.runtime import _definition_spec
from tests import factories as f
from tests.case_rows import case_rows
from tests.workers.helpers import DATA as WORKER_DATA

STRUCTURE = (f.DATA / "semantics" / "structure.bpmn").read_text(encoding="utf-8")
T0 = datetime(2026, 9, 7, 7, tzinfo=timezone.utc)  # Monday 09:00 in Denmark
LATER = datetime(2026, 9, 10, 10, tzinfo=timezone.utc)  # Thursday: version 2 is deployed and the case moved


@pytest.fixture
def users(seed, session):
    users = seed() | {"vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])}
    f.deploy_data(session, "semantics/structure.bpmn")
    return users


def renamed(text: str, old: str, new: str) -> str:
    return re.sub(f'"{old}"', f'"{new}"', text)


def deploy_v2(session, text: str, name: str = "structure.bpmn") -> int:
    [deployed] = [d for d in catalog.deploy(session, [(name, text.encode())], rules=f.RULES, actor="owner") if d.new]
    session.commit()
    return deployed.version


def migrate(db, key="structure", *, to=2, frm=1, mapping=None, case_ids=None, dry_run=False):
    with clock.at(LATER):
        return run_batch(db.session_factory, process_key=key, from_version=frm, to_version=to, mapping=mapping,
                         case_ids=case_ids, dry_run=dry_run, actor="owner", rules=f.RULES)


def open_rows(session, case_id) -> list[HumanTask]:
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(
        HumanTask.case_id == case_id, HumanTask.status.in_(("open", "claimed"))).order_by(HumanTask.id)))


def open_tasks(session, case_id) -> dict[str, HumanTask]:
    return {t.element_id: t for t in open_rows(session, case_id)}


def work(session, user, element, case_id, when=LATER):
    rows = [t for t in open_rows(session, case_id) if t.element_id == element]
    with clock.at(when):
        for row in rows:
            runtime.complete_task(session, task_id=row.id, data={"note": "ok"}, user=user, rules=f.RULES)
            session.commit()


def waits(session, case_id):
    session.expire_all()
    return {w.element_id: w for w in session.scalars(select(Wait).where(Wait.case_id == case_id))}


def at_event_gateway(session, users) -> str:
    """Contacted the employer on Monday: waiting for the answer or the P5D working-day timer (14 September)."""
    with clock.at(T0):
        case = f.start_case(session, "structure", actor=users["jc"], data={"virksomhed": True})
    work(session, users["vs"], "kontakt", case.id, T0)
    return case.id


def at_visits(session, users) -> str:
    case_id = at_event_gateway(session, users)
    with clock.at(T0 + timedelta(days=1)):
        runtime.correlate_message(session, name="arbejdsgiver_svar", correlation_key=case_id, data={},
                                  user=users["system"], rules=f.RULES)
    session.commit()
    return case_id


def finish(session, users, case_id, *, talk="samtale"):
    """From wherever the case stands to its end, by whoever's unit has the work."""
    for _ in range(8):
        open_ = open_tasks(session, case_id)
        if not open_:
            break
        for element, row in open_.items():
            work(session, users["vs"] if row.unit == "virksomhedsservice" else users["jc"], element, case_id)
    session.expire_all()
    assert session.get(Case, case_id).status == "completed", open_tasks(session, case_id)


def test_migrate_workflow_alone_restarts_a_waiting_timer_and_forgets_the_last_task(db, session, users):
    """The DESIGN.md pitfall, shown on the library itself; then the same case moved by the engine keeps both."""
    case_id = at_event_gateway(session, users)
    deploy_v2(session, STRUCTURE.replace('name="Svar eller ej?"', 'name="Svarer arbejdsgiveren?"'))
    case = session.get(Case, case_id)
    due_before = clock.as_utc(waits(session, case_id)["ingen_svar"].due_at)
    assert due_before.date() == date(2026, 9, 14)
    workflow = workflow_from_json(case.state_json, _definition_spec(session, case.definition_id),
                                  f.RULES.script_context())
    target = session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2))
    new = new_workflow(target.spec_json, f.RULES.script_context())
    top, _subs = diff_workflow(SERIALIZER.registry, workflow, new.spec, new.subprocess_specs)
    [gateway] = [t for t in workflow.tasks.values() if t.task_spec.name == "eventgw"]
    with clock.at(LATER):
        migrate_workflow(top, workflow, new.spec)
    assert timer_due(gateway).date() == date(2026, 9, 17)  # computed again from the migration: 3 days lost
    assert workflow.last_task is None                      # and the case's current data is read from it

    result = migrate(db)
    assert result.migrated == [case_id]
    assert clock.as_utc(waits(session, case_id)["ingen_svar"].due_at) == due_before
    session.expire_all()
    assert session.get(Case, case_id).data == case.data


def test_multi_instance_and_embedded_subprocess_move_with_a_renamed_step_and_finish(db, session, users):
    visits = at_visits(session, users)
    with clock.at(T0 + timedelta(days=1)):
        talking = at_visits(session, users)
    work(session, users["vs"], "besoeg", talking, T0 + timedelta(days=2))
    before = {t.id: t.element_id for t in open_rows(session, visits)}
    [talk] = open_tasks(session, talking).values()
    assert talk.element_id == "samtale" and talk.unit == "jobcenter"
    deploy_v2(session, renamed(STRUCTURE, "samtale", "opfoelgningssamtale"))

    refused = migrate(db, dry_run=True)
    assert [r["case_id"] for r in refused.refused] == [talking]
    assert "stands on 'samtale'" in refused.refused[0]["reason"]
    result = migrate(db, mapping={"samtale": "opfoelgningssamtale"})
    assert sorted(result.migrated) == sorted([visits, talking]) and result.refused == []
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id == visits, HumanTask.status == "open")).all()
    assert {r.id: r.element_id for r in rows} == before and len(rows) == 2    # both instances, same ids
    [moved] = open_tasks(session, talking).values()
    assert (moved.id, moved.element_id, moved.unit, moved.created_at) == (
        talk.id, "opfoelgningssamtale", "jobcenter", talk.created_at)
    finish(session, users, visits)
    finish(session, users, talking)
    assert "opfoelgningssamtale" in {t.element_id for t in session.scalars(
        select(HumanTask).where(HumanTask.case_id == visits))}                # the visits case ran into the new id


def test_a_running_multi_instance_that_changes_is_refused_and_left_exactly_as_it_was(db, session, users):
    visits = at_visits(session, users)
    waiting = at_event_gateway(session, users)
    deploy_v2(session, STRUCTURE.replace("<bpmn:loopCardinality>2<", "<bpmn:loopCardinality>3<"))
    rows = case_rows(session, visits)
    result = migrate(db)
    assert result.migrated == [waiting]
    [refusal] = result.refused
    assert refusal["case_id"] == visits and "multi-instance 'besoeg' is running" in refusal["reason"]
    assert case_rows(session, visits) == rows
    finish(session, users, visits)  # it finishes on version 1
    assert session.get(Case, visits).version == 1


def test_a_started_event_subprocess_moves_and_both_paths_finish(db, session, users):
    case_id = at_event_gateway(session, users)
    with clock.at(T0 + timedelta(days=1)):
        runtime.correlate_message(session, name="afbud", correlation_key=case_id, data={"grund": "syg"},
                                  user=users["system"], rules=f.RULES)
    session.commit()
    assert set(open_tasks(session, case_id)) == {"registrer_afbud"}
    deploy_v2(session, STRUCTURE.replace('name="Registrér afbud"', 'name="Registrér afbud og ny tid"'))
    assert migrate(db).migrated == [case_id]
    [row] = open_tasks(session, case_id).values()
    assert (row.name, row.process_version) == ("Registrér afbud og ny tid", 2)
    assert waits(session, case_id)["afbud_start"].message == "afbud"           # still listening
    work(session, users["jc"], "registrer_afbud", case_id)
    with clock.at(LATER):
        runtime.correlate_message(session, name="arbejdsgiver_svar", correlation_key=case_id, data={},
                                  user=users["system"], rules=f.RULES)
    session.commit()
    finish(session, users, case_id)


def test_a_changed_timer_counts_from_when_the_wait_began_not_from_the_migration(db, session, users):
    with time_machine.travel(T0, tick=False):  # SpiffWorkflow records when a task began to wait in wall time
        case_id = at_event_gateway(session, users)
    deploy_v2(session, STRUCTURE.replace('deadline("P5D working")', 'deadline("P10D working")'))
    with time_machine.travel(LATER, tick=False):
        assert migrate(db).migrated == [case_id]
    due = clock.as_utc(waits(session, case_id)["ingen_svar"].due_at)
    assert due.date() == date(2026, 9, 21)                  # 10 working days from Monday 7 September
    [event] = [e for e in audit.events(session, case_id) if e.type == "case_migrated"]
    [timer] = event.details["timers"]
    assert timer["element_id"] == "eventgw" and timer["old_due_at"].startswith("2026-09-14")
    assert timer["new_due_at"].startswith("2026-09-21")


def test_migrating_back_is_the_same_path(db, session, users):
    visits = at_visits(session, users)
    deploy_v2(session, renamed(STRUCTURE, "samtale", "opfoelgningssamtale"))
    assert migrate(db).migrated == [visits]
    work(session, users["vs"], "besoeg", visits)
    [talk] = open_tasks(session, visits).values()
    assert talk.element_id == "opfoelgningssamtale"
    back = migrate(db, frm=2, to=1, mapping={"opfoelgningssamtale": "samtale"})
    assert back.migrated == [visits]
    [row] = open_tasks(session, visits).values()
    assert (row.id, row.element_id, row.process_version) == (talk.id, "samtale", 1)
    events = [e for e in audit.events(session, visits) if e.type == "case_migrated"]
    assert [(e.details["from"], e.details["to"]) for e in events] == [(1, 2), (2, 1)]
    assert events[1].details["mapping"] == {"opfoelgningssamtale": "samtale"}
    finish(session, users, visits)


def test_open_tasks_keep_their_assignee_unless_the_new_unit_cannot_have_them(db, session, users):
    with clock.at(T0):
        claimed = f.start_case(session, "structure", actor=users["jc"], data={"virksomhed": True}).id
        free = f.start_case(session, "structure", actor=users["jc"], data={"virksomhed": True}).id
        tasks.claim(session, task_id=open_tasks(session, claimed)["kontakt"].id, user=users["vs"])
        session.commit()
    moved_lane = STRUCTURE.replace("<bpmn:flowNodeRef>kontakt</bpmn:flowNodeRef>", "").replace(
        "<bpmn:flowNodeRef>plan</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>plan</bpmn:flowNodeRef>"
                                                     "<bpmn:flowNodeRef>kontakt</bpmn:flowNodeRef>")
    deploy_v2(session, moved_lane)
    result = migrate(db)
    assert result.migrated == [free]
    [refusal] = result.refused
    assert refusal["case_id"] == claimed and "claimed by vs" in refusal["reason"] and "'jobcenter'" in refusal["reason"]
    assert open_tasks(session, free)["kontakt"].unit == "jobcenter"
    assert open_tasks(session, claimed)["kontakt"].unit == "virksomhedsservice"


def test_service_task_rows_follow_a_renamed_element(db, session, users):
    f.deploy_files(session, WORKER_DATA / "brev.bpmn")
    with clock.at(T0):
        case = f.start_case(session, "brev", data={"borger_email": "b@example.dk", "brev_tekst": "Hej"})
    [row] = session.scalars(select(ServiceTask).where(ServiceTask.case_id == case.id)).all()
    text = renamed((WORKER_DATA / "brev.bpmn").read_text(encoding="utf-8"), "send_brev", "send_brev_til_borger")
    deploy_v2(session, text, "brev.bpmn")
    assert migrate(db, "brev", mapping={"send_brev": "send_brev_til_borger"}).migrated == [case.id]
    session.expire_all()
    moved = session.get(ServiceTask, row.id)
    assert (moved.element_id, moved.status, moved.topic) == ("send_brev_til_borger", "open", "brev_til_borger")


def test_a_changed_deadline_counts_from_the_task_and_drops_the_old_overdue_flag(db, session, users):
    """frist.bpmn's task is due after P2D; version 2 gives it P10D: due ten days after it was created, not reminded."""
    f.deploy_files(session, WORKER_DATA / "frist.bpmn")
    monday = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    with clock.at(monday):
        case = f.start_case(session, "frist")
    [row] = open_rows(session, case.id)
    overdue = datetime(2026, 3, 5, 9, tzinfo=timezone.utc)
    [task_id] = escalations.candidates(session, now=overdue, limit=5)
    escalations.handle_task(session, task_id=task_id, now=overdue, rules=f.RULES, default_grace="P2D working")
    session.commit()
    assert session.get(TaskDeadlineNotice, row.id) is not None                   # flagged for the old due time
    text = (WORKER_DATA / "frist.bpmn").read_text(encoding="utf-8").replace('value="P2D"', 'value="P10D"')
    deploy_v2(session, text, "frist.bpmn")
    with clock.at(overdue):
        assert run_batch(db.session_factory, process_key="frist", from_version=1, to_version=2, actor="owner",
                         rules=f.RULES).migrated == [case.id]
    session.expire_all()
    moved = session.get(HumanTask, row.id)
    assert (moved.deadline_rule, moved.created_at) == ("P10D", row.created_at)
    assert clock.as_utc(moved.due_at).date() == date(2026, 3, 12)                # ten days from 2 March
    assert session.get(TaskDeadlineNotice, row.id) is None
    assert escalations.candidates(session, now=datetime(2026, 3, 7, tzinfo=timezone.utc), limit=5) == []


def test_a_step_that_changes_kind_refuses_the_cases_on_it_not_those_past_it(db, session, users):
    with clock.at(T0):
        on_it = f.start_case(session, "structure", actor=users["jc"], data={"virksomhed": True}).id
    past_it = at_visits(session, users)
    scripted = re.sub(r'<bpmn:userTask id="kontakt" name="Kontakt virksomhed" camunda:formKey="t_note"/>',
                      '<bpmn:scriptTask id="kontakt" name="Kontakt virksomhed"><bpmn:script>kontaktet = True'
                      '</bpmn:script></bpmn:scriptTask>', STRUCTURE)
    assert scripted != STRUCTURE
    deploy_v2(session, scripted)
    result = migrate(db)
    assert result.migrated == [past_it]
    [refusal] = result.refused
    assert refusal["case_id"] == on_it and refusal["reason"] == (
        "'kontakt' is a UserTask but 'kontakt' in the new version is a ScriptTask")
    finish(session, users, past_it)


INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
NO_REMINDER = re.sub(r'\s*<bpmn:flowNodeRef>(visitation_forfalden|paamindelse|paamindelse_slut)</bpmn:flowNodeRef>',
                     "", re.sub(r'\s*<bpmn:boundaryEvent id="visitation_forfalden".*?<bpmn:endEvent id="paamindelse_slut"'
                                r' name="Påmindelse håndteret"/>', "", INTAKE, flags=re.S))


INTAKE_DATA = {
    "registrering": {"forsikret": False, "henvendelsesdato": "2026-09-07"},
    "visitation": {"til_raadighed": True, "kategori": "jobparat", "problemer_ud_over_ledighed": False,
                   "vurdering": "ok"},
    "afgoerelse": {"afgoerelse": "bevilget", "begrundelse": "ok"},
}


def do(session, user, element, case_id, when=T0):
    with clock.at(when):
        runtime.complete_task(session, task_id=open_tasks(session, case_id)[element].id,
                              data=INTAKE_DATA[element], user=user, rules=f.RULES)
        session.commit()


def intake_at(session, users, element: str) -> str:
    with clock.at(T0):
        case_id = f.start_case(session, "intake", actor=users["jc"]).id
    do(session, users["jc"], "registrering", case_id)
    if element == "ansoegning_modtaget":
        do(session, users["jc"], "visitation", case_id)
    return case_id


def test_a_removed_boundary_timer_moves_the_cases_on_its_task_and_past_it(db, session, users):
    """The library names a task's boundary split and join after the task; with the boundary event gone the
    new version has neither, yet the task itself is still there: the cases move, and finish."""
    assert "visitation_forfalden" not in NO_REMINDER and 'id="visitation"' in NO_REMINDER
    f.deploy_data(session, "intake.bpmn")
    on_it, past_it = intake_at(session, users, "visitation"), intake_at(session, users, "ansoegning_modtaget")
    deploy_v2(session, NO_REMINDER, "intake.bpmn")
    result = migrate(db, "intake")
    assert result.refused == [] and sorted(result.migrated) == sorted([on_it, past_it])
    session.expire_all()
    assert not waits(session, on_it)  # the reminder timer is gone with its event
    with clock.at(LATER + timedelta(days=30)):  # long past the old week: no reminder comes
        assert runtime.fire_timers(session, case_id=on_it, rules=f.RULES) == 0
        session.commit()
    assert set(open_tasks(session, on_it)) == {"visitation"}
    do(session, users["jc"], "visitation", on_it, LATER)
    for case_id in (on_it, past_it):
        with clock.at(LATER):
            runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key=case_id, data={},
                                      user=users["system"], rules=f.RULES)
            session.commit()
        do(session, users["ys"], "afgoerelse", case_id, LATER)
        session.expire_all()
        assert session.get(Case, case_id).status == "completed"


def test_a_removed_boundary_timer_that_fired_keeps_its_case_refused_naming_the_event(db, session, users):
    f.deploy_data(session, "intake.bpmn")
    reminded = intake_at(session, users, "visitation")
    with clock.at(T0 + timedelta(days=8)):
        assert runtime.fire_timers(session, case_id=reminded, rules=f.RULES) == 1
        session.commit()
    assert set(open_tasks(session, reminded)) == {"visitation", "paamindelse"}
    deploy_v2(session, NO_REMINDER, "intake.bpmn")
    result = migrate(db, "intake")
    [refusal] = result.refused
    assert refusal["case_id"] == reminded and "'visitation_forfalden'" in refusal["reason"]
    assert "'visitation'," not in refusal["reason"]  # the step that stays is not blamed
