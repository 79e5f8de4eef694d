"""The BPMN parser Tovholder uses: SpiffWorkflow's Camunda flavour plus what it lacks.

Process owners draw in Camunda Modeler or bpmn-js, so we parse with the
Camunda flavour: `camunda:formKey` on user tasks, `camunda:properties` for our
extensions, `camunda:decisionRef` on business rule tasks. Message events use
the plain BPMN definition, whose payload is merged into the catching task's
data, which is what CONTRACT.md promises for `/api/messages` (Camunda's
variant nests it under a result variable). Pure: no database, no files
beyond what the caller adds.
"""
from __future__ import annotations

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
    ParallelGateway,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP, CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.parser.task_spec import SubWorkflowParser as CamundaSubWorkflowParser

from .service_task import TopicServiceTask, TopicServiceTaskParser

CAMUNDA_NS = NSMAP["camunda"]

BPMN_NS = NSMAP["bpmn"]

# Kept in a spec's extensions (which the spec serializer stores) beside the `camunda:properties`:
# the form a message or start event names (the library reads `camunda:formKey` on user tasks only),
# so a message from outside is checked against it; and the names of a gateway's outgoing flows by
# target element (the library keeps no flow names), so the case history can say which way it went.
EVENT_FORM_KEY = "tovholder:form_key"
FLOW_NAMES = "tovholder:flow_names"


def _event_extensions(self, node=None):
    extensions = CamundaTaskParser.parse_extensions(self, node)
    form_key = self.node.get(f"{{{CAMUNDA_NS}}}formKey")
    if form_key:
        extensions[EVENT_FORM_KEY] = form_key
    return extensions


def _gateway_extensions(self, node=None):
    extensions = CamundaTaskParser.parse_extensions(self, node)
    names = {flow.get("targetRef"): flow.get("name").strip()
             for flow in self.process_parser.get_outgoing_sequence_flows(self.bpmn_id)
             if (flow.get("name") or "").strip() and flow.get("targetRef")}
    if names:
        extensions[FLOW_NAMES] = names
    return extensions


def _with_camunda_properties(parser_class):
    """The plain BPMN event parser, but reading `camunda:properties` (and the form key) into `extensions`."""
    return type(parser_class.__name__, (parser_class,), {"parse_extensions": _event_extensions})


def _with_flow_names(parser_class):
    return type(parser_class.__name__, (parser_class,), {"parse_extensions": _gateway_extensions})


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
# the spec serializer keeps), and CaseRun calls engine.bpmn.interrupt after
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
        full_tag("exclusiveGateway"): (_with_flow_names(ConditionalGatewayParser), ExclusiveGateway),
        full_tag("inclusiveGateway"): (_with_flow_names(ConditionalGatewayParser), InclusiveGateway),
        full_tag("parallelGateway"): (_with_flow_names(GatewayParser), ParallelGateway),
        full_tag("eventBasedGateway"): (_with_flow_names(EventBasedGatewayParser), EventBasedGateway),
    }


