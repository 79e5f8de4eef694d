"""BPMN service tasks as SpiffWorkflow sees them: a task that waits for a topic's worker.

A process owner draws a service task and names a topic, as Camunda Modeler
writes it for an external task:

    <bpmn:serviceTask id="brev" camunda:type="external" camunda:topic="brev_til_borger"/>

(or with a `topic` property in camunda:properties). SpiffWorkflow 3.2.0
parses a plain serviceTask into a spec that neither names a topic nor can be
serialized; `TopicServiceTaskParser` keeps the topic in the spec's
extensions, and `TopicServiceTask` stops the run there: the task is left
STARTED (the library's state for "running elsewhere"), the engine projects a
`service_tasks` row, and engine.service_tasks completes it when a worker is
done. No database access here.
"""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task

TOPIC = "topic"


class TopicServiceTask(ServiceTask):
    """Waits (STARTED) until engine.service_tasks completes it with the worker's data."""

    def _run_hook(self, my_task: Task) -> None:
        return None  # None: the library marks the task STARTED and the engine steps go around it


def topic_of(spec: TaskSpec) -> str | None:
    return (getattr(spec, "extensions", None) or {}).get(TOPIC) if isinstance(spec, TopicServiceTask) else None


class TopicServiceTaskParser(CamundaTaskParser):
    """camunda:properties as on other tasks, plus `camunda:topic` as the `topic` extension."""

    def parse_extensions(self, node: etree._Element | None = None) -> dict:
        extensions = super().parse_extensions(node)
        topic = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        if topic:
            extensions[TOPIC] = topic.strip()
        return extensions
