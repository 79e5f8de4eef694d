"""`tovholder`: db upgrade, units, users (add, revoke, disable, enable), deploy, import-check, versions, diff,
serve, worker, demo, migrate (tovholder/migrate_cmd.py), audit verify|checkpoint (tovholder/audit_cmd.py).

Each command is an edge: it opens a session, calls the engine, commits.
Bad input exits non-zero with a one-line reason on stderr (details, such as
the problems of a refused diagram, follow on further lines).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

from alembic import util as alembic_util
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from engine import accounts, auth_sessions, catalog, catch_up, migrate
from engine.bpmn import patches as bpmn_patches
from engine.case_rules import rules_from_settings
from engine.db import make_db_engine, make_session_factory
from engine.deadlines import DeadlineError
from engine.errors import EngineError, Invalid, InvalidDefinition
from engine.settings import SettingsError, load_settings

from . import audit_cmd, migrate_cmd

DEMO_PASSWORD = "tovholder-demo"
DEMO_UNITS = {
    "jobcenter": "Jobcenter",
    "ydelsesservice": "Ydelsesservice",
    "sof": "Socialforvaltningen (SOF)",
    "virksomhedsservice": "Virksomhedsservice",
    "rehabiliteringsteam": "Rehabiliteringsteam",
}
DEMO_USERS = [
    *[(f"{key}-sagsbehandler", "caseworker", [key]) for key in DEMO_UNITS],
    *[(f"{key}-teamleder", "teamlead", [key]) for key in DEMO_UNITS],
    ("procesejer", "process_owner", []),
    ("revisor", "auditor", []),
    ("admin", "admin", []),
    ("integration", "integration", []),
]


class CliError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise CliError(f"{message} (see 'tovholder --help')")


@contextmanager
def _db_session(settings):
    """A session on the configured database; its engine is disposed when the command is done with it."""
    db_engine = make_db_engine(settings.database_url)
    try:
        with make_session_factory(db_engine, audit_key=settings.audit_key)() as session:
            yield session
    finally:
        db_engine.dispose()


def cmd_db_upgrade(settings, _args) -> None:
    migrate.upgrade(settings.database_url, forms_dir=settings.forms_dir, audit_key=settings.audit_key)
    print("database schema is up to date")


def cmd_units_add(settings, args) -> None:
    with _db_session(settings) as session:
        unit = accounts.add_unit(session, args.key, args.name)
        session.commit()
        print(f"unit {unit.key} ({unit.name}) added")


def cmd_units_list(settings, _args) -> None:
    with _db_session(settings) as session:
        for unit in accounts.list_units(session):
            print(f"{unit.key}\t{unit.name}")


def cmd_users_add(settings, args) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import secrets
        password = secrets.token_urlsafe(12)
    with _db_session(settings) as session:
        user = accounts.add_user(session, args.username, role=args.role, password=password, units=args.unit or [],
                                 email=args.email)
        session.commit()
    units = f" in {', '.join(sorted(user.units))}" if user.units else ""
    print(f"user {user.username} ({user.role}{units}) added")
    if not args.password_stdin:
        print(f"password: {password}")


def _user_access_command(change, report: str):
    """`users revoke|disable|enable`: one change of a user's access in one transaction, then one line."""
    def command(settings, args) -> None:
        with _db_session(settings) as session:
            ended = change(session, args.username)
            session.commit()
        print(report.format(user=args.username, ended=ended))
    return command


cmd_users_revoke = _user_access_command(lambda session, username: auth_sessions.revoke_user(
    session, username, by="cli"), "user {user}: {ended} session(s) and token(s) ended")
cmd_users_disable = _user_access_command(lambda session, username: auth_sessions.disable_user(
    session, username, by="cli"), "user {user} disabled; {ended} session(s) and token(s) ended")
cmd_users_enable = _user_access_command(auth_sessions.enable_user, "user {user} enabled")


def _cli_actor() -> str:
    """Who deployed, in the deploy history: the operating-system user behind the command."""
    import getpass
    try:
        return f"cli:{getpass.getuser()}"[:100]
    except (OSError, KeyError):  # no user name in this environment (some containers)
        return "cli"


def cmd_deploy(settings, args) -> None:
    paths = [Path(p) for p in args.paths]
    files = catalog.collect_files(paths)
    mappings = catch_up.mapping_files([p if p.is_dir() else p.parent for p in paths]) if args.migrate_running else {}
    with _db_session(settings) as session:
        deployed = catalog.deploy(session, files, rules=rules_from_settings(settings), actor=_cli_actor(),
                                  form_folders=catalog.form_folders(paths))
        session.commit()
    for d in deployed:
        print(f"{d.key}\tversion {d.version}\t{'new' if d.new else 'unchanged'}\t{d.name}")
    if args.migrate_running:
        _catch_up(settings, deployed, mappings, actor=_cli_actor())


def _catch_up(settings, deployed, mappings: dict[str, dict[str, str]], *, actor: str) -> None:
    """Move the running cases of older versions onto each deployed process's latest version, and say how it went."""
    db_engine = make_db_engine(settings.database_url)
    try:
        factory = make_session_factory(db_engine, audit_key=settings.audit_key)
        for d in deployed:
            done = catch_up.catch_up(factory, process_key=d.key, mapping=mappings.get(d.key), actor=actor,
                                     rules=rules_from_settings(settings))
            for line in done.lines():
                print(line)
    finally:
        db_engine.dispose()


def cmd_import_check(settings, args) -> None:
    """What of these diagrams would run here and what would be refused, and why; nothing is deployed."""
    from engine import import_check
    paths = [Path(p) for p in args.paths]
    files = catalog.collect_files(paths)
    with _db_session(settings) as session:
        reports = import_check.check(session, files, rules=rules_from_settings(settings),
                                     form_folders=catalog.form_folders(paths))
    for report in reports:
        kind = " (Camunda 7)" if report.camunda7 else ""
        if report.runs:
            print(f"{report.name}: runs{kind}: {', '.join(report.processes) or 'a decision or a called process'}")
            for t in report.translations:
                print(f"  line {t.line} [{t.element}] {t.what}: {t.written}  ->  {t.runs_as}")
            continue
        print(f"{report.name}: refused{kind}: {len(report.problems)} problem(s)")
        for p in report.problems:
            line = f"line {p['line']} " if p.get("line") else ""
            element = f"[{p['element']}] " if p.get("element") else ""
            print(f"  {line}{element}{p.get('message')}")
    refused = [r for r in reports if not r.runs]
    print(f"{len(reports) - len(refused)} file(s) would run, {len(refused)} would be refused")
    if refused:
        raise Invalid(f"{len(refused)} of {len(reports)} file(s) would be refused: "
                       f"{', '.join(r.name for r in refused)}")


def cmd_versions(settings, args) -> None:
    from engine import versions
    with _db_session(settings) as session:
        if args.version is not None:
            detail = versions.version_detail(session, args.key, args.version)
        else:
            summaries = versions.list_versions(session, args.key)
    if args.version is not None:
        _print_version(detail, as_json=args.json)
        return
    if args.json:
        print(json.dumps([v.as_dict() for v in summaries], ensure_ascii=False, indent=2))
        return
    print(f"{'version':>7}  {'deployed at (UTC)':19}  {'deployed by':20}  {'running':>7}  hash")
    for v in summaries:
        print(f"{v.version:>7}  {v.deployed_at:%Y-%m-%d %H:%M:%S}  {v.deployed_by or '-':20}  "
              f"{v.running_cases:>7}  {v.hash[:12]}")


def _print_version(detail, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(detail.as_dict(), ensure_ascii=False, indent=2))
        return
    print(f"{detail.key} version {detail.version}: {detail.name}")
    print(f"  deployed {detail.deployed_at:%Y-%m-%d %H:%M:%S} UTC by {detail.deployed_by or '-'} "
          f"from {detail.source_file}; hash {detail.hash}")
    print(f"  forms: {', '.join(detail.forms) or '(none)'}")
    print(f"  running cases: {detail.running_cases}")
    for place in detail.waiting_at:
        print(f"    {place.cases:>6}  {place.element_id}  {place.name}")


def cmd_diff(settings, args) -> None:
    from engine import diff
    with _db_session(settings) as session:
        result = diff.diff_versions(session, args.key, args.a, args.b)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    print(f"{result.key}: version {result.from_version} → {result.to_version}")
    for title, mark, elements in (("added", "+", result.added), ("removed", "-", result.removed),
                                  ("changed", "~", result.changed)):
        print(f"{title}: {len(elements) or 'none'}")
        for element in elements:
            print(f"  {mark} {element.element_id}  {element.name} ({element.type})")
            for attribute in getattr(element, "attributes", ()):
                print(f"      {attribute}")
    for title, keys in (("forms changed", result.forms_changed), ("forms added", result.forms_added),
                        ("forms removed", result.forms_removed)):
        if keys:
            print(f"{title}: {', '.join(keys)}")
    total = sum(a.cases for a in result.affected)
    print(f"running cases of version {result.from_version} on removed or changed elements: "
          f"{total if result.affected else 'none'}")
    for affected in result.affected:
        print(f"  {affected.cases:>6}  {affected.element_id}")
    if result.suggested_mapping:
        print("suggested mapping for a migration: "
              + " ".join(f"{old}={new}" for old, new in sorted(result.suggested_mapping.items())))


def cmd_serve(settings, args) -> None:
    settings.signing_key()  # refuse before loading anything: no key outside demo mode
    if args.workers < 1:
        raise CliError("--workers must be 1 or more")
    if args.workers > 1 and not settings.database_url.startswith("postgresql"):
        # SQLite takes one writer at a time: more processes would only wait on its file lock.
        raise CliError("--workers above 1 needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...); "
                       "with SQLite, serve with one process")
    import uvicorn
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.workers == 1:
        from api.main import create_app
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
        return
    # Several processes on one socket (uvicorn's supervisor restarts one that dies). Each builds its
    # app from the environment, as this process did; nothing that must agree between them lives in
    # memory (sessions, tokens, the login throttle and OIDC attempts are in the database or signed cookies).
    # uvicorn's supervisor kills a child that does not answer its health ping in time (5 s by default);
    # a child still importing SpiffWorkflow and the app on a busy host takes longer, and was killed and
    # respawned in a loop. 30 s still replaces a hung process within the half minute.
    uvicorn.run("api.main:app_from_environment", factory=True, workers=args.workers, host=args.host,
                port=args.port, log_level="info", timeout_worker_healthcheck=30)


def cmd_worker(settings, args) -> None:
    settings.signing_key()  # the same configuration as serve, so a half-configured deployment fails here too
    from workers.jsonlog import setup as setup_logging
    from workers.loop import run_forever
    setup_logging()  # JSON lines on stderr, CPR numbers masked
    run_forever(settings, once=args.once, metrics_port=args.metrics_port)


def cmd_demo(settings, _args) -> None:
    migrate.upgrade(settings.database_url, forms_dir=settings.forms_dir, audit_key=settings.audit_key)
    mappings = catch_up.mapping_files([settings.processes_dir])  # a bad file stops the demo before it deploys
    with _db_session(settings) as session:
        existing_units = {u.key for u in accounts.list_units(session)}
        for key, name in DEMO_UNITS.items():
            if key not in existing_units:
                accounts.add_unit(session, key, name)
        for username, role, units in DEMO_USERS:
            email = f"{username}@demo.tovholder.dk" if units else None  # reminders reach unit members
            if not accounts.user_exists(session, username):
                accounts.add_user(session, username, role=role, password=DEMO_PASSWORD, units=units, email=email)
            elif email:
                accounts.set_email(session, username, email)
        session.commit()
        deployed = catalog.deploy(session, catalog.collect_files([settings.processes_dir]),
                                  rules=rules_from_settings(settings), actor="demo",
                                  form_folders=[settings.processes_dir])
        session.commit()
    for d in deployed:
        print(f"deployed {d.key} version {d.version}{'' if d.new else ' (unchanged)'}")
    # a demo started on earlier journeys keeps its running cases: they move onto the versions just deployed
    _catch_up(settings, deployed, mappings, actor="demo")
    print(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, units in DEMO_USERS:
        print(f"  {username:32} {role:14} {', '.join(units)}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tovholder", description="Tovholder: BPMN case workflow for municipalities")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True,
                                                                     parser_class=_Parser)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)

    units = sub.add_parser("units", help="units (what lanes name)").add_subparsers(
        dest="units_command", required=True, parser_class=_Parser)
    add_unit = units.add_parser("add", help="add a unit")
    add_unit.add_argument("key")
    add_unit.add_argument("--name", required=True)
    add_unit.set_defaults(func=cmd_units_add)
    units.add_parser("list", help="list units").set_defaults(func=cmd_units_list)

    users = sub.add_parser("users", help="users").add_subparsers(dest="users_command", required=True,
                                                                 parser_class=_Parser)
    add_user = users.add_parser("add", help="add a user")
    add_user.add_argument("username")
    add_user.add_argument("--role", required=True, choices=accounts.ROLES)
    add_user.add_argument("--unit", action="append", metavar="KEY", help="a unit the user belongs to (repeat)")
    add_user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add_user.add_argument("--email", metavar="ADDR", help="where reminders and escalations are sent")
    add_user.set_defaults(func=cmd_users_add)
    for name, func, text in (
            ("revoke", cmd_users_revoke, "end every web session and API token of a user now (they may log in again)"),
            ("disable", cmd_users_disable, "disable a user: no login, and every session and token ends now"),
            ("enable", cmd_users_enable, "let a disabled user log in again")):
        command = users.add_parser(name, help=text)
        command.add_argument("username")
        command.set_defaults(func=func)

    deploy = sub.add_parser("deploy", help="deploy .bpmn/.dmn files or folders")
    deploy.add_argument("paths", nargs="+")
    deploy.add_argument("--migrate-running", action="store_true",
                        help="then move running cases of older versions onto the latest one "
                             "(mapping from <name>.migration.toml beside the diagrams)")
    deploy.set_defaults(func=cmd_deploy)

    check = sub.add_parser("import-check", help="which diagrams (e.g. from Camunda 7) would run here, which would "
                                                "be refused and why; deploys nothing")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.set_defaults(func=cmd_import_check)

    versions = sub.add_parser("versions", help="the deploy history of a process and where its cases stand")
    versions.add_argument("key")
    versions.add_argument("--version", type=int, metavar="N", help="one version: its forms and where its cases are")
    versions.add_argument("--json", action="store_true", help="print JSON, as the API answers")
    versions.set_defaults(func=cmd_versions)

    diff = sub.add_parser("diff", help="what changed between two versions of a process, and which cases it reaches")
    diff.add_argument("key")
    diff.add_argument("a", type=int, metavar="A", help="the version to compare from")
    diff.add_argument("b", type=int, metavar="B", help="the version to compare to")
    diff.add_argument("--json", action="store_true", help="print JSON, as the API answers")
    diff.set_defaults(func=cmd_diff)

    serve = sub.add_parser("serve", help="serve the API and web UI")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="API processes sharing the port (above 1 needs PostgreSQL; about one per core)")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the background worker")
    worker.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    worker.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve GET /health and GET /metrics (Prometheus) on this port")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("demo", help="create demo units and users and deploy processes/").set_defaults(func=cmd_demo)
    migrate_cmd.add_parser(sub)  # issue 11: running cases to another version
    audit_cmd.add_parser(sub, _Parser)  # the audit trail's hash chains: verify, checkpoint
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        bpmn_patches.apply()
        settings = load_settings(**({"demo_mode": True} if args.command == "demo" else {}))
        args.func(settings, args)
        return 0
    except InvalidDefinition as exc:
        problems = exc.detail if isinstance(exc.detail, list) else []
        print(f"tovholder: {exc.message}: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            where = ":".join(str(x) for x in (p.get("file"), p.get("line")) if x)
            element = f" [{p['element']}]" if p.get("element") else ""
            print(f"  {where or '-'}{element} {p.get('message')}", file=sys.stderr)
        return 1
    except (CliError, EngineError, SettingsError, migrate_cmd.CliInputError, audit_cmd.ChainsBroken,
            DeadlineError) as exc:  # a bad deadline file names the file and the table
        print(f"tovholder: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 2 if isinstance(exc, CliError) else 1
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"tovholder: the database is not reachable or not migrated ({reason}); "
              "run 'tovholder db upgrade'", file=sys.stderr)
        return 1
    except ProgrammingError as exc:
        hint = " (is the schema migrated? run 'tovholder db upgrade')" if "UndefinedTable" in repr(exc.orig) else ""
        print(f"tovholder: database error: {type(exc.orig).__name__ if exc.orig else type(exc).__name__}{hint}",
              file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"tovholder: database error: {type(exc).__name__}", file=sys.stderr)
        return 1
    except alembic_util.CommandError as exc:
        print(f"tovholder: migration failed: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}",
              file=sys.stderr)
        return 1
    except OSError as exc:  # a file or folder that cannot be read or created
        where = f": {exc.filename}" if exc.filename else ""
        print(f"tovholder: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 1
