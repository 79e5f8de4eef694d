"""Every change Tovholder makes to SpiffWorkflow's own code, applied by one explicit call.

`apply()` is called once by each edge that runs the engine (the API app, the
CLI, the worker, the test session, the benchmarks) before any workflow is
parsed or loaded. It refuses to patch any SpiffWorkflow but the pinned one:
each patch was written against that version's internals, and a different
version may need none, or a different one. It is idempotent and only sets
module attributes: no database, no transaction.

The patches (each tested in tests/engine/test_bpmn_adapter.py, listed in
docs/architecture.md):

1. Task-tree depth. `TaskIterator`/`BpmnTaskIterator` stop descending 1,000
   levels into the task tree. Every pass of a loop (user task -> gateway ->
   back) adds levels, so after ~500 turns a READY task would be invisible and
   the case would stall silently. The iterator is iterative, so a far larger
   bound is safe.
2. The clock of timers. The timer module reads `datetime.now(timezone.utc)`
   itself; it is pointed at engine.clock so tests and the worker decide what
   "now" is.
3. DMN UNIQUE. `DMNEngine.decide` returns the first matching rule without
   checking that it is the only one; two matches must be an error.
"""
from __future__ import annotations

from datetime import datetime, tzinfo
from importlib.metadata import version as installed_version

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator

from .. import clock

PINNED_VERSION = "3.2.0"
MAX_TREE_DEPTH = 10_000_000

_applied = False


class LibraryVersionMismatch(RuntimeError):
    """The installed SpiffWorkflow is not the one these patches were written for."""


def apply() -> None:
    """Apply every patch once; refuse when the installed SpiffWorkflow is not the pinned version."""
    global _applied
    if _applied:
        return
    found = installed_version("SpiffWorkflow")
    if found != PINNED_VERSION:
        raise LibraryVersionMismatch(
            f"SpiffWorkflow {found} is installed, but engine/bpmn/patches.py is written for "
            f"{PINNED_VERSION}: check each patch against the new version before changing the pin")
    for iterator in (TaskIterator, BpmnTaskIterator):
        _raise_depth_limit(iterator)
    _timer_module.datetime = ClockDatetime
    DMNEngine.decide = _decide_strictly
    _applied = True


def is_applied() -> bool:
    return _applied


def require_applied() -> None:
    """Called where the engine parses or loads a workflow: running unpatched would be silently wrong."""
    if not _applied:
        raise RuntimeError("engine.bpmn.patches.apply() was not called before the engine ran")


def _raise_depth_limit(iterator_class: type[TaskIterator]) -> None:
    init = iterator_class.__init__
    names = init.__code__.co_varnames[1:init.__code__.co_argcount]
    defaults = list(init.__defaults__)
    defaults[names.index("max_depth") - (len(names) - len(defaults))] = MAX_TREE_DEPTH
    init.__defaults__ = tuple(defaults)


class ClockDatetime(datetime):
    """SpiffWorkflow's timers ask `datetime.now(timezone.utc)`; answer with engine.clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> ClockDatetime:
        current = clock.now()
        moment = current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(moment.isoformat())


def _decide_strictly(self: DMNEngine, task: Task) -> list:
    """DMN rules that match; UNIQUE means one at most (SpiffWorkflow returns the first and stops)."""
    matches = [rule for rule in self.decision_table.rules if self._DMNEngine__check_rule(rule, task)]
    if self.decision_table.hit_policy == "UNIQUE" and len(matches) > 1:
        rows = ", ".join(str(rule.row_number) for rule in matches)
        raise WorkflowTaskException(
            f"decision table {self.decision_table.id}: rows {rows} all match, but hit policy UNIQUE allows one",
            task=task)
    return matches
