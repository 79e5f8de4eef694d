"""Moving one loaded workflow onto another version's spec: SpiffWorkflow 3.2.0's diff tools, and what they miss.

Everything here reaches into SpiffWorkflow internals, so it is kept apart (it belongs
beside the other library adapters in engine/bpmn/). No database and no commit:
engine.migration calls `move` on a workflow it loaded inside the case lock, then
saves through the runtime's one path; a `MoveRefused` leaves the caller free to roll
back, and nothing is written before the last check passed.

What the library gives (SpiffWorkflow.bpmn.util.diff):
- `SpecDiff` aligns the task specs of two process specs (by id, then by a guess from
  the structure) and names the changed attributes;
- `WorkflowDiff` maps a workflow's tasks onto the aligned specs;
- `migrate_workflow` swaps the specs of one (sub)workflow and resets every READY and
  WAITING branch: `Task.reset_branch` drops the task's internal data (a timer's
  computed due time lives there), replaces its data with a copy of its parent's, and
  predicts its children again from the new spec.

What this module adds:
- alignment by id and by the process owner's explicit mapping only (SpecDiff's
  structural guesses are dropped: CONTRACT.md says an unmapped removed element refuses);
- checks per case, each with a reason a process owner can act on (see `_check`);
- what `reset_branch` threw away is put back: data, internal data, state, the moment
  of its last state change, and the
  workflow's last task (migrate_workflow always forgets it: see `move`);
- a timer whose definition changed is computed again from when its wait began, not
  from the migration (the legal clock does not restart);
- the path ahead of running call activities and subprocesses is predicted again;
- a round trip through the serializer proves the result loads with the new spec.
"""
from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.task import TaskState

from . import clock
from .projections import element_id, timer_due
from .serialization import state_to_json, workflow_from_json
from .spiff import SERIALIZER

AHEAD = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE   # not reached yet: predicted again after a move
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
RESET = TaskState.READY | TaskState.WAITING                      # what migrate_workflow resets
STATE_NAMES = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.STARTED: "started"}
SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")  # library task specs named after an element


class MoveRefused(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class TaskMove:
    """An active task after the move: the same Spiff task id, on the new version's element."""

    task: object
    old_element: str
    new_element: str
    state: str


@dataclass
class MoveResult:
    tasks: dict[str, TaskMove] = field(default_factory=dict)  # by Spiff task id
    timers: list[dict] = field(default_factory=list)         # timers computed again: element, old and new due
    mapping_used: dict[str, str] = field(default_factory=dict)
    state_json: str = ""


@dataclass
class _Part:
    """One (sub)workflow of the case and its target spec."""

    workflow: object
    new_spec: object
    diff: object = None       # WorkflowDiff
    spec_diff: object = None  # SpecDiff


def target_name(name: str, mapping: dict[str, str]) -> str:
    """The new spec name for an old one: mapped, or the library spec named after a mapped element, or itself."""
    if name in mapping:
        return mapping[name]
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name[:-len(suffix)] in mapping:
            return mapping[name[:-len(suffix)]] + suffix
    return name


def move(workflow, target_spec_json: str, mapping: dict[str, str], *, script_context=None,
         task_created=lambda _task_id: None) -> MoveResult:
    """Move `workflow` onto the spec in `target_spec_json`; raise MoveRefused (workflow unusable) when unsafe.

    `task_created(spiff_task_id)` answers when a human task was created (its row), the
    moment a boundary timer on it began. The caller discards the workflow on refusal.
    """
    specs = json.loads(target_spec_json)
    registry = SERIALIZER.registry
    new_spec = registry.restore(specs["spec"])
    new_subs = {name: registry.restore(sub) for name, sub in specs["subprocess_specs"].items()}
    result = MoveResult()
    parts, reasons = _align_all(workflow, new_spec, new_subs, mapping)
    for part in parts:
        reasons.extend(_check(part))
    if reasons:
        raise MoveRefused(_distinct(reasons))
    saved = _snapshot(workflow)
    for part in parts:
        _prune_cancelled(part)
        last = part.workflow.last_task
        migrate_workflow(part.diff, part.workflow, part.new_spec)
        # 3.2.0 tests `last_task not in workflow.tasks`, a dict keyed by id, so it always forgets the last
        # task; the case's current data (runtime._current_data) is read from it
        if last is not None and last.id in part.workflow.tasks:
            part.workflow.last_task = last
    workflow.subprocess_specs = new_subs
    _reconnect_triggered(workflow)
    reasons = _predict_ahead(workflow)
    reasons += _restore(workflow, saved, result, task_created, script_context)
    reasons += _stale(workflow)
    if reasons:
        raise MoveRefused(reasons)
    for task in _all_tasks(workflow):
        old = saved.elements.get(task.id)
        if old in mapping:
            result.mapping_used[old] = mapping[old]
        if task.has_state(ACTIVE):
            result.tasks[str(task.id)] = TaskMove(task, old, element_id(task), STATE_NAMES[task.state])
    result.state_json = _round_trip(workflow, target_spec_json, script_context)
    return result


# -- alignment -------------------------------------------------------------------------------------


def _align_all(workflow, new_spec, new_subs, mapping) -> tuple[list[_Part], list[str]]:
    top = _Part(workflow, new_spec)
    parts, reasons = [top], []
    _align(top, mapping)
    by_workflow = {id(workflow): top}
    for sp_id, sub in sorted(workflow.subprocesses.items(), key=lambda item: item[1].depth):
        owner = workflow.get_task_from_id(sp_id)
        owner_part = by_workflow.get(id(owner.workflow))
        new_owner = owner_part.spec_diff.alignment.get(owner.task_spec) if owner_part else None
        if new_owner is None:
            continue  # the owning element is itself refused (see _check)
        called = getattr(new_owner, "spec", None)
        if called != sub.spec.name:
            reasons.append(f"'{element_id(owner)}' runs '{sub.spec.name}', but in the new version it "
                           f"{'runs ' + repr(called) if called else 'is not a call activity or subprocess'}")
            continue
        if called not in new_subs:
            reasons.append(f"'{element_id(owner)}' runs '{called}', which the new version does not contain")
            continue
        part = _Part(sub, new_subs[called])
        _align(part, mapping)
        parts.append(part)
        by_workflow[id(sub)] = part
    return parts, reasons


def _align(part: _Part, mapping: dict[str, str]) -> None:
    """The library's SpecDiff and WorkflowDiff, with alignment by id and explicit mapping only."""
    old_spec, new_spec = part.workflow.spec, part.new_spec
    spec_diff = SpecDiff(SERIALIZER.registry, old_spec, new_spec)
    for spec in old_spec.task_specs.values():
        target = new_spec.task_specs.get(target_name(spec.name, mapping))
        if spec_diff.alignment.get(spec) is not target or spec not in spec_diff.comparisons:
            spec_diff.alignment[spec] = target
            spec_diff.comparisons.pop(spec, None)
            if target is not None:
                spec_diff.comparisons[spec] = spec_diff._compare_task_specs(spec, target)
    part.spec_diff = spec_diff
    part.diff = WorkflowDiff(part.workflow, spec_diff)


# -- checks (nothing is changed before all of them passed) ------------------------------------------


def _check(part: _Part) -> list[str]:
    reasons, alignment = [], part.spec_diff.alignment
    for task in list(part.workflow.tasks.values()):
        if task.has_state(AHEAD):
            continue
        new = alignment.get(task.task_spec)
        where = f"'{element_id(task)}'"
        if new is None:
            if task.has_state(TaskState.CANCELLED) and _only_cancelled_below(task):
                continue  # a cancelled branch of a removed element: pruned
            verb = "stands on" if task.has_state(ACTIVE) else "has passed"
            reasons.append(f"the case {verb} {where}, which the new version does not have; "
                           f"map it to an element of the new version")
        elif type(new).__name__ != type(task.task_spec).__name__:
            reasons.append(f"{where} is a {_kind(task.task_spec)} but '{new.name}' in the new version is a "
                           f"{_kind(new)}")
        elif task.has_state(TaskState.ERROR):
            reasons.append(f"{where} failed and has not been retried")
        elif task.has_state(ACTIVE) and isinstance(task.task_spec, LoopTask) and part.spec_diff.comparisons.get(
                task.task_spec):
            changed = ", ".join(part.spec_diff.comparisons[task.task_spec])
            reasons.append(f"the multi-instance {where} is running and the new version changes it ({changed}); "
                           f"let it finish first")
        elif task.has_state(RESET) and any(not d.has_state(AHEAD) for d in _descendants(task)):
            reasons.append(f"{where} has started work below it (a timer cycle?), which moving it would lose")
        elif task.has_state(TaskState.WAITING) and _timer_changed(task, new) and _is_cycle(new):
            reasons.append(f"the timer cycle {where} changes in the new version; let it finish first")
    return reasons


def _distinct(reasons: list[str]) -> list[str]:
    """Each reason once; "stands on X" says more than "has passed X" (its boundary split passed)."""
    standing = {r.replace("stands on", "has passed", 1) for r in reasons if "stands on" in r}
    return list(dict.fromkeys(r for r in reasons if r not in standing))


def _kind(spec) -> str:
    return type(spec).__name__


def _descendants(task):
    stack = list(task.children)
    while stack:
        child = stack.pop()
        yield child
        stack.extend(child.children)


def _only_cancelled_below(task) -> bool:
    return all(d.has_state(TaskState.CANCELLED | AHEAD) for d in _descendants(task))


def _definition(spec):
    return getattr(spec, "event_definition", None)


def _timer_changed(task, new_spec) -> bool:
    old, new = _definition(task.task_spec), _definition(new_spec)
    convert = SERIALIZER.registry.convert
    return (old is None) != (new is None) or (old is not None and convert(old) != convert(new))


def _timers_of(definition) -> list:
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)]
    return [definition] if isinstance(definition, TimerEventDefinition) else []


def _is_cycle(spec) -> bool:
    return any(isinstance(d, CycleTimerEventDefinition) for d in _timers_of(_definition(spec)))


# -- the move ---------------------------------------------------------------------------------------


@dataclass
class _Saved:
    data: dict = field(default_factory=dict)
    internal: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    old_specs: dict = field(default_factory=dict)
    elements: dict = field(default_factory=dict)
    changed_at: dict = field(default_factory=dict)  # Task.last_state_change: when it became READY or WAITING


def _all_tasks(workflow):
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _snapshot(workflow) -> _Saved:
    saved = _Saved()
    for task in _all_tasks(workflow):
        if task.has_state(AHEAD):
            continue
        saved.states[task.id] = task.state
        saved.elements[task.id] = element_id(task)
        if task.has_state(RESET):
            saved.data[task.id] = deepcopy(task.data)
            saved.internal[task.id] = deepcopy(task.internal_data)
            saved.old_specs[task.id] = task.task_spec
            saved.changed_at[task.id] = task.last_state_change
    return saved


def _prune_cancelled(part: _Part) -> None:
    """Cancelled branches of removed elements (an unused boundary timer) would not load with the new spec."""
    for task in list(part.workflow.tasks.values()):
        if (task.id in part.workflow.tasks and task.has_state(TaskState.CANCELLED)
                and part.spec_diff.alignment.get(task.task_spec) is None):
            part.workflow._remove_task(task.id)


def _reconnect_triggered(workflow) -> None:
    """An event subprocess the case has started is linked to the start task in the spec (see serialization)."""
    start = workflow.spec.start
    for task in workflow.task_tree.children:
        spec = task.task_spec
        if task.triggered and spec.name in getattr(start, "trigger_specs", []) and start not in spec.inputs:
            start.connect(spec)
            spec.connect(workflow.spec.end)


def _predict_ahead(workflow) -> list[str]:
    """migrate_workflow predicts again below READY and WAITING tasks; do the same below running subprocesses."""
    reasons = []
    for task in list(_all_tasks(workflow)):
        if not task.has_state(TaskState.STARTED):
            continue
        if isinstance(task.task_spec, LoopTask):
            continue  # its children are its instances; a changed multi-instance was refused
        for child in list(task.children):
            if child.has_state(AHEAD):
                task.workflow._remove_task(child.id)
            else:
                reasons.append(f"'{element_id(task)}' has work after it although it is still running")
        task.task_spec._predict_hook(task)
        for child in task.children:
            child.task_spec._predict(child, mask=AHEAD)
    return reasons


def _restore(workflow, saved: _Saved, result: MoveResult, task_created, script_context) -> list[str]:
    """Put back what reset_branch dropped; compute again the timers whose definition changed."""
    reasons = []
    for task in _all_tasks(workflow):
        if task.id not in saved.states:
            continue
        before = saved.states[task.id]
        if task.id in saved.data:
            task.data = saved.data[task.id]
            task.internal_data = saved.internal[task.id]
            old_spec = saved.old_specs[task.id]
            if before == TaskState.WAITING and _timers_of(_definition(task.task_spec)) and _changed(old_spec, task):
                result.timers.append(_recompute_timer(task, old_spec, saved, task_created, script_context))
        if task.state != before:
            if before not in (TaskState.READY, TaskState.WAITING):
                reasons.append(f"'{element_id(task)}' would change from {before} to {task.state}")
                continue
            task._set_state(before)
        if task.id in saved.changed_at:
            task.last_state_change = saved.changed_at[task.id]
        if task.state == TaskState.WAITING and isinstance(task.task_spec, CatchingEvent):
            task.workflow.top_workflow.event_manager.add_task(task)
    return reasons


def _changed(old_spec, task) -> bool:
    convert = SERIALIZER.registry.convert
    return convert(_definition(old_spec)) != convert(_definition(task.task_spec))


def _recompute_timer(task, old_spec, saved: _Saved, task_created, script_context) -> dict:
    old_due = timer_due(task)
    for key in ("event_value", "event_fired", "seen_events"):
        task.internal_data.pop(key, None)
    base = _wait_began(task, saved.changed_at[task.id], task_created)
    with clock.at(base):
        task.task_spec.event_definition.has_fired(task)  # computes and stores the due time at `base`
    return {"element_id": element_id(task), "old_due_at": old_due, "new_due_at": timer_due(task),
            "from": base}


def _wait_began(task, changed_at: float, task_created) -> datetime:
    """When the case began to wait here: for a boundary timer, when its activity's task was created."""
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        for sibling in parent.children:
            if sibling is not task and not isinstance(sibling.task_spec, CatchingEvent):
                created = task_created(str(sibling.id))
                if created is not None:
                    return clock.as_utc(created)
    # SpiffWorkflow's own record of the moment the task began to wait (wall time)
    return datetime.fromtimestamp(changed_at, timezone.utc)


def _stale(workflow) -> list[str]:
    """Every task must now stand on a spec of the version it will be loaded with."""
    reasons = []
    for wf in [workflow, *workflow.subprocesses.values()]:
        known = {id(spec) for spec in wf.spec.task_specs.values()}
        for task in wf.tasks.values():
            if id(task.task_spec) not in known:
                reasons.append(f"'{element_id(task)}' could not be placed in the new version")
    return reasons


def _round_trip(workflow, target_spec_json: str, script_context) -> str:
    """Serialize and load with the new spec; the same tasks in the same states, or the move is refused."""
    state = state_to_json(workflow)
    try:
        loaded = workflow_from_json(state, target_spec_json, script_context)
    except Exception as exc:  # noqa: BLE001 - whatever the library raises, the move is unsafe
        raise MoveRefused([f"the moved case does not load with the new version ({type(exc).__name__})"]) from exc
    shape = lambda wf: {t.id: (t.task_spec.name, t.state) for t in _all_tasks(wf)}  # noqa: E731
    if shape(loaded) != shape(workflow):
        raise MoveRefused(["the moved case does not load back the same with the new version"])
    return state
