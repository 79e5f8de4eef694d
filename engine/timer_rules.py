"""Which timer values a case can run on: checked at deploy and again when a case arms a timer.

SpiffWorkflow 3.2.0 evaluates a timer's expression when a case reaches the
event and parses the result itself. A value it cannot parse ("-P1D", "PT1H"
as a cycle), or one whose due time overflows Python's dates ("P999999999D"),
fails every case start; an endless or long cycle whose start lies in the past
is fired again and again inside one engine step, which stalls the server. So:

- `value_problem(tag, value, now)` says what is wrong with an evaluated value
  (or None): the deploy check applies it to literals, the script engine
  (engine.spiff) to every value a case computes, so a data-driven expression
  fails as a 422 naming the element instead of looping or crashing.
- `expression_problems(tag, code, ...)` checks what can be checked of an
  expression before any case exists: literals fully; for other expressions the
  functions called, `deadline(...)` names, and whether a moment is used where a
  duration is expected.

Pure functions; no database, no workflow state.
"""
from __future__ import annotations

import ast
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .deadlines import DeadlineError, Rule, parse_rule

# Further ahead than this is a typo (P999D for P99D, a missing digit in a year), never casework;
# it also keeps every due time far inside what datetime and both databases hold.
MAX_AHEAD = timedelta(days=36_525)  # 100 years
MAX_AHEAD_TEXT = "100 years"
# A cycle fires at most this often in total; an endless cycle ("R/...") could fire without bound.
MAX_REPETITIONS = 1000
TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")

_DURATION_EXAMPLE = "e.g. \"P5D\" or \"PT2H\""
_DATE_EXAMPLE = "e.g. \"2026-05-01T09:00:00+02:00\""
_CYCLE_EXAMPLE = "e.g. \"R3/PT1H\" or \"R2/2026-05-01T09:00:00+02:00/P7D\""


def value_problem(tag: str, value: object, now: datetime) -> str | None:
    """What is wrong with `value` as the result of a `tag` timer expression, evaluated at `now`; None if fine."""
    if not isinstance(value, str):
        return f"{tag} gives {type(value).__name__}, but a timer needs ISO 8601 text ({_example(tag)})"
    text = value.strip()
    if tag == "timeDuration":
        return _duration_problem(text, now)
    if tag == "timeDate":
        return _date_problem(text, now)
    return _cycle_problem(text, now)


def _example(tag: str) -> str:
    return {"timeDuration": _DURATION_EXAMPLE, "timeDate": _DATE_EXAMPLE}.get(tag, _CYCLE_EXAMPLE)


def _shown(text: str) -> str:
    """The value as quoted in a message, cut short (a computed value can be of any length)."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _too_far(when: datetime, now: datetime) -> bool:
    return when - now > MAX_AHEAD


def _duration_problem(text: str, now: datetime) -> str | None:
    if text.startswith("-"):
        return f"timeDuration {_shown(text)} is negative; a timer can only wait forward in time"
    if not text.upper().startswith("P") or text.upper() in ("P", "PT"):
        return f"timeDuration {_shown(text)} is not an ISO 8601 duration ({_DURATION_EXAMPLE})"
    parsed = _parse_duration(text)
    if parsed is None:
        return f"timeDuration {_shown(text)} is not an ISO 8601 duration ({_DURATION_EXAMPLE})"
    if _rough_days(parsed) > MAX_AHEAD.days:
        return f"timeDuration {_shown(text)} is more than {MAX_AHEAD_TEXT} ahead"
    try:
        due = now + TimerEventDefinition.get_timedelta_from_start(dict(parsed), now)
    except (OverflowError, ValueError):
        return f"timeDuration {_shown(text)} is more than {MAX_AHEAD_TEXT} ahead"
    if _too_far(due, now):
        return f"timeDuration {_shown(text)} is more than {MAX_AHEAD_TEXT} ahead"
    return None


def _parse_duration(text: str) -> dict | None:
    """The library's own parse (so what passes here is what it will accept), or None."""
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - the library raises a bare Exception('Invalid duration'), int() a ValueError
        return None
    return parsed or None  # "P" alone parses to nothing


def _rough_days(parsed: dict) -> float:
    """An upper bound of the duration in days, computed before the library does: it counts months one
    by one in a Python loop, so "P999999999Y" would hold the interpreter for minutes."""
    return (parsed.get("years", 0) * 366 + parsed.get("months", 0) * 31 + parsed.get("weeks", 0) * 7
            + parsed.get("days", 0) + parsed.get("hours", 0) / 24 + parsed.get("minutes", 0) / 1440
            + parsed.get("seconds", 0) / 86400)


def _date_problem(text: str, now: datetime) -> str | None:
    if text.upper().startswith(("P", "R")):
        return f"timeDate {_shown(text)} is not a moment ({_DATE_EXAMPLE}); a wait belongs in a timeDuration"
    try:
        moment = TimerEventDefinition.parse_time_or_duration(text)
    except OverflowError:
        return f"timeDate {_shown(text)} is outside the dates a timer can hold"
    except Exception:  # noqa: BLE001 - fromisoformat, week dates and time zones each fail in their own way
        return f"timeDate {_shown(text)} is not an ISO 8601 date and time ({_DATE_EXAMPLE})"
    if not isinstance(moment, datetime):
        return f"timeDate {_shown(text)} is not an ISO 8601 date and time ({_DATE_EXAMPLE})"
    if _too_far(moment, now):
        return f"timeDate {_shown(text)} is more than {MAX_AHEAD_TEXT} ahead"
    return None


def _cycle_problem(text: str, now: datetime) -> str | None:
    upper = text.upper()
    if not upper.startswith("R"):
        return (f"timeCycle {_shown(text)} has no repetitions: a cycle starts with how many times it fires "
                f"({_CYCLE_EXAMPLE}); for a single wait use a timeDuration")
    parts = upper.replace("--", "/").strip("R").split("/")
    count = parts[0]
    if not count:
        return (f"timeCycle {_shown(text)} repeats without end; say how many times it fires, at most "
                f"{MAX_REPETITIONS} ({_CYCLE_EXAMPLE})")
    if not count.isdigit() or not 1 <= int(count) <= MAX_REPETITIONS:
        return f"timeCycle {_shown(text)}: the number of repetitions must be from 1 to {MAX_REPETITIONS}"
    if len(parts) not in (2, 3):
        return f"timeCycle {_shown(text)} is not an ISO 8601 repeating interval ({_CYCLE_EXAMPLE})"
    for part in parts[1:]:
        if part.startswith("P"):
            parsed = _parse_duration(part)
            if parsed is None:
                return f"timeCycle {_shown(text)}: {_shown(part)} is not an ISO 8601 duration ({_DURATION_EXAMPLE})"
            if _rough_days(parsed) * int(count) > MAX_AHEAD.days:
                return f"timeCycle {_shown(text)} ends more than {MAX_AHEAD_TEXT} ahead"
    try:
        cycles, start, period = TimerEventDefinition.parse_iso_recurring_interval(text)
        last = start + period * cycles
    except OverflowError:
        return f"timeCycle {_shown(text)} ends more than {MAX_AHEAD_TEXT} ahead"
    except Exception:  # noqa: BLE001 - the library raises bare Exceptions and whatever its parsing meets
        return f"timeCycle {_shown(text)} is not an ISO 8601 repeating interval ({_CYCLE_EXAMPLE})"
    if period <= timedelta(0):
        return f"timeCycle {_shown(text)}: the time between repetitions must be longer than zero"
    if _too_far(last, now):
        return f"timeCycle {_shown(text)} ends more than {MAX_AHEAD_TEXT} ahead"
    return None


# -- at deploy: expressions ------------------------------------------------------------------------

def expression_problems(tag: str, code: str, *, named_deadlines: dict[str, Rule], known_functions: set[str],
                        now: datetime) -> list[str]:
    """What can be told wrong about a timer expression before a case runs it (the code compiles)."""
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError:
        return []  # reported by the compile check
    try:
        value = ast.literal_eval(tree.body)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _call_problems(tag, tree.body, named_deadlines, known_functions)
    problem = value_problem(tag, value, now)
    return [problem] if problem else []


def _call_problems(tag: str, body: ast.expr, named: dict[str, Rule], known: set[str]) -> list[str]:
    found = []
    for node in ast.walk(body):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name = node.func.id
        if name not in known:
            found.append(f"{tag} calls {name}(), which is neither a helper nor an allowed builtin")
        elif name == "deadline" and node.args and isinstance(node.args[0], ast.Constant):
            spec = node.args[0].value
            try:
                parse_rule(spec if isinstance(spec, str) else "", named)
            except DeadlineError as exc:
                found.append(f"{tag}: deadline({spec!r}): {exc}")
    if tag != "timeDate" and isinstance(body, ast.Call) and getattr(body.func, "id", None) == "deadline":
        found.append(f"deadline(...) gives a moment (a date and time), so it belongs in a timeDate, not a {tag}")
    return found
