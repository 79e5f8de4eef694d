"""Diffs of two stored versions: elements added, removed and changed in words, forms, and the cases reached."""
from __future__ import annotations

import pytest

from engine import catalog, runtime, versions
from engine.diff import diff_versions
from engine.errors import NotFound
from tests import factories as f

INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
REGISTRERING = {"forsikret": False, "henvendelsesdato": "2026-11-23"}
VISITATION = {"til_raadighed": True, "kategori": "jobparat", "problemer_ud_over_ledighed": False,
              "vurdering": "Klar til job"}


@pytest.fixture
def staff(session):
    return f.standard_users(session)


def deploy(session, name, xml: str):
    [d] = [d for d in catalog.deploy(session, [(name, xml.encode("utf-8"))], rules=f.RULES, actor="test")
           if d.key == name.split(".")[0]]
    session.commit()
    return d


def replace(xml: str, *pairs) -> str:
    for old, new in pairs:
        assert xml.count(old) >= 1, old
        xml = xml.replace(old, new)
    return xml


CHANGED_INTAKE = replace(
    INTAKE,
    ('name="Visitation og rådighedsvurdering"', 'name="Visitationssamtale"'),
    ('<bpmn:flowNodeRef>afgoerelse</bpmn:flowNodeRef>', ''),  # afgoerelse moves to the jobcenter lane
    ('<bpmn:flowNodeRef>paamindelse_slut</bpmn:flowNodeRef>',
     '<bpmn:flowNodeRef>paamindelse_slut</bpmn:flowNodeRef><bpmn:flowNodeRef>afgoerelse</bpmn:flowNodeRef>'),
    ('"P7D"', '"P10D"'),
    ('forsikret == True', 'forsikret == True and henvendelsesdato != ""'),
    ('name="ansoegning_modtaget"', 'name="ansoegning_indsendt"'),
    ('camunda:formKey="t_registrering"', 'camunda:formKey="t_note"'),
    ('camunda:formKey="t_afgoerelse"/>',
     'camunda:formKey="t_afgoerelse"><bpmn:extensionElements><camunda:properties>'
     '<camunda:property name="deadline" value="P5D"/><camunda:property name="audience" value="teamlead"/>'
     '</camunda:properties></bpmn:extensionElements></bpmn:userTask>'),
    ('"paamindelse"', '"paamindelse_ny"'), ('>paamindelse<', '>paamindelse_ny<'),  # a new id: removed + added
)


def by_id(elements):
    return {e.element_id: e for e in elements}


def test_a_diff_names_what_changed_in_words(session, staff):
    deploy(session, "intake.bpmn", INTAKE)
    deploy(session, "intake.bpmn", CHANGED_INTAKE)
    result = diff_versions(session, "intake", 1, 2)
    assert [e.element_id for e in result.removed] == ["paamindelse"]
    assert [(e.element_id, e.type, e.name) for e in result.added] == [
        ("paamindelse_ny", "userTask", "Påmindelse: visitation er forfalden")]
    assert result.suggested_mapping == {"paamindelse": "paamindelse_ny"}  # SpecDiff's alignment by the flow
    changed = {e.element_id: e.attributes for e in result.changed}
    assert set(changed) == {"visitation", "afgoerelse", "visitation_forfalden", "forsikret_gw",
                            "ansoegning_modtaget", "registrering"}
    assert changed["visitation"] == ('navn (name): "Visitation og rådighedsvurdering" → "Visitationssamtale"',)
    assert 'enhed (lane/unit): "ydelsesservice" → "jobcenter"' in changed["afgoerelse"]
    assert 'frist (deadline): (intet) → "P5D"' in changed["afgoerelse"]
    assert "modtagere (audience): alle i enheden → teamleder" in changed["afgoerelse"]
    assert changed["visitation_forfalden"] == (
        'timer (timer value): "P7D" → "P10D"',
        "fører videre til (next): paamindelse → paamindelse_ny")
    assert changed["forsikret_gw"] == (
        'betingelse mod henvist_akasse (condition): "forsikret == True" → '
        '"forsikret == True and henvendelsesdato != """',)
    assert changed["ansoegning_modtaget"] == ('besked (message name): "ansoegning_modtaget" → "ansoegning_indsendt"',)
    assert changed["registrering"] == ('formular (form): "t_registrering" → "t_note"',)
    assert result.forms_added == ["t_note"] and result.forms_removed == ["t_registrering"]
    assert result.forms_changed == []


def test_the_same_version_twice_differs_in_nothing(session, staff):
    deploy(session, "intake.bpmn", INTAKE)
    result = diff_versions(session, "intake", 1, 1)
    assert (result.added, result.removed, result.changed, result.forms_changed, result.affected) == ([],) * 5


def test_an_unknown_version_or_key_is_not_found(session, staff):
    deploy(session, "intake.bpmn", INTAKE)
    for key, a, b in (("intake", 1, 2), ("intake", 0, 1), ("ukendt", 1, 1)):
        with pytest.raises(NotFound):
            diff_versions(session, key, a, b)


def test_affected_counts_the_old_versions_cases_on_removed_or_changed_elements(session, staff):
    deploy(session, "intake.bpmn", INTAKE)
    at_registrering = [f.start_case(session, "intake", actor=staff["jc"], cpr=cpr).id
                       for cpr in ("010190-1234", "241182-1111")]
    at_visitation = f.start_case(session, "intake", actor=staff["jc"], cpr="290200-4123")
    complete(session, staff["jc"], at_visitation.id, "registrering", REGISTRERING)
    at_message = f.start_case(session, "intake", actor=staff["jc"], cpr="121212-1212")
    complete(session, staff["jc"], at_message.id, "registrering", REGISTRERING)
    complete(session, staff["jc"], at_message.id, "visitation", VISITATION)
    deploy(session, "intake.bpmn", CHANGED_INTAKE)
    f.start_case(session, "intake", actor=staff["jc"], cpr="010101-1111")  # a v2 case counts for nothing here
    result = diff_versions(session, "intake", 1, 2)
    assert [(a.element_id, a.cases) for a in result.affected] == [
        ("ansoegning_modtaget", 1), ("registrering", 2), ("visitation", 1), ("visitation_forfalden", 1)]
    detail = versions.version_detail(session, "intake", 1)
    assert detail.running_cases == 4 and len(at_registrering) == 2
    assert [(s.element_id, s.cases) for s in detail.waiting_at] == [
        ("registrering", 2), ("ansoegning_modtaget", 1), ("visitation", 1), ("visitation_forfalden", 1)]
    assert versions.version_detail(session, "intake", 2).running_cases == 1


def test_a_removed_call_activity_counts_the_cases_inside_it(session, staff):
    deploy(session, "placement.bpmn", (f.DATA / "placement.bpmn").read_text(encoding="utf-8"))
    caller = (f.DATA / "caller.bpmn").read_text(encoding="utf-8")
    deploy(session, "caller.bpmn", caller)
    inside = f.start_case(session, "caller", actor=staff["jc"])
    assert versions.version_detail(session, "caller", 1).waiting_at[0].element_id == "match"
    without_call = replace(caller, ('<bpmn:flowNodeRef>call_sub</bpmn:flowNodeRef>', ''),
                           ('<bpmn:callActivity id="call_sub" name="Virksomhedsforløb" calledElement="placement"/>', ''),
                           ('<bpmn:sequenceFlow id="f2" sourceRef="call_sub" targetRef="done"/>', ''),
                           ('targetRef="call_sub"', 'targetRef="done"'))
    deploy(session, "caller.bpmn", without_call)
    result = diff_versions(session, "caller", 1, 2)
    assert {e.element_id: e.process for e in result.removed} == {
        "call_sub": "caller", "start": "placement", "match": "placement", "done": "placement"}
    assert [(a.element_id, a.cases) for a in result.affected] == [("call_sub", 1), ("match", 1)]
    assert inside.version == 1


def complete(session, user, case_id, element_id, data):
    from sqlalchemy import select

    from engine.models import HumanTask
    session.expire_all()
    row = session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element_id,
                                                 HumanTask.status == "open"))
    runtime.complete_task(session, task_id=row.id, data=data, user=user, rules=f.RULES)
    session.commit()


def test_a_form_whose_title_alone_changed_is_described_not_a_500():
    """A parameter named `change` once hid the change() helper: a changed form title raised TypeError."""
    from engine.diff_words import form_words
    from engine.forms import parse_form_text

    def form(title: str):
        return parse_form_text("k", '{"key": "k", "title": "%s", "fields": []}' % title)
    change = {"key": "k", "fields_added": [], "fields_removed": [], "made_required": [], "made_optional": [],
              "fields_changed": [], "title_changed": True, "layout_changed": False}
    assert form_words(change, form("Ny"), form("Gammel")) == ['formular k: titel (title): "Gammel" → "Ny"']
    assert form_words(change, None, form("Gammel")) == ["formular k ændret (form changed)"]
