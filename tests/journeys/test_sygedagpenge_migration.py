"""Running sygedagpenge cases of version 1 (the journey as it was, tests/data/sygedagpenge_v1/) move to version 2.

Version 1 ran the jobcenter's clocks after the visitation behind a join and reached week 22 from
the follow-up loop; version 2 starts them at the report, in branches of their own, and calls the
rehabiliteringsteam journey. The plan is the journey's own migration file
(processes/sygedagpenge/sygedagpenge.migration.toml), as `tovholder deploy --migrate-running` and
`tovholder demo` use it. A case in the follow-up loop moves and gets its revurdering on version 2;
a case standing where version 2 would have started other work beside it (the oplysningsskema),
or in the old inline rehabiliteringsteam part, is refused and left exactly as it was.
Time moves with clock.at and fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import catalog, catch_up, clock
from tests import factories as f
from tests.case_rows import case_rows
from tests.journeys.sdp_journey import PROCESSES, ROOT, RULES, STOP, Sdp, at, oplysninger, ret, samtale, visitation

V1 = ROOT / "tests" / "data" / "sygedagpenge_v1"
V1_FILES = (V1, *sorted((V1 / "forms").glob("*.json")))  # its own forms, as they were deployed with it
MOVED_AT = at(date(2026, 3, 10), 12)  # Tuesday 10 March, noon: version 2 is deployed and the cases moved
V1_ARBEJDSGIVERSAMTALE = {"arbejdsgiversamtale_dato": "2026-01-26", "delvis_genoptagelse_mulig": False,
                          "fastholdelsesplan": True, "referat_arbejdsgiver": "Arbejdspladsen venter"}


@pytest.fixture
def users(seed, session):
    return seed(*V1_FILES, rules=RULES) | {
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
    }


def v1_case(db, session, users, cpr: str, *, to: str) -> Sdp:
    """A version 1 case, taken as far as `to`: "oplysningsskema", "visitation", "sof_bidrag", "loop" or
    "kategori1_vent"."""
    j = Sdp(db, session, users, cpr=cpr)
    j.report()
    if to == "oplysningsskema":
        return j
    kategori, uger, problemer = {"sof_bidrag": ("3", 20, True), "kategori1_vent": ("1", 6, False)}.get(
        to, ("2", 12, False))
    j.do("ys", "oplysningsskema", oplysninger(uger, problemer is False, problemer, date(2026, 1, 14)), date(2026, 1, 14))
    j.do("ys", "berettigelse", {k: v for k, v in ret(date(2026, 1, 16)).items() if k != "tidligere_uger_9_maaneder"},
         date(2026, 1, 16))
    if to == "visitation":
        return j
    j.do("jc", "visitation", visitation(date(2026, 1, 19), kategori), date(2026, 1, 19))
    j.do("jc", "arbejdsgiversamtale", V1_ARBEJDSGIVERSAMTALE, date(2026, 1, 26))
    if to in ("loop", "kategori1_vent"):
        j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 23)), date(2026, 2, 23))
    if to == "loop":
        assert j.timers() == {"vent_opfoelgning": date(2026, 3, 16)}  # version 1: the loop, no revurdering wait
    if to == "kategori1_vent":
        assert j.timers() == {"kategori1_vent": date(2026, 6, 1)}  # version 1: category 1 alone until week 22
    return j


def deploy_v2(session) -> int:
    with clock.at(MOVED_AT):
        deployed = catalog.deploy(session, catalog.collect_files(list(PROCESSES)), rules=RULES, actor="owner")
        session.commit()
    [version] = [d.version for d in deployed if d.key == "sygedagpenge"]
    return version


def test_a_version_1_case_in_the_follow_up_moves_to_version_2_and_gets_its_revurdering(db, session, users):
    loop = v1_case(db, session, users, "0101901234", to="loop")
    early = v1_case(db, session, users, "0202902345", to="oplysningsskema")
    rehab = v1_case(db, session, users, "0303903456", to="sof_bidrag")
    visiting = v1_case(db, session, users, "0404904567", to="visitation")
    alone = v1_case(db, session, users, "0505905678", to="kategori1_vent")
    assert {"sof_bidrag", "forbered_rehab"} <= set(rehab.open())
    refused_cases = (("early", early), ("rehab", rehab), ("visiting", visiting), ("alone", alone))
    before = {name: case_rows(session, j.case_id) for name, j in refused_cases}
    assert deploy_v2(session) == 2

    mapping = catch_up.mapping_files([ROOT / "processes"])["sygedagpenge"]
    assert mapping["1:sof_bidrag"] == "rehab_kategori3"  # a line for version 1's cases ([from_version.1])
    with clock.at(MOVED_AT):
        planned = catch_up.catch_up(db.session_factory, process_key="sygedagpenge", mapping=mapping, actor="owner",
                                    rules=RULES, dry_run=True)
        done = catch_up.catch_up(db.session_factory, process_key="sygedagpenge", mapping=mapping, actor="owner",
                                 rules=RULES)
    [(from_version, result)] = done.batches
    assert from_version == 1 and result.migrated == [loop.case_id] == planned.batches[0][1].migrated
    reasons = {r["case_id"]: r["reason"] for r in result.refused}
    assert "'oplysningsskema'" in reasons[early.case_id]   # stands on a step version 2 runs beside its clocks
    assert "'sof_bidrag'" in reasons[rehab.case_id] or "'forbered_rehab'" in reasons[rehab.case_id]
    assert "'visitation'" in reasons[visiting.case_id]     # its clocks would start behind it on version 1 only
    assert "'kategori1_vent'" in reasons[alone.case_id]    # version 2 has no week-22 wait without the loop
    for name, j in refused_cases:
        assert case_rows(session, j.case_id) == before[name], name  # refused: left exactly as it was
        assert j.case().version == 1

    # the moved case: on version 2, its follow-up timer kept, and on its next round it gets the revurdering
    case = loop.case()
    assert (case.version, case.status) == (2, "running")
    assert [e.details["from"] for e in loop.events("case_migrated")] == [1]
    assert loop.timers() == {"vent_opfoelgning": date(2026, 3, 16)}
    assert loop.fire_own(date(2026, 3, 17)) == 1
    assert loop.due("opfoelgning") == date(2026, 3, 23)
    assert loop.open()["opfoelgning"].process_version == 2
    loop.do("jc", "opfoelgning", samtale(date(2026, 3, 20)), date(2026, 3, 20))
    # version 1 counted this spell only: the revurdering's last week begins 21 weeks from 5 January
    assert loop.timers() == {"vent_opfoelgning": date(2026, 4, 10), "vent_revurdering": date(2026, 6, 1)}
    assert ("naeste_gw", ["flyttet_split"]) in loop.gateways()
    loop.fire_own(date(2026, 4, 11))
    loop.do("jc", "opfoelgning", samtale(date(2026, 4, 14)), date(2026, 4, 14))
    assert loop.timers() == {"vent_opfoelgning": date(2026, 5, 5), "vent_revurdering": date(2026, 6, 1)}  # once
    loop.fire_own(date(2026, 5, 6))
    loop.do("jc", "opfoelgning", samtale(date(2026, 5, 8), raskmeldt=True), date(2026, 5, 8))
    loop.do("ys", "stop_udbetaling", STOP, date(2026, 5, 11))
    assert loop.case().status == "completed" and loop.events("case_completed")[0].element_id == "raskmeldt_slut"
    assert loop.waits() == {}

    # the refused case carries on on version 1 and moves once it is in the follow-up
    early.do("ys", "oplysningsskema", oplysninger(12, True, False, date(2026, 3, 11)), date(2026, 3, 11))
    assert early.case().version == 1 and "berettigelse" in early.open()
