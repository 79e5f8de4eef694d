"""Form rules (engine.form_rules): conditional requirements and date rules in the form file, Danish numbers,
the one way values are shown (engine.formats), and the studio's editor keeping the rules."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from engine import clock, form_editor
from engine.errors import FormRejected, Invalid
from engine.form_rules import danish_number
from engine.formats import dato, filstoerrelse, tal, tidspunkt
from engine.forms import parse_form_text, validate_data

FORM = {"key": "k", "title": "Kontrol", "fields": [
    {"name": "komplet", "label": "Komplet", "type": "boolean", "required": True},
    {"name": "dato", "label": "Komplet den", "type": "date", "not_future": True,
     "required_when": {"field": "komplet", "equals": True},
     "not_before": {"field": "modtaget", "label": "Modtaget den"}},
    {"name": "slut", "label": "Slutdato", "type": "date", "after": "dato"},
    {"name": "kanal", "label": "Kanal", "type": "choice", "choices": [{"value": "papir", "label": "Papir"},
                                                                     {"value": "digital", "label": "Digital"}]},
    {"name": "note", "label": "Note", "type": "text", "required_when": "kanal", "prefill": False},
]}
TODAY = datetime(2026, 9, 11, 10, tzinfo=timezone.utc)


def form(raw=FORM):
    return parse_form_text("k", json.dumps(raw))


def messages(data, case_data=None) -> dict:
    with clock.at(TODAY), pytest.raises(FormRejected) as caught:
        validate_data(form(), data, case_data=case_data)
    return {d["field"]: d["message"] for d in caught.value.detail}


def ok(data, case_data=None) -> dict:
    with clock.at(TODAY):
        return validate_data(form(), data, case_data=case_data)


def test_a_field_is_required_when_another_has_the_value_named():
    assert messages({"komplet": True}) == {"dato": "Komplet den: skal udfyldes (required when »Komplet« is Ja)"}
    assert ok({"komplet": False}) == {"komplet": False}
    assert messages({"komplet": False, "kanal": "papir"}) == {
        "note": "Note: skal udfyldes (required when »Kanal« has a value)"}


def test_a_date_not_in_the_future_and_not_before_or_after_another_date():
    assert messages({"komplet": True, "dato": "2026-09-12"}) == {"dato": "Komplet den: must not be in the future"}
    assert ok({"komplet": True, "dato": "2026-09-11"})["dato"] == "2026-09-11"  # today is fine
    # the other date comes from the case data; the rule's label names it
    assert messages({"komplet": True, "dato": "2026-09-09"}, {"modtaget": "2026-09-10"}) == {
        "dato": "Komplet den: must not be before »Modtaget den« (2026-09-10)"}
    assert ok({"komplet": True, "dato": "2026-09-10"}, {"modtaget": "2026-09-10"})  # the same day is fine
    assert ok({"komplet": True, "dato": "2026-09-01"})  # no other date yet: the rule does not apply
    assert messages({"komplet": True, "dato": "2026-09-10", "slut": "2026-09-10"}) == {
        "slut": "Slutdato: must be after »Komplet den« (2026-09-10)"}


HELD = {"key": "s", "title": "Samtale", "fields": [
    {"name": "samtaledato", "label": "Dato for samtalen", "type": "date", "required": True, "not_future": True,
     "not_before_task": True}]}


def test_a_date_not_before_the_task_was_created():
    """A conversation a follow-up task asks for cannot have been held before the task existed (issue 14)."""
    held = parse_form_text("s", json.dumps(HELD))
    created = date(2026, 9, 7)  # the Danish day the task was created
    with clock.at(TODAY), pytest.raises(FormRejected) as caught:
        validate_data(held, {"samtaledato": "2026-09-06"}, task_created=created)
    assert caught.value.detail == [{"field": "samtaledato",
                                    "message": "Dato for samtalen: must not be before the task was created (2026-09-07)"}]
    with clock.at(TODAY):
        assert validate_data(held, {"samtaledato": "2026-09-07"}, task_created=created)  # the day itself is fine
        assert validate_data(held, {"samtaledato": "2026-09-01"})  # no task (a start or message form): no rule
    assert held.as_dict()["fields"][0]["not_before_task"] is True
    with pytest.raises(Invalid, match="true or false"):
        parse_form_text("s", json.dumps({**HELD, "fields": [{**HELD["fields"][0], "not_before_task": "ja"}]}))
    with pytest.raises(Invalid, match="for date fields"):
        parse_form_text("s", json.dumps({**HELD, "fields": [{**HELD["fields"][0], "type": "text"}]}))


def test_a_field_s_own_type_error_comes_before_its_rules():
    assert messages({"komplet": True, "dato": "11-09-2026"}) == {"dato": "Komplet den: must be a date YYYY-MM-DD"}


@pytest.mark.parametrize(("change", "said"), [
    ({"required_when": "nope"}, "no field of this form"),
    ({"required_when": {"field": "komplet", "equals": True, "in": [True]}}, "not both"),
    ({"required_when": 3}, "must name a field"),
    ({"not_future": "yes"}, "true or false"),
    ({"after": 7}, "must name a date field"),
])
def test_a_broken_rule_is_refused_with_the_field_named(change, said):
    raw = json.loads(json.dumps(FORM))
    raw["fields"][1].update(change)
    with pytest.raises(Invalid, match=said):
        form(raw)


def test_date_rules_are_for_date_fields_only():
    raw = json.loads(json.dumps(FORM))
    raw["fields"][4]["not_future"] = True
    with pytest.raises(Invalid, match="for date fields"):
        form(raw)


def test_the_rules_are_part_of_the_api_form_and_prefill_can_be_turned_off():
    fields = {f["name"]: f for f in form().as_dict()["fields"]}
    assert fields["dato"]["required_when"] == {"field": "komplet", "in": [True]}
    assert fields["dato"]["not_future"] is True and fields["dato"]["not_before"] == "modtaget"
    assert fields["note"]["prefill"] is False and fields["dato"]["prefill"] is True


def test_the_studio_editor_keeps_the_rules():
    content = json.dumps(FORM)
    again, editor = form_editor.to_json("k", form_editor.rows_from_json(content))
    assert editor.errors == {}
    assert parse_form_text("k", again).fields == form().fields
    assert json.loads(again)["fields"][1]["required_when"] == {"field": "komplet", "equals": True}


@pytest.mark.parametrize(("text", "number"), [
    ("12.345,50", 12345.5), ("12345,5", 12345.5), ("1.000", 1000), ("1 000", 1000), ("-3", -3),
    ("12.5", 12.5), ("0,25", 0.25), ("1.234.567", 1234567), ("\u00a012\u00a0000 ", 12000),
])
def test_danish_numbers_are_read(text, number):
    assert danish_number(text) == number and type(danish_number(text)) is type(number)


@pytest.mark.parametrize("text", ["", "mange", "12,345,5", "1.2.3", "12.34,5", "1e5", "12,"])
def test_what_is_no_number_stays_unread(text):
    assert danish_number(text) is None


def test_values_are_shown_one_way():
    assert tal(12345.5) == "12.345,5" and tal(12000) == "12.000" and tal(12000.0) == "12.000" and tal(-2.5) == "-2,5"
    assert dato("2026-09-11") == "11. sep. 2026" and dato(None) == "—"
    assert dato(datetime(2026, 9, 10, 23, 30, tzinfo=timezone.utc)) == "11. sep. 2026"  # Danish time
    assert tidspunkt("2026-09-11T08:05:00+00:00") == "11. sep. 2026 kl. 10.05"
    assert (filstoerrelse(800), filstoerrelse(1536), filstoerrelse(5 * 1048576)) == ("800 bytes", "1,5 kB", "5,0 MB")


def test_the_editor_shows_a_field_s_rules_as_json_and_names_json_it_cannot_read():
    editor = form_editor.rows_from_json(json.dumps(FORM))
    assert json.loads(editor.rows[1].extra) == {"not_future": True, "required_when": {"field": "komplet",
                                                                                      "equals": True},
                                                "not_before": {"field": "modtaget", "label": "Modtaget den"}}
    broken = form_editor.Editor(title="t", rows=(form_editor.Row(name="a", extra='{"not_future": tru'),))
    _, checked = form_editor.to_json("k", broken)
    assert "ed-0-ekstra" in checked.errors and checked.rows[0].extra == '{"not_future": tru'  # kept as typed
