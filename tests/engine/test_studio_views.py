"""The studio's read models: running cases per drawn element (call activities count what runs inside),
the overlays on a drawn version, and ids kept apart when two diagrams share a page.
"""
from __future__ import annotations

import re

from engine import catalog, studio_views
from engine.diagram.overlays import CaseCounts, DiffMarks, scoped
from engine.diagram.svg import render
from tests import factories as f

WEB_INTAKE = (f.DATA / "web_intake.bpmn").read_bytes()


def test_a_call_activity_counts_the_cases_inside_what_it_calls(session):
    f.standard_users(session)
    f.deploy_data(session, "placement.bpmn", "caller.bpmn")
    cases = [f.start_case(session, "caller") for _ in range(2)]
    definition = catalog.get_definition(session, "caller")
    counts = studio_views.case_counts(session, definition)
    assert counts["call_sub"] == 2 and counts["match"] == 2, counts   # the cases stand on 'match' inside it
    assert len(cases) == 2


def test_count_badges_and_diff_marks_are_titled_and_never_colour_alone():
    counted = render(WEB_INTAKE, CaseCounts({"vurdering": 3, "slut": 0}, 1))
    assert 'data-element="vurdering" data-cases="3"' in counted and "3 kørende sager står her" in counted
    assert 'data-element="slut"' not in counted
    assert 'aria-label="Procesdiagram for version 1: kørende sager står på 1 trin' in counted
    marked = render(WEB_INTAKE, DiffMarks(removed=frozenset({"vurdering"}), changed=frozenset({"afgoerelse"})))
    assert "<title>Fjernet: Vurdering af henvendelse</title>" in marked and 'fill="url(#hatch)"' in marked
    assert "<title>Ændret: Afgørelse om ydelse</title>" in marked and 'stroke-dasharray="2 4"' in marked
    assert ">−</text>" in marked and ">~</text>" in marked        # a symbol besides the colour


def test_scoped_ids_keep_two_diagrams_apart():
    a = scoped(render(WEB_INTAKE, DiffMarks(removed=frozenset({"vurdering"}))), "fra")
    b = scoped(render(WEB_INTAKE, DiffMarks(added=frozenset({"vurdering"}))), "til")
    ids = re.findall(r'\bid="([^"]+)"', a + b)
    assert len(ids) == len(set(ids)) and "fra-arrow" in ids and "til-hatch" in ids
    assert "url(#arrow)" not in a + b and "url(#fra-hatch)" in a
