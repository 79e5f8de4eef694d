"""The `tovholder` command against the test's database, in this process or as the installed console script.

Each test drives the command with a clean environment (no TOVHOLDER_* or
DATABASE_URL inherited from the developer's shell) and a working directory of
its own, so no `.env` file is read. Most calls run `tovholder.cli.main` in this
process (tests/cli_runner.py says what it gives a call, and why; `serve` and
`worker` fail the test there if they would start); `real=True` runs the real
console script as a subprocess. Bad input must end in a non-zero exit and exactly one line on
stderr; `deploy` adds detail lines after its first line by design.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from engine import accounts, catalog
from engine.db import make_db_engine
from engine.models import ProcessDefinition, User
from tests import cli_runner, factories
from tests.cli_runner import Result

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SECRET = "cli-test-secret-key-0123456789abcdef0123456789"
DEMO_UNITS = {"jobcenter", "ydelsesservice", "sof", "virksomhedsservice", "rehabiliteringsteam"}
DEMO_PASSWORD = "tovholder-demo"
JOURNEYS = {"demo_forloeb", "kontanthjaelp", "virksomhedsplacering", "sof_vurdering", "sygedagpenge",
            "rehabiliteringsteam", "langvarig_aktivitetsparat",
            "kontrol"}  # issue 14: Ydelsesservice's control cases (processes/kontrol)


def assert_one_line_error(result: Result, *needles: str) -> str:
    """Non-zero exit, exactly one line on stderr, naming the tool and what went wrong."""
    assert result.returncode != 0, result
    assert len(result.err_lines) == 1, result.stderr
    line = result.err_lines[0]
    assert line.startswith("tovholder: "), line
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle.lower() in line.lower(), line
    return line


@pytest.fixture
def cli(db, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_") and k != "DATABASE_URL"}
    base.update(DATABASE_URL=db.url, TOVHOLDER_SECRET_KEY=SECRET,
                TOVHOLDER_FORMS_DIR=str(DATA / "forms"), TOVHOLDER_PROCESSES_DIR=str(ROOT / "processes"),
                TOVHOLDER_DEADLINES_FILE=str(ROOT / "config" / "deadlines.toml"))
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    def run(*args: str, stdin: str | None = None, env: dict | None = None, unset: tuple = (),
            real: bool = False) -> Result:
        environ = {**base, **(env or {})}
        for name in unset:
            environ.pop(name, None)
        return cli_runner.run(args, env=environ, cwd=workdir, stdin=stdin or "", real=real)

    return run


def _add_units(db, units=factories.UNITS) -> None:
    with db.session() as s:
        factories.add_units(s, units)


def _deployed(db) -> list[tuple[str, int]]:
    with db.session() as s:
        return sorted((key, version) for key, version in
                      s.execute(select(ProcessDefinition.key, ProcessDefinition.version)))


def _printed_versions(stdout: str) -> dict[str, int]:
    """`deploy` prints one line per process: key, then `version N`."""
    found = {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[1].startswith("version "):
            found[fields[0]] = int(fields[1].removeprefix("version "))
    return found


# -- db upgrade -------------------------------------------------------------------

def test_db_upgrade_creates_the_schema_and_is_idempotent(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'tovholder.db'}"
    for real in (True, False):  # the console script on a new database, as after a fresh clone; then again
        result = cli("db", "upgrade", env={"DATABASE_URL": url}, real=real)
        assert result.returncode == 0, result.stderr
    engine = make_db_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    assert {"units", "users", "cases", "alembic_version"} <= tables
    assert len(versions) == 1


def test_db_upgrade_on_the_test_database_is_a_no_op(cli, db):
    first = cli("db", "upgrade")
    second = cli("db", "upgrade")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "up to date" in second.stdout
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


# -- units ------------------------------------------------------------------------

def test_units_add_stores_the_unit(cli, db):
    result = cli("units", "add", "jobcenter", "--name", "Jobcenter Nord")
    assert result.returncode == 0, result.stderr
    assert "jobcenter" in result.stdout
    with db.session() as s:
        assert [(u.key, u.name) for u in accounts.list_units(s)] == [("jobcenter", "Jobcenter Nord")]
    listed = cli("units", "list")
    assert listed.returncode == 0 and "jobcenter\tJobcenter Nord" in listed.stdout


def test_units_add_twice_is_refused(cli, db):
    assert cli("units", "add", "sof", "--name", "SOF").returncode == 0
    assert_one_line_error(cli("units", "add", "sof", "--name", "Andet navn"), "already exists")
    with db.session() as s:
        assert [(u.key, u.name) for u in accounts.list_units(s)] == [("sof", "SOF")]


@pytest.mark.parametrize("args", [
    ("units", "add", "Jobcenter", "--name", "Stort bogstav"),
    ("units", "add", "job center", "--name", "Mellemrum"),
    ("units", "add", "jobcenter", "--name", "   "),
    ("units", "add", "jobcenter"),  # --name is required
])
def test_units_add_bad_input(cli, db, args):
    assert_one_line_error(cli(*args))
    with db.session() as s:
        assert accounts.list_units(s) == []


# -- users ------------------------------------------------------------------------

def test_users_add_with_password_on_stdin(cli, db):
    _add_units(db)
    password = "en-lang-adgangskode"
    result = cli("users", "add", "anna", "--role", "caseworker", "--unit", "jobcenter", "--unit", "sof",
                 "--password-stdin", stdin=password + "\n", real=True)  # real stdin, hashed at the real cost
    assert result.returncode == 0, result.stderr
    assert "anna" in result.stdout and password not in result.stdout + result.stderr
    with db.session() as s:
        user = accounts.authenticate(s, "anna", password)
        assert user is not None
        assert (user.role, user.units) == ("caseworker", frozenset({"jobcenter", "sof"}))
        assert accounts.authenticate(s, "anna", password + "x") is None


def test_users_add_without_stdin_prints_a_generated_password(cli, db):
    result = cli("users", "add", "revisor", "--role", "auditor")
    assert result.returncode == 0, result.stderr
    printed = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if line.startswith("password:")]
    assert len(printed) == 1
    with db.session() as s:
        assert accounts.authenticate(s, "revisor", printed[0]).role == "auditor"


@pytest.mark.parametrize("args, needle", [
    (("users", "add", "bo", "--role", "caseworker", "--password-stdin"), "unit"),
    (("users", "add", "bo", "--role", "teamlead", "--password-stdin"), "unit"),
    (("users", "add", "bo", "--role", "wizard", "--unit", "jobcenter", "--password-stdin"), "role"),
    (("users", "add", "bo", "--role", "caseworker", "--unit", "nowhere", "--password-stdin"), "nowhere"),
    (("users", "add", "bo", "--unit", "jobcenter", "--password-stdin"), "role"),
    (("users", "add", "bo med mellemrum", "--role", "admin", "--password-stdin"), "username"),
])
def test_users_add_bad_input(cli, db, args, needle):
    _add_units(db, {"jobcenter": "Jobcenter"})
    assert_one_line_error(cli(*args, stdin="en-lang-adgangskode\n"), needle)
    with db.session() as s:
        assert s.scalars(select(User)).all() == []


def test_users_add_short_password_or_duplicate_is_refused(cli, db):
    assert_one_line_error(cli("users", "add", "kim", "--role", "admin", "--password-stdin", stdin="kort\n"),
                          "password")
    assert cli("users", "add", "kim", "--role", "admin", "--password-stdin", stdin="en-lang-adgangskode\n"
               ).returncode == 0
    assert_one_line_error(cli("users", "add", "kim", "--role", "auditor", "--password-stdin",
                              stdin="en-anden-adgangskode\n"), "already exists")
    with db.session() as s:
        assert accounts.authenticate(s, "kim", "en-lang-adgangskode").role == "admin"


# -- deploy -----------------------------------------------------------------------

BROKEN_LANE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="broken" name="Broken" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_x" name="no_such_unit"><bpmn:flowNodeRef>s</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
    <bpmn:endEvent id="e"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def with_units(db):
    _add_units(db)


def test_deploy_a_file_prints_key_and_version(cli, db, with_units):
    result = cli("deploy", str(DATA / "intake.bpmn"), real=True)
    assert result.returncode == 0, result.stderr
    assert _printed_versions(result.stdout) == {"intake": 1}
    again = cli("deploy", str(DATA / "intake.bpmn"))
    assert again.returncode == 0, again.stderr
    assert _printed_versions(again.stdout) == {"intake": 1}
    assert "unchanged" in again.stdout
    assert _deployed(db) == [("intake", 1)]


def test_deploy_a_folder_recursively(cli, db, with_units, tmp_path):
    folder = tmp_path / "journeys"
    (folder / "placement").mkdir(parents=True)
    shutil.copy(DATA / "intake.bpmn", folder / "intake.bpmn")
    shutil.copy(DATA / "parallel.bpmn", folder / "parallel.bpmn")
    shutil.copy(DATA / "placement.bpmn", folder / "placement" / "placement.bpmn")
    (folder / "README.txt").write_text("not a diagram; skipped")
    result = cli("deploy", str(folder))
    assert result.returncode == 0, result.stderr
    assert _printed_versions(result.stdout) == {"intake": 1, "parallel": 1, "placement": 1}
    assert _deployed(db) == [("intake", 1), ("parallel", 1), ("placement", 1)]
    again = cli("deploy", str(folder))
    assert _printed_versions(again.stdout) == {"intake": 1, "parallel": 1, "placement": 1}
    assert _deployed(db) == [("intake", 1), ("parallel", 1), ("placement", 1)]


@pytest.mark.parametrize("content, needle", [
    (BROKEN_LANE, "no_such_unit"),
    ("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>", "well-formed"),
    (BROKEN_LANE.replace('id="s"', 'id="Start"').replace('"s"', '"Start"').replace(">s<", ">Start<"), "reserved"),
    (BROKEN_LANE.replace("no_such_unit", "jobcenter").replace(
        '<bpmn:endEvent id="e">', '<bpmn:endEvent id="e"><bpmn:timerEventDefinition><bpmn:timeCycle>"PT1H"'
        '</bpmn:timeCycle></bpmn:timerEventDefinition>'), "no repetitions"),
    (BROKEN_LANE.replace("no_such_unit", "jobcenter").replace(
        "?>\n", '?>\n<!DOCTYPE bpmn:definitions [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>\n'), "DOCTYPE"),
])
def test_deploy_a_broken_diagram_stores_nothing(cli, db, with_units, tmp_path, content, needle):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(DATA / "intake.bpmn", folder / "intake.bpmn")
    (folder / "broken.bpmn").write_text(content, encoding="utf-8")
    result = cli("deploy", str(folder))
    assert result.returncode != 0
    lines = result.err_lines
    assert lines and lines[0].startswith("tovholder: ") and "refused" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert any("broken.bpmn" in line and needle in line for line in lines[1:]), result.stderr
    assert result.stdout == ""
    assert _deployed(db) == []  # the good file in the same deployment is not stored either


@pytest.mark.parametrize("make_path", [
    lambda tmp: tmp / "missing.bpmn",
    lambda tmp: tmp,  # an empty folder: nothing to deploy
])
def test_deploy_nothing_to_deploy(cli, db, tmp_path, make_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("deploy", str(make_path(empty)))
    assert result.returncode != 0
    assert result.err_lines and result.err_lines[0].startswith("tovholder: "), result.stderr
    assert "Traceback" not in result.stderr
    assert _deployed(db) == []


# -- worker -----------------------------------------------------------------------

def test_worker_once_runs_and_exits(cli, db, with_units):
    with db.session() as s:
        factories.deploy_data(s, "intake.bpmn")
        factories.start_case(s, "intake")
    result = cli("worker", "--once", real=True)
    assert result.returncode == 0, result.stderr
    assert factories.CPR not in result.stderr + result.stdout


# -- demo -------------------------------------------------------------------------

def test_demo_sets_up_units_users_and_processes_idempotently(cli, db):
    env = {"TOVHOLDER_FORMS_DIR": str(ROOT / "forms")}
    first = cli("demo", env=env, unset=("TOVHOLDER_SECRET_KEY",))
    assert first.returncode == 0, first.stderr
    deployed_first = _deployed(db)
    second = cli("demo", env=env, unset=("TOVHOLDER_SECRET_KEY",))
    assert second.returncode == 0, second.stderr
    assert _deployed(db) == deployed_first  # the same versions, nothing new

    with db.session() as s:
        assert {u.key for u in accounts.list_units(s)} == DEMO_UNITS
        assert len(s.scalars(select(User)).all()) == 14  # one run's worth, not two
        for unit in DEMO_UNITS:
            caseworker = accounts.authenticate(s, f"{unit}-sagsbehandler", DEMO_PASSWORD)
            assert caseworker is not None and caseworker.units == frozenset({unit})
            assert accounts.authenticate(s, f"{unit}-teamleder", DEMO_PASSWORD).role == "teamlead"
        assert accounts.authenticate(s, "admin", DEMO_PASSWORD).role == "admin"
        assert {d["key"] for d in catalog.list_definitions(s)} == JOURNEYS
    assert all(version == 1 for _key, version in deployed_first)
    for output in (first.stdout, second.stdout):
        assert DEMO_PASSWORD in output
        for username in ("admin", "procesejer", "jobcenter-sagsbehandler", "sof-teamleder"):
            assert username in output
    assert "deployed demo_forloeb version 1" in first.stdout
    assert "deployed demo_forloeb version 1 (unchanged)" in second.stdout


# -- refusing to start ------------------------------------------------------------

@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("worker",), ("worker", "--once")])
def test_serve_and_worker_refuse_to_start_without_a_secret_key(cli, command):
    # Without the refusal the real `worker` would run until the timeout; in the test process
    # `serve` and `worker` fail the test where they would start.
    result = cli(*command, unset=("TOVHOLDER_SECRET_KEY", "TOVHOLDER_DEMO"), real=command == ("worker",))
    assert_one_line_error(result, "TOVHOLDER_SECRET_KEY")


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("worker", "--once")])
def test_serve_and_worker_refuse_a_short_secret_key(cli, command):
    line = assert_one_line_error(cli(*command, env={"TOVHOLDER_SECRET_KEY": "hemmelig"}),
                                 "TOVHOLDER_SECRET_KEY", "short")
    assert "hemmelig" not in line


@pytest.mark.parametrize("workers, expected", [
    ("2", ("--workers above 1 needs PostgreSQL",)), ("0", ("--workers must be 1 or more",)),
])
def test_serve_refuses_several_processes_on_sqlite_and_fewer_than_one(cli, workers, expected):
    # The test database here may be PostgreSQL; the refusal is about SQLite, so the URL is one.
    result = cli("serve", "--port", "0", "--workers", workers, env={"DATABASE_URL": "sqlite:///var/x.db"})
    assert_one_line_error(result, *expected)


MYSQL_URL = "mysql://tovholder:hemmeligt@localhost/tovholder"


@pytest.mark.parametrize("command, url", [
    *[(command, MYSQL_URL) for command in (("db", "upgrade"), ("units", "list"), ("serve", "--port", "0"),
                                           ("worker",), ("demo",))],
    *[(("units", "add", "sof", "--name", "SOF"), url) for url in (
        "sqlite", "not a url", "postgresql+asyncpg://tovholder:hemmeligt@localhost/tovholder")],
])
def test_an_invalid_database_url_is_refused(cli, command, url):
    line = assert_one_line_error(cli(*command, env={"DATABASE_URL": url}), "DATABASE_URL")
    assert "hemmeligt" not in line  # never echo a password


def test_an_unreachable_database_is_one_line(cli):
    result = cli("units", "list", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/tovholder"}, real=True)
    assert_one_line_error(result, "database")


def test_invalid_settings_are_one_line(cli):
    assert_one_line_error(cli("units", "list", env={"TOVHOLDER_TOKEN_MINUTES": "many"}),
                          "TOVHOLDER_TOKEN_MINUTES")


@pytest.mark.parametrize("args", [(), ("bogus",), ("units",), ("db",), ("users", "add"),
                                  ("serve", "--port", "not-a-port"), ("deploy",)])
def test_bad_usage_is_one_line(cli, args):
    result = cli(*args)
    assert result.returncode == 2
    assert_one_line_error(result, "tovholder --help")


def test_help_works(cli):
    result = cli("--help", real=True)
    assert result.returncode == 0
    for command in ("db", "units", "users", "deploy", "serve", "worker", "demo"):
        assert command in result.stdout


# -- e-mail addresses (reminders and escalations) -----------------------------------

def test_users_add_with_an_email_address(cli, db):
    _add_units(db, {"jobcenter": "Jobcenter"})
    result = cli("users", "add", "lis", "--role", "teamlead", "--unit", "jobcenter",
                 "--email", "lis@kommune.example", "--password-stdin", stdin="en-lang-adgangskode\n")
    assert result.returncode == 0, result.stderr
    with db.session() as s:
        assert s.scalar(select(User).where(User.username == "lis")).email == "lis@kommune.example"


def test_users_add_refuses_a_bad_email_address_and_stores_nothing(cli, db):
    assert_one_line_error(cli("users", "add", "lis", "--role", "admin", "--email", "ikke en adresse",
                              "--password-stdin", stdin="en-lang-adgangskode\n"), "e-mail")
    with db.session() as s:
        assert s.scalars(select(User)).all() == []


def test_demo_users_of_units_get_example_addresses(cli, db):
    assert cli("demo", env={"TOVHOLDER_FORMS_DIR": str(ROOT / "forms")}, unset=("TOVHOLDER_SECRET_KEY",)
               ).returncode == 0
    with db.session() as s:
        lead = s.scalar(select(User).where(User.username == "jobcenter-teamleder"))
        assert lead.email == "jobcenter-teamleder@demo.tovholder.dk"
        assert s.scalar(select(User).where(User.username == "admin")).email is None


def test_deploy_processes_folder_deploys_both_journeys(cli, db):
    for unit in sorted(DEMO_UNITS):
        assert cli("units", "add", unit, "--name", unit.capitalize()).returncode == 0
    result = cli("deploy", str(ROOT / "processes"), env={"TOVHOLDER_FORMS_DIR": str(ROOT / "forms")})
    assert result.returncode == 0, result.stderr
    assert {line.split("\t")[0] for line in result.stdout.splitlines()} == JOURNEYS
    assert {key for key, _version in _deployed(db)} == JOURNEYS
