"""GET /api/cases/{id}/diagram: the case's picture with its steps marked, over real HTTP."""
from __future__ import annotations

import shutil

from lxml import etree

from scripts import bpmn_layout
from tests import factories as f

from .helpers import REGISTRERING, assert_error, complete, start, task_id


def test_diagram_marks_the_steps_and_refuses_other_units(api, staff, session, tmp_path):
    path = tmp_path / "intake.bpmn"
    shutil.copyfile(f.DATA / "intake.bpmn", path)
    assert bpmn_layout.main([str(path)]) == 0
    f.deploy_files(session, path)
    jc = api("jc")
    case_id = start(jc)["id"]
    complete(jc, task_id(jc, case_id, "registrering"), REGISTRERING)
    r = jc.get(f"/cases/{case_id}/diagram")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"svg", "completed", "current"}
    assert "registrering" in body["completed"] and body["current"] == ["visitation"]
    tree = etree.fromstring(body["svg"].encode("utf-8"))
    assert tree.find(".//{http://www.w3.org/2000/svg}g[@data-element='visitation']").get("class") == \
        "mark mark-current"
    assert_error(api("ys").get(f"/cases/{case_id}/diagram"), 403)
    assert api("auditor").get(f"/cases/{case_id}/diagram").status_code == 200
    assert_error(jc.get("/cases/00000000-0000-0000-0000-000000000000/diagram"), 404)


def test_a_definition_without_layout_is_a_clear_404(api, users):
    jc = api("jc")
    case_id = start(jc)["id"]
    assert "no diagram layout" in assert_error(jc.get(f"/cases/{case_id}/diagram"), 404)
