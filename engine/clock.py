"""The one place Tovholder reads wall time.

SpiffWorkflow reads `datetime.now(timezone.utc)` itself for timers, so tests
move time for both with a time-travel library (time-machine) rather than by
replacing this function; nothing in a test sleeps.
"""
from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Database drivers hand back naive datetimes on SQLite; all stored times are UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
