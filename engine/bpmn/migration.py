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
  structural guesses are dropped: CONTRACT.md says an unmapped removed element refuses),
  computed once per pair of versions and reused by name (`_KnownDiff`);
- checks per case, each with a reason a process owner can act on (see `_check`);
- what migrate_workflow drops, put back (engine.bpmn.migration_repair): data, internal
  data, state and state-change time of the reset tasks, the workflow's last task, a
  changed timer computed again from when its wait began (the legal clock does not
  restart), the path ahead of running call activities and subprocesses;
- a last check that loading the saved state will find every spec it looks up by name.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task, TaskState

from .compaction import passed
from .migration_repair import (
    ACTIVE,
    AHEAD,
    RESET,
    TaskCreated,
    all_tasks,
    definition,
    descendants,
    dissolvable,
    dissolve_boundaries,
    predict_ahead,
    prune_cancelled,
    reconnect_triggered,
    restore,
    snapshot,
    timers_of,
    unresolved,
)
from .serializer import SERIALIZER
from .spec_cache import shared_specs
from .workflow_tasks import element_id

STATE_NAMES = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.STARTED: "started"}
SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")  # library task specs named after an element


class MoveRefused(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class TaskMove:
    """An active task after the move: the same Spiff task id, on the new version's element."""

    task: Task
    old_element: str | None  # None: a task the move itself created
    new_element: str
    state: str


@dataclass
class MoveResult:
    tasks: dict[str, TaskMove] = field(default_factory=dict)  # by Spiff task id
    timers: list[dict] = field(default_factory=list)         # timers computed again: element, old and new due
    mapping_used: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    """One (sub)workflow of the case and its target spec."""

    workflow: BpmnBaseWorkflow  # the top workflow or one of its subprocesses
    new_spec: BpmnProcessSpec
    diff: WorkflowDiff = field(init=False)  # both set by _align, before anything reads them
    spec_diff: SpecDiff = field(init=False)


def target_name(name: str, mapping: dict[str, str]) -> str:
    """The new spec name for an old one: mapped, or the library spec named after a mapped element, or itself."""
    if name in mapping:
        return mapping[name]
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name[:-len(suffix)] in mapping:
            return mapping[name[:-len(suffix)]] + suffix
    return name


def move(workflow: BpmnWorkflow, target_spec_json: str, mapping: dict[str, str], *,
         task_created: TaskCreated = lambda _task_id: None, source_key: str | None = None) -> MoveResult:
    """Move `workflow` onto the spec in `target_spec_json`; raise MoveRefused (workflow unusable) when unsafe.

    `task_created(spiff_task_id)` answers when a human task was created (its row), the
    moment a boundary timer on it began. `source_key` names the version the workflow
    runs on (its definition id): the spec alignment is then computed once per pair of
    versions and mapping. The caller discards the workflow on refusal.
    """
    new_spec, new_subs = _target_specs(target_spec_json)
    result = MoveResult()
    pair = (source_key, target_spec_json, tuple(sorted(mapping.items()))) if source_key else None
    parts, reasons = _align_all(workflow, new_spec, new_subs, mapping, pair)
    for part in parts:
        reasons.extend(_check(part))
        reasons.extend(_check_passed(part))
    if reasons:
        raise MoveRefused(_distinct(reasons))
    saved = snapshot(workflow)
    for part in parts:
        for element in _passed_elements(part):
            if element in mapping:
                result.mapping_used[element] = mapping[element]
    for part in parts:
        prune_cancelled(part)
        dissolve_boundaries(part)
        last = part.workflow.last_task
        moved_passed = _passed_after_move(part)
        migrate_workflow(part.diff, part.workflow, part.new_spec)
        passed(part.workflow).clear()
        passed(part.workflow).update(moved_passed)
        # 3.2.0 tests `last_task not in workflow.tasks`, a dict keyed by id, so it always forgets the last
        # task; the case's current data (runtime._current_data) is read from it
        if last is not None and last.id in part.workflow.tasks:
            part.workflow.last_task = last
    workflow.subprocess_specs = new_subs
    reconnect_triggered(workflow)
    reasons = predict_ahead(workflow)
    reasons += restore(workflow, saved, result, task_created)
    reasons += unresolved(workflow, new_subs)
    if reasons:
        raise MoveRefused(reasons)
    for task in all_tasks(workflow):
        old = saved.elements.get(task.id)
        if old in mapping:
            result.mapping_used[old] = mapping[old]
        if task.has_state(ACTIVE):
            result.tasks[str(task.id)] = TaskMove(task, old, element_id(task), STATE_NAMES[task.state])
    return result


# -- alignment -------------------------------------------------------------------------------------


def _align_all(workflow: BpmnWorkflow, new_spec: BpmnProcessSpec, new_subs: dict[str, BpmnProcessSpec],
               mapping: dict[str, str], pair: tuple | None) -> tuple[list[_Part], list[str]]:
    top = _Part(workflow, new_spec)
    parts, reasons = [top], []
    _align(top, mapping, pair)
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
        _align(part, mapping, pair)
        parts.append(part)
        by_workflow[id(sub)] = part
    return parts, reasons


_ALIGNED: dict[tuple, dict] = {}


def _align(part: _Part, mapping: dict[str, str], pair: tuple | None) -> None:
    """The library's SpecDiff and WorkflowDiff, with alignment by id and explicit mapping only."""
    old_spec, new_spec = part.workflow.spec, part.new_spec
    key = (*pair, old_spec.name, new_spec.name) if pair else None
    if key is not None and key in _ALIGNED:
        spec_diff = _KnownDiff(old_spec, new_spec, _ALIGNED[key])
    else:
        spec_diff = SpecDiff(SERIALIZER.registry, old_spec, new_spec)
        for spec in old_spec.task_specs.values():
            target = new_spec.task_specs.get(target_name(spec.name, mapping))
            if spec_diff.alignment.get(spec) is not target or spec not in spec_diff.comparisons:
                spec_diff.alignment[spec] = target
                spec_diff.comparisons.pop(spec, None)
                if target is not None:
                    spec_diff.comparisons[spec] = spec_diff._compare_task_specs(spec, target)
        if key is not None:
            if len(_ALIGNED) > 64:
                _ALIGNED.clear()
            _ALIGNED[key] = {spec.name: (target.name if target is not None else None,
                                         spec_diff.comparisons.get(spec))
                             for spec, target in spec_diff.alignment.items()}
    part.spec_diff = spec_diff
    part.diff = WorkflowDiff(part.workflow, spec_diff)


class _KnownDiff(SpecDiff):
    """What SpecDiff answered for the same two versions and mapping, applied by name to this case's specs.

    The specs a case loads with may be other objects than last time (restored again after the
    spec cache dropped them, or for one workflow only), so SpecDiff's answer (keyed by spec
    objects) is kept by name; its `removed` and `changed` read these attributes as they are.
    """

    def __init__(self, old_spec: BpmnProcessSpec, new_spec: BpmnProcessSpec, known: dict):  # noqa: D107 - SpecDiff's own traversal is skipped
        self.added: list = []  # no new spec is looked at: only the known alignment is replayed
        self.alignment: dict = {}  # old task spec -> new task spec (None: removed)
        self.comparisons: dict = {}  # old task spec -> names of the attributes that changed
        self._registry = SERIALIZER.registry
        for spec in old_spec.task_specs.values():
            name, changes = known.get(spec.name, (None, None))
            target = new_spec.task_specs.get(name) if name is not None else None
            self.alignment[spec] = target
            if target is not None:
                self.comparisons[spec] = list(changes or [])


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
            if dissolvable(task, alignment):
                continue  # a boundary split or join, or an armed boundary event, of a step that stays
            verb = "stands on" if task.has_state(ACTIVE) else "has passed"
            reasons.append(f"the case {verb} {where}, which the new version does not have; "
                           f"map it to an element of the new version")
        elif type(new).__name__ != type(task.task_spec).__name__ and (
                task.has_state(ACTIVE) or task.id in part.workflow.top_workflow.subprocesses):
            # a step passed long ago may change its kind; one the case stands on (or ran a subprocess) may not
            reasons.append(f"{where} is a {_kind(task.task_spec)} but '{new.name}' in the new version is a "
                           f"{_kind(new)}")
        elif task.has_state(TaskState.ERROR):
            reasons.append(f"{where} failed and has not been retried")
        elif task.has_state(ACTIVE) and isinstance(task.task_spec, LoopTask) and part.spec_diff.comparisons.get(
                task.task_spec):
            changed = ", ".join(part.spec_diff.comparisons[task.task_spec])
            reasons.append(f"the multi-instance {where} is running and the new version changes it ({changed}); "
                           f"let it finish first")
        elif task.has_state(RESET) and any(not d.has_state(AHEAD) for d in descendants(task)):
            reasons.append(f"{where} has started work below it (a timer cycle?), which moving it would lose")
        elif task.has_state(TaskState.WAITING) and _timer_changed(task, new) and _is_cycle(new):
            reasons.append(f"the timer cycle {where} changes in the new version; let it finish first")
    return reasons


def _check_passed(part: _Part) -> list[str]:
    """What `_check` says of completed tasks, for those a save has dropped from the tree (engine.bpmn.compaction)."""
    reasons, alignment, specs = [], part.spec_diff.alignment, part.workflow.spec.task_specs
    for name in sorted(passed(part.workflow)):
        spec = specs.get(name)
        if spec is None or alignment.get(spec) is not None:
            continue
        base = name.rsplit(".", 1)[0]
        if name.endswith(SUFFIXES[:2]) and specs.get(base) is not None and alignment.get(specs[base]) is not None:
            continue  # the boundary split or join of a step that stays: dissolved, as in _check
        where = base if name.endswith(SUFFIXES[:2]) else (getattr(spec, "bpmn_id", None) or name)
        reasons.append(f"the case has passed '{where}', which the new version does not have; "
                       f"map it to an element of the new version")
    return reasons


def _passed_elements(part: _Part) -> set[str]:
    """Element ids of the completed tasks a save dropped (a mapping of them is used, as for those in the tree)."""
    specs, found = part.workflow.spec.task_specs, set()
    for name in passed(part.workflow):
        spec = specs.get(name)
        if spec is not None:
            found.add(name.rsplit(".", 1)[0] if name.endswith(SUFFIXES[:2]) else getattr(spec, "bpmn_id", None) or name)
    return found


def _passed_after_move(part: _Part) -> set[str]:
    """The dropped completed tasks' spec names, as the new version names them."""
    specs, alignment = part.workflow.spec.task_specs, part.spec_diff.alignment
    return {new.name for name in passed(part.workflow)
            if (spec := specs.get(name)) is not None and (new := alignment.get(spec)) is not None}


def _distinct(reasons: list[str]) -> list[str]:
    """Each reason once; "stands on X" says more than "has passed X" (its boundary split passed)."""
    standing = {r.replace("stands on", "has passed", 1) for r in reasons if "stands on" in r}
    return list(dict.fromkeys(r for r in reasons if r not in standing))


def _kind(spec: TaskSpec) -> str:
    return type(spec).__name__


def _only_cancelled_below(task: Task) -> bool:
    return all(d.has_state(TaskState.CANCELLED | AHEAD) for d in descendants(task))


def _timer_changed(task: Task, new_spec: TaskSpec) -> bool:
    old, new = definition(task.task_spec), definition(new_spec)
    convert = SERIALIZER.registry.convert
    return (old is None) != (new is None) or (old is not None and convert(old) != convert(new))


def _is_cycle(spec: TaskSpec) -> bool:
    return any(isinstance(d, CycleTimerEventDefinition) for d in timers_of(definition(spec)))


# -- the target version's specs ----------------------------------------------------------------------

def _target_specs(target_spec_json: str) -> tuple:
    """The new version's specs, restored once per process (engine.bpmn.spec_cache) and shared.

    Nothing in a move changes a spec. Linking an event subprocess the case has started to the start
    task (`reconnect_triggered`) finds a shared spec linked in advance and does nothing, so a case
    that has started one shares them too (it used to get a copy of its own).
    The workflow gets a dict of subprocess specs of its own (the move assigns it).
    """
    specs = shared_specs(target_spec_json)
    return specs.spec, dict(specs.subprocess_specs)
