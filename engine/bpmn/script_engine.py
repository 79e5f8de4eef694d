"""The script engine every workflow gets: SpiffWorkflow's Python engine over Tovholder's sandbox.

Every expression, condition, timer and script of a diagram reaches
`SandboxEnvironment`, which hands it to engine.script_dispatch (cheap
expressions in this process, the rest in worker processes with CPU and memory
limits) under engine.scripting's allowlist. A timer's value is
checked (engine.timer_rules) before the library parses it: the library fails
on a bad value without naming the element, loops on an endless cycle whose
start has passed, and counts "P999999999Y" month by month; a value computed
from case data can be any of these, so it is refused as an error of the
timer's element (the case keeps its previous state). Pure: no database.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.task import Task

from .. import clock, timer_rules
from ..script_dispatch import SCRIPT_LINE, ScriptDispatch
from ..scripting import ScriptContext

_TIMER_TAGS = {DurationTimerEventDefinition: "timeDuration", TimeDateEventDefinition: "timeDate",
               CycleTimerEventDefinition: "timeCycle"}


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment: every call goes to engine.script_dispatch."""

    def __init__(self, ctx: ScriptContext | None = None):
        super().__init__({})
        self.dispatch = ScriptDispatch(ctx)

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        return self.dispatch.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        self.dispatch.execute(script, context, external_context)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise NotImplementedError("service tasks run through the worker's topic handlers")


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, told the line a worker process reported for a failing script."""

    def get_error_line_number_and_content(self, script: str, err: Exception) -> tuple[int, str]:
        line = getattr(err, SCRIPT_LINE, None)
        if not line:
            return super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        return line, lines[line - 1] if 0 < line <= len(lines) else ""


class TimerCheckingScriptEngine(SandboxScriptEngine):
    """Checks what a timer expression gives before SpiffWorkflow parses it."""

    def evaluate(self, task: Task, expression: str, external_context: dict | None = None) -> Any:
        value = super().evaluate(task, expression, external_context)
        definition = getattr(task.task_spec, "event_definition", None)
        tag = _TIMER_TAGS.get(type(definition))
        if tag is not None and definition is not None and expression == definition.expression:
            problem = timer_rules.value_problem(tag, value, clock.now())
            if problem is not None:
                raise WorkflowTaskException(problem, task=task)
        return value


def make_script_engine(ctx: ScriptContext | None = None) -> SandboxScriptEngine:
    return TimerCheckingScriptEngine(environment=SandboxEnvironment(ctx))
