"""History out of the state (engine/bpmn/compaction.py): a compacted case behaves as an uncompacted one.

Property-based (hypothesis, derandomized): every journey in processes/ and the test diagrams run twice
side by side, one saved and loaded uncompacted at every step, the other compacted, with the same
actions (complete a ready task with drawn data, move the clock and fire timers, deliver a message).
After every step both must show the same open tasks, waits (timers with their due times, messages),
data, what the step passed (the tasks the audit events are projected from, gateways with their
paths) and the same failures. Plus: a state stored uncompacted loads and is compacted by its next save.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import clock, runtime
from engine.bpmn.compaction import uncompacted
from engine.bpmn.messages import message_definition, message_event
from engine.bpmn.serializer import new_workflow, state_to_json, workflow_from_json
from engine.bpmn.workflow_tasks import catching, completed_ids, gateway_paths, is_human, tasks_in, timer_due
from engine.case_rules import CaseRules
from engine.models import AuditEvent, Case, HumanTask, ProcessDefinition, Wait
from tests import factories as f

ROOT = f.ROOT
JOURNEY_RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
STEPS = 12
GROUPS = [  # (files, rules, deployed one by one); every process deployed is run
    ([ROOT / "processes"], JOURNEY_RULES, None),
    ([f.DATA / "loop.bpmn", f.DATA / "parallel.bpmn", f.DATA / "intake.bpmn"], f.RULES, None),
    ([f.DATA / "caller.bpmn", f.DATA / "placement.bpmn"], f.RULES, None),
    # the semantics diagrams test_semantics deploys as they are (the others need edits or forms of their tests)
    ([f.DATA / "semantics" / n for n in ("timers.bpmn", "structure.bpmn")], f.RULES, "one by one"),
]


def _definitions(session, paths, rules, how) -> list[ProcessDefinition]:
    for batch in ([[p] for p in paths] if how else [paths]):
        dmn = sorted({d for p in batch if p.is_file() and "decisionRef" in p.read_text() for d in p.parent.glob("*.dmn")})
        f.deploy_files(session, *batch, *dmn, rules=rules)
    return list(session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key)))


def _vocabulary(bpmn_xml: str) -> tuple[list[str], list[object]]:
    """Names and values the diagram's conditions compare: the data worth drawing."""
    texts = re.findall(r"<(?:\w+:)?conditionExpression[^>]*>(.*?)</", bpmn_xml, re.S)
    texts += re.findall(r'(?:loopCondition|completionCondition)[^>]*>(.*?)</', bpmn_xml, re.S)
    names = sorted({n for t in texts for n in re.findall(r"[A-Za-z_]\w*", t)
                    if n not in {"and", "or", "not", "True", "False", "None", "in", "is", "if", "else", "len"}})
    strings = sorted({s for t in texts for s in re.findall(r"['\"]([^'\"]{1,30})['\"]", t)})
    return names or ["x"], [True, False, 0, 3, 10, *strings]


def _snapshot(workflow: BpmnWorkflow) -> dict:
    def data(d: dict) -> str:
        return json.dumps(d, sort_keys=True, default=str)

    live = tasks_in(workflow, LIVE)
    return {
        "open": sorted((t.task_spec.name, t.state) for t in live),
        "ready_data": sorted((t.task_spec.name, data(t.data)) for t in live if t.state == TaskState.READY),
        "timers": sorted((t.task_spec.name, str(timer_due(t))) for t in tasks_in(workflow, TaskState.WAITING)
                         if timer_due(t) is not None),
        "messages": sorted((t.task_spec.name, d.name) for t in tasks_in(workflow, TaskState.WAITING)
                           for _spec, d in catching(t) if getattr(d, "name", None) and timer_due(t) is None),
        "last_data": data(workflow.last_task.data) if workflow.last_task is not None else None,
        "workflow_data": data(workflow.data),
        "completed": workflow.completed,
    }


def _passed(workflow: BpmnWorkflow, before: set) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((t.task_spec.name, tuple(gateway_paths(t)))
                  for t in tasks_in(workflow, TaskState.COMPLETED) if t.id not in before)


def _act(workflow: BpmnWorkflow, action: tuple, now: datetime) -> None:
    kind, pick, data = action
    with clock.at(now):
        if kind == "complete":
            ready = sorted((t for t in tasks_in(workflow, TaskState.READY) if is_human(t)),
                           key=lambda t: (t.task_spec.name, t.depth))
            if ready:
                task = ready[pick % len(ready)]
                task.data.update(data)
                task.run()
        elif kind == "message":
            waits = sorted(((t, d) for t in tasks_in(workflow, TaskState.WAITING) for _s, d in catching(t)
                            if getattr(d, "name", None) and timer_due(t) is None),
                           key=lambda td: (td[0].task_spec.name, td[1].name))
            if waits:
                task, definition = waits[pick % len(waits)]
                found = message_definition(task, definition.name)
                if found is not None:
                    workflow.catch(message_event(found, dict(data)))
        workflow.refresh_timers()
        workflow.do_engine_steps()


def _step(workflow: BpmnWorkflow, spec_json: str, action: tuple, now: datetime, compact: bool):
    before = completed_ids(workflow)
    try:
        _act(workflow, action, now)
        error = None
    except Exception as exc:  # noqa: BLE001 - both sides must fail alike
        error = type(exc).__name__
    passed = _passed(workflow, before)
    if compact:
        state = state_to_json(workflow)
    else:
        with uncompacted():
            state = state_to_json(workflow)
    return workflow_from_json(state, spec_json), passed, error, len(state)


def _actions(names: list[str], values: list[object]):
    data = st.dictionaries(st.sampled_from(names), st.sampled_from(values), max_size=4)
    return st.lists(st.tuples(st.sampled_from(["complete", "complete", "complete", "timer", "message"]),
                              st.integers(0, 3), data), min_size=STEPS, max_size=STEPS)


def _run_side_by_side(definition: ProcessDefinition, start: dict, actions: list[tuple], hours: list[int]) -> None:
    now = T0
    with clock.at(now):
        plain, compact = new_workflow(definition.spec_json), new_workflow(definition.spec_json)
        errors = []
        for wf in (plain, compact):
            for task in tasks_in(wf, TaskState.READY):
                task.data.update(start)  # the start task's data, as runtime.start_case seeds it
            try:
                wf.do_engine_steps()
                errors.append(None)
            except Exception as exc:  # noqa: BLE001
                errors.append(type(exc).__name__)
    assert errors[0] == errors[1]
    if errors[0] is not None:
        return
    for i, (action, advance) in enumerate(zip(actions, hours, strict=True)):
        if action[0] == "timer":
            now += timedelta(hours=advance)
        plain, passed_a, error_a, _ = _step(plain, definition.spec_json, action, now, compact=False)
        compact, passed_b, error_b, _ = _step(compact, definition.spec_json, action, now, compact=True)
        where = f"{definition.key}, step {i}: {action}"
        assert error_a == error_b, where
        assert passed_a == passed_b, where
        assert _snapshot(plain) == _snapshot(compact), where
        if error_a is not None or plain.completed:
            return


@pytest.mark.parametrize("group", range(len(GROUPS)), ids=["processes", "loops", "call", "semantics"])
def test_compacted_cases_run_as_uncompacted_ones(session, group):
    f.add_units(session)
    paths, rules, how = GROUPS[group]
    definitions = _definitions(session, paths, rules, how)
    assert definitions
    for definition in definitions:
        _check_definition(definition)


def _check_definition(definition: ProcessDefinition) -> None:
    names, values = _vocabulary(definition.bpmn_xml)

    @settings(max_examples=8, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(start=st.fixed_dictionaries({n: st.sampled_from(values) for n in names}),
           actions=_actions(names, values),
           hours=st.lists(st.sampled_from([1, 25, 24 * 8, 24 * 40]), min_size=STEPS, max_size=STEPS))
    def side_by_side(start, actions, hours):
        _run_side_by_side(definition, start, actions, hours)

    side_by_side()


def test_an_uncompacted_case_is_compacted_by_its_next_save(session):
    """A case saved before compaction (the whole tree) loads as it was and its next save compacts it."""
    f.add_units(session)
    user = f.add_user(session, "jc", "caseworker", ["jobcenter"])
    f.deploy_data(session, "loop.bpmn")
    key = session.scalars(select(ProcessDefinition.key)).first()
    with uncompacted():
        case = f.start_case(session, key, actor=user)
        for i in range(30):
            _complete_open(session, case.id, user, i)
    old = session.get(Case, case.id)
    old_size = len(old.state_json)
    old_tasks = len(json.loads(old.state_json)["tasks"])
    rows_before = (_rows(session, case.id))
    _complete_open(session, case.id, user, 30)  # the next save: compacted
    new = session.get(Case, case.id)
    assert len(json.loads(new.state_json)["tasks"]) < old_tasks / 4
    assert len(new.state_json) < old_size / 4
    rows_after = _rows(session, case.id)
    assert rows_after["open"] == rows_before["open"]  # one open task of the same step, as before
    for i in range(31, 40):
        _complete_open(session, case.id, user, i)
    assert len(session.get(Case, case.id).state_json) < old_size / 4
    assert _rows(session, case.id)["audit"][: len(rows_before["audit"])] == rows_before["audit"]


def _complete_open(session, case_id, user, i) -> None:
    session.expire_all()
    task = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")).one()
    data = {"note": "igen"}
    runtime.complete_task(session, task_id=task.id, data=data, user=user, rules=f.RULES)
    session.commit()


def _rows(session, case_id) -> dict:
    session.expire_all()
    return {
        "open": [t.element_id for t in session.scalars(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.status == "open"))],
        "waits": sorted((w.kind, w.element_id) for w in session.scalars(select(Wait).where(Wait.case_id == case_id))),
        "audit": [(e.seq, e.type, e.element_id) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq))],
    }
