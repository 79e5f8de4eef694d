"""`tovholder import-check PATH…`: what of a folder of Camunda 7 diagrams would run, what not and why; stores nothing.

The fixtures are tests/cli/test_cli.py's: a clean environment, the test's
database (with the test units), TOVHOLDER_FORMS_DIR at tests/data/forms.
"""
from __future__ import annotations

import shutil

from tests.cli.test_cli import DATA, _deployed, assert_one_line_error, cli, with_units  # noqa: F401

JAVA_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:process id="opslag" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_java" />
    <bpmn:serviceTask id="Activity_java" name="Slå op" camunda:class="dk.kommune.Opslag" camunda:asyncBefore="true" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_java" targetRef="Event_slut" />
    <bpmn:endEvent id="Event_slut" />
  </bpmn:process>
</bpmn:definitions>
"""
CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:process id="kalder" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_kald" />
    <bpmn:callActivity id="Activity_kald" calledElement="opslag" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_kald" targetRef="Event_slut" />
    <bpmn:endEvent id="Event_slut" />
  </bpmn:process>
</bpmn:definitions>
"""


def _folder(tmp_path, *extra: tuple[str, str]):
    folder = tmp_path / "camunda7"
    shutil.copytree(DATA / "camunda7", folder)
    for name, content in extra:
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def test_a_folder_that_runs_is_reported_file_by_file_with_its_translations(cli, db, with_units, tmp_path):  # noqa: F811
    result = cli("import-check", str(_folder(tmp_path)))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "camunda7/orlov.bpmn: runs (Camunda 7): orlov (version 1)" in out, out
    assert "camunda7/orlov_underretning.bpmn: runs (Camunda 7): orlov_underretning (version 1)" in out
    assert "[Flow_ja] condition: ${godkendt}  ->  godkendt" in out
    assert "[Flow_tilpas] condition: ${!godkendt && dage > 10}  ->  ((not godkendt) and (dage > 10))" in out
    assert "[Event_udloebet] timeDuration: P14D  ->  'P14D'" in out
    assert "camunda:dueDate: ${dateTime().plusDays(3).toDate()}  ->  iso(shift_time(now(), days=3))" in out
    assert "3 file(s) would run, 0 would be refused" in out
    assert _deployed(db) == []  # a check, not a deploy


def test_what_would_be_refused_is_named_and_the_exit_code_says_so(cli, db, with_units, tmp_path):  # noqa: F811
    folder = _folder(tmp_path, ("opslag.bpmn", JAVA_TASK), ("kalder.bpmn", CALLER))
    result = cli("import-check", str(folder))
    line = assert_one_line_error(result, "2 of 5 file(s) would be refused")
    assert "camunda7/kalder.bpmn" in line and "camunda7/opslag.bpmn" in line
    out = result.stdout
    assert "camunda7/opslag.bpmn: refused (Camunda 7): 2 problem(s)" in out, out
    assert "line 6 [Activity_java] camunda:class is not supported" in out
    assert "line 6 [Activity_java] camunda:asyncBefore on serviceTask is not supported" in out
    # the caller would be refused with it: the process it calls would not be deployed
    assert "camunda7/kalder.bpmn: refused (Camunda 7): 1 problem(s)" in out
    assert "[Activity_kald] calls process 'opslag'" in out
    assert "camunda7/orlov.bpmn: runs (Camunda 7)" in out and "3 file(s) would run, 2 would be refused" in out
    assert _deployed(db) == []


def test_units_come_from_the_database(cli, db, tmp_path):
    result = cli("import-check", str(_folder(tmp_path)))
    assert result.returncode != 0
    assert "candidateGroups 'jobcenter' does not name a unit (known units: none yet)" in result.stdout


def test_a_path_that_is_not_there(cli, tmp_path):  # noqa: F811
    assert_one_line_error(cli("import-check", str(tmp_path / "findes-ikke")), "no such file or folder")
