"""The states a case, a task, a service task and an incident can be in: named once, used everywhere.

StrEnum members compare equal to their plain strings, so rows, JSON and
templates keep the strings CONTRACT.md names ("running", "open", ...).
Pure definitions; no database.
"""
from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# A human task someone can still work: in an inbox, on its way to being done.
OPEN_TASK_STATES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


class ServiceTaskStatus(StrEnum):
    OPEN = "open"
    LOCKED = "locked"  # fetched by a worker that holds a lease
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A service task a worker may still take or is working.
OPEN_SERVICE_TASK_STATES = (ServiceTaskStatus.OPEN, ServiceTaskStatus.LOCKED)


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class WaitKind(StrEnum):
    MESSAGE = "message"
    TIMER = "timer"
