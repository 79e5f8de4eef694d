"""docker-compose.yml and the Dockerfile, checked without Docker.

The commands the containers run are parsed with the real CLI parser, the
environment they set must be what `Settings` reads, and the database URL must
point at the compose database service.
"""
from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from engine.settings import Settings
from tovholder.cli import build_parser

pytestmark = pytest.mark.database_free  # runs in the SQLite half only (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
TOVHOLDER_SERVICES = ("app", "worker")
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class Unset(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and ${VAR?error}."""
    def one(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in env and (env[name] != "" or op in ("-", "?"))
        if present:
            return env[name]
        if op in (":?", "?"):
            raise Unset(f"{name}: {arg}")
        if op in (":-", "-"):
            return arg
        return ""
    return _VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def tovholder_commands(command) -> list[list[str]]:
    """The `tovholder ...` invocations of a compose command (exec form or `sh -c "a && b"`)."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[:1] in (["sh"], ["/bin/sh"], ["bash"]) and "-c" in argv:
        script = argv[argv.index("-c") + 1]
        steps = [shlex.split(step) for step in re.split(r"&&|;", script) if step.strip()]
    else:
        steps = [argv]
    for step in steps:
        if step[:1] == ["exec"]:
            step.pop(0)
    return steps


def parse_tovholder(argv: list[str]):
    assert argv and Path(argv[0]).name == "tovholder", argv
    return build_parser().parse_args(argv[1:])  # raises (CliError) on anything the CLI would refuse


def settings_aliases() -> set[str]:
    return {field.validation_alias for field in Settings.model_fields.values() if isinstance(field.validation_alias, str)}


def test_the_three_services_exist(services):
    assert {"db", "app", "worker"} <= set(services)


def test_db_is_postgres_15_with_a_healthcheck_and_a_named_volume(compose, services):
    db = services["db"]
    assert re.fullmatch(r"postgres:15([.-][\w.-]*)?(@sha256:[0-9a-f]+)?", db["image"]), db["image"]
    env = environment(db)
    assert {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"} <= set(env)
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    named = {str(v).split(":", 1)[0] for v in db.get("volumes", []) if isinstance(v, str)}
    named |= {v["source"] for v in db.get("volumes", []) if isinstance(v, dict) and v.get("type") == "volume"}
    assert named & set(compose.get("volumes") or {}), "the database keeps its data in a named volume"


def test_app_migrates_then_serves_on_port_8000(services):
    app = services["app"]
    steps = [parse_tovholder(step) for step in tovholder_commands(app["command"])]
    assert [(s.command, getattr(s, "db_command", None)) for s in steps] == [("db", "upgrade"), ("serve", None)]
    serve = steps[-1]
    assert (serve.host, serve.port) == ("0.0.0.0", 8000)
    assert serve.workers == 2  # one API process per core of a two-core host; PostgreSQL makes it safe
    published = [str(p) for p in app.get("ports", [])]
    assert any(p.split(":")[-1] == "8000" for p in published), published


def test_worker_runs_the_worker(services):
    steps = [parse_tovholder(step) for step in tovholder_commands(services["worker"]["command"])]
    assert [s.command for s in steps] == ["worker"]
    assert steps[0].once is False  # a loop, not one pass


def test_the_command_check_rejects_what_the_cli_rejects():
    from tovholder.cli import CliError
    for bad in (["tovholder", "serve", "--prot", "8000"], ["tovholder", "wroker"], ["tovholder", "db"]):
        with pytest.raises(CliError):
            parse_tovholder(bad)
    assert tovholder_commands(["sh", "-c", "tovholder db upgrade && exec tovholder worker"]) == [
        ["tovholder", "db", "upgrade"], ["tovholder", "worker"]]


@pytest.mark.parametrize("name", TOVHOLDER_SERVICES)
def test_app_and_worker_set_only_settings_the_service_reads(services, name):
    env = environment(services[name])
    unknown = set(env) - settings_aliases()
    assert not unknown, f"{name} sets {sorted(unknown)}, which Settings does not read"
    assert {"DATABASE_URL", "TOVHOLDER_SECRET_KEY"} <= set(env)


@pytest.mark.parametrize("name", TOVHOLDER_SERVICES)
def test_the_environment_is_a_valid_configuration(services, name):
    env = {k: interpolate(v, {"TOVHOLDER_SECRET_KEY": "k" * 32}) for k, v in environment(services[name]).items()}
    settings = Settings(_env_file=None, **env)
    assert settings.secret_key == "k" * 32
    assert settings.demo_mode is False
    assert settings.signing_key() == "k" * 32


@pytest.mark.parametrize("name", TOVHOLDER_SERVICES)
def test_the_secret_key_comes_from_the_environment_without_a_default(services, name):
    raw = environment(services[name])["TOVHOLDER_SECRET_KEY"]
    assert re.fullmatch(r"\$\{TOVHOLDER_SECRET_KEY:\?[^}]+\}", raw), raw
    with pytest.raises(Unset):
        interpolate(raw, {})
    with pytest.raises(Unset):
        interpolate(raw, {"TOVHOLDER_SECRET_KEY": ""})


@pytest.mark.parametrize("name", TOVHOLDER_SERVICES)
def test_database_url_points_at_the_db_service(services, name):
    db_env = {k: interpolate(v, {}) for k, v in environment(services["db"]).items()}
    url = make_url(interpolate(environment(services[name])["DATABASE_URL"], {}))
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port or 5432) == ("db", 5432)
    assert url.database == db_env["POSTGRES_DB"]
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    depends = services[name]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"


def test_app_and_worker_run_the_same_image_built_here(services):
    app, worker = services["app"], services["worker"]
    for service in (app, worker):
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve()
    assert app.get("build") is not None
    assert worker.get("image") == app.get("image") or worker.get("build") == app.get("build")


# -- Dockerfile ------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_installs_the_lock_then_the_project_without_dependencies():
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [(i, rest) for i, (kw, rest) in enumerate(steps) if kw == "RUN"]
    lock = [i for i, rest in runs if re.search(r"pip install\b[^&]*-r requirements\.lock", rest)]
    project = [i for i, rest in runs if re.search(r"pip install\b[^&]*--no-deps[^&]*\s(-e\s+)?\.(\s|$)", rest)]
    assert lock and project and lock[0] < project[0], runs
    copies_lock = [i for i, (kw, rest) in enumerate(steps) if kw == "COPY" and "requirements.lock" in rest]
    assert copies_lock and copies_lock[0] < lock[0]
    for needed in ("migrations", "engine", "api", "workers", "tovholder", "pyproject.toml", "config", "forms", "processes"):
        assert any(kw == "COPY" and needed in rest for kw, rest in steps), f"the image needs {needed}"


def test_dockerfile_runs_as_a_non_root_user():
    users = [rest for kw, rest in dockerfile_instructions() if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_default_command_is_a_valid_tovholder_command():
    cmd = [rest for kw, rest in dockerfile_instructions() if kw == "CMD"]
    assert cmd
    assert parse_tovholder(json.loads(cmd[-1])).command == "serve"


def test_the_lock_pins_every_runtime_dependency():
    """The image installs the project with --no-deps, so the lock must hold what pyproject requires."""
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            locked[norm(name.strip())] = version.strip()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, version = requirement.split("==", 1)
        assert locked.get(norm(name.split("[")[0])) == version.strip(), requirement
    assert "pyyaml" in locked


def test_the_build_context_leaves_out_local_state():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "var", ".env", ".git"} <= ignored


def test_interpolation_follows_compose():
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET}-${EMPTY:-d}-${EMPTY-d}-${MISSING:-d}-$${SET}", env) == "v-d--d-${SET}"
    with pytest.raises(Unset):
        interpolate("${MISSING?e}", env)
    assert interpolate("${EMPTY?e}", env) == ""
