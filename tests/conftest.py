"""Test fixtures: a migrated database per test, on SQLite or PostgreSQL.

The suite runs against SQLite by default and against PostgreSQL when
TEST_DATABASE_URL is set (`make test` does both). Each test gets a clean,
migrated database: SQLite copies a migrated template file; PostgreSQL uses a
schema of its own (`tovholder_test_<pid>`, dropped afterwards) and truncates it between tests. Tests
commit for real, as the edges do, because API and concurrency tests talk to
the database over separate connections.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
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


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the browser tests share one worker (and so one Chromium, a session fixture)."""
    for item in items:
        if item.nodeid.startswith("tests/browser/"):
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_report_header(config):
    return f"database: {'PostgreSQL (' + PG_SCHEMA + ')' if _postgres_url() else 'SQLite'}"


@dataclass
class Db:
    url: str
    engine: Engine
    session_factory: sessionmaker[Session]

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
        superuser = conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
        if superuser:
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
