"""The web pages show a case's own version's forms (over real HTTP, no browser).

Editing a form file on disk changes nothing on the pages until a deploy makes
a new version: the start page then asks for the new version's start form,
and the task page of a running case keeps its version's form.
"""
from __future__ import annotations

import json
import shutil

from engine.case_rules import CaseRules
from engine.models import HumanTask
from tests import factories as f


def _relabel(forms, key, label):
    path = forms / f"{key}.json"
    form = json.loads(path.read_text(encoding="utf-8"))
    form["fields"][0]["label"] = label
    path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")


def test_start_and_task_pages_show_the_versions_own_forms(web_users, web, session, settings, tmp_path):
    forms = tmp_path / "forms"
    shutil.copytree(f.FORMS, forms)
    settings.forms_dir = forms
    jc = web("jc")
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = session.query(HumanTask).filter_by(case_id=case.id, status="open").one()
    assert "Resumé af henvendelsen" in jc.get(f"/opgaver/{task.id}").text
    _relabel(forms, "t_note", "Notat, ny etiket")
    _relabel(forms, "t_webvurdering", "Resumé, ny etiket")
    assert "Notat, ny etiket" not in jc.get("/sager/ny?forloeb=web_intake").text
    assert "Resumé, ny etiket" not in jc.get(f"/opgaver/{task.id}").text
    [v2] = f.deploy_data(session, "web_intake.bpmn", rules=CaseRules(forms_dir=forms))
    assert (v2.version, v2.new) == (2, True)
    assert "Notat, ny etiket" in jc.get("/sager/ny?forloeb=web_intake").text  # new cases start on v2
    page = jc.get(f"/opgaver/{task.id}").text  # the running v1 case keeps its version's form
    assert "Resumé af henvendelsen" in page and "Resumé, ny etiket" not in page
