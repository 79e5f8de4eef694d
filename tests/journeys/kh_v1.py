"""Version 1 of kontanthjælp (main before issue 14), saved as tests/data/kontanthjaelp_v1.bpmn.

The engine's version and migration tests (test_kontanthjaelp_versions, test_kontanthjaelp_migration,
changes.py, changed_kontanthjaelp.py) change *this* diagram, so they keep testing the engine and do
not follow each change of the journey; test_kontanthjaelp_v2_migration moves its cases to the real
version 2 in processes/. It runs with today's forms/ and config/deadlines.toml: the named deadlines it
uses are kept for it (marked "Version 1 of kontanthjaelp only" there) and the forms only gained
fields (the refusals now say when and how they were sent; REFUSAL_SENT fills them in).
"""
from __future__ import annotations

from tests import factories as f
from tests.journeys.test_kontanthjaelp import Journey

KONTANTHJAELP_V1 = f.DATA / "kontanthjaelp_v1.bpmn"
PROCESSES_V1 = (f.ROOT / "processes" / "shared" / "virksomhedsplacering.bpmn",
                f.ROOT / "processes" / "sof" / "sof_vurdering.bpmn",
                KONTANTHJAELP_V1)


class JourneyV1(Journey):
    """The Journey driver on version 1: no CV step at the visitation, SOF after the grant."""

    V1 = True
