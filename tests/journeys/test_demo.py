"""The demo journey (processes/demo/demo_forloeb.bpmn): its visitation deadline is the named `visitation`
rule in config/deadlines.toml (one week from the henvendelse), not a duration written into the diagram.

Driven through the real diagram, forms and config; time moves with clock.at and fire_due_timers(now=...).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.deadlines import deadline_file
from engine.errors import Invalid
from tests import factories as f
from tests.journeys.test_kontanthjaelp import Journey, at, danish_day

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
DEMO = ROOT / "processes" / "demo" / "demo_forloeb.bpmn"
VISITATION = {"til_raadighed": True, "kategori": "jobparat", "problemer_ud_over_ledighed": False,
              "vurdering": "Til rådighed"}


@pytest.fixture
def demo(db, session, seed):
    users = seed(DEMO, rules=RULES)
    return DemoJourney(db, session, users)


class DemoJourney(Journey):
    """The kontanthjælp journey's helpers (the same forms and config), on a demo case."""

    def start(self, when, **data):
        with clock.at(when):
            case = f.start_case(self.session, "demo_forloeb", actor=self.users["jc"], data=data, rules=RULES)
        self.case_id = case.id
        return case


def test_the_demo_diagram_hard_codes_no_duration():
    xml = DEMO.read_text(encoding="utf-8")
    assert "timeDuration" not in xml and '"P7D"' not in xml
    assert 'deadline("visitation")' in xml
    rule = deadline_file(ROOT / "config" / "deadlines.toml").rules["visitation"]
    assert (rule.duration, rule.from_field) == ("P1W", "henvendelsesdato")


def test_the_visitation_deadline_counts_from_the_henvendelse_and_staff_may_use_all_of_it(demo):
    j = demo
    henvendelse = date(2026, 11, 19)                       # a Thursday; registered the Monday after
    registered = date(2026, 11, 23)
    j.start(at(registered))
    assert j.open() == ["registrering"]
    j.do("jc", "registrering", {"forsikret": False, "henvendelsesdato": henvendelse.isoformat()}, at(registered))
    visitation = j.task("visitation")
    due = henvendelse + timedelta(days=7)                  # not the task's creation + 7 days
    assert visitation.deadline_rule == "visitation" and danish_day(visitation.due_at) == due
    assert "visitation_forfalden" in j.waits()
    # staff use the whole week: the last allowed day gives no reminder
    assert j.fire(at(due, 12)) == 0
    assert j.open() == ["visitation"]
    # a day late: the team lead's reminder, and the visitation goes on
    assert j.fire(clock.as_utc(visitation.due_at) + timedelta(seconds=1)) == 1
    assert j.open() == ["paamindelse", "visitation"]
    j.do("jclead", "paamindelse", {"handling": "Omfordelt"}, at(due + timedelta(days=1)))
    j.do("jc", "visitation", VISITATION, at(due + timedelta(days=1), 11))
    assert j.open() == []
    assert "ansoegning_modtaget" in j.waits()


def test_a_registration_without_the_henvendelse_date_is_refused_and_nothing_is_lost(demo):
    j = demo
    j.start(at(date(2026, 11, 23)))
    task = j.task("registrering")
    with clock.at(at(date(2026, 11, 23))), pytest.raises(Invalid):
        runtime.complete_task(j.session, task_id=task.id, data={"forsikret": False}, user=j.users["jc"],
                              rules=RULES)
    j.session.rollback()
    assert j.open() == ["registrering"]                    # still open, the case untouched
    j.do("jc", "registrering", {"forsikret": False, "henvendelsesdato": "2026-11-23"}, at(date(2026, 11, 23)))
    assert danish_day(j.task("visitation").due_at) == date(2026, 11, 30)
