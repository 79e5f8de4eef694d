"""A version is a bundle: its diagrams and the forms they name, stored at deploy and hashed together.

Forms are found in the upload, then in the folders given to the deploy, then
in TOVHOLDER_FORMS_DIR; a running case reads its own version's copy, so a
form file edited on disk changes nothing until the next deploy makes a new
version.
"""
from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select

from engine import bundles, catalog, runtime
from engine.case_rules import CaseRules
from engine.errors import FormRejected, InvalidDefinition
from engine.models import DefinitionForm, HumanTask
from tests import factories as f

INTAKE = (f.DATA / "intake.bpmn").read_bytes()
INTAKE_FORMS = ["t_afgoerelse", "t_paamindelse", "t_registrering", "t_visitation"]
REGISTRERING = {"forsikret": False, "henvendelsesdato": "2026-11-23"}


@pytest.fixture
def staff(seed):
    return seed()


@pytest.fixture
def forms(tmp_path):
    """A forms directory of our own to edit: a copy of tests/data/forms."""
    target = tmp_path / "forms"
    shutil.copytree(f.FORMS, target)
    return target


def rules(forms_dir) -> CaseRules:
    return CaseRules(forms_dir=forms_dir, deadlines_file=f.RULES.deadlines_file)


def deploy(session, forms_dir, *files, **kwargs):
    result = catalog.deploy(session, list(files), rules=rules(forms_dir), actor="test", **kwargs)
    session.commit()
    return result


def edit_form(forms_dir, key, change):
    path = forms_dir / f"{key}.json"
    form = json.loads(path.read_text(encoding="utf-8"))
    change(form)
    path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")


def add_required_field(form):
    form["fields"].append({"name": "ny_oplysning", "label": "Ny oplysning", "type": "text", "required": True})


def open_task(session, case_id, element_id) -> HumanTask:
    session.expire_all()
    return session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element_id,
                                                  HumanTask.status == "open"))


def test_the_forms_a_version_names_are_stored_with_it(session, staff, forms):
    [d] = deploy(session, forms, ("intake.bpmn", INTAKE))
    definition = catalog.get_definition(session, "intake", d.version)
    assert bundles.form_keys(session, definition.id) == INTAKE_FORMS
    stored = session.get(DefinitionForm, (definition.id, "t_registrering"))
    assert stored.content == (forms / "t_registrering.json").read_text(encoding="utf-8")
    assert stored.layout is None and stored.origin.endswith("t_registrering.json")


def test_a_changed_form_makes_a_new_version_and_an_unchanged_bundle_is_the_existing_one(session, staff, forms):
    [first] = deploy(session, forms, ("intake.bpmn", INTAKE))
    [again] = deploy(session, forms, ("intake.bpmn", INTAKE))
    assert (again.version, again.new, again.hash) == (first.version, False, first.hash)
    # spacing and key order are not content: the same version
    raw = json.loads((forms / "t_visitation.json").read_text(encoding="utf-8"))
    (forms / "t_visitation.json").write_text(json.dumps(dict(reversed(list(raw.items()))), indent=8), "utf-8")
    [respaced] = deploy(session, forms, ("intake.bpmn", INTAKE))
    assert (respaced.version, respaced.new) == (first.version, False)
    edit_form(forms, "t_visitation", add_required_field)
    [changed] = deploy(session, forms, ("intake.bpmn", INTAKE))
    assert (changed.version, changed.new) == (first.version + 1, True)
    (forms / "t_visitation.html").write_text("<p>{{ field('vurdering') }}</p>", encoding="utf-8")
    [with_layout] = deploy(session, forms, ("intake.bpmn", INTAKE))
    assert (with_layout.version, with_layout.new) == (first.version + 2, True)
    stored = bundles.form_files(session, catalog.get_definition(session, "intake", 3).id)["t_visitation"]
    assert stored.layout == "<p>{{ field('vurdering') }}</p>"


def test_forms_never_change_under_a_running_case(session, staff, forms):
    """Deploy v1, start a case, edit the form on disk and deploy v2: the v1 case keeps v1's form."""
    deploy(session, forms, ("intake.bpmn", INTAKE))
    old = f.start_case(session, "intake", actor=staff["jc"], rules=rules(forms))
    edit_form(forms, "t_registrering", add_required_field)
    edit_form(forms, "t_registrering", lambda form: form.update(title="Registrering (ny)"))
    task = open_task(session, old.id, "registrering")
    # the edit on disk alone changes nothing for the running case
    assert bundles.task_form(session, task, forms_dir=forms).title == "Registrering som arbejdssøgende"
    [v2] = deploy(session, forms, ("intake.bpmn", INTAKE))
    assert v2.version == 2 and v2.new
    new = f.start_case(session, "intake", actor=staff["jc"], rules=rules(forms))
    assert new.version == 2
    new_task = open_task(session, new.id, "registrering")
    assert bundles.task_form(session, new_task, forms_dir=forms).title == "Registrering (ny)"
    assert bundles.task_form(session, task, forms_dir=forms).title == "Registrering som arbejdssøgende"
    # completing validates against the case's own version's form
    with pytest.raises(FormRejected) as refused:
        runtime.complete_task(session, task_id=new_task.id, data=REGISTRERING, user=staff["jc"], rules=rules(forms))
    session.rollback()
    assert [e["field"] for e in refused.value.detail] == ["ny_oplysning"]
    with pytest.raises(FormRejected):  # v1's form knows no such field
        runtime.complete_task(session, task_id=task.id, data={**REGISTRERING, "ny_oplysning": "x"},
                              user=staff["jc"], rules=rules(forms))
    session.rollback()
    runtime.complete_task(session, task_id=task.id, data=REGISTRERING, user=staff["jc"], rules=rules(forms))
    session.commit()
    assert open_task(session, old.id, "visitation") is not None


def test_a_removed_form_file_does_not_reach_running_cases(session, staff, forms):
    deploy(session, forms, ("intake.bpmn", INTAKE))
    case = f.start_case(session, "intake", actor=staff["jc"], rules=rules(forms))
    (forms / "t_registrering.json").unlink()
    task = open_task(session, case.id, "registrering")
    assert bundles.task_form(session, task, forms_dir=forms).key == "t_registrering"
    runtime.complete_task(session, task_id=task.id, data=REGISTRERING, user=staff["jc"], rules=rules(forms))
    session.commit()


def test_uploaded_forms_come_before_the_forms_directory(session, staff, forms):
    upload = json.loads((forms / "t_note.json").read_text(encoding="utf-8"))
    upload["title"] = "Notat fra upload"
    [d] = deploy(session, forms, ("parallel.bpmn", (f.DATA / "parallel.bpmn").read_bytes()),
                 ("t_note.json", json.dumps(upload).encode()), ("t_note.html", b"<p>layout</p>"))
    stored = bundles.form_files(session, catalog.get_definition(session, "parallel", d.version).id)
    assert list(stored) == ["t_note"]
    assert (stored["t_note"].form().title, stored["t_note"].layout, stored["t_note"].origin) == (
        "Notat fra upload", "<p>layout</p>", "t_note.json")


@pytest.mark.parametrize("files,needle", [
    ([("t_ukendt.json", b'{"fields": []}')], "named by no task or event"),
    ([("t_note.html", b"<p/>")], "needs its form t_note.json"),
    ([("t_note.json", b'{"fields": [{"name": "a", "type": "colour"}]}')], "colour"),
    ([("t_note.json", b"\xff\xfe")], "UTF-8"),
    ([("t_note.json", b'{"fields": []}'), ("andet/t_note.json", b'{"fields": []}')], "sent twice"),
])
def test_bad_form_uploads_are_refused_naming_the_file(session, staff, forms, files, needle):
    with pytest.raises(InvalidDefinition) as err:
        deploy(session, forms, ("parallel.bpmn", (f.DATA / "parallel.bpmn").read_bytes()), *files)
    assert any(needle in p["message"] and p["file"] in [n for n, _ in files] for p in err.value.detail), \
        err.value.detail
    session.rollback()
    assert catalog.list_definitions(session) == []


def test_forms_alone_are_not_a_deployment(session, staff, forms):
    with pytest.raises(InvalidDefinition) as err:
        deploy(session, forms, ("t_note.json", (forms / "t_note.json").read_bytes()))
    assert any("no .bpmn or .dmn" in p["message"] for p in err.value.detail)


def test_a_missing_start_or_event_form_is_refused_at_deploy(session, staff, forms):
    xml = (f.DATA / "web_intake.bpmn").read_bytes()  # its start event names t_note
    (forms / "t_note.json").unlink()
    with pytest.raises(InvalidDefinition) as err:
        deploy(session, forms, ("web_intake.bpmn", xml))
    assert any(p["element"] == "start" and "t_note" in p["message"] for p in err.value.detail), err.value.detail


def test_forms_in_a_deployed_folder_come_before_the_forms_directory(session, staff, forms, tmp_path):
    journey = tmp_path / "journey"
    (journey / "forms").mkdir(parents=True)
    (journey / "parallel.bpmn").write_bytes((f.DATA / "parallel.bpmn").read_bytes())
    (journey / "forms" / "t_note.json").write_text('{"title": "Fra mappen", "fields": []}', encoding="utf-8")
    (journey / "package.json").write_text("not a form, and named by nothing", encoding="utf-8")
    files = catalog.collect_files([journey])
    assert [name for name, _ in files] == ["journey/parallel.bpmn"]
    [d] = deploy(session, forms, *files, form_folders=catalog.form_folders([journey]))
    stored = bundles.form_files(session, catalog.get_definition(session, "parallel", d.version).id)
    assert stored["t_note"].form().title == "Fra mappen"


def test_a_called_process_deployed_earlier_keeps_the_forms_it_was_deployed_with(session, staff, forms):
    deploy(session, forms, ("placement.bpmn", (f.DATA / "placement.bpmn").read_bytes()))
    edit_form(forms, "t_note", lambda form: form.update(title="Notat, ændret på disken"))
    [caller] = deploy(session, forms, ("caller.bpmn", (f.DATA / "caller.bpmn").read_bytes()))
    stored = bundles.form_files(session, catalog.get_definition(session, "caller", caller.version).id)
    assert stored["t_note"].form().title == "Notat"  # as the deployed placement has it
    case = f.start_case(session, "caller", actor=staff["jc"], rules=rules(forms))
    match = open_task(session, case.id, "match")
    assert bundles.task_form(session, match, forms_dir=forms).title == "Notat"


def test_a_form_found_twice_in_a_deployed_folder_is_refused(session, staff, forms, tmp_path):
    journey = tmp_path / "journey"
    for sub in ("a", "b"):
        (journey / sub).mkdir(parents=True)
        (journey / sub / "t_note.json").write_text('{"fields": []}', encoding="utf-8")
    (journey / "parallel.bpmn").write_bytes((f.DATA / "parallel.bpmn").read_bytes())
    with pytest.raises(InvalidDefinition) as err:
        deploy(session, forms, *catalog.collect_files([journey]), form_folders=[journey])
    assert any("found twice" in p["message"] and p["element"] == "task_a" for p in err.value.detail), \
        err.value.detail


def test_a_form_file_that_is_not_utf8_is_refused_naming_the_task(session, staff, forms):
    (forms / "t_note.json").write_bytes('{"title": "Bem\xe6rk", "fields": []}'.encode("latin-1"))
    with pytest.raises(InvalidDefinition) as err:
        deploy(session, forms, ("parallel.bpmn", (f.DATA / "parallel.bpmn").read_bytes()))
    assert any(p["element"] == "task_a" and "UTF-8" in p["message"] for p in err.value.detail), err.value.detail
