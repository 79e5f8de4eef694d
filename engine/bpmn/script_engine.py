"""The script engine every workflow gets: SpiffWorkflow's Python engine over Tovholder's sandbox.

Every expression, condition, timer and script of a diagram runs through the
environment engine.scripting defines (an allowlist). Pure: no database.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from ..scripting import SandboxEnvironment, ScriptContext


def make_script_engine(ctx: ScriptContext | None = None) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SandboxEnvironment(ctx))
