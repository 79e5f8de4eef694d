"""A version 2 of kontanthjælp, made from the saved version 1 (tests/journeys/kh_v1.py) for the migration tests.

What a process owner might change in a year: a new step after the visitation
(`cv_kontrol`), a renamed step (`kontroller_ansoegning` → `kontrol_af_ansoegning`,
which a migration must map), a changed deadline on another step
(`ydelsesafgoerelse`: 10 working days instead of the named 14), and a removed
branch (`henvis_akasse`: the referral to the a-kasse is now sent without a task),
so a case standing there cannot move.
"""
from __future__ import annotations

from lxml import etree

from tests import factories as f

SOURCE = f.DATA / "kontanthjaelp_v1.bpmn"  # version 1 as saved (tests/journeys/kh_v1.py)
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
RENAMED = {"kontroller_ansoegning": "kontrol_af_ansoegning"}
REMOVED = ("henvis_akasse", "henvis_akasse_frist", "henvis_akasse_paamindelse", "henvis_akasse_paamindelse_slut",
           "henvis_akasse_til_paamindelse", "henvis_akasse_paamindelse_til_slut", "f_henvist")
NEW_DEADLINE = "P10D working from ansoegning_komplet_dato"


def _q(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def changed_kontanthjaelp() -> bytes:
    root = etree.fromstring(SOURCE.read_bytes())
    process = root.find(_q("process"))
    _rename(root, RENAMED)
    _remove(root, REMOVED)
    process.find(f"{_q('sequenceFlow')}[@id='f_forsikret']").set("targetRef", "henvist_til_akasse")
    _add_step_after_visitation(process)
    _change_deadline(process, "ydelsesafgoerelse", NEW_DEADLINE)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _rename(root, renamed: dict[str, str]) -> None:
    for node in root.iter():
        for name, value in node.attrib.items():
            if value in renamed:
                node.set(name, renamed[value])
        if node.text in renamed:
            node.text = renamed[node.text]


def _remove(root, ids) -> None:
    for node in list(root.iter()):
        if node.get("id") in ids or node.get("bpmnElement") in ids or (
                node.tag == _q("flowNodeRef") and node.text in ids):
            node.getparent().remove(node)


def _add_step_after_visitation(process) -> None:
    flow = process.find(f"{_q('sequenceFlow')}[@id='f_visiteret']")
    flow.set("targetRef", "cv_kontrol")
    task = etree.SubElement(process, _q("userTask"), id="cv_kontrol", name="Kontrollér CV på Jobnet")
    task.set(f"{{{CAMUNDA}}}formKey", "kh_paamindelse")
    extensions = etree.SubElement(task, _q("extensionElements"))
    properties = etree.SubElement(extensions, f"{{{CAMUNDA}}}properties")
    etree.SubElement(properties, f"{{{CAMUNDA}}}property", name="deadline", value="P2D working")
    etree.SubElement(process, _q("sequenceFlow"), id="f_cv_kontrolleret", sourceRef="cv_kontrol",
                     targetRef="raadighed_gw")
    lane = process.find(f".//{_q('lane')}[@name='jobcenter']")
    etree.SubElement(lane, _q("flowNodeRef")).text = "cv_kontrol"


def _change_deadline(process, element: str, rule: str) -> None:
    task = process.find(f"{_q('userTask')}[@id='{element}']")
    task.find(f".//{{{CAMUNDA}}}property[@name='deadline']").set("value", rule)
    timer = process.find(f"{_q('boundaryEvent')}[@attachedToRef='{element}']")
    timer.find(f".//{_q('timeDate')}").text = f'deadline("{rule}")'
