"""`tovholder deploy --migrate-running` and `tovholder demo`: running cases of older versions move onto the
version just deployed, with the element mapping from the journey's `<name>.migration.toml`.

The cases are real (intake.bpmn through the runtime), the commands run in this process (tests/cli_runner.py)
against the test's database; the refusals are the migration's own (a case on an element the new version
removed, with no mapping line for it).
"""
from __future__ import annotations

import shutil

from sqlalchemy import select

from engine.models import AuditEvent, Case, HumanTask
from tests import factories as f

from .test_cli import assert_one_line_error, cli  # noqa: F401 - the fixture
from .test_migrate_cli import RENAMED, at_visitation, users  # noqa: F401 - the fixture


def _journey(tmp_path, mapping: str | None):
    folder = tmp_path / "journey"
    folder.mkdir()
    (folder / "intake.bpmn").write_text(RENAMED, encoding="utf-8")
    if mapping is not None:
        (folder / "intake.migration.toml").write_text(mapping, encoding="utf-8")
    return folder


def _versions(session, ids):
    session.expire_all()
    return [session.get(Case, i).version for i in ids]


def test_deploy_migrate_running_moves_the_cases_with_the_mapping_file(cli, session, users, tmp_path):  # noqa: F811
    ids = at_visitation(session, users, 2)
    folder = _journey(tmp_path, 'process = "intake"\n[mapping]\nvisitation = "visitering"\nno_such_old = "x"\n')
    result = cli("deploy", "--migrate-running", str(folder))
    assert result.returncode == 0, result.stderr
    assert "intake: 2 running case(s) moved from version 1 to 2, 0 refused" in result.stdout
    assert _versions(session, ids) == [2, 2]
    open_on = {t.element_id for t in session.scalars(select(HumanTask).where(HumanTask.case_id.in_(ids),
                                                                                HumanTask.status == "open"))}
    assert open_on == {"visitering"}
    moved = session.scalars(select(AuditEvent).where(AuditEvent.type == "case_migrated")).all()
    assert len(moved) == 2 and {e.actor for e in moved} == {moved[0].actor}


def test_without_a_mapping_line_a_case_on_a_removed_element_is_refused_and_left_as_it_was(cli, session, users,  # noqa: F811
                                                                                          tmp_path):
    [on_visitation] = at_visitation(session, users, 1)
    result = cli("deploy", "--migrate-running", str(_journey(tmp_path, None)))
    assert result.returncode == 0, result.stderr
    assert "intake: 0 running case(s) moved from version 1 to 2, 1 refused" in result.stdout
    assert f"refused {on_visitation}: " in result.stdout and "'visitation'" in result.stdout
    assert _versions(session, [on_visitation]) == [1]


def test_plain_deploy_leaves_running_cases_where_they_are(cli, session, users, tmp_path):  # noqa: F811
    ids = at_visitation(session, users, 1)
    result = cli("deploy", str(_journey(tmp_path, 'process = "intake"\n[mapping]\nvisitation = "visitering"\n')))
    assert result.returncode == 0 and "moved" not in result.stdout
    assert _versions(session, ids) == [1]


def test_a_bad_migration_file_is_refused_before_anything_is_deployed(cli, session, users, tmp_path):  # noqa: F811
    ids = at_visitation(session, users, 1)
    for text, said in (('process = "intake"\n[mapping]\nvisitation = 3\n', "[mapping] must hold lines"),
                       ("[mapping]\n", 'needs process = "<the process key>"'),
                       ('process = "intake"\nmapping = [\n', "not a valid TOML file"),
                       ('process = "intake"\nfrom = 1\n', "unknown entries: from"),
                       ('process = "intake"\n[from_version.eins]\nvisitation = "x"\n', "[from_version.<n>]")):
        folder = _journey(tmp_path, text)
        result = cli("deploy", "--migrate-running", str(folder))
        assert_one_line_error(result)
        assert said in result.stderr and "intake.migration.toml" in result.stderr, result.stderr
        shutil.rmtree(folder)
    session.expire_all()
    assert _versions(session, ids) == [1]
    assert session.scalar(select(Case.version).where(Case.id == ids[0])) == 1


def test_demo_run_again_moves_its_running_cases_onto_the_new_journeys(cli, db, session, users, tmp_path):  # noqa: F811
    ids = at_visitation(session, users, 1)
    processes = tmp_path / "processes"
    shutil.copytree(f.DATA / "forms", processes / "forms")
    (processes / "intake.bpmn").write_text(RENAMED, encoding="utf-8")
    (processes / "intake.migration.toml").write_text('process = "intake"\n[mapping]\nvisitation = "visitering"\n',
                                                     encoding="utf-8")
    result = cli("demo", env={"TOVHOLDER_PROCESSES_DIR": str(processes), "TOVHOLDER_DEMO": "1"})
    assert result.returncode == 0, result.stderr
    assert "deployed intake version 2" in result.stdout
    assert "intake: 1 running case(s) moved from version 1 to 2, 0 refused" in result.stdout
    assert _versions(session, ids) == [2]
