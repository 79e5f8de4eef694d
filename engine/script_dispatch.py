"""Which expressions run in this process, and the rest sent to a worker process.

`ScriptDispatch` runs every script and expression of one workflow (SpiffWorkflow
reaches it through engine.bpmn.script_engine). Scripts always go to a script
worker process (engine.script_pool); an expression goes there unless
`scripting.is_cheap` proves it bounded (the common `kategori == "jobparat"`,
`deadline("visitation")`), because a round trip costs some 30 times such an
expression (docs/performance.md). Only the fields the code names are sent. A
failure comes back as an exception of the same kind with the script's line, so
SpiffWorkflow wraps it with the element and engine.runtime answers a 422
ProcessError, audited as `process_error`. No database access, no SpiffWorkflow.
"""
from __future__ import annotations

import builtins
from functools import cached_property
from typing import Any

from . import clock, scripting
from .script_pool import ScriptWorkerDied, get_pool
from .scripting import ScriptContext, ScriptMemoryExceeded, ScriptRuleBroken, ScriptTimeout
from .storable import NotJson

_KNOWN = {ScriptTimeout, ScriptMemoryExceeded, NotJson, ScriptWorkerDied}
SCRIPT_LINE = "script_line"  # the attribute of a rebuilt exception that holds the line the worker reported


def _exception(answer: dict) -> Exception:
    kind, message, line = answer["type"], answer["message"], answer.get("line")
    known = {cls.__name__: cls for cls in _KNOWN}
    exc: Exception
    if kind in ("SyntaxError", "ScriptRuleBroken"):
        exc = (ScriptRuleBroken if kind == "ScriptRuleBroken" else SyntaxError)(
            message, ("<string>", line or 1, 0, None))
    elif kind == "NotJson":
        exc = NotJson(message, answer.get("field"))
    elif kind in known:
        exc = known[kind](message)
    else:
        exc = _builtin(kind, message) or RuntimeError(f"{kind}: {message}")
    # Any exception class may come back, so the line rides on the instance; SandboxScriptEngine reads it.
    setattr(exc, SCRIPT_LINE, line)
    return exc


def _builtin(kind: str, message: str) -> Exception | None:
    """The built-in exception of that name (ZeroDivisionError, KeyError, ...), if one takes a message."""
    cls = getattr(builtins, kind, None)
    try:
        return cls(message) if isinstance(cls, type) and issubclass(cls, Exception) else None
    except TypeError:
        return None


def _named(source: str, mode: str, context: dict) -> dict:
    """Only the fields the code names travel to the worker (scripting.names_used): big cases stay cheap."""
    names = scripting.names_used(source, mode)
    if names is None:
        return context
    return {key: context[key] for key in names if key in context}


class ScriptDispatch:
    """One workflow's scripts and expressions: cheap expressions here, everything else in a worker process."""

    def __init__(self, ctx: ScriptContext | None = None):
        self.ctx = ctx or ScriptContext()

    @cached_property
    def _ctx_dict(self) -> dict:
        # Built when a script first goes to a worker, not with every workflow loaded: the named deadlines
        # made it about 1.5 ms of each load, and most loads send nothing (the cheap expressions stay here).
        return self.ctx.as_dict()

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        source = expression.strip()
        if scripting.is_cheap(source):
            return scripting.evaluate(self.ctx, source, context, external_context)
        return self.remote("eval", source, _named(source, "eval", context), external_context)["value"]

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> None:
        sent = _named(script, "exec", context)
        data = self.remote("exec", script, sent, external_context)["data"]
        for key in [k for k in sent if k not in data]:  # the script deleted it
            del context[key]
        context.update(data)

    def remote(self, op: str, source: str, data: dict, external_context: dict | None) -> dict:
        limits = self.ctx.limits
        request = {"op": op, "src": source, "data": data, "ext": external_context or {}, "ctx": self._ctx_dict,
                   "now": clock.now().isoformat(), "cpu": limits.cpu_seconds, "mem": limits.memory_bytes}
        pool = get_pool()
        try:
            body = pool.codec.encode(request)
        except (TypeError, ValueError) as exc:  # task data that cannot be encoded (a legacy non-JSON value)
            raise NotJson(f"the task data cannot be handed to the script: {exc}") from None
        answer = pool.run(body, limits)
        if not answer["ok"]:
            raise _exception(answer)
        return answer
