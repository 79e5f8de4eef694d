"""A message's form comes from its case's version, like a task's: editing the file on disk changes nothing."""
from __future__ import annotations

import pytest

from engine import catalog, message_forms
from engine.errors import FormRejected
from tests import factories as f
from tests.journeys.test_kontanthjaelp import PROCESSES, RULES


def test_the_form_a_message_is_checked_against_is_the_versions_own(session, tmp_path):
    f.add_units(session)
    f.deploy_files(session, *PROCESSES, rules=RULES)
    definition = catalog.get_definition(session, "kontanthjaelp")
    nowhere = tmp_path / "no-forms-here"  # the forms directory is not read: the version holds its forms
    cleaned = message_forms.check_message(session, definition.id, element_id="virksomhed_bekraeftelse",
                                          name="virksomhed_bekraeftelse", data={"virksomhed_accepterer": False},
                                          forms_dir=nowhere)
    assert cleaned == {"virksomhed_accepterer": False}
    with pytest.raises(FormRejected) as refused:
        message_forms.check_message(session, definition.id, element_id="virksomhed_bekraeftelse",
                                    name="virksomhed_bekraeftelse", data={}, forms_dir=nowhere)
    assert [d["field"] for d in refused.value.detail] == ["virksomhed_accepterer"]
    # a message no form describes (between cases) passes as it is
    assert message_forms.check_message(session, definition.id, element_id="sof_tilbagemelding",
                                       name="sof_tilbagemelding", data={"x": 1}, forms_dir=nowhere) == {"x": 1}
    # the index says what the version waits for, where, and with which form
    catches = {c.element_id: c for c in message_forms.version_index(session, definition.id).catches}
    assert (catches["ansoegning_modtaget"].unit, catches["ansoegning_modtaget"].form_key) == \
        ("ydelsesservice", "kh_ansoegning_modtaget")
    assert catches["fravaer_meldt"].kind == "event_start" and catches["fravaer_meldt"].unit == "jobcenter"
    assert message_forms.standing_starts(session, definition.id) == {"fravaer_meldt"}
    assert message_forms.start_message(session, definition) is None  # a plain start event with a form
