"""The script engine every workflow gets: SpiffWorkflow's Python engine over Tovholder's sandbox.

Every expression, condition, timer and script of a diagram runs through the
sandbox of engine.script_engine (cheap expressions in this process, the rest
in worker processes with CPU and memory limits) under engine.scripting's
allowlist. A timer's value is
checked (engine.timer_rules) before the library parses it: the library fails
on a bad value without naming the element, loops on an endless cycle whose
start has passed, and counts "P999999999Y" month by month; a value computed
from case data can be any of these, so it is refused as an error of the
timer's element (the case keeps its previous state). Pure: no database.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)

from .. import clock, timer_rules
from ..script_engine import SandboxEnvironment, SandboxScriptEngine
from ..scripting import ScriptContext

_TIMER_TAGS = {DurationTimerEventDefinition: "timeDuration", TimeDateEventDefinition: "timeDate",
               CycleTimerEventDefinition: "timeCycle"}


class TimerCheckingScriptEngine(SandboxScriptEngine):
    """Checks what a timer expression gives before SpiffWorkflow parses it."""

    def evaluate(self, task, expression, external_context=None):
        value = super().evaluate(task, expression, external_context)
        definition = getattr(task.task_spec, "event_definition", None)
        tag = _TIMER_TAGS.get(type(definition))
        if tag is not None and expression == definition.expression:
            problem = timer_rules.value_problem(tag, value, clock.now())
            if problem is not None:
                raise WorkflowTaskException(problem, task=task)
        return value


def make_script_engine(ctx: ScriptContext | None = None) -> SandboxScriptEngine:
    return TimerCheckingScriptEngine(environment=SandboxEnvironment(ctx))
