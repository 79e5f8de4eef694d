"""A changed kontanthjælp, as a process owner would deploy it next year (shared by the version tests).

Against version 1 (tests/data/kontanthjaelp_v1.bpmn, see tests/journeys/kh_v1.py) and forms/ as they are:
a new step after visitation (`opfoelgende_samtale`, with a new form), a
renamed step (`jobsamtale`), a changed deadline on another step
(`tilbudsplan`: P30D instead of the named `aktivitetsparat_tilbud`) and a
changed form (`kh_visitation`: a new required field, `problemomraader` made
required). `deployment()` is the multipart upload: the diagram and the two
form files.
"""
from __future__ import annotations

import json

from tests import factories as f

KONTANTHJAELP = f.DATA / "kontanthjaelp_v1.bpmn"  # version 1 as saved (tests/journeys/kh_v1.py)
NEW_STEP = "opfoelgende_samtale"
NEW_FORM = {"title": "Opfølgende samtale", "fields": [
    {"name": "samtale_notat", "label": "Notat fra samtalen", "type": "textarea", "required": True}]}


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"kontanthjaelp.bpmn changed: {old!r} is no longer there exactly once"
    return text.replace(old, new)


def changed_kontanthjaelp() -> bytes:
    xml = KONTANTHJAELP.read_text(encoding="utf-8")
    for old, new in (
        ("<bpmn:flowNodeRef>raadighed_gw</bpmn:flowNodeRef>",
         f"<bpmn:flowNodeRef>{NEW_STEP}</bpmn:flowNodeRef><bpmn:flowNodeRef>raadighed_gw</bpmn:flowNodeRef>"),
        ('<bpmn:sequenceFlow id="f_visiteret" sourceRef="visitation" targetRef="raadighed_gw"/>',
         f'<bpmn:sequenceFlow id="f_visiteret" sourceRef="visitation" targetRef="{NEW_STEP}"/>'
         f'<bpmn:userTask id="{NEW_STEP}" name="Opfølgende samtale" camunda:formKey="kh_opfoelgende_samtale"/>'
         f'<bpmn:sequenceFlow id="f_efter_samtale" sourceRef="{NEW_STEP}" targetRef="raadighed_gw"/>'),
        ('name="Jobsamtale" camunda:formKey', 'name="Jobsamtale med borgeren" camunda:formKey'),
        ('camunda:formKey="kh_tilbudsplan"><bpmn:extensionElements><camunda:properties>'
         '<camunda:property name="deadline" value="aktivitetsparat_tilbud"/>',
         'camunda:formKey="kh_tilbudsplan"><bpmn:extensionElements><camunda:properties>'
         '<camunda:property name="deadline" value="P30D"/>'),
    ):
        xml = _replace_once(xml, old, new)
    return xml.encode("utf-8")


def changed_visitation_form() -> bytes:
    form = json.loads((f.ROOT / "forms" / "kh_visitation.json").read_text(encoding="utf-8"))
    form["fields"].append({"name": "samtaleform", "label": "Samtaleform", "type": "choice", "required": True,
                           "choices": [{"value": "fremmoede", "label": "Fremmøde"},
                                       {"value": "telefon", "label": "Telefon"}]})
    for field in form["fields"]:
        if field["name"] == "problemomraader":
            field["required"] = True
    return json.dumps(form, ensure_ascii=False, indent=2).encode("utf-8")


def deployment() -> list[tuple[str, bytes]]:
    return [("kontanthjaelp.bpmn", changed_kontanthjaelp()), ("kh_visitation.json", changed_visitation_form()),
            ("kh_opfoelgende_samtale.json", json.dumps(NEW_FORM, ensure_ascii=False).encode("utf-8"))]


EXPECTED_CHANGED = {
    "jobsamtale": ['navn (name): "Jobsamtale" → "Jobsamtale med borgeren"'],
    "tilbudsplan": ['frist (deadline): "aktivitetsparat_tilbud" → "P30D"'],
    "visitation": [
        f"fører videre til (next): raadighed_gw → {NEW_STEP}",
        'formular kh_visitation: felt tilføjet (field added): "Samtaleform" (samtaleform)',
        'formular kh_visitation: felt nu påkrævet (made required): '
        '"Problemer ud over ledighed (misbrug, psykisk, bolig, familie …)" (problemomraader)',
    ],
}
