"""The deploy checks' messages in Danish (engine.studio_words), checked against messages the engine produces.

Each bad diagram below is refused by the real deploy preparation; every message it gives must be one
the table knows. A message the table does not know passes through unchanged.
"""
from __future__ import annotations

import pytest

from engine import catalog, clock, studio_words
from engine.deadlines import DeadlineError, parse_rule
from engine.errors import Invalid, InvalidDefinition
from engine.forms import parse_form_text
from engine.timer_rules import value_problem
from tests import factories as f

INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
TIMER = '<bpmn:timeDuration>"P7D"</bpmn:timeDuration>'
SERVICE = ('<bpmn:serviceTask id="brev" name="Brev" {attrs}/>'
           '<bpmn:sequenceFlow id="flow_brev" sourceRef="brev" targetRef="afgjort"/>')


def refusal(xml: str, forms: dict | None = None) -> list[str]:
    files = [("intake.bpmn", xml.encode("utf-8"))] + [(n, t.encode("utf-8")) for n, t in (forms or {}).items()]
    with pytest.raises(InvalidDefinition) as refused:
        catalog.prepare(_session(), files, rules=f.RULES)
    return [p["message"] for p in refused.value.detail]


_SESSION = []


def _session():
    return _SESSION[-1]


@pytest.fixture(autouse=True)
def units(session):
    f.add_units(session)
    _SESSION.append(session)
    yield
    _SESSION.pop()


def with_service(attrs: str) -> str:
    return INTAKE.replace('<bpmn:endEvent id="afgjort" name="Afgjort"/>',
                          '<bpmn:endEvent id="afgjort" name="Afgjort"/>' + SERVICE.format(attrs=attrs))


BAD_DIAGRAMS = {
    "unknown lane": INTAKE.replace('name="ydelsesservice"', 'name="ydelser"'),
    "id twice": INTAKE.replace('id="flow_5"', 'id="flow_4"'),
    "reserved id": INTAKE.replace('"afgjort"', '"End"'),
    "dangling reference": INTAKE.replace('targetRef="afgjort"', 'targetRef="nowhere"'),
    "missing form": INTAKE.replace('"t_afgoerelse"', '"t_none"'),
    "unquoted timer": INTAKE.replace(TIMER, "<bpmn:timeDuration>P7D</bpmn:timeDuration>"),
    "empty timer": INTAKE.replace(TIMER, "<bpmn:timeDuration> </bpmn:timeDuration>"),
    "negative timer": INTAKE.replace(TIMER, '<bpmn:timeDuration>"-P1D"</bpmn:timeDuration>'),
    "far timer": INTAKE.replace(TIMER, '<bpmn:timeDuration>"P99999D"</bpmn:timeDuration>'),
    "not a duration": INTAKE.replace(TIMER, '<bpmn:timeDuration>"soon"</bpmn:timeDuration>'),
    "unknown function": INTAKE.replace(TIMER, "<bpmn:timeDuration>later()</bpmn:timeDuration>"),
    "bad condition": INTAKE.replace("forsikret == True", "forsikret ==="),
    "camunda condition outside the subset": INTAKE.replace("forsikret == True", "${forsikret + 1}"),
    "camunda listener": INTAKE.replace('<bpmn:endEvent id="afgjort" name="Afgjort"/>',
                                       '<bpmn:endEvent id="afgjort" name="Afgjort"><bpmn:extensionElements>'
                                       '<camunda:executionListener class="dk.Lytter" event="start"/>'
                                       '</bpmn:extensionElements></bpmn:endEvent>'),
    "import in a condition": INTAKE.replace("forsikret == True", "__import__('os')"),
    "no executable process": INTAKE.replace('isExecutable="true"', 'isExecutable="false"'),
    "unknown deadline": INTAKE.replace('camunda:formKey="t_afgoerelse"/>', 'camunda:formKey="t_afgoerelse">'
                                       '<bpmn:extensionElements><camunda:properties><camunda:property '
                                       'name="deadline" value="ingen_saadan"/></camunda:properties>'
                                       '</bpmn:extensionElements></bpmn:userTask>'),
    "bad audience": INTAKE.replace('camunda:formKey="t_afgoerelse"/>', 'camunda:formKey="t_afgoerelse">'
                                   '<bpmn:extensionElements><camunda:properties><camunda:property '
                                   'name="audience" value="alle"/></camunda:properties>'
                                   '</bpmn:extensionElements></bpmn:userTask>'),
    "service without topic": with_service(""),
    "service with a class": with_service('camunda:class="dk.Brev"'),
    "service with a bad topic": with_service('camunda:topic="Brev Til Borger"'),
    "calls nothing": INTAKE.replace('<bpmn:endEvent id="afgjort" name="Afgjort"/>',
                                    '<bpmn:endEvent id="afgjort" name="Afgjort"/><bpmn:callActivity id="kald" '
                                    'calledElement="findes_ikke"/>'),
    "unknown switch": INTAKE.replace("forsikret == True", 'switch("ingen_saadan")'),
    "switch without quotes": INTAKE.replace("forsikret == True", "switch(forsikret)"),
    "not xml": "<bpmn:definitions",
    "doctype": INTAKE.replace("<bpmn:definitions", '<!DOCTYPE x [<!ENTITY a "b">]>\n<bpmn:definitions', 1),
    "not bpmn": "<?xml version='1.0'?><definitions/>",
}


@pytest.mark.parametrize("name", list(BAD_DIAGRAMS))
def test_every_message_of_a_refused_diagram_is_in_the_table(name):
    messages = refusal(BAD_DIAGRAMS[name])
    assert messages
    for message in messages:
        assert studio_words._known(message), f"{name}: no Danish for {message!r}"
        assert studio_words.danish(message) != message


@pytest.mark.parametrize("content", [
    '{"title": "x", "fields": [{"name": "a", "type": "choice"}]}',
    '{"title": "x", "fields": [{"name": "a"}, {"name": "a"}]}',
    '{"title": "x", "fields": [{"name": "a", "type": "colour"}]}',
    '{"title": "x", "fields": [{"label": "no name"}]}',
    '{"title": "x", "fields": 3}',
    '{"title": ',
])
def test_form_problems_are_in_the_table(content):
    with pytest.raises(Invalid) as refused:
        parse_form_text("t_x", content)
    assert studio_words._known(refused.value.message), refused.value.message
    assert studio_words.danish(refused.value.message).startswith("Formularen t_x.json er ugyldig: ")
    unused = refusal(INTAKE, {"t_ubrugt.json": '{"title": "x", "fields": []}'})
    assert all(studio_words._known(m) for m in unused), unused


@pytest.mark.parametrize("value", ["-P1D", "P1", "P99999999D", 5])
def test_timer_values_are_in_the_table(value):
    message = value_problem("timeDuration", value, clock.now())
    assert message and studio_words._known(message), message


@pytest.mark.parametrize("text", ["visitation_x", "P1X", "P5D working from", "P1M working", ""])
def test_deadline_problems_are_in_the_table(text):
    with pytest.raises(DeadlineError) as refused:
        parse_rule(text, f.RULES.named_deadlines())
    message = f"deadline: {refused.value}"
    assert studio_words._known(message), message
    assert studio_words.danish(message).startswith("Fristen: ")


def test_an_unknown_message_passes_through_and_reasons_are_translated_one_by_one():
    assert studio_words.danish("something new went wrong") == "something new went wrong"
    joined = ("the case stands on 'visitation', which the new version does not have; map it to an element of "
              "the new version; something else")
    assert studio_words.danish_reasons(joined) == ("Sagen står på »visitation«, som ikke findes i den nye version; "
                                                   "vælg det trin i den nye version, sagen skal flyttes til. "
                                                   "something else")


def test_form_swap_problems_are_in_the_table():
    """engine.rule_set_checks' findings on an alternative form (tests/engine/test_rule_set_switches.py deploys them)."""
    from engine.rule_set_checks import _missing

    ordinary = parse_form_text("t_o", '{"title": "o", "fields": [{"name": "a", "label": "A", "type": "choice", '
                                      '"required": true, "choices": [{"value": "x"}]}, {"name": "b", "label": "B", '
                                      '"type": "text", "required": true}, {"name": "c", "label": "C", "type": "text", '
                                      '"required": true}]}')
    other = parse_form_text("t_a", '{"title": "a", "fields": [{"name": "a", "label": "A", "type": "text", '
                                   '"required": true}, {"name": "b", "label": "B", "type": "text"}]}')
    found = _missing(ordinary, other, {"a", "b", "c"})
    assert len(found) == 3
    for why in found:
        message = f"rule set 'forsoeg' swaps form 't_o' for 't_a': {why}"
        assert studio_words._known(message), message
        assert studio_words.danish(message).startswith("Regelsættet »forsoeg« bytter formularen »t_o« ud med »t_a«: ")
        assert "the" not in studio_words.danish(message)
