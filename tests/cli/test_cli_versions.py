"""`tovholder deploy` with forms, `tovholder versions KEY` and `tovholder diff KEY A B`.

The fixtures are tests/cli/test_cli.py's: a clean environment, the test's
database, TOVHOLDER_FORMS_DIR at tests/data/forms; calls run in this process
(tests/cli_runner.py) but for the one `versions` call run as the real command.
"""
from __future__ import annotations

import json
import shutil

import pytest

from engine import bundles, catalog
from tests.cli.test_cli import DATA, _printed_versions, assert_one_line_error, cli, with_units  # noqa: F401


def _stored_form(db, key, form_key):
    with db.session() as session:
        return bundles.form_files(session, catalog.get_definition(session, key).id)[form_key]


def test_deploy_takes_forms_from_the_folder_before_the_forms_dir(cli, db, with_units, tmp_path):  # noqa: F811
    folder = tmp_path / "journey"
    (folder / "forms").mkdir(parents=True)
    shutil.copy(DATA / "parallel.bpmn", folder / "parallel.bpmn")
    (folder / "forms" / "t_note.json").write_text('{"title": "Fra mappen", "fields": []}', encoding="utf-8")
    result = cli("deploy", str(folder))
    assert result.returncode == 0, result.stderr
    assert _printed_versions(result.stdout) == {"parallel": 1}
    assert _stored_form(db, "parallel", "t_note").form().title == "Fra mappen"
    (folder / "forms" / "t_note.json").write_text('{"title": "Ændret", "fields": []}', encoding="utf-8")
    again = cli("deploy", str(folder))
    assert _printed_versions(again.stdout) == {"parallel": 2} and "new" in again.stdout
    # a form file named on its own is an upload, checked strictly
    result = cli("deploy", str(DATA / "parallel.bpmn"), str(folder / "forms" / "t_note.json"))
    assert _printed_versions(result.stdout) == {"parallel": 2} and "unchanged" in result.stdout


def test_deploy_refuses_a_form_no_diagram_names(cli, db, with_units, tmp_path):  # noqa: F811
    extra = tmp_path / "t_ukendt.json"
    extra.write_text('{"fields": []}', encoding="utf-8")
    result = cli("deploy", str(DATA / "parallel.bpmn"), str(extra))
    assert result.returncode == 1 and "refused" in result.err_lines[0]
    assert any("t_ukendt.json" in line and "named by no task" in line for line in result.err_lines[1:])


def test_versions_lists_the_deploy_history(cli, db, with_units, tmp_path):  # noqa: F811
    assert cli("deploy", str(DATA / "intake.bpmn")).returncode == 0
    changed = (DATA / "intake.bpmn").read_text(encoding="utf-8").replace('name="Afgjort"', 'name="Afgjort 2"')
    (tmp_path / "intake.bpmn").write_text(changed, encoding="utf-8")
    assert cli("deploy", str(tmp_path / "intake.bpmn")).returncode == 0
    result = cli("versions", "intake", real=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["version", "deployed"]
    rows = [line.split() for line in lines[1:]]
    assert [(r[0], r[3].startswith("cli"), r[4]) for r in rows] == [("1", True, "0"), ("2", True, "0")]
    as_json = json.loads(cli("versions", "intake", "--json").stdout)
    assert [v["version"] for v in as_json] == [1, 2] and all(v["deployed_at"].endswith("+00:00") for v in as_json)
    detail = cli("versions", "intake", "--version", "1")
    assert detail.returncode == 0 and "forms: t_afgoerelse, t_paamindelse, t_registrering, t_visitation" in detail.stdout
    assert json.loads(cli("versions", "intake", "--version", "2", "--json").stdout)["running_cases"] == 0


def test_diff_prints_what_changed(cli, db, with_units, tmp_path):  # noqa: F811
    assert cli("deploy", str(DATA / "intake.bpmn")).returncode == 0
    changed = (DATA / "intake.bpmn").read_text(encoding="utf-8").replace('name="Afgjort"', 'name="Afgjort 2"')
    (tmp_path / "intake.bpmn").write_text(changed, encoding="utf-8")
    assert cli("deploy", str(tmp_path / "intake.bpmn")).returncode == 0
    result = cli("diff", "intake", "1", "2")
    assert result.returncode == 0, result.stderr
    assert "intake: version 1 → 2" in result.stdout
    assert "  ~ afgjort  Afgjort 2 (endEvent)" in result.stdout
    assert 'navn (name): "Afgjort" → "Afgjort 2"' in result.stdout
    assert "running cases of version 1 on removed or changed elements: none" in result.stdout
    as_json = json.loads(cli("diff", "intake", "1", "2", "--json").stdout)
    assert [e["element_id"] for e in as_json["changed"]] == ["afgjort"]


@pytest.mark.parametrize("args,needle", [
    (("diff", "intake", "1", "3"), "version 3 is not deployed"),
    (("diff", "ukendt", "1", "1"), "'ukendt'"),
    (("diff", "intake", "1", "to"), "invalid int"),
    (("diff", "intake", "1"), "required"),
    (("versions", "ukendt"), "not deployed"),
    (("versions", "intake", "--version", "9"), "version 9 is not deployed"),
])
def test_versions_and_diff_bad_input_is_one_line(cli, db, with_units, args, needle):  # noqa: F811
    assert cli("deploy", str(DATA / "intake.bpmn")).returncode == 0
    assert_one_line_error(cli(*args), needle)
