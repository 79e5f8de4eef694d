"""What every worker job is given: settings, a session factory, the case rules, the retry policy, the stop flag.

Plain data; no transaction of its own.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from engine.case_rules import CaseRules
from engine.retry_policy import RetryPolicy
from engine.settings import Settings

from .ops import WorkerMetrics


@dataclass
class WorkerContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    rules: CaseRules
    policy: RetryPolicy
    stop: threading.Event
    metrics: WorkerMetrics
    # when partitions_job last made sure of the month partitions (it runs hourly, not every pass)
    partitions_checked_at: datetime | None = None


# A job: fn(ctx) -> True when it filled its batch (more work is waiting, so no pause before the next pass).
Job = Callable[[WorkerContext], bool]
