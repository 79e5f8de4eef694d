"""Task data as storable JSON: what a script, a DMN cell or another expression may leave behind.

Task data is stored as JSON (cases.data, the workflow state) and answered as
JSON. `plain_data` turns what has a clear JSON form into it (date and
datetime into ISO strings, tuples into lists) and refuses the rest with a
message naming the variable and the kind of value, never the value itself:
task data may hold a CPR number. Pure; used in script worker processes
(engine.scripting) and after every engine step (engine.runtime).
"""
from __future__ import annotations

import math
import sys
from datetime import date, timedelta
from typing import Any


class NotJson(TypeError):
    """A value a script left in the task data that cannot be stored as JSON; `field` names it (`data.x[1]`)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _refuse(where: str, reason: str) -> NotJson:
    return NotJson(f"{where} {reason}", where)


_SAFE_INT_BITS = 14281  # every int this short has at most 4300 digits, the limit of int -> str


def plain_data(value: Any, where: str = "data") -> Any:
    """`value` as JSON-ready data: dates and datetimes become ISO strings, tuples lists; the rest is refused.

    Returns `value` itself when nothing needed converting. `where` is the field `value` sits in, written as
    engine.strict_json writes fields (`data.resultat.satser[1]`); a refusal names the innermost field and the
    kind of value, never the value: task data may hold a CPR number.
    """
    kind = type(value)
    if kind is str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _refuse(where, "holds a lone surrogate, which is not a Unicode character") from None
        return value
    if kind is bool or value is None:
        return value
    if kind is int:
        if value.bit_length() > _SAFE_INT_BITS and not _short_enough(value):
            raise _refuse(where, f"is an integer with more than {sys.get_int_max_str_digits()} digits, which has no JSON form")
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _refuse(where, "is not a finite number (NaN and Infinity are not JSON)")
        return value
    if isinstance(value, date):  # and datetime, its subclass
        return value.isoformat()
    if kind is list or kind is tuple:
        items = [plain_data(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return value if kind is list and all(a is b for a, b in zip(items, value, strict=False)) else items
    if kind is dict:
        return _plain_dict(value, where)
    hint = {set: " (use a list)", frozenset: " (use a list)", timedelta: " (use its .days)"}.get(kind, "")
    raise _refuse(where, f"is a {kind.__name__}, which has no JSON form{hint}")


def _short_enough(value: int) -> bool:
    try:
        str(value)
    except ValueError:
        return False
    return True


def _plain_dict(value: dict, where: str) -> dict:
    changed = False
    result = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _refuse(where, f"has a key of type {type(key).__name__}; keys must be text")
        plain_data(key, f"{where} (a key)")
        result[key] = converted = plain_data(item, f"{where}.{key}")  # the key is valid Unicode: checked above
        changed = changed or converted is not item
    return result if changed else value
