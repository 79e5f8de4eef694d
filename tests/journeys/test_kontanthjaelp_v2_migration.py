"""The migration plan from kontanthjælp version 1 (main before issue 14) to version 2 (processes/).

Version 1 is tests/data/kontanthjaelp_v1.bpmn (tests/journeys/kh_v1.py). The plan is the mapping in
processes/kontanthjaelp/kontanthjaelp.migration.toml (what `tovholder demo` and `deploy --migrate-running`
use), as docs/journeys.md states it:

1. Every running case moves, with one mapping: `jobsamtale` → `jobsamtale_1`, and its reminder branch
   with it (version 1's rolling conversation becomes the first of the six counted from the henvendelse;
   version 2's `jobsamtale` is the rolling one after the six and counts from the last conversation, which
   a case on its first conversation does not have).
2. A case that moved while it waited for its decision has walked version 1's path past the visitation,
   without version 2's branches there (SOF, CV, contact course): at the grant, version 2 starts them for
   it (`bevilget_kontaktforloeb`, `sen_start_gw`); version 2's own cases pass by.
3. A case waiting out a complaint period stands on version 1's `klagefrist_udloebet`, which version 2 does
   not have (its complaint deadline counts from the receipt, a date version 1 never recorded): the
   migration refuses it with that reason and it finishes on version 1, at most four weeks.

Time moves with clock.at; timers are fired with fire_due_timers(now=...).
"""
from __future__ import annotations

import tomllib
from datetime import date, timedelta

import pytest

from engine import catalog, clock
from engine.migration_batch import run_batch
from tests import factories as f
from tests.journeys.kh_v1 import PROCESSES_V1, JourneyV1
from tests.journeys.test_kontanthjaelp import PROCESSES, RULES, at, danish_day

MOVED_AT = at(date(2026, 9, 16), 12)
PLAN_FILE = f.ROOT / "processes" / "kontanthjaelp" / "kontanthjaelp.migration.toml"
MAPPING = tomllib.loads(PLAN_FILE.read_text(encoding="utf-8"))["from_version"]["1"]  # version 1's own lines
MOVED = ("tilmelding", "visitation", "ansoegning", "jobsamtale", "tilbudsplan", "placering")


@pytest.fixture
def users(seed, session):
    return seed(*PROCESSES_V1, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
    }


class Cases(JourneyV1):
    def __init__(self, db, session, users):
        super().__init__(db, session, users)
        self.ids: dict[str, str] = {}

    def on(self, name: str) -> "Cases":
        self.case_id = self.ids[name]
        return self

    def begin(self, name: str, day: date) -> None:
        self.ids[name] = self.start(at(day), henvendelsesdato=day.isoformat(), forsikret=False).id


@pytest.fixture
def cases(db, session, users) -> Cases:
    c = Cases(db, session, users)
    c.begin("tilmelding", date(2026, 9, 15))
    c.begin("visitation", date(2026, 9, 14))
    c.do("jc", "tilmelding", {"tilmeldingsdato": "2026-09-14", "jobnet_tilmeldt": True}, at(date(2026, 9, 14)))
    for name, kategori in (("ansoegning", "jobparat"), ("jobsamtale", "jobparat"), ("tilbudsplan", "aktivitetsparat"),
                           ("placering", "jobparat"), ("klage", "jobparat")):
        complete_day = c.to_decision(date(2026, 9, 7), kategori=kategori)      # complete on Friday 11 September
        c.ids[name] = c.case_id
        if name == "ansoegning":
            continue                                                             # at ydelsesafgoerelse
        if name == "klage":
            c.refuse(complete_day)
            continue
        c.grant(complete_day)
    c.on("placering").do("jc", "jobsamtale", {"samtaledato": "2026-09-14", "samtale_referat": "Praktik",
                                              "jobsamtale_udfald": "tilbud"}, at(date(2026, 9, 14)))
    c.agree(date(2026, 9, 15))
    with clock.at(MOVED_AT):
        deployed = catalog.deploy(session, [(p.name, p.read_bytes()) for p in PROCESSES], rules=RULES, actor="owner")
        session.commit()
    assert [d.version for d in deployed if d.key == "kontanthjaelp"] == [2]
    return c


def migrate(db, *, dry_run=False):
    with clock.at(MOVED_AT):
        return run_batch(db.session_factory, process_key="kontanthjaelp", from_version=1, to_version=2,
                         actor="owner", rules=RULES, mapping=MAPPING, dry_run=dry_run)


def test_the_plan_moves_version_1_cases_to_version_2_and_they_finish_there(db, session, cases):
    c = cases
    names = {case_id: name for name, case_id in c.ids.items()}
    assert MAPPING == {"jobsamtale": "jobsamtale_1", "jobsamtale_frist": "jobsamtale_1_frist",
                       "jobsamtale_paamindelse": "jobsamtale_1_paamindelse",
                       "jobsamtale_paamindelse_slut": "jobsamtale_1_paamindelse_slut"}
    planned = migrate(db, dry_run=True)
    assert sorted(names[i] for i in planned.migrated) == sorted(MOVED)
    [refused] = planned.refused
    assert names[refused["case_id"]] == "klage" and "'klagefrist_udloebet'" in refused["reason"]
    done = migrate(db)
    assert sorted(done.migrated) == sorted(planned.migrated) and done.refused == planned.refused
    for name in MOVED:
        assert c.on(name).case().version == 2, name
    assert c.on("klage").case().version == 1

    # before the visitation: the whole of version 2 lies ahead
    c.on("tilmelding").do("jc", "tilmelding", {"tilmeldingsdato": "2026-09-16", "jobnet_tilmeldt": True},
                          at(date(2026, 9, 16)))
    c.do("jc", "visitation", {"visitationsdato": "2026-09-17", "til_raadighed": True, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": True, "problemomraader": "bolig", "cv_frist": "2026-10-06",
                              "vurdering": "Ok"}, at(date(2026, 9, 17)))
    assert c.open() == ["cv_paa_jobnet", "jobsamtale_1"] and c.task("jobsamtale_1").process_version == 2
    assert danish_day(c.task("jobsamtale_1").due_at) == date(2026, 10, 27)             # 6 weeks from 15 September
    assert "sof_tilbagemelding" in c.waits()                                         # SOF at the visitation
    c.on("visitation").do("jc", "visitation", {"visitationsdato": "2026-09-17", "til_raadighed": False,
                                               "kategori": "jobparat", "problemer_ud_over_ledighed": False,
                                               "cv_frist": "2026-10-05", "vurdering": "Afviser"}, at(date(2026, 9, 17)))
    assert c.open() == ["afslag_raadighed", "cv_paa_jobnet"]

    # in the contact course: version 1's conversation is the first of the six, due from the henvendelse
    c.on("jobsamtale")
    assert c.open() == ["jobsamtale_1"] and danish_day(c.task("jobsamtale_1").due_at) == date(2026, 10, 19)
    c.do("jc", "jobsamtale_1", {"samtaledato": "2026-09-21", "samtale_referat": "Søger",
                                "jobsamtale_udfald": "ny_samtale"}, at(date(2026, 9, 21)))
    assert c.open() == ["jobsamtale_2"] and danish_day(c.task("jobsamtale_2").due_at) == date(2026, 12, 7)
    c.do("jc", "jobsamtale_2", {"samtaledato": "2026-10-05", "samtale_referat": "Job",
                                "jobsamtale_udfald": "job"}, at(date(2026, 10, 5)))
    c.do("ys", "stop_ydelse", {"ophoersdato": "2026-10-31", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 10, 6)))
    assert c.case().status == "completed" and c.events("case_completed")[0].element_id == "sag_afsluttet"

    c.on("tilbudsplan").do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik",
                                                 "mentor_behov": True, "koordinerende_sagsbehandler": "Hanne",
                                                 "plan": "Praktik"}, at(date(2026, 9, 17)))
    assert c.open() == ["bevilg_mentor", "match"]

    c.on("placering").message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 17)))
    c.follow_up("ordinaert_job", date(2026, 9, 24))  # placement v2: no scorecard field on the visit
    c.do("ys", "stop_ydelse", {"ophoersdato": "2026-09-30", "ophoersaarsag": "ordinaert_job"}, at(date(2026, 9, 25)))
    assert c.case().status == "completed"

    # step 2: the case that waited for its decision gets version 2's contact course at the grant
    c.on("ansoegning").grant(date(2026, 9, 18))
    assert c.open() == ["cv_paa_jobnet", "jobsamtale_1"]
    assert danish_day(c.task("jobsamtale_1").due_at) == date(2026, 10, 19)             # from the henvendelse
    assert ("sen_start_gw", ["kontaktforloeb_start", "cv_paa_jobnet"]) in c.gateways() or \
        ("sen_start_gw", ["cv_paa_jobnet", "kontaktforloeb_start"]) in c.gateways()
    # step 3: the complaint period ends on version 1, four weeks from the decision as version 1 counts
    c.on("klage")
    due = clock.as_utc(c.waits()["klagefrist_udloebet"].due_at)
    assert danish_day(due) == date(2026, 10, 9)
    assert c.fire(due + timedelta(seconds=1)) >= 1
    assert c.case().version == 1 and c.case().status == "completed"
