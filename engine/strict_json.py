"""Strict JSON in, readable JSON out: what the database holds, every reader can read.

Python's json module reads and writes more than JSON: NaN, Infinity, numbers
such as 1e400 (read as infinity) and lone UTF-16 surrogates ("\\ud800"), which
no UTF-8 text can carry. Once stored, such a value breaks every later answer
about the case (the response cannot be encoded), so:

- `check_input` refuses request data holding one (InvalidJson, 422, naming the
  field as `data.x` or `data.list[2]`); engine.runtime calls it before a case
  is touched;
- `dumps` is the serializer of the workflow state (engine.serialization) and
  of every JSON column (engine.db): it raises NotStrictJson rather than write
  what is not strict JSON, so a script's `1e308 * 10` never reaches the
  database either (engine.runtime turns it into a ProcessError naming the
  element);
- `loads` reads what was written before these rules: lone surrogates become
  U+FFFD and non-finite numbers null, so a case stored with them reads back
  (and its next change stores it clean) instead of failing every read.

Pure functions; no database, no transaction.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import InvalidJson

_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON text: a `\\udXXX` escape that is not half of a pair (an escaped backslash before it is a
# false alarm, which only costs the slow path). It starts with `\\u` so that the scan is fast.
_LONE_ESCAPE = re.compile(r"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                          r"|[c-fC-F][0-9a-fA-F]{2}(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}))")


def _finite_or_none(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


# NaN and ±Infinity tokens, and numbers beyond a double (1e400), read as None.
_TOLERANT = json.JSONDecoder(parse_constant=lambda _name: None, parse_float=_finite_or_none)

NOT_FINITE = "is not a finite number (NaN and Infinity are not JSON)"
SURROGATE = "holds a lone surrogate (U+D800 to U+DFFF), which is not a Unicode character"


def _surrogate(text: str, what: str = "holds") -> str | None:
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"{what} a lone surrogate (U+{ord(found.group()):04X}), which is not a Unicode character"


class NotStrictJson(ValueError):
    """A value strict JSON cannot hold; `path` leads to it (keys and list indexes)."""

    def __init__(self, path: tuple, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{field_name(path, 'value')} {reason}")

    def field(self, prefix: str = "data") -> str:
        return field_name(self.path, prefix)


def printable(text: str) -> str:
    """The text with any lone surrogate written as `\\udXXX`, so that a message about it can be sent."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def field_name(path: tuple, prefix: str = "data") -> str:
    parts = [prefix]
    for step in path:
        parts.append(f"[{step}]" if isinstance(step, int) else f".{printable(str(step))}")
    return "".join(parts)


def problem(value: object) -> NotStrictJson | None:
    """The first value (depth first, in order) that strict JSON cannot hold, or None."""
    stack: list[tuple[tuple, object]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return NotStrictJson(path, NOT_FINITE)
        elif isinstance(item, str):
            if (reason := _surrogate(item)) is not None:
                return NotStrictJson(path, reason)
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if isinstance(key, str) and (reason := _surrogate(key, "is a name holding")) is not None:
                    return NotStrictJson((*path, key), reason)
                if isinstance(key, float) and not math.isfinite(key):
                    return NotStrictJson((*path, key), NOT_FINITE)
                children.append(((*path, key), child))
            stack.extend(reversed(children))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([((*path, i), child) for i, child in enumerate(item)]))
    return None


def check_input(value: object, field: str = "data") -> None:
    """Refuse request data strict JSON cannot hold: InvalidJson (422) naming the field."""
    found = problem(value)
    if found is not None:
        name = found.field(field)
        raise InvalidJson(f"{name} {found.reason}", [{"field": name, "message": f"{name} {found.reason}"}])


def dumps(value: object, **kwargs: Any) -> str:
    """json.dumps (ASCII, as stored so far) that raises NotStrictJson instead of writing non-JSON."""
    try:
        text = json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        found = problem(value)
        if found is None:
            raise  # not ours to name (e.g. a circular reference)
        raise found from None
    # A lone surrogate is escaped like any other character; the walk runs only when one may be there.
    if _LONE_ESCAPE.search(text):
        found = problem(value)
        if found is not None:
            raise found
    return text


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """json.loads that repairs what earlier versions stored: lone surrogates → U+FFFD, NaN/±Infinity → null."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8")
    # The hooks cost about what a regex scan for such numbers would; the walk runs only when needed.
    value = _TOLERANT.decode(text)
    return readable(value) if _LONE_ESCAPE.search(text) else value


def readable(value: Any) -> Any:
    """A copy of the value with lone surrogates replaced by U+FFFD and non-finite numbers by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {readable(k) if isinstance(k, str) else k: readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


