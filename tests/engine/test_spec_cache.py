"""The spec cache (engine/bpmn/spec_cache.py): one restored spec per version and process, shared by its cases.

What must hold: a new version and a migrated case get their own version's spec, never another's; the
specs are not changed by running cases on them (byte for byte, `fingerprint`), so two cases of one
version loaded in one process do not see each other; a save converts the instance only.
"""
from __future__ import annotations

import re
from collections import OrderedDict

from sqlalchemy import select

from engine import runtime
from engine.bpmn import spec_cache
from engine.bpmn.serializer import SERIALIZER, _instance_to_dict, workflow_from_json
from engine.case_rules import CaseRules
from engine.migration_batch import run_batch
from engine.models import Case, HumanTask, ProcessDefinition, Wait
from tests import factories as f
from tests.journeys.walker import Walker, WalkResult, read_diagrams

SEM = "semantics/"


def definition(session, key: str, version: int = 1) -> ProcessDefinition:
    return session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                           ProcessDefinition.version == version)).one()


def loaded(session, case_id: str):
    session.expire_all()
    case = session.get(Case, case_id)
    return workflow_from_json(case.state_json, session.get(ProcessDefinition, case.definition_id).spec_json)


def open_elements(session, case_id: str) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(HumanTask.element_id).where(
        HumanTask.case_id == case_id, HumanTask.status.in_(("open", "claimed")))))


def waits(session, case_id: str) -> set[str]:
    return set(session.scalars(select(Wait.element_id).where(Wait.case_id == case_id)))


def message(session, users, name: str, case_id: str) -> None:
    runtime.correlate_message(session, name=name, correlation_key=case_id, data={}, user=users["system"],
                              rules=f.RULES)
    session.commit()


def complete(session, user, element: str, case_id: str, data=None) -> None:
    session.expire_all()
    row = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element,
                                                  HumanTask.status == "open")).first()
    runtime.complete_task(session, task_id=row.id, data=data or {}, user=user, rules=f.RULES)
    session.commit()


def test_cases_of_one_version_share_its_spec_and_a_new_version_gets_its_own(db, session, seed):
    users = seed()
    f.deploy_data(session, "placement.bpmn", SEM + "interrupting.bpmn")
    first = f.start_case(session, "interrupting", actor=users["jc"]).id
    second = f.start_case(session, "interrupting", actor=users["jc"]).id
    one, two = loaded(session, first), loaded(session, second)
    assert one.spec is two.spec                                   # restored once, shared
    assert one.subprocess_specs is not two.subprocess_specs       # each workflow's own dict of them
    assert one.subprocess_specs == two.subprocess_specs

    text = (f.DATA / "semantics" / "interrupting.bpmn").read_text(encoding="utf-8")
    changed = text.replace('name="Behandl sagen"', 'name="Behandl sagen (ny)"')
    assert changed != text
    f.deploy_files_text(session, "interrupting.bpmn", changed)
    newer = f.start_case(session, "interrupting", actor=users["jc"]).id
    three = loaded(session, newer)
    assert session.get(Case, newer).version == 2
    assert three.spec is not one.spec
    assert three.spec.task_specs["behandl"].bpmn_name == "Behandl sagen (ny)"
    assert one.spec.task_specs["behandl"].bpmn_name == "Behandl sagen"


def test_a_migrated_case_loads_with_the_new_versions_spec(db, session, seed):
    users = seed() | {"vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])}
    f.deploy_data(session, "semantics/structure.bpmn")
    case_id = f.start_case(session, "structure", actor=users["jc"], data={"virksomhed": True}).id
    before = loaded(session, case_id).spec
    text = (f.DATA / "semantics" / "structure.bpmn").read_text(encoding="utf-8")
    renamed = re.sub(r'name="Kontakt virksomhed"', 'name="Kontakt virksomheden"', text)
    assert renamed != text
    f.deploy_files_text(session, "structure.bpmn", renamed)
    assert run_batch(db.session_factory, process_key="structure", from_version=1, to_version=2, actor="owner",
                     rules=f.RULES).migrated == [case_id]
    after = loaded(session, case_id)
    assert session.get(Case, case_id).version == 2
    assert after.spec is spec_cache.shared_specs(definition(session, "structure", 2).spec_json).spec
    assert after.spec is not before
    assert after.spec.task_specs["kontakt"].bpmn_name == "Kontakt virksomheden"
    # the case goes on, on version 2, and a case of version 1 still loads with version 1's spec
    complete(session, users["vs"], "kontakt", case_id, {"note": "ok"})
    assert loaded(session, case_id).spec is after.spec


def test_an_event_subprocess_one_case_starts_is_not_started_in_another(db, session, seed):
    users = seed()
    f.deploy_data(session, "placement.bpmn", SEM + "interrupting.bpmn")
    specs = spec_cache.shared_specs(definition(session, "interrupting").spec_json)
    before = spec_cache.fingerprint(specs)
    stopped = f.start_case(session, "interrupting", actor=users["jc"]).id
    other = f.start_case(session, "interrupting", actor=users["jc"]).id
    listening = waits(session, other)

    message(session, users, "noter", stopped)   # the non-interrupting event subprocess
    message(session, users, "stop", stopped)    # the interrupting one: the main flow is cancelled
    assert open_elements(session, stopped) == {"afslut"}

    # the other case, loaded in the same process on the same spec, is where it was
    assert open_elements(session, other) == {"behandl", "match"}
    assert waits(session, other) == listening
    assert not [t for t in loaded(session, other).task_tree.children if t.triggered]
    # and a case started after it does not start the event subprocess with it
    later = f.start_case(session, "interrupting", actor=users["jc"]).id
    assert open_elements(session, later) == {"behandl", "match"}

    complete(session, users["jc"], "afslut", stopped)
    assert session.get(Case, stopped).status == "completed"
    message(session, users, "stop", other)      # the other case stops in its own time, the same way
    assert open_elements(session, other) == {"afslut"}
    complete(session, users["jc"], "afslut", other)
    assert session.get(Case, other).status == "completed"
    assert spec_cache.fingerprint(specs) == before   # nothing the cases did changed the shared spec


def test_journeys_run_on_shared_specs_leave_them_unchanged(db, session, seed):
    """A few seeded walks of the journeys with event subprocesses, loops and call activities."""
    root = f.ROOT
    rules = CaseRules(forms_dir=root / "forms", deadlines_file=root / "config" / "deadlines.toml")
    users = seed(root / "processes", rules=rules)
    rows = session.scalars(select(ProcessDefinition)).all()
    specs = {row.key: spec_cache.shared_specs(row.spec_json) for row in rows}
    before = {key: spec_cache.fingerprint(s) for key, s in specs.items()}
    walker = Walker(db, session, rules, read_diagrams(root / "processes"), users)
    result = WalkResult()
    for process in ("kontanthjaelp", "sygedagpenge"):
        for seed_number in range(2):
            walker.walk(process, seed_number, result)
    assert result.steps > 50
    assert {key: spec_cache.fingerprint(s) for key, s in specs.items()} == before
    assert all(spec_cache.shared_specs(row.spec_json) is specs[row.key] for row in rows)


def test_a_save_converts_the_instance_as_the_library_does_without_the_spec(db, session, seed):
    users = seed()
    f.deploy_data(session, "placement.bpmn", SEM + "interrupting.bpmn")
    case_id = f.start_case(session, "interrupting", actor=users["jc"]).id
    workflow = loaded(session, case_id)
    spec = workflow.spec
    full = SERIALIZER.to_dict(workflow)
    full.pop("spec"), full.pop("subprocess_specs")
    mine = _instance_to_dict(workflow)
    assert mine.pop("spec") is None and mine.pop("subprocess_specs") == {}
    assert mine == full
    assert workflow.spec is spec and workflow.subprocess_specs  # put back afterwards


def test_the_cache_is_bounded_and_a_dropped_spec_is_restored_again(db, session, seed, monkeypatch):
    seed()
    f.deploy_data(session, "placement.bpmn", SEM + "interrupting.bpmn")
    monkeypatch.setattr(spec_cache, "_CACHE", OrderedDict())  # not what earlier tests of this process cached
    text = definition(session, "interrupting").spec_json
    first = spec_cache.shared_specs(text)
    monkeypatch.setattr(spec_cache, "MAX_SPECS", 1)
    other = spec_cache.shared_specs(definition(session, "placement").spec_json)
    assert spec_cache.shared_specs(definition(session, "placement").spec_json) is other
    again = spec_cache.shared_specs(text)                        # placement's pushed it out
    assert again is not first and spec_cache.fingerprint(again) == spec_cache.fingerprint(first)
    assert spec_cache.shared_specs(text) is again


ADHOC = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_adhoc"
    targetNamespace="https://tovholder.dk/test">
  <bpmn:process id="adhoc" name="Ad hoc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="frit"/>
    <bpmn:adHocSubProcess id="frit" name="Frit forløb">
      <bpmn:scriptTask id="noget" name="Noget"><bpmn:script>gjort = True</bpmn:script></bpmn:scriptTask>
      <bpmn:completionCondition>gjort</bpmn:completionCondition>
    </bpmn:adHocSubProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="frit" targetRef="slut"/>
    <bpmn:endEvent id="slut"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_spec_with_an_ad_hoc_subprocess_is_restored_for_each_workflow(db, session, seed):
    """The library connects an ad hoc subprocess's specs at run time from the workflow's data: never shared."""
    seed()
    f.deploy_files_text(session, "adhoc.bpmn", ADHOC)
    text = definition(session, "adhoc").spec_json
    first, second = spec_cache.shared_specs(text), spec_cache.shared_specs(text)
    assert not first.shared and first.spec is not second.spec
