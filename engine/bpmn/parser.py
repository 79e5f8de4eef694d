"""The BPMN parser Tovholder uses: SpiffWorkflow's Camunda flavour plus what it lacks.

Process owners draw in Camunda Modeler or bpmn-js, so we parse with the
Camunda flavour: `camunda:formKey` on user tasks, `camunda:properties` for our
extensions, `camunda:decisionRef` on business rule tasks. Message events use
the plain BPMN definition, whose payload is merged into the catching task's
data, which is what CONTRACT.md promises for `/api/messages` (Camunda's
variant nests it under a result variable). Pure: no database, no files
beyond what the caller adds.

Camunda 7 diagrams (engine.bpmn.camunda7) parse with the same classes:
`${…}` conditions and timer values are translated to sandboxed Python here,
once (engine.bpmn.juel), bare ISO timer values of a Camunda 7 diagram become
text, `camunda:candidateGroups` gives a task without a lane its unit, and a
user task's assignee, dueDate, followUpDate, priority and candidateUsers,
a start event's initiator, input/output parameters and a call activity's
in/out mappings go into the spec's extensions for engine.bpmn.camunda7_specs.
An element without these attributes parses exactly as before.
"""
from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    EndEventParser,
    EventBasedGatewayParser,
    IntermediateCatchEventParser,
    IntermediateThrowEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser, GatewayParser, SubprocessParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    CallActivity,
    EndEvent,
    EventBasedGateway,
    EventSubprocess,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ManualTask,
    NoneTask,
    ParallelGateway,
    ScriptTask,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP, CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import (
    BusinessRuleTaskParser,
    CallActivityParser,
    CamundaTaskParser,
    ScriptTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.parser.task_spec import SubWorkflowParser as CamundaSubWorkflowParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.specs.base import TaskSpec

from . import camunda7, juel
from .camunda7_specs import MappedCallActivity, io_variant
from .service_task import TopicServiceTask, TopicServiceTaskParser

CAMUNDA_NS = NSMAP["camunda"]

BPMN_NS = NSMAP["bpmn"]

# Kept in a spec's extensions (which the spec serializer stores) beside the `camunda:properties`:
# the form a message or start event names (the library reads `camunda:formKey` on user tasks only),
# so a message from outside is checked against it; and the names of a gateway's outgoing flows by
# target element (the library keeps no flow names), so the case history can say which way it went.
EVENT_FORM_KEY = "tovholder:form_key"
FLOW_NAMES = "tovholder:flow_names"


class _Camunda7Node:
    """What every node parser here shares: the file's dialect, translated expressions, Camunda 7 extensions."""

    node: Any
    process_parser: Any
    filename: str | None
    spec_class: type

    def camunda7(self) -> bool:
        return self.process_parser.parser.is_camunda7(self.node)

    def translated(self, translate: Any, *args: Any) -> Any:
        try:
            return translate(*args)
        except juel.JuelError as exc:  # the deploy checks refuse it first; a library caller gets it named here
            raise ValidationException(str(exc), node=self.node, file_name=self.filename) from None

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        definition.expression = self.translated(camunda7.timer_python, definition.expression, self.camunda7())
        return definition

    def parse_condition(self, sequence_flow: Any) -> Any:
        return self.translated(camunda7.condition_python, super().parse_condition(sequence_flow))  # type: ignore[misc]

    def parse_extensions(self, node: Any = None) -> dict:
        extensions = super().parse_extensions(node)  # type: ignore[misc]
        inputs, outputs = self.translated(camunda7.input_output, self.node)
        if inputs:
            extensions[camunda7.INPUTS] = inputs
        if outputs:
            extensions[camunda7.OUTPUTS] = outputs
        if self.node.tag == full_tag("callActivity") and camunda7.has_call_mappings(self.node):
            extensions[camunda7.CALL_IN] = self.translated(camunda7.call_mappings, self.node, "in")
            extensions[camunda7.CALL_OUT] = self.translated(camunda7.call_mappings, self.node, "out")
        initiator = self.node.get(camunda7.camunda("initiator"))
        if self.node.tag == full_tag("startEvent") and initiator and initiator.strip():
            extensions[camunda7.INITIATOR] = initiator.strip()
        return extensions

    def variant(self, spec_class: type) -> type:
        """The spec class with what the element's Camunda 7 extensions need at run time."""
        if self.node.tag == full_tag("callActivity") and camunda7.has_call_mappings(self.node):
            spec_class = MappedCallActivity
        if any(camunda7.input_output(self.node)):
            try:
                spec_class = io_variant(spec_class)
            except KeyError:
                raise ValidationException("camunda:inputOutput is supported on tasks and call activities only",
                                          node=self.node, file_name=self.filename) from None
        return spec_class

    def create_task(self) -> Any:
        self.spec_class = self.variant(self.spec_class)
        return super().create_task()  # type: ignore[misc]


class _CamundaProperties:
    """Where an event parser's parse_extensions ends: camunda:properties (the plain parsers read none)."""

    parse_extensions = CamundaTaskParser.parse_extensions


class _EventForm:
    """The form a message or start event names (formKey, or Camunda 7's formData), as a task's is read."""

    node: Any

    def parse_extensions(self, node: Any = None) -> dict:
        extensions = super().parse_extensions(node)  # type: ignore[misc]
        form_key = camunda7.form_key_of(self.node)
        if form_key:
            extensions[EVENT_FORM_KEY] = form_key
        return extensions


class _FlowNames:
    """A gateway keeps the names of its outgoing flows, by the element each leads to."""

    node: Any
    process_parser: Any
    bpmn_id: str

    def parse_extensions(self, node: Any = None) -> dict:
        extensions = super().parse_extensions(node)  # type: ignore[misc]
        names = {flow.get("targetRef"): flow.get("name").strip()
                 for flow in self.process_parser.get_outgoing_sequence_flows(self.bpmn_id)
                 if (flow.get("name") or "").strip() and flow.get("targetRef")}
        if names:
            extensions[FLOW_NAMES] = names
        return extensions


def _with_camunda_properties(parser_class: type) -> type:
    """The plain BPMN event parser, but reading `camunda:properties` (and the form) into `task_spec.extensions`."""
    return type(parser_class.__name__, (_EventForm, _Camunda7Node, _CamundaProperties, parser_class), {})


def _gateway_parser(parser_class: type) -> type:
    return type(parser_class.__name__, (_FlowNames, _Camunda7Node, parser_class), {})


class _UserTaskParser(_Camunda7Node, UserTaskParser):
    """A user task: its unit from candidateGroups when no lane holds it; Camunda 7's task attributes."""

    def _get_lane(self) -> str | None:
        return super()._get_lane() or camunda7.candidate_group(self.node)

    def get_form(self) -> Any:
        form = super().get_form()
        form.key = camunda7.form_key_of(self.node)  # a plain key is itself; formData names its generated form
        return form

    def parse_extensions(self, node: Any = None) -> dict:
        extensions = super().parse_extensions(node)
        for attribute, key in (("assignee", camunda7.ASSIGNEE), ("dueDate", camunda7.DUE_DATE),
                               ("followUpDate", camunda7.FOLLOW_UP_DATE), ("priority", camunda7.PRIORITY)):
            value = self.node.get(camunda7.camunda(attribute))
            if value is not None and value.strip():
                extensions[key] = self.translated(camunda7.value_python, value)
        users = self.node.get(camunda7.camunda("candidateUsers"))
        if users and users.strip():
            extensions[camunda7.CANDIDATE_USERS] = ", ".join(camunda7.names(users))
        return extensions


class _BusinessRuleTaskParser(_Camunda7Node, BusinessRuleTaskParser):
    def create_task(self) -> Any:  # the library's own names the class itself
        decision_ref = self.get_decision_ref(self.node)
        return self.variant(BusinessRuleTask)(
            self.spec, self.bpmn_id, dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
            **self.bpmn_attributes)


def _node_parser(parser_class: type) -> type:
    return type(parser_class.__name__, (_Camunda7Node, parser_class), {})


class _SubprocessParser(_Camunda7Node, CamundaSubWorkflowParser):
    """Camunda's subprocess parser ignores triggeredByEvent; an event subprocess must become one."""

    def create_task(self) -> TaskSpec:
        if self.attribute("triggeredByEvent") == "true":
            spec = SubprocessParser.get_subprocess_spec(self)
            return EventSubprocess(self.spec, self.bpmn_id, subworkflow_spec=spec, **self.bpmn_attributes)
        return super().create_task()


# SpiffWorkflow 3.2.0 starts an event subprocess beside the main flow but never
# interrupts: an interrupting start event (`isInterrupting`, true by default)
# must cancel everything else in the process that contains the event
# subprocess. The parser marks such start events in their extensions (which
# the spec serializer keeps), and CaseRun calls engine.bpmn.interrupt after
# every engine step, so the cancellation happens the moment the event is
# caught, before the event subprocess's first task runs.
INTERRUPTING = "tovholder:interrupting"


class _StartEventParser(_with_camunda_properties(StartEventParser)):  # type: ignore[misc]
    def parse_extensions(self, node: etree._Element | None = None) -> dict:
        extensions = super().parse_extensions(node)  # camunda:properties and Camunda 7's, as on the other events
        parent = self.node.getparent()
        if (parent is not None and parent.tag == full_tag("subProcess")
                and parent.get("triggeredByEvent") == "true"
                and self.node.get("isInterrupting", "true") != "false"):
            extensions[INTERRUPTING] = "true"
        return extensions


class TovholderParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (_UserTaskParser, UserTask),
        full_tag("task"): (_node_parser(CamundaTaskParser), NoneTask),
        full_tag("manualTask"): (_node_parser(CamundaTaskParser), ManualTask),
        full_tag("scriptTask"): (_node_parser(ScriptTaskParser), ScriptTask),
        full_tag("businessRuleTask"): (_BusinessRuleTaskParser, BusinessRuleTask),
        full_tag("callActivity"): (_node_parser(CallActivityParser), CallActivity),
        full_tag("exclusiveGateway"): (_gateway_parser(ConditionalGatewayParser), ExclusiveGateway),
        full_tag("inclusiveGateway"): (_gateway_parser(ConditionalGatewayParser), InclusiveGateway),
        full_tag("parallelGateway"): (_gateway_parser(GatewayParser), ParallelGateway),
        full_tag("eventBasedGateway"): (_gateway_parser(EventBasedGatewayParser), EventBasedGateway),
        full_tag("subProcess"): (_SubprocessParser, CallActivity),
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("endEvent"): (_with_camunda_properties(EndEventParser), EndEvent),
        full_tag("intermediateCatchEvent"): (_with_camunda_properties(IntermediateCatchEventParser),
                                             IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (_with_camunda_properties(IntermediateThrowEventParser),
                                             IntermediateThrowEvent),
        full_tag("boundaryEvent"): (_with_camunda_properties(BoundaryEventParser), BoundaryEvent),
        full_tag("serviceTask"): (_node_parser(TopicServiceTaskParser), TopicServiceTask),  # waits for its worker
    }

    def __init__(self, namespaces: Any = None, validator: Any = None) -> None:
        super().__init__(namespaces=namespaces, validator=validator)
        self._camunda7: dict[int, bool] = {}  # by document (the library keys its own indexes the same way)

    def add_bpmn_xml(self, bpmn: Any, filename: str | None = None) -> None:
        root = bpmn.getroot() if hasattr(bpmn, "getroot") else bpmn
        self._camunda7[id(root)] = camunda7.is_camunda7(root)
        super().add_bpmn_xml(bpmn, filename)

    def is_camunda7(self, node: Any) -> bool:
        """Whether the document `node` belongs to was drawn for Camunda 7 (engine.bpmn.camunda7)."""
        return self._camunda7.get(id(node.getroottree().getroot()), False)
