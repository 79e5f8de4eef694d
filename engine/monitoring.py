"""What an operator watches: due timers, the oldest due timer's lag, open incidents, outbox backlog.

`snapshot` reads a few counts in its own short read-only session (the caller
passes a session factory; nothing is written). `StateCollector` exposes the
same numbers in Prometheus format, read fresh at every scrape, for the
worker's metrics port and the API's /metrics.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from . import clock, outbox
from .incidents import count_open
from .models import Wait
from .statuses import WaitKind


@dataclass(frozen=True)
class Snapshot:
    due_timers: int
    oldest_due_lag_seconds: float
    open_incidents: int
    outbox_backlog: int


def snapshot(session_factory: sessionmaker[Session], *, now: datetime | None = None) -> Snapshot:
    now = clock.as_utc(now or clock.now())
    with session_factory() as session:
        due = (Wait.kind == WaitKind.TIMER, Wait.due_at < now)
        count, oldest = session.execute(select(func.count(), func.min(Wait.due_at)).where(*due)).one()
        lag = max((now - clock.as_utc(oldest)).total_seconds(), 0.0) if oldest is not None else 0.0
        result = Snapshot(count or 0, lag, count_open(session), outbox.backlog(session))
        session.rollback()
    return result


class StateCollector:
    """A Prometheus collector reading the database at each scrape."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self.session_factory = session_factory

    def describe(self) -> list:
        return []  # read only at scrape time, never when registered

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            s = snapshot(self.session_factory)
        except Exception:  # noqa: BLE001 - a scrape reports the database as down instead of failing
            yield GaugeMetricFamily("tovholder_database_up", "1 when the database answered", value=0)
            return
        yield GaugeMetricFamily("tovholder_database_up", "1 when the database answered", value=1)
        yield GaugeMetricFamily("tovholder_timers_due", "timers due now and not yet fired", value=s.due_timers)
        yield GaugeMetricFamily("tovholder_timer_oldest_due_lag_seconds",
                                "seconds since the oldest unfired timer fell due", value=s.oldest_due_lag_seconds)
        yield GaugeMetricFamily("tovholder_incidents_open", "incidents waiting for an admin", value=s.open_incidents)
        yield GaugeMetricFamily("tovholder_outbox_backlog", "outbox messages not yet sent", value=s.outbox_backlog)

