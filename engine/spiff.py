"""SpiffWorkflow glue: the parser, serializer and script engine Tovholder uses.

We use the Camunda flavour (process owners draw in Camunda Modeler or bpmn-js):
`camunda:formKey` on user tasks, `camunda:properties` for our extensions,
`camunda:decisionRef` on business rule tasks. Message events use the plain
BPMN definition, whose payload is merged into the catching task's data — what
CONTRACT.md promises for `/api/messages` (Camunda's variant nests it under a
result variable). No database access here.
"""
from __future__ import annotations

import builtins
from copy import deepcopy

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser, EndEventParser, IntermediateCatchEventParser, IntermediateThrowEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import MessageEventDefinition as DefaultMessageEventDefinition
from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent, EndEvent, IntermediateCatchEvent, IntermediateThrowEvent, StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP, CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

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
BPMN_NS = NSMAP["bpmn"]


class TovholderParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (IntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
    }


def _serializer_config():
    config = deepcopy(CAMUNDA_CONFIG)
    config.pop(CamundaMessageEventDefinition, None)
    config[DefaultMessageEventDefinition] = MessageEventDefinitionConverter
    return config


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_serializer_config()))

# Builtins a BPMN expression or script may use. No __import__, open, eval,
# exec, getattr, type or anything else that reaches outside the task data.
# (The full sandbox with time limits comes with engine.scripting.)
_SAFE_BUILTIN_NAMES = (
    "abs all any bool dict enumerate filter float int len list map max min "
    "range reversed round set sorted str sum tuple zip isinstance True False None"
).split()
SAFE_BUILTINS = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}


def make_script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=TaskDataEnvironment({"__builtins__": SAFE_BUILTINS}))
