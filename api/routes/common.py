"""Shared request types: list parameters (CONTRACT.md: limit ≤ 500, offset) and JSON data objects."""
import math
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator

Limit = Annotated[int, Query(ge=1, le=500, description="at most 500")]
MAX_OFFSET = 2**63 - 1  # what SQLite and PostgreSQL accept in OFFSET
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]

MAX_DATA_DEPTH = 32


def _check_plain_json(value: Any, depth: int = 0) -> Any:
    """Refuse what Python's JSON parser lets through but JSON and the database cannot hold.

    NaN/Infinity (and numbers like 1e400) would be stored and then fail when
    answered; very deep nesting would exhaust the recursion limit further in.
    """
    if depth > MAX_DATA_DEPTH:
        raise ValueError(f"data is nested deeper than {MAX_DATA_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite (NaN and Infinity are not JSON)")
    if isinstance(value, dict):
        for item in value.values():
            _check_plain_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_plain_json(item, depth + 1)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_check_plain_json)]
