"""What a BPMN script, condition, timer expression or DMN cell may do: an explicit allowlist.

Expressions are Python compiled by RestrictedPython (a maintained sandbox):
no imports, no names or attributes starting with `_` (so no `__class__`,
`__globals__`, `__subclasses__` tricks), no `exec`/`eval`/`open`/`getattr`,
writes only to plain data. The only callables are the builtins in
SAFE_BUILTINS and the helpers below (dates, working days, deadlines, rule-set switches).

This module is the policy and the running of sandboxed code in the current
process; it never imports SpiffWorkflow, so the script worker processes
(engine.script_worker) start quickly. Resource limits are not enforced here:
one C-level call (`sum(range(10**9))`, `'x' * 10**9`) holds the interpreter
and its memory however the code was compiled, so engine.script_pool runs
every script, and every expression that `is_cheap` cannot prove bounded, in a
worker process with a CPU timer and an address-space limit. The tracer here
only gives Python-level loops a clean stop with the line they were on.

What a script leaves in the task data must be stored as JSON
(engine.storable.plain_data). No I/O.
"""
from __future__ import annotations

import ast
import calendar
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType, FrameType
from typing import Any, Callable

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)

from . import clock
from .deadlines import DeadlineError, Rule, due_at, parse_rule
from .storable import plain_data
from .workdays import DANISH_TIME, WorkCalendar, local_date

MAX_EXPONENT = 1000
MIB = 1024 * 1024

SAFE_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int",
                 "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round", "set",
                 "sorted", "str", "sum", "tuple", "zip", "ValueError", "KeyError", "TypeError")
}
SAFE_BUILTINS.update({"True": True, "False": False, "None": None})


class ScriptStopped(RuntimeError):
    """A script or expression stopped at one of its limits (engine.runtime names the reason)."""


class ScriptTimeout(ScriptStopped):
    pass


class ScriptMemoryExceeded(ScriptStopped):
    pass


class ScriptRuleBroken(SyntaxError):
    pass


@dataclass(frozen=True)
class ScriptLimits:
    """How much one script or expression may use (engine.settings: TOVHOLDER_SCRIPT_*)."""
    cpu_seconds: float = 2.0
    memory_bytes: int = 256 * MIB
    workers: int = 4  # worker processes per server or worker process, started when first needed

    def timeout_message(self) -> str:
        return f"the script used more than {self.cpu_seconds:g} s of CPU time and was stopped"

    def memory_message(self) -> str:
        return f"the script needed more than {self.memory_bytes // MIB} MiB of memory and was stopped"


@dataclass
class ScriptContext:
    """What helpers need from outside the task data: the calendar, the named deadlines and the switches of
    the case's rule set (engine.rule_sets); and the limits."""
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    named_deadlines: dict[str, Rule] = field(default_factory=dict)
    limits: ScriptLimits = field(default_factory=ScriptLimits)
    switches: dict[str, bool] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The JSON form a worker process rebuilds the context from (limits travel per request)."""
        return {"closed_days": list(self.calendar.closed_days),
                "deadlines": {name: asdict(rule) for name, rule in self.named_deadlines.items()},
                "switches": dict(self.switches)}

    @classmethod
    def from_dict(cls, value: dict, limits: ScriptLimits) -> "ScriptContext":
        return cls(calendar=WorkCalendar(tuple(value["closed_days"])),
                   named_deadlines={name: Rule(**rule) for name, rule in value["deadlines"].items()}, limits=limits,
                   switches={str(k): bool(v) for k, v in value.get("switches", {}).items()})


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError("expected a date or an ISO date string (YYYY-MM-DD)")


_SHIFT_LIMIT = 1_200_000  # a step of at most this many units (seconds aside): ~100 years of days, far more of months


def shift_time(moment: object, *, years: int = 0, months: int = 0, weeks: int = 0, days: float = 0, hours: float = 0,
               minutes: float = 0, seconds: float = 0) -> datetime:
    """A moment moved by whole calendar units, as Camunda's `dateTime().plusDays(n)` (Joda-Time) does.

    Years, months, weeks and days move the Danish calendar date and keep the
    wall-clock time (so across a change to summer time a day is 23 hours);
    a month end is kept in range (31 January plus one month is 28/29
    February). Hours, minutes and seconds are elapsed time. Camunda 7
    diagrams reach it through engine.bpmn.juel.
    """
    steps = {"years": years, "months": months, "weeks": weeks, "days": days, "hours": hours, "minutes": minutes,
             "seconds": seconds}
    for unit, amount in steps.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount != int(amount):
            raise TypeError(f"shift_time: {unit} must be a whole number (got {amount!r})")
        if abs(amount) > (_SHIFT_LIMIT * 100 if unit in ("seconds", "minutes") else _SHIFT_LIMIT):
            raise ValueError(f"shift_time: {unit}={amount} is too far")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        raise TypeError("shift_time: expected a moment (a datetime or ISO text)")
    local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=DANISH_TIME)).astimezone(DANISH_TIME)
    year, month0 = divmod(local.year * 12 + local.month - 1 + int(years) * 12 + int(months), 12)
    if not 1 <= year <= 9999:
        raise ValueError("shift_time: the moment would be outside the years 1-9999")
    day = min(local.day, calendar.monthrange(year, month0 + 1)[1])
    wall = local.replace(tzinfo=None).replace(year=year, month=month0 + 1, day=day)
    wall += timedelta(weeks=int(weeks), days=int(days))  # calendar days: the wall-clock time stays
    elapsed = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds))
    return (wall.replace(tzinfo=DANISH_TIME).astimezone(timezone.utc) + elapsed).astimezone(DANISH_TIME)


def make_helpers(ctx: ScriptContext, data: dict) -> dict[str, Callable]:
    cal = ctx.calendar

    def deadline(spec: str) -> str:
        """The end of the deadline's day as an ISO datetime (usable as a timeDate timer)."""
        try:
            return due_at(parse_rule(spec, ctx.named_deadlines), data, clock.now(), cal).isoformat()
        except DeadlineError as exc:
            raise ValueError(str(exc)) from None

    def switch(name: str) -> bool:
        """Whether the case's rule set turns switch `name` on (config/deadlines.toml). A switch no longer
        declared reads as off: the ordinary rule, as for a rule set that is no longer configured."""
        if not isinstance(name, str):
            raise TypeError("switch() takes the name of a switch in quotes, e.g. switch(\"lae265_kan_undlades\")")
        return bool(ctx.switches.get(name, False))

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
        "switch": switch,
        "iso": lambda value: value.isoformat(),
        "shift_time": shift_time,
    }


def _inplace(op: str, left: Any, right: Any) -> Any:
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
def compile_checked(source: str, mode: str) -> CodeType:
    """Compile under the sandbox rules; raises SyntaxError naming the rule and line."""
    _check_tree(source, mode)
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source, "<string>")
    if result.errors:
        # RestrictedPython reports "Line N: ..."; keep N so the error can name the line.
        match = re.match(r"Line (\d+)", result.errors[0])
        line = int(match.group(1)) if match else 1
        raise ScriptRuleBroken("; ".join(result.errors), ("<string>", line, 0, None))
    assert result.code is not None  # RestrictedPython sets it whenever it reports no errors
    return result.code


# -- which expressions may run in the server process ------------------------------------------------

# An expression built only from these nodes does work bounded by its own size times the size of the
# task data it compares, and allocates no more than its own size: no arithmetic ('x' * n, '%0999999999d'),
# no f-strings (a format width), no comprehensions, no slices, and calls only to helpers that return a
# small value in bounded time. Everything else goes to a worker process.
_CHEAP_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BoolOp, ast.And, ast.Or, ast.Compare,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.IfExp, ast.Tuple, ast.List, ast.Set,
    ast.Subscript, ast.Attribute, ast.Call, ast.keyword,
)
CHEAP_CALLS = frozenset({"len", "bool", "int", "float", "abs", "today", "now", "date", "parse_date",
                         "add_days", "days_between", "is_working_day", "iso", "shift_time"})
MAX_CHEAP_NODES = 100
_RULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _cheap_call(node: ast.Call) -> bool:
    if not isinstance(node.func, ast.Name):
        return False
    if node.func.id in CHEAP_CALLS:
        return True
    # deadline("visitation"), switch("x"): from configuration, so its cost is the operator's, not the diagram's
    return (node.func.id in ("deadline", "switch") and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
            and _RULE_NAME.match(node.args[0].value) is not None)


@lru_cache(maxsize=4096)
def is_cheap(expression: str) -> bool:
    """True if the expression provably runs briefly and in little memory, so it may run in-process."""
    try:
        nodes = list(ast.walk(ast.parse(expression, mode="eval")))
    except SyntaxError:
        return True  # compile_checked reports it the same way wherever it runs
    if len(nodes) > MAX_CHEAP_NODES:
        return False
    return all(isinstance(n, _CHEAP_NODES) and (not isinstance(n, ast.Call) or _cheap_call(n)) for n in nodes)


@lru_cache(maxsize=4096)
def names_used(source: str, mode: str) -> frozenset[str] | None:
    """The names the code mentions, which are all the task data it can read or change; None: it needs all.

    Sandboxed code has no `globals()`, `locals()` or `vars()`, so a field it does not name it cannot touch.
    Only the `deadline` helper reads the data itself (its rule may count from a field).
    """
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return None
    names = frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    return None if "deadline" in names else names


# -- running -----------------------------------------------------------------------------------------


class _Deadline:
    """A tracer that stops Python-level work (loops, recursion) after the thread used its CPU time."""

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self.until = time.thread_time() + limits.cpu_seconds
        self.count = 0

    def __call__(self, frame: FrameType, event: str, arg: object) -> _Deadline:
        self.count += 1
        if self.count % 64 == 0 and time.thread_time() > self.until:
            raise ScriptTimeout(self.limits.timeout_message())
        return self


def _globals(ctx: ScriptContext, context: dict, external_context: dict | None) -> dict:
    return {"__builtins__": SAFE_BUILTINS, **GUARDS, **make_helpers(ctx, context), **(external_context or {}),
            **context}


def _traced(code: CodeType, globals_: dict, mode: str, limits: ScriptLimits) -> Any:
    previous = sys.gettrace()
    sys.settrace(_Deadline(limits))
    try:
        return eval(code, globals_) if mode == "eval" else exec(code, globals_)  # noqa: S307 - restricted code
    finally:
        sys.settrace(previous)


def evaluate(ctx: ScriptContext, expression: str, context: dict, external_context: dict | None = None) -> Any:
    code = compile_checked(expression.strip(), "eval")
    return _traced(code, _globals(ctx, context, external_context), "eval", ctx.limits)


def execute(ctx: ScriptContext, script: str, context: dict, external_context: dict | None = None) -> dict:
    """Run a script over a copy of `context`; returns the variables it leaves, as plain JSON."""
    code = compile_checked(script, "exec")
    globals_ = _globals(ctx, context, external_context)
    hidden = {k: v for k, v in globals_.items() if k not in context}
    _traced(code, globals_, "exec", ctx.limits)
    result = {}
    for key, value in globals_.items():
        if key.startswith("_") or (key in hidden and hidden[key] is value) or callable(value):
            continue
        result[key] = plain_data(value, f"data.{key}")
    return result
