"""`tovholder migrate` against the test's database (a file on SQLite, or PostgreSQL).

Most calls run in this process (tests/cli_runner.py); the crash test runs the real command as a
subprocess and kills it with SIGKILL in the middle of a batch: every case is then
either fully migrated or exactly as it was, and running the command again moves the rest.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from engine import catalog, clock, runtime
from engine.models import AuditEvent, Case, HumanTask, MigrationRun
from tests import factories as f
from tests.case_rows import case_rows
from tests.cli_runner import command
from tovholder.migrate_cmd import ProgressBar

from .test_cli import assert_one_line_error, cli  # noqa: F401 - the fixture

INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
RENAMED = INTAKE.replace('"visitation"', '"visitering"').replace(">visitation<", ">visitering<")
T0 = datetime(2026, 9, 7, 7, tzinfo=timezone.utc)
CRASH_CASES = 60


@pytest.fixture
def users(seed):
    return seed("intake.bpmn")


def at_visitation(session, users, n: int) -> list[str]:
    ids = []
    with clock.at(T0):
        for _ in range(n):
            case = f.start_case(session, "intake", actor=users["jc"])
            [task] = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).all()
            runtime.complete_task(session, task_id=task.id, data={"forsikret": False, "henvendelsesdato": "2026-09-07"},
                                  user=users["jc"], rules=f.RULES)
            session.commit()
            ids.append(case.id)
    return ids


def deploy_v2(session) -> None:
    catalog.deploy(session, [("intake.bpmn", RENAMED.encode())], rules=f.RULES, actor="owner")
    session.commit()


def migrated_count(session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "case_migrated"))
    session.rollback()  # no snapshot held open between polls
    return count


def test_dry_run_then_migration_print_a_summary_with_the_refusals(cli, session, users):
    [first, second] = at_visitation(session, users, 2)
    with clock.at(T0):
        registering = f.start_case(session, "intake", actor=users["jc"]).id
    deploy_v2(session)
    dry = cli("migrate", "intake", "--from", "1", "--to", "2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "intake version 1 → 2 (dry run: nothing was changed): 1 case(s) would be migrated, 2 refused"
    assert sorted(line.split()[1].rstrip(":") for line in lines[1:]) == sorted([first, second])
    assert all("stands on 'visitation'" in line for line in lines[1:])
    session.expire_all()
    assert session.get(Case, registering).version == 1

    done = cli("migrate", "intake", "--from", "1", "--to", "2", "--map", "visitation=visitering", "--case", first,
               "--case", registering)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "intake version 1 → 2: 2 case(s) migrated, 0 refused"
    session.expire_all()
    assert [session.get(Case, i).version for i in (first, second, registering)] == [2, 1, 2]
    [run] = session.scalars(select(MigrationRun)).all()
    assert (run.actor, run.mapping, run.case_ids, run.migrated) == ("cli", {"visitation": "visitering"},
                                                                     [first, registering], 2)


@pytest.mark.parametrize("args, needle", [
    (("--map", "visitation"), "OLD_ELEMENT_ID=NEW_ELEMENT_ID"),
    (("--map", "visitation=visitering", "--map", "visitation=x"), "twice"),
    (("--map", "nowhere=visitering"), "not an element of version 1"),
])
def test_bad_input_is_one_line_and_changes_nothing(cli, session, users, args, needle):
    deploy_v2(session)
    assert_one_line_error(cli("migrate", "intake", "--from", "1", "--to", "2", *args), needle)
    assert_one_line_error(cli("migrate", "intake", "--from", "1", "--to", "7"), "version 7 is not deployed")
    assert_one_line_error(cli("migrate", "intake", "--from", "1"), "--to")
    assert session.scalar(select(func.count()).select_from(MigrationRun)) == 0


def test_progress_goes_to_stderr_for_large_batches_or_a_terminal():
    quiet = io.StringIO()
    for done in range(1, 11):
        ProgressBar(quiet)(done, 10)
    assert quiet.getvalue() == ""                                  # a small batch, not a terminal
    lines = io.StringIO()
    bar = ProgressBar(lines)
    for done in range(1, 501):
        bar(done, 500)
    printed = lines.getvalue().splitlines()
    assert len(printed) == 11 and printed[-1].startswith("migrating: 500/500 cases (100 %)")

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    tty = Terminal()
    terminal_bar = ProgressBar(tty)
    for done in range(1, 4):
        terminal_bar(done, 3)
    assert tty.getvalue().count("\r") == 3 and tty.getvalue().endswith("3/3 cases (100 %), " +
                                                                        tty.getvalue().rsplit(", ", 1)[1])
    assert "[" + "#" * 30 + "]" in tty.getvalue()


def test_a_batch_killed_half_way_leaves_each_case_migrated_or_untouched(cli, db, session, users, tmp_path):
    ids = at_visitation(session, users, CRASH_CASES)
    deploy_v2(session)
    before = {i: case_rows(session, i) for i in ids}
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=db.url, TOVHOLDER_SECRET_KEY="cli-test-secret-key-0123456789abcdef0123456789",
               TOVHOLDER_FORMS_DIR=str(f.FORMS))
    child = subprocess.Popen([*command(), "migrate", "intake", "--from", "1", "--to", "2",
                              "--map", "visitation=visitering"], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while migrated_count(session) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    moved = migrated_count(session)
    assert 3 <= moved < CRASH_CASES, f"{moved} of {CRASH_CASES} migrated before the kill: not half way"

    session.expire_all()
    migrated = [i for i in ids if session.get(Case, i).version == 2]
    assert len(migrated) == moved
    type_at = list(AuditEvent.__table__.columns.keys()).index("type")
    status_at = list(HumanTask.__table__.columns.keys()).index("status")
    for case_id in ids:
        if case_id not in migrated:
            assert case_rows(session, case_id) == before[case_id], case_id     # untouched, byte for byte
            continue
        rows = case_rows(session, case_id)                                     # fully migrated, in one commit
        assert rows["audit_events"][:-1] == before[case_id]["audit_events"]
        assert rows["audit_events"][-1][type_at] == "case_migrated"
        [task] = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                         HumanTask.status == "open")).all()
        [open_before] = [r for r in before[case_id]["human_tasks"] if r[status_at] == "open"]
        assert (task.id, task.element_id, task.process_version) == (open_before[0], "visitering", 2)
    [run] = session.scalars(select(MigrationRun)).all()
    assert run.finished_at is None and run.cases == CRASH_CASES     # the record shows the batch never ended

    again = cli("migrate", "intake", "--from", "1", "--to", "2", "--map", "visitation=visitering")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"intake version 1 → 2: {CRASH_CASES - moved} case(s) migrated, 0 refused")
    session.expire_all()
    assert all(session.get(Case, i).version == 2 for i in ids)
    assert migrated_count(session) == CRASH_CASES
