"""`tovholder worker`: the long-running loop; stops cleanly on SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import signal
import threading

from engine.config import rules_from_settings
from engine.db import make_db_engine, make_session_factory
from engine.settings import Settings

from .timers import fire_due_timers

log = logging.getLogger("tovholder.worker")


def run_forever(settings: Settings, *, once: bool = False) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    db_engine = make_db_engine(settings.database_url)
    session_factory = make_session_factory(db_engine)
    rules = rules_from_settings(settings)
    log.info("worker started (interval %.1fs)", settings.worker_interval_seconds)
    while not stop.is_set():
        try:
            result = fire_due_timers(session_factory, rules=rules)
        except Exception as exc:  # noqa: BLE001 - e.g. the database restarting: wait and try again
            log.error("worker pass failed (%s); retrying in %.1fs", type(exc).__name__,
                      settings.worker_interval_seconds)
            if once:
                raise
            stop.wait(settings.worker_interval_seconds)
            continue
        if result.fired or result.failed:
            log.info("timers: fired %d on %d cases, %d failed", result.fired, result.cases, len(result.failed))
        if once:
            break
        stop.wait(settings.worker_interval_seconds)
    db_engine.dispose()
    log.info("worker stopped")
