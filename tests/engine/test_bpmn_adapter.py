"""The SpiffWorkflow adapter (engine/bpmn): each patch of the library, and the version check guarding them.

Each test names the library behaviour it guards against; with the patch
undone, the test fails. The DMN UNIQUE patch is tested through a case in
tests/engine/test_catalog.py (test_unique_decision_table_with_two_matching_rules_fails_the_run).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.task import TaskState

from engine import clock
from engine.bpmn import patches
from engine.bpmn.parser import TovholderParser
from tests.factories import DATA

pytestmark = pytest.mark.database_free  # runs in the SQLite half only (tests/conftest.py)


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


def test_the_timer_module_reads_engine_clock():
    """Unpatched, timers compute their due time from the wall clock, and tests could not move it."""
    moment = datetime(2031, 3, 4, 5, 6, tzinfo=timezone.utc)
    with clock.at(moment):
        assert timer_module.datetime.now(timezone.utc) == moment


def test_dmn_decide_is_the_strict_one():
    assert DMNEngine.decide is patches._decide_strictly


def test_apply_refuses_a_spiffworkflow_it_was_not_written_for(monkeypatch):
    monkeypatch.setattr(patches, "_applied", False)
    monkeypatch.setattr(patches, "installed_version", lambda name: "3.3.0")
    with pytest.raises(patches.LibraryVersionMismatch, match="3.3.0"):
        patches.apply()


def test_the_engine_refuses_to_run_unpatched(monkeypatch):
    from engine.bpmn.serializer import new_workflow
    monkeypatch.setattr(patches, "_applied", False)
    with pytest.raises(RuntimeError, match="apply"):
        new_workflow("{}")


def test_apply_is_idempotent():
    patches.apply()
    patches.apply()
    assert patches.is_applied()
