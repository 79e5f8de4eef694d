"""The forms editor's model (engine.form_editor): a form file to rows of text and back, nothing typed lost."""
from __future__ import annotations

import json

import pytest

from engine import form_editor
from engine.errors import Invalid
from engine.forms import parse_form_text
from tests import factories as f

ROOT_FORMS = f.ROOT / "forms"


@pytest.mark.parametrize("name", sorted(p.stem for p in ROOT_FORMS.glob("*.json")))
def test_every_shipped_form_survives_the_editor_unchanged(name):
    content = (ROOT_FORMS / f"{name}.json").read_text(encoding="utf-8")
    again, editor = form_editor.to_json(name, form_editor.rows_from_json(content))
    assert editor.errors == {}
    before, after = parse_form_text(name, content), parse_form_text(name, again)
    assert (after.title, after.fields) == (before.title, before.fields)


class Posted(dict):
    def get(self, key, default=None):
        return super().get(key, default)


def test_posted_rows_become_a_form_file_and_what_cannot_be_read_is_named():
    posted = Posted({"titel": "Samtale", "antal": "2", "ekstra": '{"note": "behold"}',
                     "felt-0-navn": "kategori", "felt-0-etiket": "Kategori", "felt-0-type": "choice",
                     "felt-0-kraevet": "ja", "felt-0-valg": "jobparat = Jobparat\n\naktivitetsparat",
                     "felt-0-ekstra": '{"x-egen": 1}',
                     "felt-1-navn": "timer", "felt-1-type": "number", "felt-1-min": "0", "felt-1-max": "ti"})
    content, editor = form_editor.to_json("t_samtale", form_editor.rows_from_post(posted))
    assert editor.errors == {"ed-1-max": "Skal være et tal, fx 0 eller 2000."}
    raw = json.loads(content)
    assert raw["note"] == "behold" and raw["title"] == "Samtale" and raw["key"] == "t_samtale"
    assert raw["fields"][0] == {"x-egen": 1, "name": "kategori", "label": "Kategori", "type": "choice",
                                "required": True, "choices": [{"value": "jobparat", "label": "Jobparat"},
                                                              {"value": "aktivitetsparat",
                                                               "label": "aktivitetsparat"}]}
    assert raw["fields"][1] == {"name": "timer", "label": "timer", "type": "number", "min": 0}
    assert editor.rows[1].max == "ti"                      # what was typed stays, to be corrected


def test_rows_are_added_removed_and_moved_and_a_bad_form_is_judged_by_the_engine():
    editor = form_editor.added_row(form_editor.added_row(form_editor.Editor(title="x")))
    assert [r.name for r in editor.rows] == ["felt_1", "felt_2"]
    assert [r.name for r in form_editor.moved_row(editor, 1, -1).rows] == ["felt_2", "felt_1"]
    assert [r.name for r in form_editor.moved_row(editor, 0, -1).rows] == ["felt_1", "felt_2"]
    assert [r.name for r in form_editor.without_row(editor, 0).rows] == ["felt_2"]
    bad = form_editor.Editor(rows=(form_editor.Row(name="valg", type="choice"),))
    content, _ = form_editor.to_json("t_x", bad)
    with pytest.raises(Invalid, match="has no choices"):
        parse_form_text("t_x", content)
    assert form_editor.rows_from_json("{not json").rows == ()
    assert form_editor.rows_from_post(Posted({"antal": "100000"})).rows == tuple([form_editor.Row(extra="{}")] * 200)
