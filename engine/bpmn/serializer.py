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

The spec is restored once per process and shared by every workflow of that version
(engine.bpmn.spec_cache, which says why that is safe); a load restores only the instance, and a
save converts only the instance. A state of an older serializer version is migrated by the
library together with a spec restored for it alone, as before the cache.
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
from .spec_cache import shared_specs


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
    dct = compact_state(workflow, _instance_to_dict)  # history stays in the audit events: engine.bpmn.compaction
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    dct["format"] = STATE_FORMAT
    dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
    return strict_json.dumps(dct)  # NotStrictJson for NaN, Infinity, lone surrogates: see CaseRun.save


def _instance_to_dict(workflow: BpmnWorkflow) -> dict:
    """SERIALIZER.to_dict without converting the specs, which the state does not hold.

    The library's workflow converter converts `workflow.spec` and `subprocess_specs` with the rest
    (a third of a kontanthjælp save), only for state_to_json to drop them. An object the registry does
    not know converts to itself, so for the length of the call they are set aside; nothing else in
    the conversion reads them (tasks give their spec's name, a subprocess its spec's name).
    """
    spec, subs = workflow.spec, workflow.subprocess_specs
    workflow.spec, workflow.subprocess_specs = None, {}
    try:
        return SERIALIZER.to_dict(workflow)
    finally:
        workflow.spec, workflow.subprocess_specs = spec, subs


def workflow_from_json(state_json: str, spec_json: str, script_context: ScriptContext | None = None) -> BpmnWorkflow:
    require_applied()
    dct = strict_json.loads(state_json)
    dct.pop("format", None)
    if dct.get(SERIALIZER.VERSION_KEY) != SERIALIZER.VERSION:
        specs = json.loads(spec_json)  # the library's migration reads and rewrites the spec dicts too
        dct["spec"] = specs["spec"]
        dct["subprocess_specs"] = specs["subprocess_specs"]
        SERIALIZER.migrate(dct)
    else:
        dct.pop(SERIALIZER.VERSION_KEY, None)
        # Already restored objects: the registry hands back what it does not recognise as a dict, and
        # the converter puts the subprocess specs in a dict of this workflow's own.
        shared = shared_specs(spec_json)
        dct["spec"], dct["subprocess_specs"] = shared.spec, shared.subprocess_specs
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
    A shared spec (engine.bpmn.spec_cache) has its links made in advance, so
    this finds them and changes nothing; only a spec restored for one workflow
    (an older state's, one with an ad hoc subprocess) is linked here.
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
    shared = shared_specs(spec_json)
    return BpmnWorkflow(shared.spec, dict(shared.subprocess_specs), script_engine=make_script_engine(script_context))
