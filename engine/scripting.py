"""What a BPMN script, condition, timer expression or DMN cell may do: an explicit allowlist.

Expressions are Python compiled by RestrictedPython (a maintained sandbox):
no imports, no names or attributes starting with `_` (so no `__class__`,
`__globals__`, `__subclasses__` tricks), no `exec`/`eval`/`open`/`getattr`,
writes only to plain data. The only callables are the builtins in
SAFE_BUILTINS and the helpers below (dates, working days, deadlines).
Run time is bounded by a line-count/clock tracer; note that one single
C-level operation (a gigantic `**`) cannot be interrupted, so `**` with an
exponent above 1000 is refused when the expression is compiled.

Errors surface as ordinary exceptions; SpiffWorkflow wraps them with the
element and line, and engine.runtime turns that into a ProcessError.
"""
from __future__ import annotations

import ast
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Callable

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import clock
from .deadlines import DeadlineError, Rule, due_at, parse_rule
from .workdays import WorkCalendar, local_date

TIME_LIMIT_SECONDS = 2.0
MAX_EXPONENT = 1000

SAFE_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int",
                 "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round", "set",
                 "sorted", "str", "sum", "tuple", "zip", "ValueError", "KeyError", "TypeError")
}
SAFE_BUILTINS.update({"True": True, "False": False, "None": None})


class ScriptTimeout(RuntimeError):
    pass


class ScriptRuleBroken(SyntaxError):
    pass


@dataclass
class ScriptContext:
    """What helpers need from outside the task data: the calendar and the named deadlines."""
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    named_deadlines: dict[str, Rule] = field(default_factory=dict)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError("expected a date or an ISO date string (YYYY-MM-DD)")


def make_helpers(ctx: ScriptContext, data: dict) -> dict[str, Callable]:
    cal = ctx.calendar

    def deadline(spec: str) -> str:
        """The end of the deadline's day as an ISO datetime (usable as a timeDate timer)."""
        try:
            return due_at(parse_rule(spec, ctx.named_deadlines), data, clock.now(), cal).isoformat()
        except DeadlineError as exc:
            raise ValueError(str(exc)) from None

    return {
        "today": lambda: local_date(clock.now()),
        "now": clock.now,
        "date": date,
        "timedelta": timedelta,
        "parse_date": _as_date,
        "add_days": lambda day, n: _as_date(day) + timedelta(days=n),
        "add_working_days": lambda day, n: cal.add_working_days(_as_date(day), n),
        "is_working_day": lambda day: cal.is_working_day(_as_date(day)),
        "days_between": lambda a, b: (_as_date(b) - _as_date(a)).days,
        "deadline": deadline,
        "iso": lambda value: value.isoformat(),
    }


def _inplace(op: str, left, right):
    ops = {"+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: a * b,
           "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b}
    if op not in ops:
        raise TypeError(f"operator {op} is not allowed in scripts")
    return ops[op](left, right)


GUARDS = {
    "_getattr_": safer_getattr,
    "_getitem_": lambda obj, key: obj[key],
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplace,
}


def _check_tree(source: str, mode: str) -> None:
    """What RestrictedPython leaves to run time but we refuse when compiling: imports, huge powers."""
    tree = ast.parse(source, mode=mode)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ScriptRuleBroken("imports are not allowed in scripts; use the helpers (see docs/modelling.md)",
                                   ("<string>", node.lineno, node.col_offset, None))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            right = node.right
            if not (isinstance(right, ast.Constant) and isinstance(right.value, (int, float))
                    and abs(right.value) <= MAX_EXPONENT):
                raise ScriptRuleBroken(f"'**' needs a literal exponent of at most {MAX_EXPONENT}",
                                       ("<string>", node.lineno, node.col_offset, None))


@lru_cache(maxsize=2048)
def compile_checked(source: str, mode: str):
    """Compile under the sandbox rules; raises SyntaxError naming the rule and line."""
    _check_tree(source, mode)
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source, "<string>")
    if result.errors:
        # RestrictedPython reports "Line N: ..."; keep N so the error can name the line.
        match = re.match(r"Line (\d+)", result.errors[0])
        line = int(match.group(1)) if match else 1
        raise ScriptRuleBroken("; ".join(result.errors), ("<string>", line, 0, None))
    return result.code


class _Deadline:
    """A tracer that stops Python-level work (loops, recursion) after the time limit."""

    def __init__(self, seconds: float):
        self.until = time.monotonic() + seconds
        self.count = 0

    def __call__(self, frame, event, arg):
        self.count += 1
        if self.count % 64 == 0 and time.monotonic() > self.until:
            raise ScriptTimeout(f"the script ran longer than {TIME_LIMIT_SECONDS:g} s and was stopped")
        return self


def _run(code, globals_: dict, mode: str):
    previous = sys.gettrace()
    sys.settrace(_Deadline(TIME_LIMIT_SECONDS))
    try:
        return eval(code, globals_) if mode == "eval" else exec(code, globals_)  # noqa: S307 - restricted code
    finally:
        sys.settrace(previous)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment running everything through the sandbox."""

    def __init__(self, ctx: ScriptContext | None = None):
        super().__init__({})
        self.ctx = ctx or ScriptContext()

    def _globals(self, context: dict, external_context: dict | None) -> dict:
        helpers = make_helpers(self.ctx, context)
        return {"__builtins__": SAFE_BUILTINS, **GUARDS, **helpers, **(external_context or {}), **context}

    def evaluate(self, expression, context, external_context=None):
        code = compile_checked(expression.strip(), "eval")
        return _run(code, self._globals(context, external_context), "eval")

    def execute(self, script, context, external_context=None):
        code = compile_checked(script, "exec")
        globals_ = self._globals(context, external_context)
        hidden = {k: v for k, v in globals_.items() if k not in context}
        _run(code, globals_, "exec")
        for key in list(context):
            if key not in globals_:
                del context[key]
        for key, value in globals_.items():
            if key.startswith("_") or (key in hidden and hidden[key] is value) or callable(value):
                continue
            context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service tasks run through the worker's topic handlers")
