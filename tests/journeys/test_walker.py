"""The walker itself (tests/journeys/walker.py): its random data is data the forms accept, and a flow the
forms cannot reach is reported, not hidden.
"""
from __future__ import annotations

import random
import re
from datetime import date

import pytest

from engine.errors import FormRejected
from engine.forms import load_form, validate_data
from tests import factories as f

from .walker import Walker, fill_form, read_diagrams, text_matching, top_level, walk_until_covered

FORMS = sorted(p.stem for p in (f.ROOT / "forms").glob("*.json"))
UNREACHABLE = f.DATA / "walker"


@pytest.mark.database_free
@pytest.mark.parametrize("key", FORMS)
def test_the_random_data_is_accepted_by_every_form(key):
    form = load_form(f.ROOT / "forms", key)
    rng = random.Random(key)
    created, today = date(2026, 3, 2), date(2026, 3, 20)
    for _ in range(200):
        data = fill_form(rng, form, created=created, today=today, known={})
        try:
            validate_data(form, data)
        except FormRejected as exc:  # pragma: no cover - the message says what the walker got wrong
            raise AssertionError(f"{key} refused {data}: {exc.detail}") from exc


@pytest.mark.database_free
@pytest.mark.parametrize("pattern", [r"\d{8}", r"[A-Z]{2}-\d{3,5}", r"(ja|nej)", r"\w+ \d?"])
def test_text_for_a_pattern_matches_it(pattern):
    rng = random.Random(pattern)
    assert all(re.fullmatch(pattern, text_matching(rng, pattern)) for _ in range(50))


def test_a_flow_the_forms_cannot_reach_is_reported_untaken(db, session, seed):
    diagrams = read_diagrams(UNREACHABLE)
    assert top_level(diagrams) == ["walk_unreachable"]
    walker = Walker(db, session, f.RULES, diagrams, seed(UNREACHABLE / "unreachable.bpmn"))
    result, untaken = walk_until_covered(walker, "walk_unreachable", max_walks=6)
    assert not result.findings
    assert result.walks == 6  # it kept trying
    assert [str(flow) for flow in untaken] == ["walk_unreachable:f_stort (beloeb_gw -> stort »over 5000«)"]
    assert ("walk_unreachable", "f_lille") in result.taken
    # an explicit allow-list entry is what lets it pass, and then the walk stops as soon as the rest is taken
    result, untaken = walk_until_covered(walker, "walk_unreachable", max_walks=6,
                                         allowed=[("walk_unreachable", "f_stort")])
    assert untaken == [] and result.walks == 1
