"""The one place Tovholder reads wall time, and the way to set it.

`now()` is the real time unless a caller fixed it with `at(moment)` (the
worker fires "every timer due at a given moment"; tests move time this
way or with time-machine). SpiffWorkflow computes timers from its own
`datetime.now`; engine.bpmn.patches points that at this module, so both agree.
The override is a context variable: it holds per thread, so one worker's
moment never leaks into another request.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import overload

_fixed: ContextVar[datetime | None] = ContextVar("tovholder_fixed_now", default=None)


def now() -> datetime:
    fixed = _fixed.get()
    return fixed if fixed is not None else datetime.now(timezone.utc)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Within this block, `now()` (and SpiffWorkflow's timers) read `moment`."""
    token = _fixed.set(as_utc(moment))
    try:
        yield
    finally:
        _fixed.reset(token)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """Database drivers hand back naive datetimes on SQLite; all stored times are UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
