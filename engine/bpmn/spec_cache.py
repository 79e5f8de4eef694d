"""Restored process specs, kept per process and shared by every workflow that runs on them.

Pure and in memory: no database, no transaction. engine.bpmn.serializer asks `shared_specs(spec_json)`
for every load and every new case, engine.bpmn.migration for the version a case moves to.

Restoring a version's spec from its JSON (`process_definitions.spec_json`) was most of a load's cost:
about 11 ms for kontanthjælp's 450 task specs, plus parsing the JSON and, on every save, converting the
spec back to a dict only to drop it (docs/performance.md, "The spec restored once per process"). A
version's spec never changes, so it is restored once per process and shared.

**Keyed by the content.** The key is the spec JSON itself (its text, hashed by the dict; the text is the
object engine.runtime already caches per definition id, so its hash is computed once). A new version
has a new spec (a version is new only when its content hash changes), and a migrated case loads with
its new definition's spec: neither can find another version's objects. Bounded: `MAX_SPECS` versions,
least recently used dropped first; a dropped one is restored again when asked for.

**Why sharing is safe (checked against SpiffWorkflow 3.2.0; `restore` calls patches.require_applied,
so the pinned version is checked first).** Task specs hold no per-workflow state: a task's state, data
and children live on its `Task`, and a spec's hooks get the task as an argument. Deserializing a state
changes no spec: a task finds its spec by name, and a subprocess's completion is connected on the
subworkflow object (`completed_event`), not on a spec. Subprocess specs are attached to a workflow as
its `subprocess_specs` dict, which each workflow gets of its own, holding the shared specs; every
subworkflow of a name runs on that name's shared spec (within one workflow the library does the same).
The library changes specs while running in exactly two places, both made harmless here, once, before
the spec is shared (`_prepare`):

1. `BpmnStartTask.trigger_wf`, when a case first starts an event subprocess that a message, signal,
   error or escalation starts (the start task's `trigger_specs`), links it into the spec: start ->
   subprocess -> end join. In a shared spec that would link it for every case of the version. So the
   link the library's checks look for (the start task among the subprocess's inputs) and the link it
   needs (the subprocess's output to the end join, so a finished event subprocess leads to the end)
   are made in advance, for every event subprocess; the library then sees them and changes nothing.
   The start task's own outputs are left alone: they are what a new case's start task predicts its
   children from, and an event subprocess must not start with the case. Nothing reads the start
   task's outputs after it has run (it is never predicted again), and the end join does not read its
   inputs (`_EndJoin._check_threshold_unstructured` looks at the tree). The same check in
   engine.bpmn.serializer (`_reconnect_triggered_subprocesses`) and engine.bpmn.migration_repair
   (`reconnect_triggered`) finds the link made and does nothing.
2. A loop or multi-instance task connects its `merge_child` to its inner task spec's completed event
   the first time it creates a child (`create_child`, guarded by `is_connected`). The callback gets the
   workflow and the child, so one connection serves every case; it is made in advance, so two threads
   never race to make it (the second `connect` would raise).

An ad hoc subprocess (`AdHocSubprocessSpec.add_path`) connects specs at run time from the workflow's
data; a spec holding one is not shared: each load restores its own copy, as before this cache.
tests/engine/test_spec_cache.py runs cases on shared specs (seeded walks of kontanthjælp and
sygedagpenge with the processes they call, and a case that starts both kinds of event subprocess)
and checks that the specs are byte for byte what they were (`fingerprint`), and that two cases of
one version do not see each other.

A restored kontanthjælp spec holds about 1 MiB (sygedagpenge 0.4 MiB), so `MAX_SPECS` versions stay
within a few tens of MiB per process.
"""
from __future__ import annotations

import json
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec, BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask

from .patches import require_applied

MAX_SPECS = 32

_LOCK = threading.Lock()
_CACHE: OrderedDict[str, Specs] = OrderedDict()


@dataclass(frozen=True)
class Specs:
    """A version's process spec and the specs of the processes it calls or embeds."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    shared: bool  # False: restored for one workflow only (an ad hoc subprocess changes its spec)


def shared_specs(spec_json: str) -> Specs:
    """The restored specs of this spec JSON: shared when they may be, else a copy for one workflow."""
    with _LOCK:
        found = _CACHE.get(spec_json)
        if found is not None:
            _CACHE.move_to_end(spec_json)
            return found
    specs = restore(spec_json)
    if not specs.shared:
        return specs
    with _LOCK:  # another thread may have restored the same spec meanwhile: keep the first
        found = _CACHE.setdefault(spec_json, specs)
        _CACHE.move_to_end(spec_json)
        while len(_CACHE) > MAX_SPECS:
            _CACHE.popitem(last=False)
    return found


def restore(spec_json: str) -> Specs:
    """Restore afresh (the library's own converters), prepared for sharing when nothing changes it."""
    from .serializer import SERIALIZER  # the serializer imports this module

    require_applied()  # what _prepare relies on is 3.2.0's: patches.apply() refuses any other version
    stored = json.loads(spec_json)
    registry = SERIALIZER.registry
    spec = registry.restore(stored["spec"])
    subs = {name: registry.restore(sub) for name, sub in stored["subprocess_specs"].items()}
    processes = [spec, *subs.values()]
    if any(isinstance(process, AdHocSubprocessSpec) for process in processes):
        return Specs(spec, subs, shared=False)
    for process in processes:
        _prepare(process)
    return Specs(spec, subs, shared=True)


def _prepare(process: BpmnProcessSpec) -> None:
    """Make in advance the two changes SpiffWorkflow 3.2.0 would make to the spec while running."""
    start, end = process.start, process.end
    for name in getattr(start, "trigger_specs", []):
        subprocess = process.task_specs.get(name)
        if subprocess is None:
            continue
        if start not in subprocess.inputs:  # what trigger_wf checks; the start task's outputs stay as parsed
            subprocess._connect_notify(start)
        if end not in subprocess.outputs:
            subprocess.connect(end)
    for task_spec in list(process.task_specs.values()):
        if isinstance(task_spec, (StandardLoopTask, MultiInstanceTask)):
            inner = process.task_specs.get(task_spec.task_spec)
            if inner is not None and not inner.completed_event.is_connected(task_spec.merge_child):
                inner.completed_event.connect(task_spec.merge_child)


def fingerprint(specs: Specs) -> bytes:
    """Every attribute of every spec object, as bytes: equal before and after running means unchanged."""
    return pickle.dumps((specs.spec, specs.subprocess_specs), protocol=pickle.HIGHEST_PROTOCOL)


def clear() -> None:
    """Forget every restored spec (tests; a process never needs to: the content is the key)."""
    with _LOCK:
        _CACHE.clear()
