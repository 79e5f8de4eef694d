"""The JUEL subset of Camunda 7 diagrams, translated to sandboxed Python once (engine.bpmn.juel), and refusals."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine import clock, scripting
from engine.bpmn import camunda7
from engine.bpmn.juel import JuelError, translate
from engine.scripting import ScriptContext, compile_checked, is_cheap, shift_time

TRANSLATIONS = [
    ("${approved}", "approved"),
    ("#{approved}", "approved"),
    ("  ${ approved }  ", "approved"),
    ("${!approved}", "(not approved)"),
    ("${not approved}", "(not approved)"),
    ("${x == 'a'}", "(x == 'a')"),
    ('${x eq "a"}', "(x == 'a')"),
    ("${x ne 'a'}", "(x != 'a')"),
    ("${n > 3 && ok}", "((n > 3) and ok)"),
    ("${n gt 3 and ok}", "((n > 3) and ok)"),
    ("${a || b && c}", "(a or (b and c))"),
    ("${a <= 1 or b ge 2.5}", "((a <= 1) or (b >= 2.5))"),
    ("${empty x}", "((not x) and (x != 0))"),
    ("${not empty x}", "(not ((not x) and (x != 0)))"),
    ("${x != null}", "(x is not None)"),
    ("${null == x}", "(x is None)"),
    ("${x == -1}", "(x == -1)"),
    ("${ok ? 'ja' : 'nej'}", "('ja' if ok else 'nej')"),
    ("${person.alder >= 18}", "(person['alder'] >= 18)"),
    ("${liste[0] == 'x'}", "(liste[0] == 'x')"),
    ("${m['nøgle']}", "m['nøgle']"),
    ("${'it\\'s'}", '"it\'s"'),
    ("${true}", "True"),
    ("${execution.getVariable('approved')}", "approved"),
    ("${now()}", "iso(now())"),
    ("${dateTime().toDate()}", "iso(now())"),
    ("${dateTime().plusDays(3).toDate()}", "iso(shift_time(now(), days=3))"),
    ("${dateTime().plusWeeks(2).minusHours(1)}", "iso(shift_time(shift_time(now(), weeks=2), hours=-1))"),
    ("${dateTime().plusMonths(frist).toDate()}", "iso(shift_time(now(), months=frist))"),
    ("${dateTime().minusDays(frist).toDate()}", "iso(shift_time(now(), days=(-frist)))"),
]


@pytest.mark.parametrize("juel,python", TRANSLATIONS)
def test_translation(juel, python):
    translated = translate(juel)
    assert translated == python
    compile_checked(translated, "eval")  # ordinary sandboxed Python
    assert is_cheap(translated)  # so it runs in the server process, as Tovholder's own conditions do


REFUSED = [
    ("${a + b}", "arithmetic ('+')"),
    ("${a * 2 > 3}", "arithmetic ('*')"),
    ("${a div 2}", "arithmetic ('div')"),
    ("${a mod 2}", "arithmetic ('mod')"),
    ("${-x}", "before a number only"),
    ("${x = 1}", "'='"),
    ("${x -> x}", "'->'"),
    ("${a instanceof b}", "'instanceof'"),
    ("${approved", "not closed"),
    ("${}", "empty"),
    ("${a ? b}", "expected ':'"),
    ("${a b}", "unexpected 'b'"),
    ("${(a}", "expected ')'"),
    ("${'open}", "string is not closed"),
    ("${'\\n'}", "may only escape"),
    ("Tilladt: ${approved}", "mixed"),
    ("${a}${b}", "mixed"),
    ("${a} og mere", "mixed"),
    ("${bean.approve(x)}", "approve()"),
    ("${execution.setVariable('x', 1)}", "setVariable()"),
    ("${execution.processBusinessKey}", "'execution'"),
    ("${task.assignee}", "'task'"),
    ("${authenticatedUserId}", "'authenticatedUserId'"),
    ("${nrOfCompletedInstances >= 2}", "multi-instance"),
    ("${currentUser()}", "currentUser()"),
    ("${dateTime().withTimeAtStartOfDay()}", "withTimeAtStartOfDay()"),
    ("${dateTime().plusDays()}", "takes one number"),
    ("${_secret}", "'_secret'"),
    ("${class == 1}", "'class'"),
    ("${a$b}", "'a$b'"),
    ("${x # y}", "unexpected character"),
]


@pytest.mark.parametrize("juel,needle", REFUSED)
def test_refusal_names_the_expression_and_the_reason(juel, needle):
    with pytest.raises(JuelError) as err:
        translate(juel)
    message = str(err.value)
    assert message.startswith(" ".join(juel.split())[:40]), message
    assert needle in message, message


DATA = {"approved": True, "x": "a", "n": 5, "ok": True, "tom": "", "nul": 0, "falsk": False, "ingen": None,
        "liste": [], "kort": {}, "person": {"alder": 17}}


@pytest.mark.parametrize("juel,expected", [
    ("${empty tom}", True), ("${empty ingen}", True), ("${empty liste}", True), ("${empty kort}", True),
    ("${empty nul}", False), ("${empty falsk}", False), ("${empty x}", False),
    ("${ingen == null}", True), ("${x != null}", True), ("${!approved}", False),
    ("${n > 3 && ok}", True), ("${n > 3 && !ok}", False), ("${x == 'a' ? n : 0}", 5),
    ("${person.alder >= 18}", False),
])
def test_translated_expressions_mean_what_camunda_means(juel, expected):
    assert scripting.evaluate(ScriptContext(), translate(juel), dict(DATA)) == expected


def test_a_variable_the_case_lacks_fails_as_in_camunda():
    with pytest.raises(NameError):
        scripting.evaluate(ScriptContext(), translate("${unknown == 'a'}"), {})


def test_the_datetime_idiom_gives_iso_text_from_the_engine_clock():
    with clock.at(datetime(2026, 1, 31, 9, 0, tzinfo=timezone.utc)):
        value = scripting.evaluate(ScriptContext(), translate("${dateTime().plusMonths(1).plusDays(frist).toDate()}"),
                                   {"frist": 2})
    assert value == "2026-03-02T10:00:00+01:00"  # 31 Jan + 1 month = 28 Feb (month end kept), + 2 days


def test_shift_time_keeps_the_wall_clock_over_summer_time_for_days_and_counts_hours():
    start = "2026-03-28T12:00:00+01:00"  # Danish summer time begins the night after
    assert shift_time(start, days=1).isoformat() == "2026-03-29T12:00:00+02:00"
    assert shift_time(start, hours=24).isoformat() == "2026-03-29T13:00:00+02:00"
    assert shift_time(start, years=-1, weeks=2).isoformat() == "2025-04-11T12:00:00+02:00"


@pytest.mark.parametrize("kwargs,error", [({"days": 1.5}, TypeError), ({"days": "3"}, TypeError),
                                          ({"days": True}, TypeError), ({"years": 10**7}, ValueError),
                                          ({"years": 9000}, ValueError)])
def test_shift_time_refuses_what_is_no_calendar_step(kwargs, error):
    with pytest.raises(error):
        shift_time(datetime(2026, 1, 1, tzinfo=timezone.utc), **kwargs)


@pytest.mark.parametrize("text,camunda7_diagram,python", [
    ("P14D", True, "'P14D'"), ("R3/PT1H", True, "'R3/PT1H'"), ("2026-05-01T09:00:00+02:00", True,
                                                             "'2026-05-01T09:00:00+02:00'"),
    ("PT1H30M", True, "'PT1H30M'"), ("P1DT", True, "'P1DT'"),  # not ISO: timer_rules refuses the text
    ('"P5D"', True, '"P5D"'), ('deadline("visitation")', True, 'deadline("visitation")'), ("frist", True, "frist"),
    ("${frist}", True, "frist"), ("${frist}", False, "frist"),
    ("P14D", False, "P14D"),  # in Tovholder's own diagrams timer values stay Python (refused unquoted)
])
def test_timer_values_by_dialect(text, camunda7_diagram, python):
    assert camunda7.timer_python(text, camunda7_diagram) == python


def test_conditions_without_expressions_stay_python():
    assert camunda7.condition_python('kategori == "jobparat"') == 'kategori == "jobparat"'
    assert camunda7.condition_python("${kategori == 'jobparat'}") == "(kategori == 'jobparat')"


@pytest.mark.parametrize("key,form", [("visitation", "visitation"), ("embedded:app:forms/leave.html", "leave"),
                                      ("app:leave.html", "leave"), ("camunda-forms:deployment:klage.form", "klage"),
                                      ("embedded:deployment:forms/a/b-c.htm", "b-c")])
def test_form_keys(key, form):
    assert camunda7.mapped_form_key(key) == form
