"""Database engine and session factory.

`make_db_engine` is the only place a SQLAlchemy engine is created. SQLite gets
WAL mode, foreign keys and a busy timeout so that several threads (API and
worker) can share one file; PostgreSQL uses psycopg 3. Sessions never commit
on their own: the edge (route, CLI command, worker item) owns the transaction.
JSON columns are written strictly and read tolerantly (engine.strict_json):
nothing that a reader cannot take is written, and what was written before
that rule reads back. Each session carries the audit chain's key in its
`info` (from the factory), so the engine seals audit events without reading
settings itself. Each session keeps the report rollup (engine/report_rollup.py)
in step with the task and case rows in every flush.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from . import report_rollup, strict_json


def make_db_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_serializer", strict_json.dumps)
    kwargs.setdefault("json_deserializer", strict_json.loads)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        db_engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(db_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:  # a DB-API connection
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return db_engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


AUDIT_KEY = "audit_key"  # Session.info: bytes, or a callable giving them (Settings.audit_key, read when first needed)


def make_session_factory(db_engine: Engine, *, audit_key: bytes | Callable[[], bytes] | None = None
                         ) -> sessionmaker[Session]:
    """`audit_key`: what engine.audit_chain keys the audit trail with; without it no event can be written."""
    factory = sessionmaker(db_engine, expire_on_commit=False, autoflush=True, info={AUDIT_KEY: audit_key})
    report_rollup.install(factory)  # the reports' rollup moves in the same flush as the rows it counts
    return factory


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def ping(db_engine: Engine) -> bool:
    try:
        with db_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health check reports, never raises
        return False
