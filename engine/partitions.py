"""Monthly partitions of the history and task tables on PostgreSQL, created ahead of time (migrations 0022, 0024).

`audit_events` and `case_access_log` are partitioned by month of `at` (UTC),
`human_tasks`' archive by month of `created_at` (UTC; set once when the task
is made; migration 0025 keeps the live tasks in a partition of their own,
engine.task_archive, and the months are partitions of `human_tasks_archive`),
each with a DEFAULT partition that catches any row no month partition takes.
`ensure_months` creates the partitions of this month and the next `ahead`
months that are missing; the worker calls it once an hour (workers.jobs), so
the DEFAULT partition stays empty in a running installation. Creating a
month's partition while DEFAULT already holds rows of that month is refused
by PostgreSQL; those rows stay where they are (they are still read, written
and verified like any other), the month is reported in `Ensured.skipped`, and
an operator can move them with docs/operations.md's recipe.

On SQLite, and on a PostgreSQL schema that is not partitioned, nothing happens.

Creating a partition locks its parent table exclusively; `ensure_months` waits
at most `LOCK_TIMEOUT` for that lock, so a long transaction on the table
(a report, a connection idle in a transaction) defers the month to the next
pass (`Ensured.deferred`) instead of stalling every query queued behind the
waiting DDL.

Transaction rule: the caller's connection, one transaction (a savepoint per
partition); a transaction-level advisory lock keeps two workers from creating
the same partition at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

# table: the column it is partitioned by
TABLES: dict[str, str] = {"audit_events": "at", "case_access_log": "at", "human_tasks": "created_at"}
# where a table's month partitions hang, when not under the table itself (migration 0025)
MONTH_PARENT: dict[str, str] = {"human_tasks": "human_tasks_archive"}
# partitions that are not months: the task table's two LIST partitions (0025)
OTHER_PARTITIONS = frozenset({"human_tasks_live", "human_tasks_archive"})
ADVISORY_LOCK = 0x70617274  # "part": one key for every partition maintenance
LOCK_TIMEOUT = "2s"  # the longest a partition's DDL waits for its table (see _create_waiting_briefly)
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout that ran out


@dataclass
class Ensured:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # DEFAULT already holds rows of that month
    deferred: list[str] = field(default_factory=list)  # its table's lock not had within LOCK_TIMEOUT: next pass


def month_starts(today: date, ahead: int) -> list[date]:
    """The first days of this month and the next `ahead` months."""
    out, year, month = [], today.year, today.month
    for _ in range(ahead + 1):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def partition_name(table: str, first: date) -> str:
    return f"{table}_{first:%Y_%m}"


def is_partitioned(conn: Connection, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :t AND c.relnamespace = to_regnamespace(current_schema())::oid"), {"t": table}).first())


def month_parent(table: str) -> str:
    return MONTH_PARENT.get(table, table)


def partitions(conn: Connection, table: str) -> list[str]:
    """The names of the table's month (and DEFAULT) partitions in the current schema, sorted."""
    table = month_parent(table)
    return sorted(r[0] for r in conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = :t AND p.relnamespace = to_regnamespace(current_schema())::oid"), {"t": table}))


def ensure_months(conn: Connection, *, today: date, ahead: int = 3) -> Ensured:
    """Create the missing month partitions from this month to `ahead` months on, for every partitioned table."""
    done = Ensured()
    tables = [t for t in TABLES if is_partitioned(conn, t)]
    if not tables:
        return done
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
    for table in tables:
        have = set(partitions(conn, table))
        for first in month_starts(today, ahead):
            name = partition_name(table, first)
            if name in have:
                continue
            lower, upper = bounds(first)
            key = TABLES[table]
            if conn.execute(text(f"SELECT 1 FROM {table}_default WHERE {key} >= :lo AND {key} < :hi LIMIT 1"),
                            {"lo": lower, "hi": upper}).first():
                done.skipped.append(name)
                continue
            if _create_waiting_briefly(conn, create_month_sql(table, first)):
                done.created.append(name)
            else:
                done.deferred.append(name)
    return done


def _create_waiting_briefly(conn: Connection, ddl: str) -> bool:
    """Run the DDL in a savepoint, waiting at most LOCK_TIMEOUT for its lock; False when that ran out.

    CREATE TABLE … PARTITION OF takes an ACCESS EXCLUSIVE lock on the parent table. Waiting for it behind
    a long transaction (a report, a connection left idle in a transaction) would queue every later read
    and write of the table behind the waiting DDL: the inbox and every mutation would stall. Giving up
    after a moment costs nothing: the month is made three months ahead and the worker tries every hour.
    """
    previous = conn.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    try:
        with conn.begin_nested():
            conn.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": LOCK_TIMEOUT})
            conn.execute(text(ddl))
        return True
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        return False
    finally:
        conn.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": previous})


def create_month_sql(table: str, first: date) -> str:
    """The DDL of one month's partition (names come from TABLES and a date, never from input)."""
    lower, upper = bounds(first)
    return (f"CREATE TABLE {partition_name(table, first)} PARTITION OF {month_parent(table)} "
            f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')")


def bounds(first: date) -> tuple[datetime, datetime]:
    """The month starting at `first` as [lower, upper) in UTC."""
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return (datetime(first.year, first.month, 1, tzinfo=timezone.utc),
            datetime(nxt.year, nxt.month, 1, tzinfo=timezone.utc))


def is_partition_name(name: str | None) -> bool:
    """A month or DEFAULT partition of a partitioned table: not in the models (schema comparisons skip it)."""
    if not name:
        return False
    if name in OTHER_PARTITIONS:
        return True
    for table in TABLES:
        rest = name.removeprefix(f"{table}_")
        if rest != name and (rest == "default" or (len(rest) == 7 and rest[4] == "_"
                                                   and rest[:4].isdigit() and rest[5:].isdigit())):
            return True
    return False
