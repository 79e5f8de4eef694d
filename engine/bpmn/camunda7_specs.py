"""What Camunda 7's variable mappings and task attributes do when a case runs.

The parser (engine.bpmn.parser) writes what a Camunda 7 diagram says into a
task spec's extensions, already translated to sandboxed Python
(engine.bpmn.camunda7); this module acts on it:

- `camunda:inputOutput`: an activity with input or output parameters gets a
  variant of its spec class (`io_variant`) that sets the inputs in the task's
  data when it becomes ready and, when it completes, evaluates the outputs,
  drops the inputs again (they are local to the activity, as in Camunda:
  a field that existed before gets its old value back) and sets the outputs.
- `camunda:in` / `camunda:out`: a call activity with variable mappings is a
  `MappedCallActivity`: only what the mappings name goes into the called
  process and comes back (Camunda's rule). Without mappings a call activity
  keeps Tovholder's rule: everything both ways.
- `task_attributes(task)`: a READY user task's assignee, due date, follow-up
  date, priority and candidate users, evaluated for engine.projections.

Diagrams without these attributes get the library's own classes, so their
specs (and content hashes) are what they were. Every expression runs through
the workflow's script engine, i.e. the sandbox. Pure: no database.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.defaults import (
    CallActivity,
    ManualTask,
    NoneTask,
    ReceiveTask,
    ScriptTask,
    SendTask,
    TransactionSubprocess,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.task import Task as SpiffTask

from .. import timer_rules
from ..workdays import DANISH_TIME, end_of_day
from .camunda7 import (
    ASSIGNEE,
    CALL_IN,
    CALL_OUT,
    CANDIDATE_USERS,
    DUE_DATE,
    FOLLOW_UP_DATE,
    INITIATOR,
    INPUTS,
    OUTPUTS,
    PRIORITY,
)
from .service_task import TopicServiceTask

_LOCALS = "tovholder:locals"  # in a task's internal data: the fields its inputs replaced, to put back


def _evaluate(task: SpiffTask, expression: str) -> Any:
    return task.workflow.script_engine.evaluate(task, expression)


class InputOutputMixin(BpmnTaskSpec):
    """camunda:inputOutput on any activity; placed just above BpmnTaskSpec in the class order (see io_variant)."""

    def _update_hook(self, my_task: SpiffTask) -> bool | None:
        ready = super()._update_hook(my_task)  # the task has inherited its data now
        inputs = (self.extensions or {}).get(INPUTS) or []
        if inputs and _LOCALS not in my_task.internal_data:
            replaced = {}
            for name, expression in inputs:
                if name not in replaced:
                    replaced[name] = [name in my_task.data, deepcopy(my_task.data.get(name))]
                my_task.data[name] = _evaluate(my_task, expression) if expression else None
            my_task.internal_data[_LOCALS] = replaced
        return ready

    def _on_complete_hook(self, my_task: SpiffTask) -> None:
        outputs = [(name, _evaluate(my_task, expression) if expression else None)
                   for name, expression in (self.extensions or {}).get(OUTPUTS) or []]
        for name, (existed, value) in my_task.internal_data.pop(_LOCALS, {}).items():
            if existed:
                my_task.data[name] = value
            else:
                my_task.data.pop(name, None)
        for name, value in outputs:
            my_task.data[name] = value
        super()._on_complete_hook(my_task)


class MappedCallActivity(CallActivity):
    """A call activity that passes only what its camunda:in / camunda:out mappings name."""

    def copy_data(self, my_task: SpiffTask, subworkflow: BpmnWorkflow) -> None:
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
        start.set_data(**_mapped(my_task, my_task, (self.extensions or {}).get(CALL_IN) or []))

    def update_data(self, my_task: SpiffTask, subworkflow: BpmnWorkflow) -> None:
        my_task.data.update(_mapped(my_task, subworkflow.last_task, (self.extensions or {}).get(CALL_OUT) or []))


def _mapped(caller: SpiffTask, source_task: SpiffTask, mappings: list[dict]) -> dict:
    """The variables the mappings take from `source_task`'s data (a missing source variable is null)."""
    data: dict = {}
    for mapping in mappings:
        if mapping.get("all"):
            data.update(deepcopy(source_task.data))
        elif "expression" in mapping:
            data[mapping["target"]] = deepcopy(caller.workflow.script_engine.evaluate(source_task,
                                                                                      mapping["expression"]))
        else:
            data[mapping["target"]] = deepcopy(source_task.data.get(mapping["source"]))
    return data


def _io_class(base: type) -> type:
    # InputOutputMixin last: Python's method order puts it right above BpmnTaskSpec, i.e. below every hook of
    # the base (so a call activity's inputs are set before it copies its data into the called process).
    return type(f"IO{base.__name__}", (base, InputOutputMixin), {})


# The activities camunda:inputOutput may sit on (engine.bpmn.camunda7_checks refuses it elsewhere).
_IO_BASES = (UserTask, ManualTask, NoneTask, ScriptTask, TopicServiceTask, BusinessRuleTask, CallActivity,
             MappedCallActivity, SendTask, ReceiveTask, TransactionSubprocess)
_IO_VARIANTS: dict[type, type] = {base: _io_class(base) for base in _IO_BASES}
# variant class -> the library class it extends: engine.bpmn.serializer gives each the base's converter
VARIANTS: dict[type, type] = {MappedCallActivity: CallActivity,
                              **{v: (CallActivity if b is MappedCallActivity else b) for b, v in _IO_VARIANTS.items()}}


def io_variant(spec_class: type) -> type:
    """`spec_class` with camunda:inputOutput (one class per base, named after it: the serializer's type name)."""
    return _IO_VARIANTS[spec_class]


# -- user tasks ----------------------------------------------------------------------------------------

@dataclass
class TaskAttributes:
    """A user task's Camunda attributes as evaluated when it became ready; `problems` for the audit trail."""
    assignee: str | None = None
    due_at: datetime | None = None
    follow_up_at: datetime | None = None
    priority: int | None = None
    candidate_users: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.assignee or self.due_at or self.follow_up_at or self.priority is not None
                    or self.candidate_users or self.problems)


def task_attributes(task: SpiffTask, now: datetime) -> TaskAttributes:
    extensions = getattr(task.task_spec, "extensions", None) or {}
    found = TaskAttributes(candidate_users=[u.strip() for u in (extensions.get(CANDIDATE_USERS) or "").split(",")
                                            if u.strip()])
    for key, attribute in ((ASSIGNEE, "assignee"), (DUE_DATE, "dueDate"), (FOLLOW_UP_DATE, "followUpDate"),
                           (PRIORITY, "priority")):
        expression = extensions.get(key)
        if not expression:
            continue
        try:
            value = _evaluate(task, expression)
            if attribute == "assignee":
                found.assignee = _text(value)
            elif attribute == "priority":
                found.priority = _whole(value)
            else:
                moment = moment_of(value, now)
                if attribute == "dueDate":
                    found.due_at = moment
                else:
                    found.follow_up_at = moment
        except Exception as exc:  # noqa: BLE001 - recorded on the case, the task is created all the same
            found.problems.append({"attribute": attribute, "expression": expression,
                                   "message": str(exc).split("\n")[0] or type(exc).__name__})
    return found


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"the assignee must be a user name (got {type(value).__name__})")
    return value.strip()


def _whole(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or str(value).strip().lstrip("-") == "":
        raise ValueError(f"a priority is a whole number (got {value!r})")
    number = int(float(value))
    if number != float(value) or abs(number) > 2**31 - 1:
        raise ValueError(f"a priority is a whole number (got {value!r})")
    return number


def moment_of(value: object, now: datetime) -> datetime | None:
    """A due or follow-up date: a moment, a date (the end of that Danish day), or a duration from now."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=DANISH_TIME)
    if isinstance(value, date):
        return end_of_day(value)
    if not isinstance(value, str):
        raise ValueError(f"a date is ISO 8601 text or a duration (got {type(value).__name__})")
    text = value.strip()
    if text.upper().startswith("P"):
        problem = timer_rules.value_problem("timeDuration", text, now)
        if problem:
            raise ValueError(problem.replace("timeDuration", "duration"))
        return now + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text), now)
    if len(text) == 10:
        return end_of_day(date.fromisoformat(text))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=DANISH_TIME)
    if moment - now > timer_rules.MAX_AHEAD or now - moment > timedelta(days=36_525):
        raise ValueError(f"{text} is more than {timer_rules.MAX_AHEAD_TEXT} away")
    return moment


def initiator_fields(workflow: BpmnWorkflow) -> list[str]:
    """The fields a process's start events name in camunda:initiator: they get the starting user's name."""
    return sorted({spec.extensions[INITIATOR] for spec in workflow.spec.task_specs.values()
                   if INITIATOR in (getattr(spec, "extensions", None) or {})})
