"""`tovholder worker`: the long-running loop; stops cleanly on SIGTERM/SIGINT.

Each pass runs the jobs of workers.jobs in turn (timers, deadlines, service
tasks, the outbox sender). A job handles up
to a batch of items, one transaction per item, and checks `ctx.stop` between
items: on SIGTERM the item in hand finishes and commits, no new one is
taken, and the process exits 0. A pass that filled a batch is followed at
once by the next; otherwise the loop waits TOVHOLDER_WORKER_INTERVAL.
"""
from __future__ import annotations

import logging
import signal
import threading

from engine.bpmn import patches as bpmn_patches
from engine.case_rules import rules_from_settings
from engine.db import make_db_engine, make_session_factory
from engine.retry_policy import RetryPolicy
from engine.settings import Settings

from .context import WorkerContext
from .jobs import JOBS
from .ops import WorkerMetrics, serve

log = logging.getLogger("tovholder.worker")


def _run_pass(ctx: WorkerContext, once: bool) -> bool:
    """One pass over the jobs; True when some job has more waiting. Errors are logged, not fatal."""
    more = False
    for job in JOBS:
        if ctx.stop.is_set():
            break
        try:
            more = job(ctx) or more
        except Exception as exc:  # noqa: BLE001 - e.g. the database restarting: wait and try again
            log.error("worker job %s failed (%s); retrying in %.1fs", job.__name__, type(exc).__name__,
                      ctx.settings.worker_interval_seconds, extra={"event": "job_failed", "job": job.__name__})
            if once:
                raise
    return more


def run_forever(settings: Settings, *, once: bool = False, metrics_port: int | None = None,
                stop: threading.Event | None = None) -> None:
    """Run passes until SIGTERM/SIGINT (or `stop`); with `once`, until nothing more is due now."""
    bpmn_patches.apply()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: _stopping(stop, signum))
    db_engine = make_db_engine(settings.database_url)
    session_factory = make_session_factory(db_engine, audit_key=settings.audit_key)
    ctx = WorkerContext(settings, session_factory, rules_from_settings(settings), RetryPolicy.from_settings(settings),
                        stop, WorkerMetrics(session_factory))
    server = None
    if metrics_port is not None:
        stale = max(120.0, 20 * settings.worker_interval_seconds)
        server = serve(metrics_port, metrics=ctx.metrics, db_engine=db_engine, stale_after=stale)
    log.info("worker started (interval %.1fs, batch %d, %s)", settings.worker_interval_seconds, settings.worker_batch,
             db_engine.dialect.name, extra={"event": "worker_started", "metrics_port": metrics_port})
    try:
        while not stop.is_set():
            more = _run_pass(ctx, once)
            if once and not more:
                break
            if not more:
                stop.wait(settings.worker_interval_seconds)
    finally:
        if server is not None:
            server.shutdown()
        db_engine.dispose()
    log.info("worker stopped", extra={"event": "worker_stopped"})


def _stopping(stop: threading.Event, signum: int) -> None:
    if not stop.is_set():
        log.info("%s: finishing the item in hand, then stopping", signal.Signals(signum).name,
                 extra={"event": "worker_stopping"})
    stop.set()
