"""Every stored state format we have ever written still loads and runs to the end.

Each folder under tests/data/states/ holds a case saved by an earlier version
(see make_sample.py there). A SpiffWorkflow upgrade that can no longer read
them fails here, before it reaches a municipality's running cases.

SpiffWorkflow 3.2.0 cannot migrate 3.1.x states that contain subprocesses.
Tovholder is not affected: it has only ever stored format spiff-1.5 (3.2.0),
and the sample below waits inside a called subprocess on purpose.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.bpmn.serializer import STATE_FORMAT, workflow_from_json
from engine.models import Case, Citizen, HumanTask, ProcessDefinition
from tests import factories as f

STATES = Path(__file__).resolve().parent.parent / "data" / "states"
FORMATS = sorted(p for p in STATES.iterdir() if p.is_dir() and (p / "case.json").exists())


def test_the_current_format_has_a_stored_sample():
    assert STATE_FORMAT.replace("/", "_") in {p.name for p in FORMATS}, \
        "run `python -m tests.data.states.make_sample` and commit the new folder"


@pytest.mark.parametrize("folder", FORMATS, ids=[p.name for p in FORMATS])
def test_stored_case_loads_and_runs_to_the_end(session, folder):
    f.add_units(session)
    vs = f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])
    definition_file = json.loads((folder / "definition.json").read_text(encoding="utf-8"))
    stored = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    workflow = workflow_from_json(stored["state_json"], definition_file["spec_json"])
    assert [str(t.id) for t in workflow.get_tasks(state=16)] == [r["id"] for r in stored["ready"]]

    # put the stored case where the engine finds it, then drive it on through the one mutation path
    now = clock.now()
    definition = ProcessDefinition(key=definition_file["key"], version=definition_file["version"], name="stored",
                                   hash="0" * 64, source_file=definition_file["source_file"],
                                   bpmn_xml=definition_file["bpmn_xml"], spec_json=definition_file["spec_json"],
                                   calls=[], created_at=now)
    citizen = Citizen(cpr="0101901234")
    session.add_all([definition, citizen])
    session.flush()
    case = Case(definition_id=definition.id, process_key=definition.key, version=definition.version,
                citizen_id=citizen.id, status="running", state_json=stored["state_json"], data={},
                lock_version=0, audit_seq=0, created_at=now, updated_at=now)
    session.add(case)
    session.flush()
    for ready in stored["ready"]:
        session.add(HumanTask(id=ready["id"], case_id=case.id, process_key=case.process_key,
                              process_version=case.version, element_id=ready["element_id"], name=ready["element_id"],
                              unit=ready["unit"], status="open", created_at=now, form_key="t_note"))
    session.commit()

    for ready in stored["ready"]:
        runtime.complete_task(session, task_id=ready["id"], data={"note": "videre"}, user=vs, rules=f.RULES)
        session.commit()
    session.expire_all()
    finished = session.get(Case, case.id)
    assert finished.status == "completed"
    assert finished.data["note"] == "videre"
    assert session.scalars(select(HumanTask).where(HumanTask.status == "open")).all() == []
