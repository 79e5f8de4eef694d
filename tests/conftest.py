"""Test fixtures: a migrated database per test, on SQLite or PostgreSQL.

The suite runs against SQLite by default and against PostgreSQL when
TEST_DATABASE_URL is set (`make test` does both). Each test gets a clean,
migrated database: SQLite copies a migrated template file; PostgreSQL uses a
schema of its own (`tovholder_test_<pid>`, dropped afterwards) and empties it between tests. Tests
commit for real, as the edges do, because API and concurrency tests talk to
the database over separate connections.

Most tests start from the standard units and users, often with test journeys
deployed: the `seed` fixture builds that through the engine once per process
and copies the rows it wrote into each later test's empty database.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine import migrate
from engine.bpmn import patches as bpmn_patches
from engine.db import make_db_engine, make_session_factory
from engine.models import Base
from engine.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
# One schema per test run, so parallel runs on one server never see each other.
PG_SCHEMA = f"tovholder_test_{os.getpid()}"
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"


def audit_key_for_tests() -> bytes:
    """The audit chain's key the `settings` fixture gives (sessions, the live server, migrations agree)."""
    return Settings(secret_key=TEST_SECRET, audit_secret=None).audit_key()


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{PG_SCHEMA}"


def pytest_configure(config):
    bpmn_patches.apply()  # what every edge does before the engine runs
    config.addinivalue_line("markers", "database_free: touches no database, so the PostgreSQL half "
                                       "(TEST_DATABASE_URL set) leaves it out; the SQLite half runs it")


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the browser tests share one worker (and so one Chromium, a session fixture).
    On PostgreSQL, tests marked database_free are deselected: the SQLite half has run them, and running
    them again would test nothing new (the 1,000-level loop test alone is seconds of CPU)."""
    for item in items:
        if item.nodeid.startswith("tests/browser/"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    if _postgres_url():
        free = [item for item in items if item.get_closest_marker("database_free")]
        if free:
            config.hook.pytest_deselected(items=free)
            items[:] = [item for item in items if not item.get_closest_marker("database_free")]


def pytest_report_header(config):
    return f"database: {'PostgreSQL (' + PG_SCHEMA + ')' if _postgres_url() else 'SQLite'}"


@dataclass
class Db:
    url: str
    engine: Engine
    session_factory: sessionmaker[Session]
    seeded: tuple[str, ...] | None = field(default=None)  # what `seed` put here: rules and diagrams

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> Session:
        return self.session_factory()


@pytest.fixture(scope="session")
def _db_template(tmp_path_factory):
    pg = _postgres_url()
    if pg:
        base = pg.split("?")[0]
        admin = make_db_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        admin.dispose()
        migrate.upgrade(pg)
        engine = make_db_engine(pg)
        yield ("postgres", pg, engine)
        engine.dispose()
        admin = make_db_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        admin.dispose()
        return
    template = tmp_path_factory.mktemp("db") / "template.db"
    migrate.upgrade(f"sqlite:///{template}")
    yield ("sqlite", str(template), None)


_PG_SUPERUSER: dict[Engine, bool] = {}


def _empty_postgres(engine: Engine) -> None:
    """Empty every table between tests: one round trip of DELETEs, with triggers off.

    TRUNCATE of 17 tables cost about 0.7 s a test on the shared 2 cores (it
    rewrites each table's files); DELETE of the few rows a test leaves costs
    a twentieth of that. `session_replication_role = replica` switches off the
    foreign-key checks and the audit trail's refuse-DELETE trigger for this
    transaction only (the test role is a superuser, as the trust-auth server
    here gives). Without that right, TRUNCATE as before.
    """
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if _PG_SUPERUSER.get(engine) is None:
            _PG_SUPERUSER[engine] = bool(
                conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())
        if _PG_SUPERUSER[engine]:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica; "
                                 + " ".join(f"DELETE FROM {name};" for name in tables))
        else:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(_db_template, tmp_path) -> Db:
    kind, where, shared_engine = _db_template
    if kind == "postgres":
        _empty_postgres(shared_engine)
        yield Db(where, shared_engine, make_session_factory(shared_engine, audit_key=audit_key_for_tests()))
        return
    path = tmp_path / "tovholder.db"
    shutil.copyfile(where, path)
    url = f"sqlite:///{path}"
    engine = make_db_engine(url)
    yield Db(url, engine, make_session_factory(engine, audit_key=audit_key_for_tests()))
    engine.dispose()


# -- seeds: the state most tests start from, built once per process ------------------------------

@dataclass
class _Snapshot:
    where: str  # a SQLite file made with VACUUM INTO, or a PostgreSQL schema holding copies of the tables
    users: dict


@pytest.fixture(scope="session")
def _seed_snapshots(tmp_path_factory, _db_template):
    snapshots: dict[tuple[str, ...], _Snapshot] = {}
    folder = tmp_path_factory.mktemp("seeds")
    yield folder, snapshots
    kind, _where, engine = _db_template
    if kind == "postgres":
        with engine.begin() as conn:
            for snapshot in snapshots.values():
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {snapshot.where} CASCADE")


def _is_empty(db: Db) -> bool:
    probe = " UNION ALL ".join(f"SELECT 1 FROM {t.name}" for t in Base.metadata.sorted_tables)
    with db.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT 1 FROM ({probe}) AS anything LIMIT 1").first() is None


def _take_snapshot(db: Db, folder: Path, number: int) -> str:
    tables = [t.name for t in Base.metadata.sorted_tables]
    if not db.is_postgres:
        path = folder / f"seed{number}.db"
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"VACUUM INTO '{path}'")
        return str(path)
    schema = f"{PG_SCHEMA}_seed{number}"
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; "
                             + " ".join(f"CREATE TABLE {schema}.{t} AS SELECT * FROM {t};" for t in tables))
    return schema


def _copy_snapshot(db: Db, where: str) -> None:
    """The snapshot's rows into this test's empty database: exactly what the engine wrote, ids included."""
    columns = {t.name: ", ".join(c.name for c in t.columns) for t in Base.metadata.sorted_tables}
    if not db.is_postgres:
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"ATTACH DATABASE '{where}' AS seed")  # outside a transaction, as SQLite wants
            conn.commit()
            try:
                for table, cols in columns.items():
                    conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM seed.{table}")
                conn.commit()
            finally:
                conn.rollback()
                conn.exec_driver_sql("DETACH DATABASE seed")
                conn.commit()
        return
    counters = [(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.primary_key.columns
                if c.autoincrement is True]
    with db.engine.begin() as conn:  # one round trip
        # no triggers: the rows are already what the audit trail's triggers let through; then the id
        # counters past the copied ids, even after a TRUNCATE ... RESTART IDENTITY
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica; " + " ".join(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {where}.{table};" for table, cols in columns.items())
            + " ".join(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), max({column})) "
                       f"FROM {table} HAVING max({column}) IS NOT NULL;" for table, column in counters))


@pytest.fixture
def seed(db, _seed_snapshots):
    """seed(*diagrams, rules=f.RULES) → the standard units and users (tests/factories.py), with these
    diagrams deployed in one deployment (names under tests/data, or paths); returns the users by name.

    The first test in a process that asks for a combination builds it through the engine
    (f.standard_users, f.deploy_files) and keeps a snapshot; later tests get the snapshot's rows
    copied into their empty database. Asking again in one test returns what is there, deploying
    through the engine what the first seed lacked (`staff` and then `users` in tests/api).
    """
    from tests import factories as f
    folder, snapshots = _seed_snapshots
    current: dict = {}

    def run(*diagrams: str | Path, rules=None) -> dict:
        rules = rules or f.RULES
        paths = [d if isinstance(d, Path) else f.DATA / d for d in diagrams]
        key = (str(rules.forms_dir), str(rules.deadlines_file), *map(str, paths))
        if db.seeded is not None:
            if db.seeded[:len(key)] != key:
                if key[:len(db.seeded)] != db.seeded:
                    raise AssertionError(f"seeded with {db.seeded} already; cannot seed {key} as well")
                with db.session() as s:
                    f.deploy_files(s, *paths[len(db.seeded) - 2:], rules=rules)
                db.seeded = key
            return dict(current)
        snapshot = snapshots.get(key)
        empty = _is_empty(db)
        if snapshot is not None and empty:
            _copy_snapshot(db, snapshot.where)
            users = snapshot.users
        else:
            with db.session() as s:
                users = f.standard_users(s)
                if paths:
                    f.deploy_files(s, *paths, rules=rules)
            if empty:
                snapshots[key] = _Snapshot(_take_snapshot(db, folder, len(snapshots)), users)
        db.seeded = key
        current.update(users)
        return dict(users)

    return run


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    """Argon2 at its production cost makes every user and login take a tenth of a second; the suite
    creates users and logs in thousands of times and tests no hashing, so it hashes cheaply
    (verification reads the cost from each hash, so the server checks these just as it would real ones).
    Subprocesses the tests start (CLI, worker) hash at the real cost."""
    from argon2 import PasswordHasher

    from engine import accounts
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def settings(db) -> Settings:
    return Settings(database_url=db.url, secret_key=TEST_SECRET, forms_dir=DATA / "forms",
                    processes_dir=ROOT / "processes", demo_mode=False)


@pytest.fixture
def session(db):
    with db.session() as s:
        yield s


# -- a real HTTP server, started once, pointed at each test's database ---------

class _Server(uvicorn.Server):
    def install_signal_handlers(self):  # running in a thread
        pass


@pytest.fixture(scope="session")
def _live_app(tmp_path_factory, _db_template):
    from api.main import create_app
    placeholder = tmp_path_factory.mktemp("srv") / "placeholder.db"
    app = create_app(Settings(database_url=f"sqlite:///{placeholder}", secret_key=TEST_SECRET,
                              forms_dir=ROOT / "forms"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live(_live_app, db, settings):
    """Base URL of the running server, now serving this test's database and settings."""
    app, base_url = _live_app
    previous = app.state.db_engine
    app.state.settings = settings
    app.state.db_engine = db.engine
    app.state.session_factory = db.session_factory
    yield base_url
    app.state.db_engine = previous
