"""History out of the state: the task tree is saved without the completed tasks nothing live needs.

Pure and in memory; called by engine.bpmn.serializer.state_to_json, the one save path, so every save
of every case (old, uncompacted states included) writes the compacted tree. Nothing is stored here.

SpiffWorkflow 3.2.0 keeps every task it ever ran in the tree, so a case's state and step cost grow
with its history (docs/performance.md, rows c and d). History is already kept in the audit events;
the state keeps what the library reads to go on (checked against the 3.2.0 sources):

- the root and its children (the start task; event subprocesses hang there and
  serializer._reconnect_triggered_subprocesses and migration look for them);
- every unfinished task (predicted, waiting, ready, started) and every failed one;
- the parent and grandparent of each of these: a task inherits its data from its parent when it
  becomes ready, a boundary event join looks up its split (`find_ancestor`), a boundary split's
  children are its task and its events;
- every task of an unstructured join (parallel and inclusive gateways, the process's end join)
  with its parent and grandparent: `_check_threshold_unstructured` and `_run_hook` look at every
  instance of the join in the tree, finished ones too, and at their parents' state and data;
- the workflow's last task (the case's current data is read from it);
- for a running loop or multi-instance task, its last merged child (the completion condition
  is evaluated on it); the ids of earlier merged children, which the library only counts, are
  stored as their number and come back as empty strings on load;
- a subprocess (call activity, embedded or event subprocess) as long as the task that owns it is
  kept; a dropped one takes its own subprocesses with it.

Every other task is spliced out: a kept task's parent becomes its nearest kept ancestor, which keeps
every ancestor relation between kept tasks (`is_descendant_of`, `find_ancestor`). The library's
serializer stores a task's data as a delta against its parent, so the tree is reshaped on the live
objects for the duration of `to_dict` (`compacted`) and put back afterwards: the workflow in memory
is unchanged.

What the tree no longer shows is kept small, at most one entry per element: the names of the task
specs whose completed tasks were dropped (`passed`, per workflow), so a migration still refuses a
case that has passed an element the new version lacks, and the BPMN ids of the case's own elements
(not inside call activities) among them (`done_elements`), so the case diagram still marks them
done. A subprocess dropped as a whole is not looked into by a later migration (it has finished).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

_OFF: ContextVar[bool] = ContextVar("tovholder_compaction_off", default=False)
PASSED_KEY, DONE_KEY = "tovholder_passed", "tovholder_done"
_PASSED_ATTR, _DONE_ATTR = "_tovholder_passed", "_tovholder_done"
MERGED_DROPPED = "tovholder_merged_dropped"
_PLANS_ATTR = "_tovholder_compaction_plans"
DONE = -1  # the key of the done elements among compacted()'s names (the others are id()s)
FINISHED_OK = TaskState.COMPLETED | TaskState.CANCELLED  # ERROR stays: it waits for a retry


@contextmanager
def uncompacted() -> Iterator[None]:
    """Saves in this block (this thread or task) keep the whole tree: what the tests and the bench
    compare compaction against, and the state format as it was written before it."""
    token = _OFF.set(True)
    try:
        yield
    finally:
        _OFF.reset(token)


def _kept_set(workflow: Any, attribute: str) -> set[str]:
    """The set a workflow carries under `attribute`, made empty the first time it is asked for."""
    found = getattr(workflow, attribute, None)
    if found is None:
        found = set()
        setattr(workflow, attribute, found)
    return found


def passed(workflow: Any) -> set[str]:
    """Task spec names of completed tasks that an earlier save dropped from this (sub)workflow."""
    return _kept_set(workflow, _PASSED_ATTR)


def restore_passed(workflow: BpmnWorkflow, stored: dict[str, list[str]]) -> None:
    """Put back what `passed_from_dict` took out of a stored state, once the workflow is loaded."""
    done_elements(workflow).update(stored.pop(DONE_KEY, []))
    for key, names in stored.items():
        target = workflow if key == "" else workflow.subprocesses.get(UUID(key))
        if target is not None:
            passed(target).update(names)


def passed_from_dict(dct: dict) -> dict[str, list[str]]:
    """Take the passed names out of a stored state (top workflow under "", subprocesses by owner id), and
    give loop tasks their merged lists back as the library keeps them."""
    found = {"": dct.pop(PASSED_KEY, []), DONE_KEY: dct.pop(DONE_KEY, [])}
    _expand_merged(dct)
    for key, sub in (dct.get("subprocesses") or {}).items():
        found[key] = sub.pop(PASSED_KEY, [])
        _expand_merged(sub)
    return {k: v for k, v in found.items() if v}


def _keep_set(flow: Any) -> set[UUID]:
    tasks: dict[UUID, Task] = flow.tasks
    root = flow.task_tree
    keep: set[UUID] = {root.id, *root._children}
    anchors: list[Task] = []
    for task in tasks.values():
        if not task.has_state(FINISHED_OK) or isinstance(task.task_spec, UnstructuredJoin):
            anchors.append(task)
        if isinstance(task.task_spec, LoopTask) and not task.has_state(FINISHED_OK):
            merged = task.internal_data.get("merged") or []
            if merged and merged[-1]:
                keep.add(UUID(merged[-1]))
    if flow.last_task is not None and flow.last_task.id in tasks:
        anchors.append(flow.last_task)
    for task in anchors:
        keep.add(task.id)
        parent = tasks.get(task._parent)
        if parent is not None:
            keep.add(parent.id)
            if parent._parent in tasks:
                keep.add(parent._parent)
    return keep


def _preorder(root: Task, tasks: dict[UUID, Task]) -> Iterator[tuple[Task, UUID | None]]:
    """Each task with its nearest kept ancestor is worked out by the caller; iterative: trees are deep."""
    stack: list[tuple[Task, UUID | None]] = [(root, None)]
    while stack:
        task, parent = stack.pop()
        yield task, parent
        for child_id in reversed(task._children):
            child = tasks.get(child_id)
            if child is not None:
                stack.append((child, task.id))


class _Plan:
    """What one (sub)workflow keeps, and how the kept tasks hang together."""

    def __init__(self, flow: Any, keep: set[UUID]):
        self.flow, self.keep = flow, keep
        tasks: dict[UUID, Task] = flow.tasks
        self.parents: dict[UUID, UUID | None] = {}
        self.children: dict[UUID, list[UUID]] = {}
        self.dropped: list[Task] = []
        self.moved: list[UUID] = []  # kept tasks that hang from another parent than before
        nearest: dict[UUID, UUID | None] = {}
        for task, parent in _preorder(flow.task_tree, tasks):
            above = None if parent is None else (parent if parent in keep else nearest[parent])
            nearest[task.id] = above
            if task.id in keep:
                if above != parent:
                    self.moved.append(task.id)
                self.parents[task.id] = above
                self.children[task.id] = []
                if above is not None:
                    self.children[above].append(task.id)
            else:
                self.dropped.append(task)
        self.keep = set(self.parents)  # only what hangs from the root

    def apply(self) -> dict:
        """Reshape the live tree; returns what `undo` needs."""
        tasks = self.flow.tasks
        saved = {"tasks": tasks, "links": {tid: (tasks[tid]._parent, tasks[tid]._children) for tid in self.keep}}
        self.flow.tasks = {tid: task for tid, task in tasks.items() if tid in self.keep}
        for tid in self.keep:
            task = tasks[tid]
            task._parent, task._children = self.parents[tid], self.children[tid]
        return saved

    def undo(self, saved: dict) -> None:
        self.flow.tasks = saved["tasks"]
        for tid, (parent, children) in saved["links"].items():
            task = self.flow.tasks[tid]
            task._parent, task._children = parent, children


def _plans(workflow: BpmnWorkflow) -> tuple[dict[int, _Plan], dict[UUID, Any], list[Any]]:
    """A plan per kept workflow, the subprocesses that stay (by owner id) and those dropped."""
    plans = {id(workflow): _Plan(workflow, _keep_set(workflow))}
    kept_subs: dict[UUID, Any] = {}
    dropped: list[Any] = []
    pending = dict(workflow.subprocesses)
    progress = True
    while progress:
        progress = False
        for owner_id, sub in list(pending.items()):
            holder = next((p for p in plans.values() if owner_id in p.flow.tasks), None)
            if holder is None:
                continue  # its owner's workflow is not planned yet (or is dropped)
            del pending[owner_id]
            progress = True
            if owner_id in holder.keep:
                kept_subs[owner_id] = sub
                plans[id(sub)] = _Plan(sub, _keep_set(sub))
    dropped = [sub for owner_id, sub in workflow.subprocesses.items() if owner_id not in kept_subs]
    return plans, kept_subs, dropped


def _own(workflow: BpmnWorkflow) -> set[int]:
    """The top workflow and its embedded (and event) subprocesses, by `id()`: not what call activities run."""
    own = {id(workflow)}
    for owner_id, sub in sorted(workflow.subprocesses.items(), key=lambda item: item[1].depth):
        owner = workflow.get_task_from_id(owner_id)
        if owner is not None and id(owner.workflow) in own and not isinstance(owner.task_spec, CallActivity):
            own.add(id(sub))
    return own


def _element_ids(tasks: Iterable[Task]) -> set[str]:
    return {task.task_spec.bpmn_id for task in tasks if task.has_state(TaskState.COMPLETED)
            and isinstance(task.task_spec, BpmnTaskSpec) and task.task_spec.bpmn_id}


def done_elements(workflow: Any) -> set[str]:
    """BPMN ids of the case's own elements (not inside call activities) whose completed tasks were dropped."""
    return _kept_set(workflow, _DONE_ATTR)


@contextmanager
def compacted(workflow: BpmnWorkflow) -> Iterator[dict[int, set[str]]]:
    """The workflow reshaped as it is to be stored; yields the passed names per workflow (by `id()`).

    Everything is put back when the block ends, also after an exception.
    """
    plans, kept_subs, dropped_subs = _plans(workflow)
    names: dict[int, set[str]] = {}
    own = _own(workflow)
    done = set(done_elements(workflow))
    for key, plan in plans.items():
        names[key] = set(passed(plan.flow)) | {t.task_spec.name for t in plan.dropped
                                               if t.has_state(TaskState.COMPLETED)}
        if key in own:
            done |= _element_ids(plan.dropped)
    for sub in dropped_subs:
        if id(sub) in own:
            done |= _element_ids(sub.tasks.values()) | done_elements(sub)
    names[DONE] = done
    saved_subs = workflow.subprocesses
    setattr(workflow, _PLANS_ATTR, list(plans.values()))
    undo: list[tuple[_Plan, dict]] = []
    try:
        workflow.subprocesses = kept_subs
        for plan in plans.values():
            undo.append((plan, plan.apply()))
        yield names
    finally:
        for plan, saved in reversed(undo):
            plan.undo(saved)
        workflow.subprocesses = saved_subs
        setattr(workflow, _PLANS_ATTR, [])


def compact_state(workflow: BpmnWorkflow, to_dict: Any) -> dict:
    """`to_dict(workflow)` on the compacted tree, with the passed names and shortened loop counters."""
    if _OFF.get():
        dct = to_dict(workflow)
        _mark(dct, passed(workflow), set(), shorten=False)
        if done_elements(workflow):
            dct[DONE_KEY] = sorted(done_elements(workflow))
        for owner_id, sub in workflow.subprocesses.items():
            if str(owner_id) in dct["subprocesses"]:
                _mark(dct["subprocesses"][str(owner_id)], passed(sub), set(), shorten=False)
        return dct
    with compacted(workflow) as names:
        dct = to_dict(workflow)
        kept = {str(tid) for tid in workflow.tasks}
        for plan in plans_of(workflow):
            flow_dct = dct if plan.flow is workflow else dct["subprocesses"].get(str(plan.flow.parent_task_id))
            if flow_dct is not None:
                _full_deltas(plan, flow_dct)
        _mark(dct, names.get(id(workflow), set()), kept)
        if names[DONE]:
            dct[DONE_KEY] = sorted(names[DONE])
        for owner_id, sub in workflow.subprocesses.items():
            sub_dct = dct["subprocesses"].get(str(owner_id))
            if sub_dct is not None:
                _mark(sub_dct, names.get(id(sub), set()), {str(tid) for tid in sub.tasks})
    return dct


def _full_deltas(plan: _Plan, dct: dict) -> None:
    """A moved task's data as a whole: the library's delta compares values with ==, so a change from 0 to
    False (or 1 to True) against a new parent that still holds the older value would be lost."""
    for tid in plan.moved:
        task, stored = plan.flow.tasks.get(tid), dct["tasks"].get(str(tid))
        if task is None or stored is None or task.parent is None or not stored.get("delta"):
            continue
        stored["delta"] = {"updates": dict(task.data),
                           "deletions": [key for key in task.parent.data if key not in task.data]}


def plans_of(workflow: BpmnWorkflow) -> list[_Plan]:
    return list(getattr(workflow, _PLANS_ATTR, []))


def _mark(dct: dict, names: set[str], kept: set[str], shorten: bool = True) -> None:
    if names:
        dct[PASSED_KEY] = sorted(names)
    if not shorten:
        return
    for task in dct["tasks"].values():
        internal = task.get("internal_data")
        merged = internal.get("merged") if isinstance(internal, dict) else None
        if isinstance(merged, list) and merged and (not merged[0] or merged[0] not in kept):
            # the library only counts the earlier children and reads the last: store how many were dropped
            dropped = 0
            while dropped < len(merged) - 1 and (not merged[dropped] or merged[dropped] not in kept):
                dropped += 1
            task["internal_data"] = {**internal, "merged": merged[dropped:], MERGED_DROPPED: dropped}


def _expand_merged(dct: dict) -> None:
    for task in dct.get("tasks", {}).values():
        internal = task.get("internal_data")
        if isinstance(internal, dict) and MERGED_DROPPED in internal:
            internal["merged"] = [""] * internal.pop(MERGED_DROPPED) + list(internal.get("merged") or [])
