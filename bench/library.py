"""Rows (a): SpiffWorkflow's own limit, in-process, no database and no HTTP.

One step = find the ready user task, give it data, run it, do_engine_steps, and
(in two of the three variants) serialize the workflow to JSON and load it back,
which is what every request of the service does. The process is
bench/data/loop.bpmn (user task -> exclusive gateway -> back), CASE_STEPS steps
per case, a fresh case each time; the variants take turns case by case so that
noise on the machine spreads over all of them alike.
"""
from __future__ import annotations

import time

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.task import TaskState

from engine.bpmn.parser import TovholderParser
from engine.bpmn.script_engine import make_script_engine
from engine.bpmn.serializer import SERIALIZER, new_workflow, spec_to_json, state_to_json, workflow_from_json

from .common import DATA, LOOP_KEY, Row, median

# A loop of 100 steps stays far below the depth at which SpiffWorkflow stops
# seeing tasks (about 500 turns of this loop; see rows c).
CASE_STEPS = 100
CASES = 5
MODES = ("memory", "ours", "spiff")


def loop_spec_json() -> str:
    parser = TovholderParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(DATA / "loop.bpmn"))
    return spec_to_json(parser.get_spec(LOOP_KEY), parser.get_subprocess_specs(LOOP_KEY))


def _roundtrip(mode: str, workflow, spec_json: str):
    if mode == "ours":
        return workflow_from_json(state_to_json(workflow), spec_json)
    if mode == "spiff":
        loaded = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(workflow))
        loaded.script_engine = make_script_engine()
        return loaded
    return workflow


def _one_case(mode: str, spec_json: str, timings: list[float]):
    workflow = new_workflow(spec_json)
    workflow.do_engine_steps()
    for i in range(CASE_STEPS):
        t0 = time.perf_counter()
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update({"again": True, "note": f"trin {i}"})
        task.run()
        workflow.do_engine_steps()
        workflow = _roundtrip(mode, workflow, spec_json)
        timings.append(time.perf_counter() - t0)
    return workflow


def _sizes(workflow, spec_json: str) -> dict:
    ours = state_to_json(workflow)
    spiff = SERIALIZER.serialize_json(workflow)
    t_ours, t_spiff = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        workflow_from_json(state_to_json(workflow), spec_json)
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        SERIALIZER.deserialize_json(SERIALIZER.serialize_json(workflow))
        t_spiff.append(time.perf_counter() - t0)
    return {"ours_kib": len(ours) / 1024, "spiff_kib": len(spiff) / 1024, "spec_kib": len(spec_json) / 1024,
            "ours_rt_ms": 1000 * median(t_ours), "spiff_rt_ms": 1000 * median(t_spiff)}


def run() -> list[Row]:
    spec_json = loop_spec_json()
    timings = {mode: [] for mode in MODES}
    last = None
    _one_case("ours", spec_json, [])  # warm up imports and caches; not counted
    for _ in range(CASES):
        for mode in MODES:
            last = _one_case(mode, spec_json, timings[mode])
    sizes = _sizes(last, spec_json)
    rows = {
        "memory": Row("a1", "SpiffWorkflow in-process, no serialization", timings["memory"]),
        "ours": Row("a2", "SpiffWorkflow + our state JSON round trip per step", timings["ours"],
                    state_kib=sizes["ours_kib"]),
        "spiff": Row("a3", "SpiffWorkflow + its own serialize_json/deserialize_json", timings["spiff"],
                     state_kib=sizes["spiff_kib"]),
    }
    mem, ours, spiff = (rows[m].mean_ms for m in MODES)
    rows["memory"].note = f"{CASES} cases x {CASE_STEPS} steps of loop.bpmn"
    rows["ours"].note = (f"round trip = {(ours - mem) / mem:.1f}x the engine step; at step {CASE_STEPS}: "
                         f"{sizes['ours_rt_ms']:.1f} ms")
    rows["spiff"].note = (f"{spiff / ours:.2f}x a2 per step; at step {CASE_STEPS}: {sizes['spiff_rt_ms']:.1f} ms, "
                          f"+{sizes['spiff_kib'] - sizes['ours_kib']:.1f} KiB (spec is {sizes['spec_kib']:.1f} KiB)")
    return [rows[m] for m in MODES]
