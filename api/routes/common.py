"""Shared request types: list parameters (CONTRACT.md: limit ≤ 500, offset), JSON data objects and text."""
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator

from engine.strict_json import SURROGATE, problem

Limit = Annotated[int, Query(ge=1, le=500, description="at most 500")]
MAX_OFFSET = 2**63 - 1  # what SQLite and PostgreSQL accept in OFFSET
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


# a yes/no filter given empty (`?overdue=`) filters nothing, like the other filters left empty
OptionalFlag = Annotated[bool | None, BeforeValidator(_empty_is_none)]

MAX_DATA_DEPTH = 32


def _check_depth(value: Any, depth: int = 0) -> Any:
    """Refuse very deep nesting, which would exhaust the recursion limit further in.

    What strict JSON cannot hold (NaN, Infinity, 1e400, lone surrogates) the
    engine refuses itself (engine.strict_json), naming the field as `data.x`,
    so the API and the web forms answer alike.
    """
    if depth > MAX_DATA_DEPTH:
        raise ValueError(f"data is nested deeper than {MAX_DATA_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)
    return value


def _check_text(value: str) -> str:
    """A lone surrogate ("\\ud800" in JSON) is not a character: no database or response can carry it."""
    if problem(value) is not None:
        raise ValueError(SURROGATE)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_check_depth)]
Text = Annotated[str, AfterValidator(_check_text)]  # a JSON string field: 422 naming it for a lone surrogate
