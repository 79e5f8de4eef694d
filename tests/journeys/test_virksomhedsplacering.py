"""The employer placement (DOMAIN.md journey 1 step 7), version 2, through the real diagram in processes/shared.

`virksomhedsplacering` is called from kontanthjælp; here it is started directly as a case of its own
(the engine starts any deployed process), so each test walks the placement alone: match, agreement,
the mentor grant, the employer's confirmation, then the placement itself with its weekly visits,
monthly scorecard, competence card at 13 weeks and the timer at the agreed end. The forms in forms/
and the named deadlines in config/deadlines.toml are used as they are. Time moves with clock.at and
fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.errors import FormRejected
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
PLACERING = ROOT / "processes" / "shared" / "virksomhedsplacering.bpmn"


def at(day: date, hour: int = 9) -> datetime:
    """A Danish working hour on that day, as the clock sees it."""
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


@pytest.fixture
def users(seed, session):
    return seed(PLACERING, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "vslead": f.add_user(session, "vslead", "teamlead", ["virksomhedsservice"]),
    }


class Placement:
    """One citizen's placement, worked by Virksomhedsservice."""

    def __init__(self, db, session, users):
        self.db, self.session, self.users = db, session, users
        self.case_id: str | None = None

    def start(self, when: datetime, **data) -> Case:
        with clock.at(when):
            case = f.start_case(self.session, "virksomhedsplacering", actor=self.users["jc"],
                                data={"kategori": "aktivitetsparat", **data}, rules=RULES)
        self.case_id = case.id
        return case

    def tasks(self) -> list[HumanTask]:
        self.session.expire_all()
        return list(self.session.scalars(
            select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.status.in_(("open", "claimed")))
            .order_by(HumanTask.created_at, HumanTask.element_id)))

    def open(self) -> list[str]:
        return sorted(t.element_id for t in self.tasks())

    def task(self, element) -> HumanTask:
        [row] = [t for t in self.tasks() if t.element_id == element]
        return row

    def do(self, element, data, when: datetime, user="vs") -> HumanTask:
        row = self.task(element)
        assert row.unit in self.users[user].units, (element, row.unit, user)
        with clock.at(when):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users[user], rules=RULES)
        self.session.commit()
        return row

    def refused(self, element, data, when: datetime) -> dict:
        row = self.task(element)
        with clock.at(when), pytest.raises(FormRejected) as caught:
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users["vs"], rules=RULES)
        self.session.rollback()
        return caught.value.field_errors

    def message(self, name, data, when: datetime) -> None:
        with clock.at(when):
            runtime.correlate_message(self.session, name=name, correlation_key=self.case_id, data=data,
                                      user=self.users["system"], rules=RULES)
        self.session.commit()

    def fire(self, now: datetime) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=now).fired

    def waits(self) -> dict[str, Wait]:
        self.session.expire_all()
        return {w.element_id: w for w in self.session.scalars(select(Wait).where(Wait.case_id == self.case_id))}

    def events(self, type_=None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.case_id == self.case_id).order_by(AuditEvent.seq)
        if type_:
            query = query.where(AuditEvent.type == type_)
        return list(self.session.scalars(query))

    def gateways(self) -> list[tuple[str, list]]:
        return [(e.element_id, e.details.get("taken")) for e in self.events("gateway_taken")]

    def completed(self, element=None) -> list[HumanTask]:
        self.session.expire_all()
        rows = self.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                            HumanTask.status == "completed")
                                    .order_by(HumanTask.completed_at, HumanTask.element_id))
        return [r for r in rows if element is None or r.element_id == element]

    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    # -- the common steps ---------------------------------------------------------------------------

    def match(self, day: date, virksomhed="Byggefirma A/S", cvr="12345678"):
        self.do("match", {"virksomhed": virksomhed, "cvr": cvr, "kontaktperson": "Mette",
                          "match_begrundelse": "Erfaring fra byggeri"}, at(day))

    def agree(self, day: date, start: date, *, mentor=False, **offer):
        offer = offer or {"tilbudstype": "virksomhedspraktik", "praktik_ramme": "standard", "praktik_uger": 4}
        self.do("aftale", {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "aftale_dato": day.isoformat(),
                           "startdato": start.isoformat(), "mentor_soeges": mentor,
                           **({"mentor_soeges_begrundelse": "Har brug for støtte i starten"} if mentor else {}),
                           **offer}, at(day, 11))

    def confirm(self, day: date, accepts=True):
        self.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": accepts}, at(day))

    def placed(self, start: date, *, mentor=False, **offer):
        """Match and agreement the week before `start` (a Monday), confirmed on the Wednesday."""
        self.start(at(start - timedelta(days=14)))
        self.match(start - timedelta(days=14))
        self.agree(start - timedelta(days=7), start, mentor=mentor, **offer)
        if mentor:
            self.grant_mentor(start - timedelta(days=6), start)
        self.confirm(start - timedelta(days=5))

    def grant_mentor(self, day: date, start: date, granted=True):
        data = {"mentor_bevilget": granted, "mentor_afgoerelsesdato": day.isoformat(),
                "mentor_begrundelse": "Behov for støtte de første uger"}
        if granted:
            data |= {"mentor_type": "virksomhedsmentor", "mentor_navn": "Jens Hansen", "mentor_timer_pr_uge": 3,
                     "mentor_fra": start.isoformat(), "mentor_til": (start + timedelta(weeks=4)).isoformat()}
        self.do("mentorbevilling", data, at(day))

    def visit(self, day: date, udfald="fortsaetter"):
        self.do("opfoelgning", {"besoegsdato": day.isoformat(), "placering_udfald": udfald,
                                "opfoelgning_notat": "Besøg på arbejdspladsen"}, at(day))

    def score(self, day: date, score=3):
        self.do("scorecard", {"scorecard_dato": day.isoformat(), "scorecard": score, "scorecard_mentor_deltog": True,
                              "scorecard_borger_deltog": True, "scorecard_udvikling": "Møder stabilt"}, at(day))

    def finish(self, day: date, udfald="ordinaert_job", score=4):
        self.do("afslutning", {"afslutning_dato": day.isoformat(), "slut_scorecard": score, "placering_udfald": udfald,
                               "afslutning_notat": "Slutevaluering med virksomheden"}, at(day))

    def fire_wait(self, element) -> datetime:
        """Fire the wait at `element` just after it is due (and check it is not due a second before)."""
        due = clock.as_utc(self.waits()[element].due_at)
        assert self.fire(due - timedelta(seconds=1)) == 0, element
        assert self.fire(due + timedelta(seconds=1)) >= 1, element
        return due

    def live_weeks(self, start: date, weeks: int):
        """Visit every week and score every month for `weeks` weeks, each on its last allowed day."""
        for _ in range(weeks):
            visit_due = danish_day(self.task("opfoelgning").due_at)
            while "scorecard" in self.open() and danish_day(self.task("scorecard").due_at) <= visit_due:
                self.score(danish_day(self.task("scorecard").due_at))
            self._fire_until(visit_due)
            self.visit(visit_due)

    def _fire_until(self, day: date):
        self.fire(at(day, 8))


@pytest.fixture
def placement(db, session, users) -> Placement:
    return Placement(db, session, users)


def test_praktik_of_four_weeks_ends_by_its_timer(placement):
    p = placement
    start = date(2026, 10, 5)                                                    # a Monday
    p.placed(start)
    assert p.open() == ["opfoelgning"]
    assert danish_day(p.task("opfoelgning").due_at) == date(2026, 10, 12)        # a week after the start
    assert p.case().data["aftale_slutdato"] == "2026-11-01"                      # 4 weeks: 5 Oct - 1 Nov
    end = clock.as_utc(p.waits()["aftale_udloeber"].due_at)
    assert danish_day(end) == date(2026, 11, 1)
    for day in (date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)):
        p.visit(day)
    assert p.fire_wait("aftale_udloeber") == end
    assert p.open() == ["afslutning"]                                            # the visit of week 5 is gone
    assert danish_day(p.task("afslutning").due_at) == date(2026, 11, 6)          # 5 working days after 1 Nov
    p.finish(date(2026, 11, 2))
    assert p.case().status == "completed"
    assert p.events("case_completed")[0].element_id == "placering_job"
    assert "scorecard" not in [t.element_id for t in p.completed()]              # under a month: the final score
    assert p.case().data["slut_scorecard"] == 4
