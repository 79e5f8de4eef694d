"""Rule-set switches and form swaps (engine/rule_sets.py, engine/rule_set_checks.py, engine/projections.py),
through the engine's one mutation path on tests/data/trial_switch.bpmn.

tests/data/deadlines.toml declares the switch `t_uden_ekstra`, which the rule set `forsoeg` turns on, and
swaps the form t_trial_samtale for t_trial_samtale_forsoeg under `forsoeg`."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from engine import bundles, catalog, clock, runtime
from engine.case_rules import CaseRules
from engine.deadlines import DeadlineError, deadline_file
from engine.errors import FormRejected, InvalidDefinition
from engine.models import AuditEvent, HumanTask
from engine.scripting import ScriptContext, ScriptLimits, is_cheap, make_helpers
from engine.task_read import read_task
from tests import factories as f

MONDAY = datetime(2026, 9, 7, 7, tzinfo=timezone.utc)
DIAGRAM = f.DATA / "trial_switch.bpmn"
BASE = (f.DATA / "deadlines.toml").read_text(encoding="utf-8").split("# A switch and a form swap")[0]


@pytest.fixture
def users(seed):
    return seed("trial_switch.bpmn")


@pytest.fixture
def staff(seed):
    return seed()  # units and users, nothing deployed


def start(session, users, rule_set=None, rules=f.RULES):
    with clock.at(MONDAY):
        case = runtime.start_case(session, process_key="trial_switch", cpr=f.CPR, data={}, actor=users["jc"],
                                  rules=rules, rule_set=rule_set)
    session.commit()
    return case


def open_task(session, case_id) -> HumanTask:
    [row] = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                    HumanTask.status.in_(("open", "claimed")))).all()
    return row


def complete(session, row, users, data, rules=f.RULES):
    with clock.at(MONDAY):
        runtime.complete_task(session, task_id=row.id, data=data, user=users["jc"], rules=rules)
    session.commit()


def test_a_trial_case_gets_the_swapped_form_and_the_switch_and_an_ordinary_case_neither(session, users):
    ordinary, trial = start(session, users), start(session, users, rule_set="forsoeg")
    rows = {case.id: open_task(session, case.id) for case in (ordinary, trial)}
    assert rows[ordinary.id].form_key == "t_trial_samtale"
    assert rows[trial.id].form_key == "t_trial_samtale_forsoeg"
    # the task's read (GET /api/tasks/{id} and the page) offers the trial's choices only to the trial case
    choices = {cid: {fld.name: [v for v, _ in fld.choices] for fld in
                     read_task(session, task_id=row.id, user=users["jc"], forms_dir=f.RULES.forms_dir,
                               rules=f.RULES).form.fields}["samtaleform"]
               for cid, row in rows.items()}
    assert choices == {ordinary.id: ["fremmoede"], trial.id: ["fremmoede", "telefon"]}
    # the completion checks the swapped form: telephone is refused in the ordinary case
    with pytest.raises(FormRejected):
        complete(session, rows[ordinary.id], users, {"samtaleform": "telefon", "udfald": "videre"})
    session.rollback()
    complete(session, rows[ordinary.id], users, {"samtaleform": "fremmoede", "udfald": "videre"})
    complete(session, rows[trial.id], users, {"samtaleform": "telefon", "udfald": "videre"})
    # switch("t_uden_ekstra") is off in the ordinary case, on under `forsoeg`
    assert open_task(session, ordinary.id).element_id == "ekstra"
    session.expire_all()
    assert session.get(type(trial), trial.id).status == "completed"
    taken = {e.case_id: e.details["taken"] for e in session.scalars(
        select(AuditEvent).where(AuditEvent.type == "gateway_taken", AuditEvent.element_id == "ekstra_gw"))}
    assert taken == {ordinary.id: ["ekstra"], trial.id: ["slut"]}


def test_the_swap_and_the_switches_are_audited(session, users):
    trial = start(session, users, rule_set="forsoeg")
    row = open_task(session, trial.id)
    created = session.scalars(select(AuditEvent).where(AuditEvent.case_id == trial.id,
                                                       AuditEvent.type == "task_created")).one()
    assert created.task_id == row.id
    assert (created.details["form_key"], created.details["form_swapped_from"], created.details["rule_set"]) == (
        "t_trial_samtale_forsoeg", "t_trial_samtale", "forsoeg")
    chosen = session.scalars(select(AuditEvent).where(AuditEvent.case_id == trial.id,
                                                      AuditEvent.type == "rule_set_chosen")).one()
    assert chosen.details["switches_on"] == ["t_uden_ekstra"]


def test_the_version_carries_the_alternative_form(session, users):
    definition = catalog.get_definition(session, "trial_switch")
    assert {"t_trial_samtale", "t_trial_samtale_forsoeg", "t_note"} <= set(bundles.form_keys(session, definition.id))


def test_a_version_deployed_before_the_swap_keeps_the_ordinary_form(session, staff, tmp_path):
    """A case reads its own version's forms: without the alternative in the version there is nothing to swap to."""
    (tmp_path / "deadlines.toml").write_text(BASE + SWITCH, encoding="utf-8")  # the switch, no swap
    before = CaseRules(forms_dir=f.FORMS, deadlines_file=tmp_path / "deadlines.toml")
    f.deploy_files(session, DIAGRAM, rules=before)
    assert "t_trial_samtale_forsoeg" not in bundles.form_keys(session, catalog.get_definition(session,
                                                                                              "trial_switch").id)
    trial = start(session, staff, rule_set="forsoeg", rules=f.RULES)  # the swap configured afterwards
    assert open_task(session, trial.id).form_key == "t_trial_samtale"


# -- the helper ------------------------------------------------------------------------------------


def test_switch_reads_the_context_and_travels_to_a_script_worker():
    ctx = ScriptContext(switches={"a": True, "b": False})
    helpers = make_helpers(ctx, {})
    assert helpers["switch"]("a") is True and helpers["switch"]("b") is False
    assert helpers["switch"]("no_longer_declared") is False  # a switch removed from the file: the ordinary rule
    again = ScriptContext.from_dict(ctx.as_dict(), ScriptLimits())
    assert again.switches == {"a": True, "b": False}
    assert is_cheap('switch("a") and kategori == "3"') and not is_cheap("switch(name)")


# -- bad configuration: a clear error naming the file and the key ------------------------------------

SWITCH = '''
[switches.t_uden_ekstra]
label = "Test: det ekstra trin kan springes over"
'''


@pytest.mark.parametrize("text, needle", [
    ('[rule_sets.forsoeg.switches.ukendt]\nvalue = true\nsource = "x"\n',
     "[rule_sets.forsoeg.switches.ukendt]: there is no switch 'ukendt'"),
    ('[rule_sets.forsoeg.switches.t_uden_ekstra]\nvalue = "ja"\nsource = "x"\n',
     "[rule_sets.forsoeg.switches.t_uden_ekstra]: value must be true or false"),
    ('[rule_sets.forsoeg.switches.t_uden_ekstra]\nvalue = true\n',
     "[rule_sets.forsoeg.switches.t_uden_ekstra] needs a source"),
    ('[rule_sets.forsoeg.switches.t_uden_ekstra]\nvalue = true\nsource = "x"\nvalg = 1\n',
     "[rule_sets.forsoeg.switches.t_uden_ekstra]: unknown key(s) valg"),
    ('[rule_sets.forsoeg.switches]\nt_uden_ekstra = true\n',
     "[rule_sets.forsoeg.switches.t_uden_ekstra] must be a table with value = true or false"),
    ('[switches.uden_tekst]\nsource = "x"\n', "[switches.uden_tekst] needs a label"),
    ('[switches.Stort]\nlabel = "x"\n', "[switches.Stort] must be a lower-case name"),
    ('[switches.t_andet]\nlabel = "x"\nvaerdi = true\n', "[switches.t_andet]: unknown key(s) vaerdi"),
    ('[rule_sets.forsoeg.forms]\nt_trial_samtale = 3\n',
     "[rule_sets.forsoeg.forms]: t_trial_samtale must name another form's key"),
    ('[rule_sets.forsoeg.forms]\nt_trial_samtale = "t_trial_samtale"\n',
     "[rule_sets.forsoeg.forms]: t_trial_samtale must name another form's key"),
    ('[rule_sets.andet]\nlabel = "Andet"\nformularer = 1\n', "[rule_sets.andet]: unknown key(s) formularer"),
])
def test_a_bad_switch_or_form_swap_is_refused_naming_the_file_and_the_key(tmp_path, text, needle):
    path = tmp_path / "deadlines.toml"
    path.write_text(BASE + SWITCH + text, encoding="utf-8")
    with pytest.raises(DeadlineError) as refused:
        deadline_file(path)
    assert str(path) in str(refused.value) and needle in str(refused.value), str(refused.value)


def test_a_rule_set_without_switches_has_every_switch_off(tmp_path):
    path = tmp_path / "deadlines.toml"
    path.write_text(BASE + SWITCH, encoding="utf-8")
    rules = CaseRules(forms_dir=f.FORMS, deadlines_file=path)
    assert rules.switch_values() == {"t_uden_ekstra": False}
    assert rules.for_rule_set("forsoeg").switch_values() == {"t_uden_ekstra": False}
    assert rules.for_rule_set("ordinaer").form_for("t_trial_samtale") == "t_trial_samtale"


# -- deploy checks ----------------------------------------------------------------------------------


def refused(session, text: str, rules=f.RULES, extra_files=()) -> list[str]:
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, [("trial_switch.bpmn", text.encode("utf-8")), *extra_files], rules=rules,
                       actor="test")
    session.rollback()
    return [p["message"] for p in err.value.detail]


def test_a_diagram_naming_an_undeclared_switch_is_refused(session, staff):
    text = DIAGRAM.read_text(encoding="utf-8").replace('switch("t_uden_ekstra")', 'switch("t_findes_ikke")')
    [message] = refused(session, text)
    assert "switch('t_findes_ikke')" in message and "known: t_uden_ekstra" in message


def test_a_switch_name_not_in_quotes_is_refused(session, staff):
    text = DIAGRAM.read_text(encoding="utf-8").replace('switch("t_uden_ekstra")', "switch(udfald)")
    [message] = refused(session, text)
    assert "switch() takes one switch name in quotes" in message


@pytest.mark.parametrize("alternative, needle", [
    ("t_findes_ikke", "form 't_findes_ikke' is neither"),
    ("t_note", "the diagram reads field 'udfald', which the alternative form lacks"),
    ("t_uden_udfald_som_valg", "field 'udfald' is text in the alternative form, choice in the ordinary one"),
    ("t_udfald_frivilligt", "field 'udfald' is required in the ordinary form"),
])
def test_an_alternative_form_that_is_missing_or_lacks_what_the_diagram_reads_is_refused(session, staff, tmp_path,
                                                                                      alternative, needle):
    (tmp_path / "deadlines.toml").write_text(
        BASE + SWITCH + f'[rule_sets.forsoeg.forms]\nt_trial_samtale = "{alternative}"\n', encoding="utf-8")
    rules = CaseRules(forms_dir=f.FORMS, deadlines_file=tmp_path / "deadlines.toml")
    uploads = [("t_uden_udfald_som_valg.json", b'{"key": "t_uden_udfald_som_valg", "fields": ['
                b'{"name": "udfald", "label": "Udfald", "type": "text", "required": true}]}'),
               ("t_udfald_frivilligt.json", b'{"key": "t_udfald_frivilligt", "fields": ['
                b'{"name": "udfald", "label": "Udfald", "type": "choice", "choices": [{"value": "videre"}]}]}')]
    messages = refused(session, DIAGRAM.read_text(encoding="utf-8"), rules=rules,
                       extra_files=[u for u in uploads if u[0].startswith(alternative)])
    swapped = [m for m in messages if "rule set 'forsoeg' swaps form 't_trial_samtale'" in m]
    assert swapped and needle in swapped[0], messages
