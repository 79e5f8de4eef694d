"""engine.diagram: a case's diagram with the steps taken and the current position marked."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from engine import runtime
from engine.diagram import case_diagram, case_diagram_svg
from engine.diagram.marks import Marks
from engine.diagram.svg import render
from engine.errors import Forbidden, NotFound
from engine.models import CaseAccess, HumanTask
from scripts import bpmn_layout
from tests import factories as f

SVG = "{http://www.w3.org/2000/svg}"
REGISTRERING = {"forsikret": False, "henvendelsesdato": "2026-11-23"}


def deploy_laid_out(session, tmp_path: Path, *names: str):
    paths = []
    for name in names:
        path = tmp_path / name
        shutil.copyfile(f.DATA / name, path)
        assert bpmn_layout.main([str(path)]) == 0
        paths.append(path)
    return f.deploy_files(session, *paths)


def marked(svg: str) -> dict[str, set[str]]:
    tree = etree.fromstring(svg.encode("utf-8"))
    found: dict[str, set[str]] = {"done": set(), "current": set()}
    for g in tree.iter(f"{SVG}g"):
        for state in found:
            if f"mark-{state}" in (g.get("class") or "").split():
                found[state].add(g.get("data-element"))
    return found


def open_task(session, case_id, element_id) -> str:
    return session.scalars(select(HumanTask.id).where(HumanTask.case_id == case_id, HumanTask.element_id == element_id,
                                                      HumanTask.status == "open")).one()


@pytest.fixture
def intake_case(seed, session, tmp_path):
    users = seed()
    deploy_laid_out(session, tmp_path, "intake.bpmn")
    case = f.start_case(session, "intake", actor=users["jc"])
    runtime.complete_task(session, task_id=open_task(session, case.id, "registrering"), data=REGISTRERING,
                          user=users["jc"], rules=f.RULES)
    session.commit()
    return users, case


def test_completed_steps_and_current_position_are_marked(session, intake_case):
    users, case = intake_case
    result = case_diagram(session, case_id=case.id, user=users["jc"])
    session.commit()
    assert result["completed"] == ["forsikret_gw", "henvendelse", "registrering"]
    assert result["current"] == ["visitation"]  # its boundary timer waits too, but the task is where the case is
    marks = marked(result["svg"])
    assert marks == {"done": {"henvendelse", "registrering", "forsikret_gw"}, "current": {"visitation"}}
    tree = etree.fromstring(result["svg"].encode("utf-8"))
    titles = [t.text for t in tree.iter(f"{SVG}title")]
    assert "Udført: Registrering som arbejdssøgende" in titles  # not by colour alone: words and a ✓ badge
    assert "Aktuelt trin: Visitation og rådighedsvurdering" in titles
    taken = [p for p in tree.iter(f"{SVG}polyline") if "mark-taken" in (p.get("class") or "")]
    assert len(taken) == 3  # henvendelse → registrering → gateway → (nej) visitation; not the "ja" branch
    assert tree.find(f".//{SVG}g[@class='legend']") is not None
    assert "Aktuelt trin" in etree.tostring(tree.find(f".//{SVG}g[@class='legend']"), encoding="unicode")
    assert session.scalars(select(CaseAccess.action).where(CaseAccess.case_id == case.id,
                                                           CaseAccess.action == "diagram")).all() == ["diagram"]


def test_only_those_who_may_see_the_case_get_its_diagram(session, intake_case):
    users, case = intake_case
    for name in ("ys", "owner"):
        with pytest.raises(Forbidden):
            case_diagram_svg(session, case_id=case.id, user=users[name])
    assert case_diagram_svg(session, case_id=case.id, user=users["auditor"]).startswith("<svg")
    with pytest.raises(NotFound):
        case_diagram_svg(session, case_id="00000000-0000-0000-0000-000000000000", user=users["admin"])


def test_a_call_activity_is_marked_itself_not_the_called_processs_elements(session, tmp_path):
    users = f.standard_users(session)
    f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])
    deploy_laid_out(session, tmp_path, "placement.bpmn", "caller.bpmn")
    case = f.start_case(session, "caller", actor=users["admin"])
    # placement has elements called start, match and done too: only the caller's own are marked
    result = case_diagram(session, case_id=case.id, user=users["admin"])
    assert (result["completed"], result["current"]) == (["start"], ["call_sub"])
    vs = f.add_user(session, "vs2", "caseworker", ["virksomhedsservice"])
    runtime.complete_task(session, task_id=open_task(session, case.id, "match"), data={}, user=vs, rules=f.RULES)
    session.commit()
    result = case_diagram(session, case_id=case.id, user=users["admin"])
    assert (result["completed"], result["current"]) == (["call_sub", "done", "start"], [])
    assert marked(result["svg"]) == {"done": {"start", "call_sub", "done"}, "current": set()}


def test_a_definition_without_layout_gives_a_clear_404(session):
    users = f.standard_users(session)
    f.deploy_data(session, "intake.bpmn")  # the test file has no BPMNDI
    case = f.start_case(session, "intake", actor=users["jc"])
    with pytest.raises(NotFound, match="no diagram layout"):
        case_diagram(session, case_id=case.id, user=users["jc"])


def test_without_marks_the_picture_is_the_documentation_picture(tmp_path):
    path = tmp_path / "intake.bpmn"
    shutil.copyfile(f.DATA / "intake.bpmn", path)
    bpmn_layout.main([str(path)])
    plain = render(path.read_bytes())
    assert 'class="mark' not in plain and 'class="legend' not in plain
    assert render(path.read_bytes(), Marks()) != plain  # an empty marking still has its legend
    assert marked(render(path.read_bytes(), Marks(completed=frozenset({"henvendelse"}),
                                                  current=frozenset({"henvendelse"})))) == \
        {"done": set(), "current": {"henvendelse"}}  # in a loop: where the case is wins
