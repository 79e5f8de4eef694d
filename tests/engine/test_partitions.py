"""The month partitions on PostgreSQL: the history tables (migration 0022) and the task table (migration 0024),
engine.partitions and the worker's hourly job.

Real cases are started and worked through the engine with the clock moved, so their audit events,
access-log rows and tasks land where the database puts them; which partition holds a row is read from
PostgreSQL (`tableoid`). On SQLite nothing is partitioned and the maintenance does nothing; the task
references (deadline notices, § 3 letters) hold on both.
"""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine import audit, audit_chain, clock, inbox, migrate, partitions, runtime, task_archive
from engine.case_rules import rules_from_settings
from engine.models import AuditEvent, Case, CaseAccess, DeadlineLetter, HumanTask, TaskDeadlineNotice
from engine.retry_policy import RetryPolicy
from engine.settings import load_settings
from tests import factories as f
from workers.context import WorkerContext
from workers.jobs import partitions_job
from workers.ops import WorkerMetrics

# Months beyond any the migration created; each test has its own, because partitions outlive the rows
# that the suite deletes between tests.
FAR = datetime(2031, 5, 14, 9, tzinfo=timezone.utc)
REGISTRERING = {"forsikret": False, "henvendelsesdato": "2026-11-23"}  # intake's first form


def _postgres(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("partitioning is PostgreSQL's (the PostgreSQL half of make test runs this)")


def _where(session, model, **match) -> set[str]:
    rows = session.execute(select(text("tableoid::regclass::text")).select_from(model.__table__)
                           .filter_by(**match)).scalars()
    return {r.split(".")[-1] for r in rows}


def _start(session, users, when):
    with clock.at(when):
        case = f.start_case(session, "intake", actor=users["jc"])
        audit.log_access(session, case.id, "jc", "view")
        session.commit()
    return case


def _below(revision: str) -> str:
    """The revision a migration was written on (the chain is re-linked when parallel work merges)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    config = Config()
    config.set_main_option("script_location", str(f.ROOT / "migrations"))
    down = ScriptDirectory.from_config(config).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture
def users(seed):
    return seed("intake.bpmn")


def _start_in_its_month(session, users, when: datetime, ahead: int):
    """The month partitions of `when` (and `ahead` more) made, then a case started at `when`."""
    partitions.ensure_months(session.connection(), today=when.date(), ahead=ahead)
    session.commit()
    return _start(session, users, when)


def test_the_migrations_partition_history_and_tasks_by_month_with_a_default(db, session, users):
    _postgres(db)
    conn = session.connection()
    this_month = date.today().replace(day=1)
    for table in partitions.TABLES:
        assert partitions.is_partitioned(conn, table)
        have = partitions.partitions(conn, table)
        assert f"{table}_default" in have
        assert {partitions.partition_name(table, m) for m in partitions.month_starts(this_month, 3)} <= set(have)


def test_rows_land_in_their_month_and_the_default_takes_a_month_not_created(db, session, users):
    _postgres(db)
    case = _start(session, users, FAR)
    assert _where(session, AuditEvent, case_id=case.id) == {"audit_events_default"}
    assert _where(session, CaseAccess, case_id=case.id) == {"case_access_log_default"}
    # the default now holds May 2031: that month cannot be created over it, and is reported, not failed
    done = partitions.ensure_months(session.connection(), today=FAR.date(), ahead=1)
    assert "audit_events_2031_05" in done.skipped and "audit_events_2031_06" in done.created
    session.commit()
    later = _start(session, users, FAR + timedelta(days=31))
    assert _where(session, AuditEvent, case_id=later.id) == {"audit_events_2031_06"}
    assert _where(session, CaseAccess, case_id=later.id) == {"case_access_log_2031_06"}
    # and the chains read across partitions as one table
    for c in (case, later):
        assert audit_chain.verify_case(session, session.get(Case, c.id)).ok


def test_the_audit_trail_stays_append_only_in_every_partition(db, session, users):
    _postgres(db)
    when = datetime(2034, 5, 2, 9, tzinfo=timezone.utc)
    case = _start_in_its_month(session, users, when, ahead=0)
    assert _where(session, AuditEvent, case_id=case.id) == {"audit_events_2034_05"}
    for statement in ("UPDATE audit_events SET actor = 'x' WHERE case_id = :c",
                      "UPDATE audit_events_2034_05 SET actor = 'x' WHERE case_id = :c",
                      "DELETE FROM audit_events_2034_05 WHERE case_id = :c"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement), {"c": case.id})
        session.rollback()


def test_ensure_months_twice_at_once_creates_each_partition_once(db, users):
    _postgres(db)
    results, errors = [], []

    def run():
        try:
            with db.engine.begin() as conn:
                results.append(partitions.ensure_months(conn, today=date(2032, 1, 20), ahead=2))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    created = sorted(n for r in results for n in r.created)
    assert created == sorted(f"{t}_{m}" for t in partitions.TABLES for m in ("2032_01", "2032_02", "2032_03"))


def test_the_worker_creates_the_months_ahead_once_an_hour(db, users):
    _postgres(db)
    settings = load_settings(database_url=db.url)
    ctx = WorkerContext(settings=settings, session_factory=db.session, rules=rules_from_settings(settings),
                        policy=RetryPolicy(), stop=threading.Event(), metrics=WorkerMetrics())
    with clock.at(datetime(2033, 3, 31, 23, 30, tzinfo=timezone.utc)):
        partitions_job(ctx)
    with db.engine.connect() as conn:
        have = set(partitions.partitions(conn, "audit_events"))
    assert {"audit_events_2033_03", "audit_events_2033_06"} <= have and "audit_events_2033_07" not in have
    with clock.at(datetime(2033, 4, 1, 0, 10, tzinfo=timezone.utc)):  # 40 minutes later: not yet
        partitions_job(ctx)
    with db.engine.connect() as conn:
        assert "audit_events_2033_07" not in set(partitions.partitions(conn, "audit_events"))
    with clock.at(datetime(2033, 4, 1, 0, 31, tzinfo=timezone.utc)):  # an hour on: April + 3 months
        partitions_job(ctx)
    with db.engine.connect() as conn:
        assert "audit_events_2033_07" in set(partitions.partitions(conn, "audit_events"))
        assert "case_access_log_2033_07" in set(partitions.partitions(conn, "case_access_log"))
        assert "human_tasks_2033_07" in set(partitions.partitions(conn, "human_tasks"))


def test_down_past_0022_and_up_again_keeps_every_row_and_chain(db, session, users):
    _postgres(db)
    when = datetime(2035, 2, 3, 9, tzinfo=timezone.utc)
    cases = [_start(session, users, when), _start(session, users, datetime(2026, 9, 7, 8, tzinfo=timezone.utc))]
    before = (session.scalar(select(func.count()).select_from(AuditEvent)),
              session.scalar(select(func.count()).select_from(CaseAccess)))
    session.close()
    db.engine.dispose()
    migrate.downgrade(db.url, _below("0022"))
    with db.engine.connect() as conn:
        assert not partitions.is_partitioned(conn, "audit_events")
    migrate.upgrade(db.url)
    db.engine.dispose()
    with db.session() as s:
        assert partitions.is_partitioned(s.connection(), "audit_events")
        # the migration made a partition for every month holding rows: nothing is left in the defaults
        assert {"audit_events_2035_02", "audit_events_2026_09"} <= set(partitions.partitions(s.connection(),
                                                                                             "audit_events"))
        assert s.scalar(text("SELECT count(*) FROM audit_events_default")) == 0
        assert (s.scalar(select(func.count()).select_from(AuditEvent)),
                s.scalar(select(func.count()).select_from(CaseAccess))) == before
        for c in cases:
            assert audit_chain.verify_case(s, s.get(Case, c.id)).ok
        with clock.at(when):  # ids still come from the same sequence
            f.start_case(s, "intake", actor=users["jc"])
            s.commit()


def test_on_sqlite_nothing_is_partitioned_and_the_maintenance_does_nothing(db, session):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite half")
    conn = session.connection()
    assert not partitions.is_partitioned(conn, "audit_events")
    done = partitions.ensure_months(conn, today=date(2026, 12, 2))
    assert done.created == [] and done.skipped == []


def test_partition_names_are_recognised_and_nothing_else():
    assert partitions.is_partition_name("audit_events_2026_12")
    assert partitions.is_partition_name("case_access_log_default")
    assert partitions.is_partition_name("human_tasks_2026_12")
    assert partitions.is_partition_name("human_tasks_live") and partitions.is_partition_name("human_tasks_archive")
    for other in ("audit_events", "human_tasks", "waits_2026_12", "audit_events_2026_1x", "audit_events_12_2026x",
                  None):
        assert not partitions.is_partition_name(other)


def _recipe(number: int, year: str) -> str:
    """The `number`th SQL block of docs/operations.md's month-partition recipe, for March of `year`."""
    doc = (f.ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    recipe = doc.split("**Month partitions (PostgreSQL).**", 1)[1].split("```sql")[number + 1].split("```", 1)[0]
    return recipe.replace("2027-03", f"{year}-03").replace("2027_03", f"{year}_03").replace("2027-04", f"{year}-04")


def test_the_operations_recipe_moves_a_default_month_into_its_own_partition(db, session, users):
    """docs/operations.md's SQL, run as written (with a month no other test uses): the rows move, chains hold."""
    _postgres(db)
    recipe = _recipe(0, "2036")
    when = datetime(2036, 3, 9, 9, tzinfo=timezone.utc)
    case = _start(session, users, when)
    assert _where(session, AuditEvent, case_id=case.id) == {"audit_events_default"}
    session.close()
    with db.engine.connect() as conn:
        conn.exec_driver_sql(recipe)  # BEGIN … COMMIT as the operator types it
    with db.session() as s:
        assert _where(s, AuditEvent, case_id=case.id) == {"audit_events_2036_03"}
        assert audit_chain.verify_case(s, s.get(Case, case.id)).ok
        with pytest.raises(DBAPIError, match="append-only"):  # the trigger is back on
            s.execute(text("DELETE FROM audit_events WHERE case_id = :c"), {"c": case.id})


def _open_tasks(session, case_id) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                        HumanTask.status.in_(("open", "claimed")))))


def test_a_task_is_live_while_its_case_runs_and_goes_to_its_creation_month_after_the_case_closed(db, session,
                                                                                                  users):
    """Migration 0025: the live partition holds a running case's tasks, however long it runs; the archive
    pass moves them to their creation month once the case has been closed for the archive delay."""
    _postgres(db)
    when = datetime(2037, 1, 30, 9, tzinfo=timezone.utc)
    case = _start_in_its_month(session, users, when, ahead=1)
    [first] = _open_tasks(session, case.id)
    assert _where(session, HumanTask, id=first.id) == {"human_tasks_live"}
    with clock.at(when + timedelta(days=3)):  # February
        inbox.claim(session, task_id=first.id, user=users["jc"])
        session.commit()
        runtime.complete_task(session, task_id=first.id, data=REGISTRERING, user=users["jc"], rules=f.RULES)
        session.commit()
    [second] = _open_tasks(session, case.id)
    assert _where(session, HumanTask, id=first.id) == _where(session, HumanTask, id=second.id) == {"human_tasks_live"}
    closed_at = when + timedelta(days=10)
    with clock.at(closed_at):
        runtime.cancel_case(session, case_id=case.id, reason="Flyttet", actor="jc", rules=f.RULES)
        session.commit()
    # not before the delay has passed
    assert task_archive.archive_closed(session.connection(), now=closed_at + timedelta(days=89), after_days=90).tasks == 0
    done = task_archive.archive_closed(session.connection(), now=closed_at + timedelta(days=91), after_days=90)
    session.commit()
    assert done.tasks == 2 and not done.more
    assert _where(session, HumanTask, id=first.id) == {"human_tasks_2037_01"}
    assert _where(session, HumanTask, id=second.id) == {"human_tasks_2037_02"}
    # the engine still reads them: by id (the archive after the live partition), in the case's list
    session.expire_all()
    assert inbox.get_task(session, first.id, users["jc"]).status == "completed"
    listed = inbox.list_tasks(session, users["jc"], case_id=case.id)
    assert {t.id for t in listed} == {first.id, second.id}
    assert inbox.list_tasks(session, users["jc"], case_id=case.id, open_only=True) == []


def _plan(session, statement: str, params) -> str:
    return "\n".join(session.execute(text("EXPLAIN " + statement), params).scalars())


def test_a_completion_reads_and_writes_only_the_live_tasks_however_many_months_the_archive_holds(db, session, users):
    """Every statement on human_tasks that claiming and completing a task sends, planned by PostgreSQL, touches
    the live partition and no month of the archive (docs/scale.md: at 125 months a lookup by id alone cost
    27× the plain table's)."""
    _postgres(db)
    when = datetime(2041, 2, 3, 9, tzinfo=timezone.utc)
    case = _start(session, users, when)
    [task] = _open_tasks(session, case.id)
    session.expunge_all()  # as a request starts: nothing held, every row read from the database
    seen: list[tuple[str, object]] = []

    def listen(_conn, _cursor, statement, params, _context, _many):
        if "human_tasks" in statement and not statement.lstrip().upper().startswith("EXPLAIN"):
            seen.append((statement, params))
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with clock.at(when + timedelta(hours=1)):
            inbox.claim(session, task_id=task.id, user=users["jc"])
            session.commit()
            session.expunge_all()
            runtime.complete_task(session, task_id=task.id, data=REGISTRERING, user=users["jc"], rules=f.RULES)
            session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert any(s.lstrip().upper().startswith("UPDATE") for s, _ in seen)
    raw = session.connection().connection.driver_connection
    for statement, params in seen:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN " + statement, params)
            plan = "\n".join(r[0] for r in cursor.fetchall())
        assert "human_tasks_20" not in plan and "human_tasks_default" not in plan, (statement, plan)
    session.rollback()


def test_the_archive_pass_sets_the_flag_on_sqlite_too_and_the_worker_runs_it_hourly(db, session, users):
    """Both databases answer alike: on SQLite nothing is partitioned, the flag is the same."""
    when = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    with clock.at(when):
        running = f.start_case(session, "intake", actor=users["jc"])
        closed = f.start_case(session, "intake", actor=users["jc"])
        session.commit()
        runtime.cancel_case(session, case_id=closed.id, reason="Flyttet", actor="jc", rules=f.RULES)
        session.commit()
    settings = load_settings(database_url=db.url)
    ctx = WorkerContext(settings=settings, session_factory=db.session, rules=rules_from_settings(settings),
                        policy=RetryPolicy(), stop=threading.Event(), metrics=WorkerMetrics())
    with clock.at(when + timedelta(days=settings.task_archive_after_days + 1)):
        partitions_job(ctx)
    session.expire_all()
    flags = dict(session.execute(select(HumanTask.case_id, HumanTask.archived)).all())
    assert flags == {running.id: False, closed.id: True}
    [archived] = session.scalars(select(HumanTask).where(HumanTask.case_id == closed.id))
    assert task_archive.find_task(session, archived.id) is not None
    assert task_archive.find_task(session, archived.id, live_only=True) is None
    assert task_archive.find_task(session, "x" * 37) is None


def test_a_batch_limit_leaves_the_rest_for_the_next_pass(db, session, users, monkeypatch):
    when = datetime(2026, 10, 6, 9, tzinfo=timezone.utc)
    with clock.at(when):
        for _ in range(3):
            case = f.start_case(session, "intake", actor=users["jc"])
            session.commit()
            runtime.cancel_case(session, case_id=case.id, reason="Flyttet", actor="jc", rules=f.RULES)
            session.commit()
    monkeypatch.setattr(task_archive, "BATCH", 2)
    later = when + timedelta(days=200)
    first = task_archive.archive_closed(session.connection(), now=later, after_days=90, max_batches=1)
    assert (first.tasks, first.more) == (2, True)
    second = task_archive.archive_closed(session.connection(), now=later, after_days=90, max_batches=1)
    assert (second.tasks, second.more) == (1, False)
    session.rollback()


def test_a_deadline_notice_or_letter_must_name_a_task_that_exists_and_keeps_it(db, session, users):
    """Foreign keys on SQLite, migration 0024's triggers on PostgreSQL: the same IntegrityError either way."""
    case = f.start_case(session, "intake", actor=users["jc"])
    session.commit()
    [task] = _open_tasks(session, case.id)
    now = clock.now()
    for dangling in (TaskDeadlineNotice(task_id="no-such-task", case_id=case.id, overdue_at=now),
                     DeadlineLetter(task_id="no-such-task", case_id=case.id, at=now, reason="test")):
        session.add(dangling)
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    session.add(TaskDeadlineNotice(task_id=task.id, case_id=case.id, overdue_at=now))
    session.commit()
    for statement in ("DELETE FROM human_tasks WHERE id = :t",
                      "UPDATE task_deadline_notices SET task_id = 'no-such-task' WHERE task_id = :t"):
        with pytest.raises(IntegrityError):
            session.execute(text(statement), {"t": task.id})
        session.rollback()
    assert session.get(HumanTask, task.id) is not None
    # once nothing names it, a task may go (retention deletes a case's notices and letters first)
    session.execute(text("DELETE FROM task_deadline_notices WHERE task_id = :t"), {"t": task.id})
    session.execute(text("DELETE FROM human_tasks WHERE id = :t"), {"t": task.id})
    session.rollback()


TASK_COLUMNS = ("id, case_id, process_key, process_version, element_id, name, unit, assignee, status, created_at, "
                "due_at, completed_at, completed_by, claimed_at, form_key, deadline_rule, audience")


def _task_rows(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(f"SELECT {TASK_COLUMNS} FROM human_tasks ORDER BY id"))]


def _task_references(conn) -> list[str]:
    """The tables with a foreign key to human_tasks."""
    return sorted(r.split(".")[-1] for r in conn.execute(text(
        "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid = to_regclass('human_tasks')")).scalars())


def test_down_past_0024_and_up_again_keeps_every_task_notice_and_letter(db, session, users):
    _postgres(db)
    old, new = datetime(2026, 8, 4, 9, tzinfo=timezone.utc), datetime(2038, 6, 5, 9, tzinfo=timezone.utc)
    cases = [_start(session, users, when) for when in (old, new)]
    [task] = _open_tasks(session, cases[0].id)
    session.add_all([TaskDeadlineNotice(task_id=task.id, case_id=cases[0].id, overdue_at=old),
                     DeadlineLetter(task_id=task.id, case_id=cases[0].id, at=old, reason="test")])
    session.commit()
    with db.engine.connect() as conn:
        rows = _task_rows(conn)
    assert len(rows) == 2
    session.close()
    db.engine.dispose()
    migrate.downgrade(db.url, _below("0024"))
    with db.engine.connect() as conn:
        assert not partitions.is_partitioned(conn, "human_tasks")
        assert _task_rows(conn) == rows
        assert _task_references(conn) == ["deadline_letters", "task_deadline_notices"]  # the foreign keys again
    db.engine.dispose()
    migrate.upgrade(db.url)
    db.engine.dispose()
    with db.session() as s:
        conn = s.connection()
        assert partitions.is_partitioned(conn, "human_tasks")
        assert {"human_tasks_2026_08", "human_tasks_2038_06"} <= set(partitions.partitions(conn, "human_tasks"))
        assert s.scalar(text("SELECT count(*) FROM human_tasks_default")) == 0
        assert _task_rows(conn) == rows
        assert _task_references(conn) == []  # triggers instead
        assert (s.scalar(select(func.count()).select_from(TaskDeadlineNotice)),
                s.scalar(select(func.count()).select_from(DeadlineLetter))) == (1, 1)
        assert _where(s, HumanTask, id=task.id) == {"human_tasks_live"}  # its case runs
        with clock.at(new):  # and the engine works on
            runtime.complete_task(s, task_id=task.id, data=REGISTRERING, user=users["jc"], rules=f.RULES)
            s.commit()
        [after] = _open_tasks(s, cases[0].id)
        assert _where(s, HumanTask, id=after.id) == {"human_tasks_live"}


def test_the_operations_recipe_moves_a_default_month_of_tasks_with_their_notices(db, session, users):
    """The task table's block of the same recipe, run as written: the rows move, a notice still names its task."""
    _postgres(db)
    when = datetime(2039, 3, 9, 9, tzinfo=timezone.utc)
    case = _start(session, users, when)
    [task] = _open_tasks(session, case.id)
    session.add(TaskDeadlineNotice(task_id=task.id, case_id=case.id, overdue_at=when))
    session.commit()
    with clock.at(when):  # closed, and archived: no month of the archive takes March 2039 yet
        runtime.cancel_case(session, case_id=case.id, reason="Flyttet", actor="jc", rules=f.RULES)
        session.commit()
    assert task_archive.archive_closed(session.connection(), now=when + timedelta(days=91), after_days=90).tasks == 1
    session.commit()
    assert _where(session, HumanTask, id=task.id) == {"human_tasks_default"}
    session.close()
    with db.engine.connect() as conn:
        conn.exec_driver_sql(_recipe(1, "2039"))
    with db.session() as s:
        assert _where(s, HumanTask, id=task.id) == {"human_tasks_2039_03"}
        assert s.get(TaskDeadlineNotice, task.id) is not None
        with pytest.raises(IntegrityError):  # the trigger is back on
            s.execute(text("DELETE FROM human_tasks WHERE id = :t"), {"t": task.id})


def test_a_long_transaction_on_a_table_defers_its_new_month_instead_of_stalling_it(db, users):
    """CREATE TABLE … PARTITION OF waits for an exclusive lock on the parent; queued behind a reader it would
    hold up every later query on the table. It gives up after LOCK_TIMEOUT, and the next pass makes it."""
    _postgres(db)
    with db.engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM human_tasks"))  # a report, say: its transaction stays open
        started = time.monotonic()
        with db.engine.begin() as conn:
            done = partitions.ensure_months(conn, today=date(2040, 1, 10), ahead=0)
            assert conn.execute(text("SELECT current_setting('lock_timeout')")).scalar_one() == "0"
        assert time.monotonic() - started < 20
        assert done.deferred == ["human_tasks_2040_01"]
        assert {"audit_events_2040_01", "case_access_log_2040_01"} <= set(done.created)
        # meanwhile the table answers: the waiting DDL gave up, nothing is queued behind it
        with db.engine.connect() as other:
            assert other.execute(text("SELECT count(*) FROM human_tasks")).scalar_one() >= 0
        reader.rollback()
    with db.engine.begin() as conn:
        again = partitions.ensure_months(conn, today=date(2040, 1, 10), ahead=0)
    assert again.created == ["human_tasks_2040_01"] and again.deferred == []


@pytest.mark.parametrize("value", ["0", "3651", "ninety"])
def test_a_bad_archive_delay_refuses_to_start_naming_the_variable(monkeypatch, value):
    from engine.settings import SettingsError
    monkeypatch.setenv("TOVHOLDER_TASK_ARCHIVE_AFTER_DAYS", value)
    with pytest.raises(SettingsError, match="TOVHOLDER_TASK_ARCHIVE_AFTER_DAYS"):
        load_settings()
