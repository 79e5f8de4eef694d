"""Write a stored case of the current state format to tests/data/states/<format>/.

Run it once when the format changes (a SpiffWorkflow upgrade, or a change of
engine.serialization.STATE_FORMAT), and keep every older folder: the test
tests/engine/test_stored_states.py loads each one and runs it to the end, so a
library upgrade that cannot read old cases fails a test first.

    .venv/bin/python -m tests.data.states.make_sample
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from engine import migrate, runtime
from engine.bpmn import patches as bpmn_patches
from engine.bpmn.serializer import STATE_FORMAT
from engine.db import make_db_engine, make_session_factory
from engine.models import Case, HumanTask, ProcessDefinition
from tests import factories as f

HERE = Path(__file__).resolve().parent


def main() -> None:
    bpmn_patches.apply()
    url = f"sqlite:///{tempfile.mkdtemp()}/sample.db"
    migrate.upgrade(url)
    session = make_session_factory(make_db_engine(url), audit_key=b"sample-audit-key")()
    f.add_units(session)
    jc = f.add_user(session, "jc", "caseworker", ["jobcenter"])
    f.deploy_data(session, "placement.bpmn", "caller.bpmn")
    case = f.start_case(session, "caller", actor=jc, data={"henvendelsesdato": "2026-11-23", "note": "æøå"})
    definition = session.get(ProcessDefinition, case.definition_id)
    [task] = session.query(HumanTask).filter_by(case_id=case.id).all()
    folder = HERE / STATE_FORMAT.replace("/", "_")
    folder.mkdir(exist_ok=True)
    (folder / "definition.json").write_text(json.dumps({
        "key": definition.key, "version": definition.version, "spec_json": definition.spec_json,
        "bpmn_xml": definition.bpmn_xml, "source_file": definition.source_file}, indent=1), encoding="utf-8")
    (folder / "case.json").write_text(json.dumps({
        "format": STATE_FORMAT, "state_json": session.get(Case, case.id).state_json,
        "ready": [{"id": task.id, "element_id": task.element_id, "unit": task.unit}],
        "note": "waiting in the called process 'placement' (a subprocess) at its user task"}, indent=1),
        encoding="utf-8")
    print(f"wrote {folder}")
    assert runtime  # keeps the import honest: the sample is made through the engine


if __name__ == "__main__":
    main()
