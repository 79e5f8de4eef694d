"""Running kontanthjælp cases move to a changed version of the journey and finish there.

Version 1 is the saved diagram tests/data/kontanthjaelp_v1.bpmn (tests/journeys/kh_v1.py); version 2 (tests/journeys/changed_kontanthjaelp.py)
adds a step after the visitation, renames `kontroller_ansoegning`, gives `ydelsesafgoerelse`
a shorter deadline and removes the a-kasse referral task. Ten cases stand spread over the
journey when version 2 is deployed: at user tasks with deadline timers, waiting for a
message and a timer at once, inside the virksomhedsplacering call activity, inside the
sanction event subprocess, and at the removed task. Time moves with clock.at and each
case's own timers are fired with runtime.fire_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import catalog, clock, runtime
from engine import inbox as tasks
from engine.migration_batch import run_batch
from engine.models import Case, HumanTask
from tests import factories as f
from tests.case_rows import case_rows
from tests.journeys.changed_kontanthjaelp import NEW_DEADLINE, RENAMED, changed_kontanthjaelp
from tests.journeys.kh_v1 import PROCESSES_V1 as PROCESSES
from tests.journeys.kh_v1 import JourneyV1 as Journey
from tests.journeys.test_kontanthjaelp import REFUSAL_SENT, RULES, at, danish_day

MOVED_AT = at(date(2026, 9, 10), 12)  # Thursday 10 September, noon: version 2 is deployed and the cases moved
MAPPING = dict(RENAMED)


@pytest.fixture
def users(seed, session):
    return seed(*PROCESSES, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
    }


class Cases(Journey):
    """One Journey driver for many cases: `on(name)` picks the case the next steps work on."""

    def __init__(self, db, session, users):
        super().__init__(db, session, users)
        self.ids: dict[str, str] = {}

    def begin(self, name: str, day: date, hour: int = 9, **data) -> None:
        data = {"henvendelsesdato": day.isoformat(), "forsikret": False} | data
        self.ids[name] = self.start(at(day, hour), **data).id

    def on(self, name: str) -> "Cases":
        self.case_id = self.ids[name]
        return self

    def register(self, day: date) -> None:
        self.do("jc", "tilmelding", {"tilmeldingsdato": day.isoformat(), "jobnet_tilmeldt": True}, at(day))

    def visit(self, day: date, **extra) -> None:
        self.do("jc", "visitation", {"visitationsdato": day.isoformat(), "til_raadighed": True, "kategori": "jobparat",
                                     "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28",
                                     "vurdering": "Står til rådighed", **extra}, at(day))

    def fire_own(self, now) -> int:
        with clock.at(now):
            fired = runtime.fire_timers(self.session, case_id=self.case_id, rules=RULES, now=now)
        self.session.commit()
        return fired

    def refuse(self, element: str, day: date, **extra) -> None:
        self.do("ys", element, {"afgoerelse": "afslag", "afgoerelsesdato": day.isoformat(),
                                "begrundelse": "Formue over grænsen", "afslag_sendt_dato": day.isoformat(),
                                **REFUSAL_SENT, **extra}, at(day))

    def positions(self) -> dict:
        """What a migration must keep: open tasks (id, element, unit, assignee, created, due) and waits."""
        tasks = {t.id: (t.element_id, t.unit, t.assignee, clock.as_utc(t.created_at), clock.as_utc(t.due_at))
                 for t in self.tasks()}
        return {"tasks": tasks, "waits": {e: (w.kind, clock.as_utc(w.due_at)) for e, w in self.waits().items()}}


@pytest.fixture
def cases(db, session, users) -> Cases:
    """Ten cases of version 1, spread over the journey at MOVED_AT (no timer of theirs is due yet)."""
    c = Cases(db, session, users)
    c.begin("tilmelding", date(2026, 9, 10))                                         # A: the first task
    c.begin("visitation", date(2026, 9, 9))                                          # B: before the new step
    c.on("visitation").register(date(2026, 9, 9))
    c.begin("ansoegning", date(2026, 9, 7))                                          # C: message or timer
    c.on("ansoegning").register(date(2026, 9, 7))
    c.visit(date(2026, 9, 9))
    c.begin("kontrol", date(2026, 9, 7))                                             # D: the renamed task
    c.on("kontrol").register(date(2026, 9, 7))
    c.visit(date(2026, 9, 8))
    c.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-09"}, at(date(2026, 9, 9)))
    with clock.at(at(date(2026, 9, 9), 10)):
        tasks.claim(session, task_id=c.task("kontroller_ansoegning").id, user=users["ys"])
    session.commit()
    for name in ("afgoerelse", "placering", "bekraeftelse", "sanktion"):            # E-H: past the decision
        c.to_decision(date(2026, 8, 31))                                             # complete on Friday 4 September
        c.ids[name] = c.case_id
    c.on("placering").grant(date(2026, 9, 4))                                         # F: in the call activity
    c.do("jc", "jobsamtale", {"samtaledato": "2026-09-07", "samtale_referat": "Praktik",
                              "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 7)))
    c.on("bekraeftelse").grant(date(2026, 9, 4))                                      # G: call activity, msg/timer
    c.do("jc", "jobsamtale", {"samtaledato": "2026-09-07", "samtale_referat": "Praktik",
                              "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 7)))
    c.agree(date(2026, 9, 8))
    c.on("sanktion").grant(date(2026, 9, 4))                                          # H: event subprocess
    c.message("fravaer", {}, at(date(2026, 9, 7)))
    c.do("jc", "indstilling_sanktion", {"fravaer_beskrivelse": "Udeblev", "rimelig_grund": False,
                                        "indstilling": "sanktion", "indstilling_begrundelse": "Intet afbud"},
         at(date(2026, 9, 7)))
    c.do("ys", "partshoering", {"partshoering_sendt_dato": "2026-09-08", "partshoering_tekst": "Fravær"},
         at(date(2026, 9, 8)))
    c.begin("akasse", date(2026, 9, 10), forsikret=True, akasse="3F A-kasse")        # I: the removed task
    c.begin("klage", date(2026, 9, 7))                                                # J: the complaint timer
    c.on("klage").register(date(2026, 9, 7))
    c.do("jc", "visitation", {"visitationsdato": "2026-09-08", "til_raadighed": False, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28",
                              "vurdering": "Afviser arbejde"}, at(date(2026, 9, 8)))
    c.do("ys", "afslag_raadighed", {"afgoerelsesdato": "2026-09-09", "begrundelse": "Ikke til rådighed",
                                    "klagevejledning_sendt": True,
                                    "afslag_sendt_dato": "2026-09-09", **REFUSAL_SENT}, at(date(2026, 9, 9)))
    with clock.at(MOVED_AT):
        files = [(p.name, p.read_bytes()) for p in PROCESSES[:2]] + [("kontanthjaelp.bpmn", changed_kontanthjaelp())]
        [version] = [d.version for d in catalog.deploy(session, files, rules=RULES, actor="owner")
                     if d.key == "kontanthjaelp"]
        session.commit()
    assert version == 2
    return c


def migrate(db, **kwargs):
    with clock.at(MOVED_AT):
        return run_batch(db.session_factory, process_key="kontanthjaelp", from_version=1, to_version=2,
                         actor="owner", rules=RULES, **kwargs)


def test_changed_kontanthjaelp_dry_run_then_migration_and_every_case_finishes_on_version_2(db, session, cases):
    c = cases
    names = {case_id: name for name, case_id in c.ids.items()}
    rows_before = {name: case_rows(session, case_id) for name, case_id in c.ids.items()}
    where = {name: c.on(name).positions() for name in c.ids}

    # -- dry run without the mapping: every case that has been at the renamed task is refused -----------
    plain = migrate(db, dry_run=True)
    assert plain.dry_run and sorted(names[i] for i in plain.migrated) == [
        "ansoegning", "klage", "tilmelding", "visitation"]
    reasons = {names[r["case_id"]]: r["reason"] for r in plain.refused}
    assert "stands on 'kontroller_ansoegning'" in reasons["kontrol"]
    assert "has passed 'kontroller_ansoegning'" in reasons["bekraeftelse"]
    assert "stands on 'henvis_akasse'" in reasons["akasse"]
    # -- with the mapping only the case at the removed task is refused; still nothing changed ------------
    planned = migrate(db, dry_run=True, mapping=MAPPING)
    assert [names[r["case_id"]] for r in planned.refused] == ["akasse"]
    assert {name: case_rows(session, i) for name, i in c.ids.items()} == rows_before

    # -- the migration: what the dry run said, case by case ---------------------------------------------
    done = migrate(db, mapping=MAPPING)
    assert not done.dry_run
    assert sorted(done.migrated) == sorted(planned.migrated) and done.refused == planned.refused
    assert "'henvis_akasse'" in done.refused[0]["reason"] and "map it" in done.refused[0]["reason"]
    assert case_rows(session, c.ids["akasse"]) == rows_before["akasse"]              # byte for byte
    for name in c.ids:
        if name == "akasse":
            continue
        case = c.on(name).case()
        assert (case.version, case.status) == (2, "running"), name
        [event] = c.events("case_migrated")
        assert (event.actor, event.details["from"], event.details["to"], event.details["by"]) == (
            "owner", 1, 2, "owner")
        assert event.details["mapping"] == (MAPPING if name in ("kontrol", "afgoerelse", "placering", "bekraeftelse",
                                                                "sanktion") else {}), name
        assert case.data == rows_before[name]["cases"][0][list(Case.__table__.columns.keys()).index("data")]
        _same_position(c, name, where[name])
    assert all(t.process_version == 2 for t in session.scalars(select(HumanTask).where(
        HumanTask.status.in_(("open", "claimed")), HumanTask.case_id != c.ids["akasse"])))

    _finish_every_case(c)
    for name in c.ids:
        if name != "akasse":
            assert c.on(name).case().status == "completed", (name, c.open(), c.waits())
    assert c.on("akasse").case().version == 1 and c.open() == ["henvis_akasse"]   # still waits on version 1


def _same_position(c: Cases, name: str, before: dict) -> None:
    """Open tasks keep id, unit, assignee, created and due times; waits keep their due times; except the change."""
    after = c.on(name).positions()
    expected_tasks = {i: ((RENAMED.get(el, el)), unit, who, created, due) for i, (el, unit, who, created, due)
                      in before["tasks"].items()}
    if name == "afgoerelse":  # the changed deadline: 10 working days from the complete application (4 Sept)
        [(task_id, (el, unit, who, created, _due))] = [(i, t) for i, t in expected_tasks.items()
                                                       if t[0] == "ydelsesafgoerelse"]
        new_due = after["tasks"][task_id][4]
        assert danish_day(new_due) == date(2026, 9, 18), new_due                   # 7-11, 14-18 September
        assert clock.as_utc(after["waits"]["ydelsesafgoerelse_frist"][1]) == new_due  # the reminder timer moved too
        assert c.task("ydelsesafgoerelse").deadline_rule == NEW_DEADLINE
        expected_tasks[task_id] = (el, unit, who, created, new_due)
        before = {**before, "waits": {**before["waits"],
                                      "ydelsesafgoerelse_frist": ("timer", new_due)}}
    assert after["tasks"] == expected_tasks, name
    assert after["waits"] == before["waits"], name


def _finish_every_case(c: Cases) -> None:
    """Each migrated case runs to one of its ends on version 2, through the changed and renamed steps."""
    c.on("tilmelding").register(date(2026, 9, 10))
    c.do("jc", "visitation", {"visitationsdato": "2026-09-11", "til_raadighed": False, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28",
                              "vurdering": "Afviser arbejde"}, at(date(2026, 9, 11)))
    assert c.open() == ["cv_kontrol"]                                                # the new step
    c.do("jc", "cv_kontrol", {"handling": "CV tjekket"}, at(date(2026, 9, 11), 11))
    c.do("ys", "afslag_raadighed", {"afgoerelsesdato": "2026-09-14", "begrundelse": "Ikke til rådighed",
                                    "klagevejledning_sendt": True,
                                    "afslag_sendt_dato": "2026-09-14", **REFUSAL_SENT}, at(date(2026, 9, 14)))
    _complaint_period_ends(c)

    c.on("visitation").visit(date(2026, 9, 11), til_raadighed=False)
    assert c.open() == ["cv_kontrol"] and c.task("cv_kontrol").process_version == 2
    assert danish_day(c.task("cv_kontrol").due_at) == date(2026, 9, 15)          # P2D working from Friday
    c.do("jc", "cv_kontrol", {"handling": "CV tjekket"}, at(date(2026, 9, 11), 11))
    c.do("ys", "afslag_raadighed", {"afgoerelsesdato": "2026-09-14", "begrundelse": "Ikke til rådighed",
                                    "klagevejledning_sendt": True,
                                    "afslag_sendt_dato": "2026-09-14", **REFUSAL_SENT}, at(date(2026, 9, 14)))
    _complaint_period_ends(c)

    c.on("ansoegning").message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-11"}, at(date(2026, 9, 11)))  # before its timer (16 Sept)
    assert c.open() == ["kontrol_af_ansoegning"]                                     # the renamed step
    c.do("ys", "kontrol_af_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-09-11"},
         at(date(2026, 9, 11)))
    assert danish_day(c.task("ydelsesafgoerelse").due_at) == date(2026, 9, 25)    # the new rule, 10 working days
    c.refuse("ydelsesafgoerelse", date(2026, 9, 14))
    _complaint_period_ends(c)

    c.on("kontrol")
    assert c.task("kontrol_af_ansoegning").assignee == "ys"                        # still claimed by ys
    c.do("ys", "kontrol_af_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-09-10"},
         at(date(2026, 9, 11)))
    c.refuse("ydelsesafgoerelse", date(2026, 9, 14))
    _complaint_period_ends(c)

    c.on("afgoerelse").refuse("ydelsesafgoerelse", date(2026, 9, 11))
    _complaint_period_ends(c)

    c.on("placering").agree(date(2026, 9, 11))                                       # match and aftale
    c.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 14)))
    _job_found(c, date(2026, 9, 15))

    c.on("bekraeftelse")
    due = clock.as_utc(c.waits()["ingen_bekraeftelse"].due_at)
    assert danish_day(due) == date(2026, 9, 15)                                     # 5 working days from 8 Sept
    assert c.fire_own(due + timedelta(seconds=1)) == 1                               # the timer after the move
    c.do("vs", "rykker_virksomhed", {"rykket_dato": "2026-09-16"}, at(date(2026, 9, 16)))
    c.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 17)))
    _job_found(c, date(2026, 9, 18))

    c.on("sanktion").message("partshoering_svar", {"borgerens_bemaerkninger": "Var syg"}, at(date(2026, 9, 14)))
    c.do("ys", "sanktion_afgoerelse", {"sanktion_afgoerelse": "ingen_sanktion", "sanktion_afgoerelsesdato":
                                       "2026-09-15", "sanktion_begrundelse": "Dokumenteret sygdom"},
         at(date(2026, 9, 15)))
    c.do("jc", "jobsamtale", {"samtaledato": "2026-09-16", "samtale_referat": "Fået job",
                              "jobsamtale_udfald": "job"}, at(date(2026, 9, 16)))
    c.do("ys", "stop_ydelse", {"ophoersdato": "2026-09-30", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 9, 17)))

    c.on("klage")
    due = clock.as_utc(c.waits()["klagefrist_udloebet"].due_at)
    assert danish_day(due) == date(2026, 10, 7)                                      # 4 weeks from 9 September
    assert c.fire_own(due + timedelta(seconds=1)) == 1


def _complaint_period_ends(c: Cases) -> None:
    due = clock.as_utc(c.waits()["klagefrist_udloebet"].due_at)
    assert c.fire_own(due + timedelta(seconds=1)) >= 1
    assert c.case().status == "completed" and c.events("case_completed")[0].element_id == "afslag_endeligt"


def _job_found(c: Cases, day: date) -> None:
    c.follow_up("ordinaert_job", day)  # virksomhedsplacering v2: the scorecard is a monthly step, not a field
    c.do("ys", "stop_ydelse", {"ophoersdato": "2026-09-30", "ophoersaarsag": "ordinaert_job"}, at(day, 11))
    assert c.events("case_completed")[0].element_id == "sag_afsluttet"
