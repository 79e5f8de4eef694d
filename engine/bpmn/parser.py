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

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    EndEventParser,
    IntermediateCatchEventParser,
    IntermediateThrowEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    CallActivity,
    EndEvent,
    EventSubprocess,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP, CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.parser.task_spec import SubWorkflowParser as CamundaSubWorkflowParser
from SpiffWorkflow.specs.base import TaskSpec

from .service_task import TopicServiceTask, TopicServiceTaskParser

CAMUNDA_NS = NSMAP["camunda"]

BPMN_NS = NSMAP["bpmn"]


def _with_camunda_properties(parser_class: type) -> type:
    """The plain BPMN event parser, but reading `camunda:properties` into `task_spec.extensions`."""
    return type(parser_class.__name__, (parser_class,), {"parse_extensions": CamundaTaskParser.parse_extensions})


class _SubprocessParser(CamundaSubWorkflowParser):
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


class _StartEventParser(StartEventParser):
    def parse_extensions(self, node: etree._Element | None = None) -> dict:
        extensions = CamundaTaskParser.parse_extensions(self, node)  # camunda:properties, as on the other events
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
    }


