"""Workflow state <-> JSON, with the spec stored once per definition version.

Pure: strings in, workflows out; the caller stores them in its transaction.

SpiffWorkflow's own serialization embeds the whole process spec in every
saved state. We keep the spec on the definition row (`spec_json`) and the
case row holds only the instance (`state_json`), which makes each save
smaller and faster. `STATE_FORMAT` names the format of `state_json`; stored
samples of each format live under tests/data/ so an upgrade that breaks old
cases fails a test first. Each save drops the completed tasks nothing live needs
(engine.bpmn.compaction), in the same format, so a state saved before that loads as it
was and is compacted by its next save. The state is written strictly and read tolerantly
(engine.strict_json): a state holding NaN or a lone surrogate is never
written, and one written before that rule still loads.
"""
from __future__ import annotations

import json
from copy import deepcopy

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import MessageEventDefinition as DefaultMessageEventDefinition
from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition

from .. import strict_json
from ..scripting import ScriptContext
from .camunda7_specs import VARIANTS
from .compaction import compact_state, passed_from_dict, restore_passed
from .patches import require_applied
from .script_engine import make_script_engine
from .service_task import TopicServiceTask


def _serializer_config() -> dict:
    """Camunda's converters, but the plain message definition (see engine.bpmn.parser), our service task, and
    the Camunda 7 variants of task classes (engine.bpmn.camunda7_specs), each with its base class's converter."""
    config = deepcopy(CAMUNDA_CONFIG)
    config.pop(CamundaMessageEventDefinition, None)
    config[DefaultMessageEventDefinition] = MessageEventDefinitionConverter
    config[TopicServiceTask] = BpmnTaskSpecConverter
    for variant, base in VARIANTS.items():
        config[variant] = config[base]
    return config


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_serializer_config()))
# SpiffWorkflow serializer version + our envelope version.
STATE_FORMAT = f"spiff-{SERIALIZER.VERSION}/tovholder-1"


def spec_to_json(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    registry = SERIALIZER.registry
    return json.dumps(
        {
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(sub) for name, sub in subprocess_specs.items()},
        },
        sort_keys=True,
    )


def state_to_json(workflow: BpmnWorkflow) -> str:
    dct = compact_state(workflow, SERIALIZER.to_dict)  # history stays in the audit events: engine.bpmn.compaction
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    dct["format"] = STATE_FORMAT
    dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
    return strict_json.dumps(dct)  # NotStrictJson for NaN, Infinity, lone surrogates: see CaseRun.save


def workflow_from_json(state_json: str, spec_json: str, script_context: ScriptContext | None = None) -> BpmnWorkflow:
    require_applied()
    dct = strict_json.loads(state_json)
    specs = json.loads(spec_json)
    dct.pop("format", None)
    dct["spec"] = specs["spec"]
    dct["subprocess_specs"] = specs["subprocess_specs"]
    if dct.get(SERIALIZER.VERSION_KEY) != SERIALIZER.VERSION:
        SERIALIZER.migrate(dct)
    else:
        dct.pop(SERIALIZER.VERSION_KEY, None)
    stored_passed = passed_from_dict(dct)
    workflow = SERIALIZER.from_dict(dct)
    restore_passed(workflow, stored_passed)
    workflow.script_engine = make_script_engine(script_context)
    _reconnect_triggered_subprocesses(workflow)
    return workflow


def _reconnect_triggered_subprocesses(workflow: BpmnWorkflow) -> None:
    """Redo the spec change SpiffWorkflow makes when an event subprocess is first triggered.

    The library connects the triggered subprocess to the start task in the
    *spec* (BpmnStartTask.trigger_wf). Its own serializer keeps that because it
    stores the spec with every state; we store the spec once per definition,
    so the link is restored here for every event subprocess the case has run.
    """
    start = workflow.spec.start
    for name in getattr(start, "trigger_specs", []):
        spec = workflow.spec.task_specs.get(name)
        if spec is None or start in spec.inputs:
            continue
        if any(t.task_spec is spec for t in workflow.task_tree.children):
            start.connect(spec)
            spec.connect(workflow.spec.end)


def use_script_context(workflow: BpmnWorkflow, script_context: ScriptContext) -> None:
    """Give a loaded workflow other helpers' settings (a case whose rule set changed mid-run)."""
    workflow.script_engine = make_script_engine(script_context)


def new_workflow(spec_json: str, script_context: ScriptContext | None = None) -> BpmnWorkflow:
    require_applied()
    specs = json.loads(spec_json)
    registry = SERIALIZER.registry
    spec = registry.restore(specs["spec"])
    subs = {name: registry.restore(sub) for name, sub in specs["subprocess_specs"].items()}
    return BpmnWorkflow(spec, subs, script_engine=make_script_engine(script_context))
