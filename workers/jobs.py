"""The worker's jobs: timers, deadlines (reminders, escalations, the § 3 letter), service tasks, the outbox sender,
and (hourly) the month partitions of the history and task tables on PostgreSQL.

JOBS lists them in the order a pass runs them (workers.loop): deadlines and
service tasks queue mail, and the outbox job sends it in the same pass.
Transaction rule: one transaction per item (a task, a service task, a
message); a failing item is rolled back and logged, and the pass goes on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta, timezone

from sqlalchemy.orm import Session

from engine import citizen_letters, clock, escalations, partitions, task_archive
from engine.errors import CaseBusy

from .context import Job, WorkerContext
from .mail import send_pending
from .service_worker import work_service_tasks
from .timers import fire_due_timers

log = logging.getLogger("tovholder.worker")


def timers_job(ctx: WorkerContext) -> bool:
    batch = ctx.settings.worker_batch
    result = fire_due_timers(ctx.session_factory, rules=ctx.rules, batch=batch, policy=ctx.policy,
                             should_stop=ctx.stop.is_set)
    ctx.metrics.pass_done(result)
    if result.handled:
        log.info("timers: fired %d on %d cases, %d failed, %d busy", result.fired, result.cases, len(result.failed),
                 len(result.busy), extra={"event": "timers_pass", "fired": result.fired, "cases": result.cases,
                                          "failed": len(result.failed), "busy": len(result.busy)})
    return result.handled >= batch


def _each_task(ctx: WorkerContext, task_ids: list[str], handle: Callable, *, what: str, failed_event: str,
               report: Callable) -> int:
    """Handle each task in a transaction of its own; how many were handled.

    A case someone is working right now waits for the next pass; a failure is logged by its type (the
    message could carry personal data) and does not stop the other tasks. `report(task_id, outcome)`
    logs an outcome that did something.
    """
    done = 0
    for task_id in task_ids:
        if ctx.stop.is_set():
            break
        with ctx.session_factory() as session:
            try:
                outcome = handle(session, task_id)
                session.commit()
            except CaseBusy:
                session.rollback()
                continue
            except Exception as exc:  # noqa: BLE001 - one task must not stop the others
                session.rollback()
                log.error("%s for task %s failed: %s", what, task_id, type(exc).__name__,
                          extra={"event": failed_event, "task_id": task_id})
                continue
        done += 1
        if outcome.step != "nothing":
            report(task_id, outcome)
    return done


def deadlines_job(ctx: WorkerContext) -> bool:
    now, batch = clock.now(), ctx.settings.worker_batch
    with ctx.session_factory() as session:
        task_ids = escalations.candidates(session, now=now, limit=batch)

    def handle(session: Session, task_id: str) -> escalations.Outcome:
        return escalations.handle_task(session, task_id=task_id, now=now, rules=ctx.rules,
                                       default_grace=ctx.settings.escalation_grace,
                                       public_url=ctx.settings.public_url)

    def report(task_id: str, outcome: escalations.Outcome) -> None:
        log.info("task %s %s (%d mails queued)", task_id, outcome.step, outcome.queued,
                 extra={"event": f"task_{outcome.step}", "task_id": task_id, "queued": outcome.queued})
    done = _each_task(ctx, task_ids, handle, what="deadline notice", failed_event="deadline_failed", report=report)
    return len(task_ids) >= batch and done > 0


def letters_job(ctx: WorkerContext) -> bool:
    """The § 3 letters of decision tasks that will miss their deadline (engine/citizen_letters.py)."""
    now, batch = clock.now(), ctx.settings.worker_batch
    with ctx.session_factory() as session:
        task_ids = citizen_letters.candidates(session, now=now, rules=ctx.rules, limit=batch)

    def handle(session: Session, task_id: str) -> citizen_letters.Outcome:
        return citizen_letters.handle_task(session, task_id=task_id, now=now, rules=ctx.rules)

    def report(task_id: str, outcome: citizen_letters.Outcome) -> None:
        log.info("task %s: citizen letter %s", task_id, outcome.step.replace("_", " "),
                 extra={"event": f"citizen_letter_{outcome.step}", "task_id": task_id})
    done = _each_task(ctx, task_ids, handle, what="citizen letter", failed_event="citizen_letter_failed",
                      report=report)
    return len(task_ids) >= batch and done > 0


def service_tasks_job(ctx: WorkerContext) -> bool:
    run = work_service_tasks(ctx.session_factory, settings=ctx.settings, rules=ctx.rules,
                             batch=ctx.settings.worker_batch, should_stop=ctx.stop.is_set)
    if run.handled:
        log.info("service tasks: %d completed, %d failed", run.completed, len(run.failed),
                 extra={"event": "service_tasks_pass", "completed": run.completed, "failed": len(run.failed)})
    return run.handled >= ctx.settings.worker_batch


def outbox_job(ctx: WorkerContext) -> bool:
    batch = ctx.settings.worker_batch
    run = send_pending(ctx.session_factory, settings=ctx.settings, batch=batch, should_stop=ctx.stop.is_set)
    if run.handled:
        log.info("outbox: %d sent, %d failed", run.sent, len(run.failed),
                 extra={"event": "outbox_pass", "sent": run.sent, "failed": len(run.failed)})
    return run.handled >= batch and run.sent > 0


PARTITIONS_EVERY = timedelta(hours=1)


def partitions_job(ctx: WorkerContext) -> bool:
    """Once an hour: the month partitions of the history and task tables, this month and the next three
    (PostgreSQL); then the tasks of cases closed long enough ago move to the task archive (engine.task_archive),
    after the months they go to exist."""
    now = clock.now()
    if ctx.partitions_checked_at is not None and now - ctx.partitions_checked_at < PARTITIONS_EVERY:
        return False
    with ctx.session_factory() as session:
        done = partitions.ensure_months(session.connection(), today=now.astimezone(timezone.utc).date())
        session.commit()
    with ctx.session_factory() as session:
        archived = task_archive.archive_closed(session.connection(), now=now,
                                               after_days=ctx.settings.task_archive_after_days)
        session.commit()
    ctx.partitions_checked_at = now
    if archived.tasks:
        log.info("tasks archived: %d%s", archived.tasks, " (more next hour)" if archived.more else "",
                 extra={"event": "tasks_archived", "tasks": archived.tasks, "more": archived.more})
    if done.created:
        log.info("partitions created: %s", ", ".join(done.created),
                 extra={"event": "partitions_created", "partitions": done.created})
    if done.deferred:
        log.warning("partitions not created yet, a long transaction held their table for over %s: %s "
                    "(tried again next hour)", partitions.LOCK_TIMEOUT, ", ".join(done.deferred),
                    extra={"event": "partitions_deferred", "partitions": done.deferred})
    if done.skipped:
        log.warning("partitions not created, the default partition holds rows of those months: %s",
                    ", ".join(done.skipped), extra={"event": "partitions_skipped", "partitions": done.skipped})
    return False


JOBS: list[Job] = [timers_job, deadlines_job, letters_job, service_tasks_job, outbox_job, partitions_job]
