"""Limits of SpiffWorkflow 3.2.0 that Tovholder works around; each one once bit or would bite a case."""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import TaskState

from engine.spiff import TovholderParser
from tests.factories import DATA


def test_a_loop_can_run_past_the_libraries_1000_level_task_tree_limit():
    """Unpatched, the 501st pass of a user-task/gateway loop is READY but invisible: the case stalls."""
    parser = TovholderParser()
    parser.add_bpmn_file(str(DATA / "loop.bpmn"))
    workflow = BpmnWorkflow(parser.get_spec("bench_loop"), parser.get_subprocess_specs("bench_loop"))
    workflow.do_engine_steps()
    for turn in range(520):
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data["note"] = "igen" if turn < 519 else "slut"
        task.run()
        workflow.do_engine_steps()
    assert workflow.completed
