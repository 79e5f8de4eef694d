"""How background work retries: attempts and exponential backoff, shared by timers, service tasks and mail.

Pure; no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 30.0

    def delay(self, attempt: int) -> timedelta:
        """Wait before attempt `attempt + 1`: backoff, 2·backoff, 4·backoff, … at most a day."""
        seconds = self.backoff_seconds * 2 ** min(max(attempt - 1, 0), 30)
        return min(timedelta(seconds=seconds), MAX_BACKOFF)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.worker_max_attempts, settings.worker_backoff_seconds)
