"""Deploy refuses what no case could run: impossible timer values, and any DOCTYPE.

A timer value SpiffWorkflow cannot turn into a due time made every case start
fail (or, for an endless cycle starting in the past, loop without end); a
DOCTYPE with an external parameter entity deployed, but the stored XML then
read differently when another process called it. Both are refused at deploy
with file, element and line; a value computed from case data is refused when
the case reaches the timer, as an error of that element.
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from engine import catalog, runtime
from engine.errors import ProcessError
from engine.models import Case, ProcessDefinition
from tests import factories as f
from tests.engine.test_catalog import refused  # one helper: refused whole, nothing stored

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="vent"/>
    <bpmn:intermediateCatchEvent id="vent" name="Vent">
      <bpmn:timerEventDefinition>
        <bpmn:{tag}>{expr}</bpmn:{tag}>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="vent" targetRef="slut"/>
    <bpmn:endEvent id="slut"/>
  </bpmn:process>
</bpmn:definitions>
"""
TIMER_LINE = 8  # the line of <bpmn:{tag}> above


def timer_process(tag: str, expr: str, pid: str = "ventetid") -> bytes:
    return PROCESS.format(pid=pid, tag=tag, expr=expr).encode("utf-8")


@pytest.fixture
def units(session):
    f.add_units(session)


@pytest.mark.parametrize("tag, expr, needle", [
    ("timeDuration", '"P999999999D"', "100 years"),
    ("timeDuration", '"P999999999Y"', "100 years"),  # the library would count its months one by one
    ("timeDuration", '"P101Y"', "100 years"),
    ("timeDuration", '"-P1D"', "negative"),
    ("timeDuration", '"P"', "not an ISO 8601 duration"),
    ("timeDuration", '"fem dage"', "not an ISO 8601 duration"),
    ("timeDuration", "5", "gives int"),
    ("timeDuration", 'deadline("P5D")', "belongs in a timeDate"),
    ("timeDate", '"10000-01-01T00:00:00"', "not an ISO 8601 date"),
    ("timeDate", '"0001-01-01T00:00:00+05:00"', "outside the dates"),
    ("timeDate", '"9999-12-31T23:00:00+00:00"', "100 years"),
    ("timeDate", '"P5D"', "not a moment"),
    ("timeDate", 'deadline("no_such_rule")', "no deadline named"),
    ("timeDate", 'dedline("P5D")', "dedline()"),
    ("timeCycle", '"PT1H"', "no repetitions"),
    ("timeCycle", '"R/PT1H"', "without end"),
    ("timeCycle", '"R/2020-01-01T00:00:00Z/PT1H"', "without end"),
    ("timeCycle", '"R0/PT1H"', "from 1 to 1000"),
    ("timeCycle", '"R1001/PT1H"', "from 1 to 1000"),
    ("timeCycle", '"R3/PT0S"', "longer than zero"),
    ("timeCycle", '"R3/P1D/P2D"', "repeating interval"),
    ("timeCycle", '"R1000/P1Y"', "100 years"),
])
def test_a_timer_no_case_could_start_is_refused_with_element_and_line(session, units, tag, expr, needle):
    [problem] = refused(session, ("ventetid.bpmn", timer_process(tag, expr)))
    assert problem["file"] == "ventetid.bpmn"
    assert problem["element"] == "vent"
    assert problem["line"] == TIMER_LINE
    assert needle in problem["message"], problem["message"]


@pytest.mark.parametrize("tag, expr", [
    ("timeDuration", '"P5D"'), ("timeDuration", '"PT2H30M"'), ("timeDuration", '"P99Y"'),
    ("timeDuration", '"PT0S"'), ("timeDate", '"2026-05-01T09:00:00+02:00"'), ("timeDate", '"2020-01-01"'),
    ("timeDate", 'deadline("P3D")'), ("timeDate", 'deadline("visitation")'),
    ("timeCycle", '"R3/PT1H"'), ("timeCycle", '"R2/2026-05-01T09:00:00+02:00/P7D"'),
    ("timeCycle", '"R1000/PT1M"'),
    ("timeDuration", "frist"), ("timeDuration", '"P" + str(dage) + "D"'),  # from case data: checked when run
])
def test_timers_a_case_can_run_still_deploy_and_start(session, units, tag, expr):
    [deployed] = catalog.deploy(session, [("ventetid.bpmn", timer_process(tag, expr))], rules=f.RULES)
    session.commit()
    case = runtime.start_case(session, process_key=deployed.key, version=None, cpr=f.CPR,
                              data={"frist": "P2D", "dage": 2, "henvendelsesdato": "2026-01-05"},
                              actor=None, rules=f.RULES)
    session.commit()
    assert case.status in ("running", "completed")


@pytest.mark.parametrize("tag, value, needle", [
    ("timeDuration", "-P1D", "negative"),
    ("timeDuration", "P999999999Y", "100 years"),
    ("timeDuration", 7, "gives int"),
    ("timeCycle", "R/2020-01-01T00:00:00Z/PT1H", "without end"),  # the library would fire it without end
])
def test_a_timer_value_from_case_data_fails_the_step_naming_the_element(session, units, tag, value, needle):
    catalog.deploy(session, [("ventetid.bpmn", timer_process(tag, "frist"))], rules=f.RULES)
    session.commit()
    began = time.monotonic()
    with pytest.raises(ProcessError) as err:
        runtime.start_case(session, process_key="ventetid", version=None, cpr=f.CPR, data={"frist": value},
                           actor=None, rules=f.RULES)
    session.rollback()
    assert time.monotonic() - began < 5
    assert err.value.detail["element"] == "vent"
    assert needle in err.value.detail["message"], err.value.detail
    assert session.scalars(select(Case)).all() == []


# -- DOCTYPE ---------------------------------------------------------------------------------------

EXTERNAL_PARAMETER_ENTITY = '<!DOCTYPE bpmn:definitions [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>\n'
KATEGORI_DMN = f.DATA / "semantics" / "kategori.dmn"


def with_doctype(raw: bytes, doctype: str) -> bytes:
    head, rest = raw.split(b"\n", 1)
    assert head.startswith(b"<?xml")
    return head + b"\n" + doctype.encode("utf-8") + rest


@pytest.mark.parametrize("doctype", [
    EXTERNAL_PARAMETER_ENTITY,
    '<!DOCTYPE bpmn:definitions [<!ENTITY navn "Jobcenter">]>\n',
    '<!DOCTYPE bpmn:definitions SYSTEM "http://example.invalid/bpmn.dtd">\n',
    '<!-- modeller export -->\n<!DOCTYPE bpmn:definitions>\n',
])
def test_any_doctype_in_a_diagram_is_refused(session, units, doctype):
    raw = with_doctype(timer_process("timeDuration", '"P5D"'), doctype)
    [problem] = refused(session, ("ventetid.bpmn", raw))
    assert problem["file"] == "ventetid.bpmn"
    assert problem["line"] == doctype.count("\n") + 1  # the DOCTYPE's own line, after the declaration
    assert "DOCTYPE" in problem["message"]


def test_a_doctype_in_a_decision_table_is_refused(session, units):
    raw = with_doctype(KATEGORI_DMN.read_bytes(), EXTERNAL_PARAMETER_ENTITY.replace("bpmn:", "dmn:"))
    problems = refused(session, ("kategori.dmn", raw), ("ventetid.bpmn", timer_process("timeDuration", '"P5D"')))
    assert [(p["file"], p["line"]) for p in problems] == [("kategori.dmn", 2)]
    assert "DOCTYPE" in problems[0]["message"]


def test_a_doctype_only_named_in_a_comment_is_no_doctype(session, units):
    raw = with_doctype(timer_process("timeDuration", '"P5D"'), "<!-- no <!DOCTYPE here -->\n")
    [deployed] = catalog.deploy(session, [("ventetid.bpmn", raw)], rules=f.RULES)
    assert deployed.new


CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_k" targetNamespace="t">
  <bpmn:process id="kalder" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kald"/>
    <bpmn:callActivity id="kald" calledElement="ventetid"/>
    <bpmn:sequenceFlow id="f2" sourceRef="kald" targetRef="slut"/>
    <bpmn:endEvent id="slut"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_stored_definition_is_read_again_as_it_was_at_its_deploy(session, units):
    """A row stored before DOCTYPEs were refused still serves the processes that call it."""
    catalog.deploy(session, [("ventetid.bpmn", timer_process("timeDuration", '"P5D"'))], rules=f.RULES)
    row = session.scalar(select(ProcessDefinition))
    session.execute(update(ProcessDefinition).where(ProcessDefinition.id == row.id).values(
        bpmn_xml=with_doctype(row.bpmn_xml.encode(), EXTERNAL_PARAMETER_ENTITY).decode()))
    session.commit()
    [deployed] = catalog.deploy(session, [("kalder.bpmn", CALLER.encode())], rules=f.RULES)
    assert (deployed.key, deployed.new) == ("kalder", True)
