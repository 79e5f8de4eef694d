"""SpiffWorkflow glue: the parser, serializer and script engine Tovholder uses.

We use the Camunda flavour (process owners draw in Camunda Modeler or bpmn-js):
`camunda:formKey` on user tasks, `camunda:properties` for our extensions,
`camunda:decisionRef` on business rule tasks. Message events use the plain
BPMN definition, whose payload is merged into the catching task's data — what
CONTRACT.md promises for `/api/messages` (Camunda's variant nests it under a
result variable). No database access here.
"""
from __future__ import annotations

from copy import deepcopy
from datetime import datetime

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser, EndEventParser, IntermediateCatchEventParser, IntermediateThrowEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import MessageEventDefinition as DefaultMessageEventDefinition
from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent, CallActivity, EndEvent, EventSubprocess, IntermediateCatchEvent, IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP, CamundaParser
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.parser.task_spec import SubWorkflowParser as CamundaSubWorkflowParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.util.task import TaskIterator, TaskState
import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module

from . import clock
from .script_engine import SandboxEnvironment, SandboxScriptEngine
from .scripting import ScriptContext
from .service_spec import TopicServiceTask, TopicServiceTaskParser

CAMUNDA_NS = NSMAP["camunda"]

# SpiffWorkflow's TaskIterator stops descending 1,000 levels into the task
# tree. Every pass of a loop (user task -> gateway -> back) adds levels, so a
# case that loops more than ~500 times would have a READY task nobody can see:
# the case would stall silently. The iterator is iterative (no recursion), so
# a far larger bound is safe. Tested in tests/engine/test_spiff_limits.py.
MAX_TREE_DEPTH = 10_000_000


def _raise_depth_limit(iterator_class) -> None:
    init = iterator_class.__init__
    names = init.__code__.co_varnames[1:init.__code__.co_argcount]
    defaults = list(init.__defaults__)
    defaults[names.index("max_depth") - (len(names) - len(defaults))] = MAX_TREE_DEPTH
    init.__defaults__ = tuple(defaults)


for _iterator in (TaskIterator, BpmnTaskIterator):
    _raise_depth_limit(_iterator)


class _ClockDatetime(datetime):
    """SpiffWorkflow's timers ask `datetime.now(timezone.utc)`; answer with engine.clock."""

    @classmethod
    def now(cls, tz=None):
        current = clock.now()
        moment = current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(moment.isoformat())


_timer_module.datetime = _ClockDatetime
BPMN_NS = NSMAP["bpmn"]


def _with_camunda_properties(parser_class):
    """The plain BPMN event parser, but reading `camunda:properties` into `task_spec.extensions`."""
    return type(parser_class.__name__, (parser_class,), {"parse_extensions": CamundaTaskParser.parse_extensions})


class _SubprocessParser(CamundaSubWorkflowParser):
    """Camunda's subprocess parser ignores triggeredByEvent; an event subprocess must become one."""

    def create_task(self):
        if self.attribute("triggeredByEvent") == "true":
            spec = SubprocessParser.get_subprocess_spec(self)
            return EventSubprocess(self.spec, self.bpmn_id, subworkflow_spec=spec, **self.bpmn_attributes)
        return super().create_task()


# SpiffWorkflow 3.2.0 starts an event subprocess beside the main flow but never
# interrupts: an interrupting start event (`isInterrupting`, true by default)
# must cancel everything else in the process that contains the event
# subprocess. The parser marks such start events in their extensions (which
# the spec serializer keeps), and CaseRun calls `interrupt_if_needed` after
# every engine step, so the cancellation happens the moment the event is
# caught, before the event subprocess's first task runs.
INTERRUPTING = "tovholder:interrupting"


class _StartEventParser(_with_camunda_properties(StartEventParser)):
    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        parent = self.node.getparent()
        if (parent is not None and parent.tag == full_tag("subProcess")
                and parent.get("triggeredByEvent") == "true"
                and self.node.get("isInterrupting", "true") != "false"):
            extensions[INTERRUPTING] = "true"
        return extensions


def interrupt_if_needed(task) -> None:
    """After `task` ran: if it is an interrupting event subprocess's start event, cancel the rest.

    Everything unfinished in the workflow that holds the event subprocess is
    cancelled (a cancelled call activity or subprocess cancels its own
    workflow), except the event subprocess itself, which then runs to its end
    and so ends the process.
    """
    if not (getattr(task.task_spec, "extensions", None) or {}).get(INTERRUPTING):
        return
    inner = task.workflow
    owner = inner.top_workflow.get_task_from_id(getattr(inner, "parent_task_id", None))
    if owner is None:
        return
    outer = owner.workflow
    for other in list(outer.tasks.values()):
        if (other.id in outer.tasks and not other.has_state(TaskState.FINISHED_MASK)
                and not _is_within(other, owner)):
            other.cancel()
    # The library adds a triggered event subprocess without predicting its path to the process end,
    # so on its own it would finish with nothing after it and the process would never complete.
    if not owner.children:
        owner.task_spec._predict(owner, mask=TaskState.NOT_FINISHED_MASK)


def _is_within(task, ancestor) -> bool:
    while task is not None:
        if task is ancestor:
            return True
        task = task.parent
    return False


def message_payload(workflow, event) -> dict:
    """What a thrown message carries: the thrower's data, or only the fields its `payload` property names.

    A message goes to another unit's case (SOF, Ydelsesservice), so a process
    owner lists what it needs to know (`payload` = "kategori, problemomraader");
    fields the case does not hold are left out. Without the property the
    whole task data goes, as SpiffWorkflow sends it.
    """
    data = event.payload or {}
    spec = next((s for s in _all_task_specs(workflow)
                 if getattr(s, "event_definition", None) is event.event_definition), None)
    fields = (getattr(spec, "extensions", None) or {}).get("payload")
    if fields is None:
        return data
    return {name: data[name] for name in payload_fields(fields) if name in data}


def payload_fields(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _all_task_specs(workflow):
    yield from workflow.spec.task_specs.values()
    for sub in workflow.subprocess_specs.values():
        yield from sub.task_specs.values()


class TovholderParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("subProcess"): (_SubprocessParser, CallActivity),
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("endEvent"): (_with_camunda_properties(EndEventParser), EndEvent),
        full_tag("intermediateCatchEvent"): (_with_camunda_properties(IntermediateCatchEventParser),
                                             IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (_with_camunda_properties(IntermediateThrowEventParser),
                                             IntermediateThrowEvent),
        full_tag("boundaryEvent"): (_with_camunda_properties(BoundaryEventParser), BoundaryEvent),
        full_tag("serviceTask"): (TopicServiceTaskParser, TopicServiceTask),  # waits for its topic's worker
    }


def _serializer_config():
    config = deepcopy(CAMUNDA_CONFIG)
    config.pop(CamundaMessageEventDefinition, None)
    config[DefaultMessageEventDefinition] = MessageEventDefinitionConverter
    config[TopicServiceTask] = BpmnTaskSpecConverter
    return config


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_serializer_config()))

def make_script_engine(ctx: ScriptContext | None = None) -> PythonScriptEngine:
    """Every expression, condition, timer and script runs in the sandbox (engine.scripting, engine.script_engine)."""
    return SandboxScriptEngine(environment=SandboxEnvironment(ctx))


def _decide_strictly(self, task):
    """DMN rules that match; UNIQUE means one at most (SpiffWorkflow returns the first and stops)."""
    matches = [rule for rule in self.decision_table.rules if self._DMNEngine__check_rule(rule, task)]
    if self.decision_table.hit_policy == "UNIQUE" and len(matches) > 1:
        rows = ", ".join(str(rule.row_number) for rule in matches)
        raise WorkflowTaskException(
            f"decision table {self.decision_table.id}: rows {rows} all match, but hit policy UNIQUE allows one",
            task=task)
    return matches


DMNEngine.decide = _decide_strictly
