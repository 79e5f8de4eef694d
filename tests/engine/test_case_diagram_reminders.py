"""A case's picture leaves out the reminder branches (they doubled every box); the documentation picture keeps them."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.diagram.svg import parse, reminder_branches, render

KONTANTHJAELP = Path(__file__).resolve().parents[2] / "processes" / "kontanthjaelp" / "kontanthjaelp.bpmn"


@pytest.mark.database_free
def test_reminder_branches_are_left_out_of_a_case_picture_only():
    raw = KONTANTHJAELP.read_bytes()
    root = parse(raw)
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    hidden, quiet = reminder_branches(by_id)
    reminders = {i for i in hidden if by_id[i].tag.endswith("userTask")}
    assert "henvis_akasse_paamindelse" in reminders
    assert all(i.endswith("_paamindelse") for i in reminders), reminders
    assert not any(by_id[i].tag.endswith("userTask") and not i.endswith("_paamindelse") for i in hidden)
    assert "henvis_akasse_frist" in quiet  # the timer stays on its task, without its label
    full, case_picture = render(raw), render(raw, hide_reminders=True)
    assert "Påmindelse" in full and "Påmindelse" not in case_picture
    assert case_picture.count("<polyline") < full.count("<polyline")


@pytest.mark.database_free
def test_lanes_named_by_a_unit_key_show_the_units_name():
    raw = KONTANTHJAELP.read_bytes()
    lanes = [el.get("name") for el in parse(raw).iter() if isinstance(el.tag, str) and el.tag.endswith("}lane")]
    assert "ydelsesservice" in lanes  # the diagram names its lanes by the units' keys
    picture = render(raw, hide_reminders=True, lane_names={"ydelsesservice": "Ydelsesservice Nord"})
    assert ">Ydelsesservice Nord</text>" in picture and ">ydelsesservice</text>" not in picture
