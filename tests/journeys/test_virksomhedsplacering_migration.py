"""Running placements move from version 1 of virksomhedsplacering to version 2 and finish there.

Version 1 is main's diagram before issue 14 (tests/data/virksomhedsplacering_v1.bpmn, deployed with
the forms it had: tests/data/virksomhedsplacering_v1_forms/ for the two that changed); version 2 is
processes/shared/virksomhedsplacering.bpmn. Cases stand at the match, at the agreement, waiting for
the employer's answer (a message and a timer at once), at the reminder to the employer, and in the
weekly follow-up. The follow-up of version 1 has no place in version 2, where it sits inside the
subprocess *Forløbet i virksomheden*: such a case is refused, unchanged, and finishes on version 1.
Time moves with clock.at and fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine import catalog, clock, runtime
from engine.catch_up import catch_up, mapping_files
from engine.migration import element_ids
from engine.migration_batch import run_batch
from engine.models import ProcessDefinition
from tests import factories as f
from tests.case_rows import case_rows
from tests.journeys.test_virksomhedsplacering import PLACERING, RULES, Placement, at, danish_day

V1 = f.DATA / "virksomhedsplacering_v1.bpmn"
V1_FORMS = f.DATA / "virksomhedsplacering_v1_forms"
MOVED_AT = at(date(2026, 9, 24), 12)  # Thursday 24 September, noon: version 2 deployed, the cases moved


@pytest.fixture
def users(seed, session):
    users = seed(rules=RULES) | {"vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])}
    files = [(V1.name, V1.read_bytes())] + [(p.name, p.read_bytes()) for p in sorted(V1_FORMS.glob("*.json"))]
    [v1] = catalog.deploy(session, files, rules=RULES, actor="owner")
    session.commit()
    assert (v1.key, v1.version) == ("virksomhedsplacering", 1)
    return users


class Cases(Placement):
    def __init__(self, db, session, users):
        super().__init__(db, session, users)
        self.ids: dict[str, str] = {}

    def begin(self, name: str, day: date) -> None:
        self.ids[name] = self.start(at(day)).id

    def on(self, name: str) -> "Cases":
        self.case_id = self.ids[name]
        return self

    def agree_v1(self, day: date, start: date) -> None:
        """The agreement as version 1's form asked for it: one length field and a mentor flag."""
        self.do("aftale", {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "tilbudstype": "virksomhedspraktik",
                           "startdato": start.isoformat(), "laengde_uger": 4, "mentor": True,
                           "mentor_navn": "Jens"}, at(day, 11))

    def fire(self, now) -> int:
        """Only this case's timers: the other cases' reminders fall due at the same moments."""
        with clock.at(now):
            fired = runtime.fire_timers(self.session, case_id=self.case_id, rules=RULES, now=now)
        self.session.commit()
        return fired

    def positions(self) -> dict:
        tasks = {t.id: (t.element_id, t.unit, clock.as_utc(t.created_at), clock.as_utc(t.due_at)) for t in self.tasks()}
        return {"tasks": tasks, "waits": {e: (w.kind, clock.as_utc(w.due_at)) for e, w in self.waits().items()}}


@pytest.fixture
def cases(db, session, users) -> Cases:
    c = Cases(db, session, users)
    c.begin("match", date(2026, 9, 21))                                              # at the match
    c.begin("aftale", date(2026, 9, 21))                                             # at the agreement
    c.match(date(2026, 9, 21))
    c.begin("bekraeftelse", date(2026, 9, 21))                                       # message or timer
    c.match(date(2026, 9, 21))
    c.agree_v1(date(2026, 9, 22), date(2026, 10, 5))
    c.begin("rykker", date(2026, 9, 14))                                             # the employer was silent
    c.match(date(2026, 9, 14))
    c.agree_v1(date(2026, 9, 15), date(2026, 9, 28))
    c.fire_wait("ingen_bekraeftelse")                                                # 22 September
    c.begin("opfoelgning", date(2026, 9, 7))                                         # in the weekly follow-up
    c.match(date(2026, 9, 7))
    c.agree_v1(date(2026, 9, 8), date(2026, 9, 14))
    c.confirm(date(2026, 9, 10))
    assert c.open() == ["opfoelgning"]
    with clock.at(MOVED_AT):
        [v2] = [d for d in catalog.deploy(session, [(PLACERING.name, PLACERING.read_bytes())], rules=RULES,
                                          actor="owner") if d.key == "virksomhedsplacering"]
        session.commit()
    assert v2.version == 2
    return c


def migrate(db, **kwargs):
    with clock.at(MOVED_AT):
        return run_batch(db.session_factory, process_key="virksomhedsplacering", from_version=1, to_version=2,
                         actor="owner", rules=RULES, **kwargs)


def test_running_placements_move_from_version_1_to_2_and_finish_there(db, session, cases):
    c = cases
    names = {case_id: name for name, case_id in c.ids.items()}
    where = {name: c.on(name).positions() for name in c.ids}
    rows_before = {name: case_rows(session, case_id) for name, case_id in c.ids.items()}

    planned = migrate(db, dry_run=True)
    assert sorted(names[i] for i in planned.migrated) == ["aftale", "bekraeftelse", "match", "rykker"]
    [refused] = planned.refused
    assert names[refused["case_id"]] == "opfoelgning" and "stands on 'opfoelgning'" in refused["reason"], refused
    assert {name: case_rows(session, i) for name, i in c.ids.items()} == rows_before   # a dry run changes nothing

    done = migrate(db)
    assert sorted(done.migrated) == sorted(planned.migrated) and done.refused == planned.refused
    assert case_rows(session, c.ids["opfoelgning"]) == rows_before["opfoelgning"]   # refused: left as it was
    for name in ("match", "aftale", "bekraeftelse", "rykker"):
        assert c.on(name).case().version == 2, name
        assert c.positions() == where[name], name                                    # same tasks, same clocks
        assert [e.details["to"] for e in c.events("case_migrated")] == [2]

    # -- each moved case finishes on version 2 ----------------------------------------------------------
    c.on("match").match(date(2026, 9, 25))
    c.agree(date(2026, 9, 28), date(2026, 10, 5))                                    # version 2's form
    c.confirm(date(2026, 9, 29))
    assert c.case().data["aftale_slutdato"] == "2026-11-01"
    c.begins(date(2026, 10, 5))
    c.visit(date(2026, 10, 9), udfald="ordinaert_job")
    assert c.case().status == "completed" and c.events("case_completed")[0].element_id == "placering_job"

    c.on("aftale").agree(date(2026, 9, 25), date(2026, 10, 5), mentor=True)
    assert c.open() == ["mentorbevilling"]                                           # the new step
    c.grant_mentor(date(2026, 9, 28), date(2026, 10, 5))
    c.confirm(date(2026, 9, 29))
    c.begins(date(2026, 10, 5))
    c.visit(date(2026, 10, 9), udfald="frafald")
    assert c.open() == ["match"]

    # agreed on version 1's form: the agreed end is read from its one length field
    c.on("bekraeftelse").confirm(date(2026, 9, 25))
    assert c.case().data["aftale_slutdato"] == "2026-11-01" and c.case().data["aftale_uger"] == 4
    c.begins(date(2026, 10, 5))
    assert danish_day(c.task("opfoelgning").due_at) == date(2026, 10, 12)
    c.visit(date(2026, 10, 12))
    c.visit(date(2026, 10, 19))
    c.visit(date(2026, 10, 26))
    c.fire_wait("aftale_udloeber")
    c.finish(date(2026, 11, 2))
    assert c.case().status == "completed"

    c.on("rykker").do("rykker_virksomhed", {"rykket_dato": "2026-09-24"}, at(date(2026, 9, 24), 13))
    c.confirm(date(2026, 9, 25))
    c.begins(date(2026, 9, 28))                                                      # agreed start: 28 September
    assert c.open() == ["opfoelgning"] and c.case().data["aftale_slutdato"] == "2026-10-25"

    # -- the refused case goes on on version 1 ----------------------------------------------------------
    c.on("opfoelgning")
    assert c.case().version == 1
    c.do("opfoelgning", {"besoegsdato": "2026-09-24", "placering_udfald": "ordinaert_job", "scorecard": 4,
                         "opfoelgning_notat": "Ansat"}, at(date(2026, 9, 24), 13))         # version 1's form
    assert c.case().status == "completed" and c.events("case_completed")[0].element_id == "placering_job"


def test_the_deploy_moves_them_without_a_migration_file_and_no_mapping_could_move_the_follow_up(db, session, cases):
    """`tovholder demo` / `deploy --migrate-running` (engine.catch_up) move the same cases with no
    virksomhedsplacering.migration.toml: every element of version 1 keeps its id in version 2. The case in
    version 1's weekly follow-up stays refused whatever a file would map: version 2 has that step only inside
    the subprocess, and a step a case stands on cannot become the subprocess (another kind of element)."""
    assert "virksomhedsplacering" not in mapping_files([f.ROOT / "processes"])
    specs = {d.version: d.spec_json for d in session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.key == "virksomhedsplacering"))}
    assert element_ids(specs[1]) <= element_ids(specs[2])                            # nothing of v1 to map
    names = {case_id: name for name, case_id in cases.ids.items()}
    with clock.at(MOVED_AT):
        done = catch_up(db.session_factory, process_key="virksomhedsplacering", actor="owner", rules=RULES)
    [(version, result)] = done.batches
    assert version == 1 and sorted(names[i] for i in result.migrated) == ["aftale", "bekraeftelse", "match", "rykker"]
    [refused] = result.refused
    assert names[refused["case_id"]] == "opfoelgning" and "stands on 'opfoelgning'" in refused["reason"]
    # mapping it to the subprocess that holds version 2's follow-up is refused too: the kind differs
    with clock.at(MOVED_AT):
        tried = migrate(db, mapping={"opfoelgning": "forloeb"}, dry_run=True)
    [refused] = tried.refused
    assert names[refused["case_id"]] == "opfoelgning" and "forloeb" in refused["reason"], refused
