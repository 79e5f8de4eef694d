"""Rows (c): what one task completion costs as a case grows, on SQLite, through the engine.

One case of a loop process is grown one completion at a time (again=true)
through engine.runtime.complete_task with a commit each, in a session per
completion as a request would have. At 10, 100 and 1,000 completed tasks,
MEASURE further completions are timed (the lookup of the open task is not),
and the stored state's size and the cost of loading and saving it alone are
noted. Every save compacts the case (engine/bpmn/compaction.py); `compaction.uncompacted()` around
`run()` measures the whole tree as it was stored before.

Two loop shapes: bench/data/loop.bpmn (user task -> exclusive gateway -> back,
what the brief asks for) and bench/data/std_loop.bpmn (the same task as a BPMN
standard loop). The gateway loop makes SpiffWorkflow's task tree one level
deeper per element passed; its iterators stop at depth 1,000, so that case
stalls after about 500 completions. The growth detects the stall and reports
it, with the cost of the last completions before it.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from SpiffWorkflow.task import TaskState

from engine import runtime
from engine.bpmn.serializer import state_to_json, workflow_from_json
from engine.models import Case, ProcessDefinition

from .common import LOOP_KEY, RULES, STD_LOOP_KEY, Row, median, open_task_ids, prepare_database, start_case

SIZES = (10, 100, 1000)
MEASURE = 20


class Stalled(Exception):
    def __init__(self, completions: int, evidence: str):
        super().__init__(evidence)
        self.completions = completions
        self.evidence = evidence


class GrowingCase:
    def __init__(self, factory, user, process_key: str):
        self.factory, self.user = factory, user
        self.case_id = start_case(factory, user, process_key)
        self.done = 0
        self.recent: list[float] = []  # seconds of the latest completions, newest last

    def complete_one(self) -> float:
        with self.factory() as session:
            ids = open_task_ids(session, self.case_id)
            if len(ids) != 1:
                raise Stalled(self.done, _stall_evidence(session, self.case_id, len(ids)))
            t0 = time.perf_counter()
            runtime.complete_task(session, task_id=ids[0], data={"again": True, "note": f"trin {self.done}"},
                                  user=self.user, rules=RULES)
            session.commit()
            elapsed = time.perf_counter() - t0
        self.done += 1
        self.recent = (self.recent + [elapsed])[-MEASURE:]
        return elapsed

    def grow_to(self, size: int) -> None:
        while self.done < size:
            self.complete_one()

    def state(self) -> tuple[str, str]:
        with self.factory() as session:
            case = session.get(Case, self.case_id)
            return case.state_json, _spec_json(session, case)


def _spec_json(session, case: Case) -> str:
    return session.get(ProcessDefinition, case.definition_id).spec_json


def _stall_evidence(session, case_id: str, open_count: int) -> str:
    case = session.get(Case, case_id)
    workflow = workflow_from_json(case.state_json, _spec_json(session, case))
    every = list(workflow.tasks.values())
    hidden = sum(1 for t in every if t.state == TaskState.READY) - len(workflow.get_tasks(state=TaskState.READY))
    depth = max(t.depth for t in every)
    return (f"{open_count} open tasks, case '{case.status}', task tree depth {depth}, "
            f"{hidden} READY task(s) invisible to get_tasks (TaskIterator max_depth=1000)")


def _load_save_ms(state_json: str, spec_json: str) -> tuple[float, float]:
    loads, saves = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        workflow = workflow_from_json(state_json, spec_json)
        t1 = time.perf_counter()
        state_to_json(workflow)
        loads.append(t1 - t0)
        saves.append(time.perf_counter() - t1)
    return 1000 * median(loads), 1000 * median(saves)


def _measured_row(key: str, what: str, case: GrowingCase, timings: list[float]) -> Row:
    state_json, spec_json = case.state()
    load_ms, save_ms = _load_save_ms(state_json, spec_json)
    row = Row(key, what, timings, state_kib=len(state_json) / 1024)
    row.note = f"of which state load {load_ms:.1f} + save {save_ms:.1f} ms"
    return row


def grow(factory, user, process_key: str, label: str, key_prefix: str) -> list[Row]:
    case = GrowingCase(factory, user, process_key)
    rows = []
    for size in SIZES:
        key = f"{key_prefix}{len(rows) + 1}"
        try:
            case.grow_to(size)
            before = case.done
            timings = [case.complete_one() for _ in range(MEASURE)]
        except Stalled as stall:
            last = _measured_row(key, f"{label}, completions {stall.completions - len(case.recent) + 1}"
                                      f"-{stall.completions} (last before the stall)", case, list(case.recent))
            rows.append(last)
            rows.append(Row(f"{key_prefix}{len(rows) + 1}", f"{label}, at {size:,} completed tasks",
                            skipped=f"not reachable: stalls after {stall.completions} completions; "
                                    f"{stall.evidence}"))
            break
        rows.append(_measured_row(key, f"{label}, at {before:,} completed tasks", case, timings))
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        db_engine, factory, user = prepare_database(f"sqlite:///{Path(tmp) / 'growth.db'}")
        rows = grow(factory, user, LOOP_KEY, "gateway loop", "c")
        rows += grow(factory, user, STD_LOOP_KEY, "standard loop", "d")
        db_engine.dispose()
    return rows
