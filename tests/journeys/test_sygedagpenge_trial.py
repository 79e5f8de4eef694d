"""Frikommuneforsøg II in sygedagpenge: the rehabiliteringsteam's two exemptions as rule-set switches.

config/deadlines.toml: `[rule_sets.frikommune.switches]` turns on `lae265_kan_undlades` (the LÆ265 need
not be obtained before the team when the case is sufficiently health-documented) and
`jobafklaring_uden_rehabiliteringsteam` (the week-22 jobafklaringsforløb need not be presented to the
team); 004_*, the trial »Rehabiliteringsteams« points 2 and 1. Ordinary cases read both as off. The
rule set is chosen at the visitation (the form's `regelsaet` field), audited with what it switches on.
Time moves with clock.at and fire_due_timers(now=...), never by sleeping.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import catalog, catch_up, clock
from tests import factories as f
from tests.journeys.sdp_journey import (
    PROCESSES,
    REHAB,
    ROOT,
    RULES,
    Sdp,
    at,
    oplysninger,
    ret,
    samtale,
    sygedagpenge_users,
    visitation,
)


@pytest.fixture
def users(seed, session):
    return sygedagpenge_users(seed, session)


def visited(db, session, users, cpr: str, *, kategori: str, rule_set: str | None) -> Sdp:
    """Report, oplysningsskema, visitation (choosing the rule set) and entitlement, each done quickly."""
    j = Sdp(db, session, users, cpr=cpr)
    j.report()
    uger, afklaret, problemer = (20, False, True) if kategori == "3" else (30, True, False)
    j.do("ys", "oplysningsskema", oplysninger(uger, afklaret, problemer, date(2026, 1, 14)), date(2026, 1, 14))
    chosen = {"regelsaet": rule_set} if rule_set else {}
    j.do("jc", "visitation", {**visitation(date(2026, 1, 15), kategori), **chosen}, date(2026, 1, 15))
    j.do("ys", "berettigelse", ret(date(2026, 1, 16)), date(2026, 1, 16))
    return j


def test_a_frikommune_case_sufficiently_documented_goes_to_the_team_without_lae265_and_an_ordinary_case_gets_it(
        db, session, users):
    trial = visited(db, session, users, "0101901234", kategori="3", rule_set="frikommune")
    ordinary = visited(db, session, users, "0202901234", kategori="3", rule_set=None)
    # the ordinary case: the jobcenter obtains the LÆ265 first, within 5 working days of the visitation
    assert dict(ordinary.gateways())["lae265_gw"] == ["indhent_lae265"]
    assert "sundhedsfaglig_vurdering" not in ordinary.open() and not ordinary.rehab_open()
    assert ordinary.due("indhent_lae265") == date(2026, 1, 22)
    # the trial case: the caseworker is asked whether the case is documented enough without it
    assert dict(trial.gateways())["lae265_gw"] == ["sundhedsfaglig_vurdering"]
    assert "indhent_lae265" not in trial.open() and not trial.rehab_open()
    assert trial.due("sundhedsfaglig_vurdering") == date(2026, 1, 19)  # 2 working days from Thursday 15 January
    trial.do("jc", "sundhedsfaglig_vurdering", {"tilstraekkeligt_sundhedsfagligt_belyst": True,
                                                "sundhedsfaglig_begrundelse": "Speciallægeerklæring fra december"},
             date(2026, 1, 16))
    assert dict(trial.gateways())["belyst_gw"] == ["til_rehabiliteringsteam_gw"]
    assert trial.rehab_open() and "indhent_lae265" not in {t.element_id for t in trial.all_tasks()}
    ordinary.lae265(date(2026, 1, 20))
    assert ordinary.rehab_open()
    for j in (trial, ordinary):
        assert dict(j.gateways())["til_rehabiliteringsteam_gw"] == ["rehab_kategori3"]
        assert j.born_overdue() == []
    # the choice at the visitation is audited with what the rule set switches on
    [chosen] = trial.events("rule_set_chosen")
    assert chosen.element_id == "visitation" and chosen.details["to"] == "frikommune"
    assert chosen.details["switches_on"] == ["jobafklaring_uden_rehabiliteringsteam", "lae265_kan_undlades"]
    assert ordinary.events("rule_set_chosen") == []


def test_a_frikommune_case_not_documented_enough_gets_the_lae265_as_an_ordinary_case(db, session, users):
    j = visited(db, session, users, "0101901234", kategori="3", rule_set="frikommune")
    j.do("jc", "sundhedsfaglig_vurdering", {"tilstraekkeligt_sundhedsfagligt_belyst": False}, date(2026, 1, 16))
    assert dict(j.gateways())["belyst_gw"] == ["indhent_lae265"]
    assert not j.rehab_open() and j.due("indhent_lae265") == date(2026, 1, 22)
    j.lae265(date(2026, 1, 21))
    assert j.rehab_open()


def test_the_caseworker_must_say_what_documents_the_case_when_the_lae265_is_left_out(db, session, users):
    j = visited(db, session, users, "0101901234", kategori="3", rule_set="frikommune")
    with pytest.raises(Exception) as refused:
        j.do("jc", "sundhedsfaglig_vurdering", {"tilstraekkeligt_sundhedsfagligt_belyst": True}, date(2026, 1, 16))
    assert [d["field"] for d in refused.value.detail] == ["sundhedsfaglig_begrundelse"]
    session.rollback()
    assert "sundhedsfaglig_vurdering" in j.open()


def test_week_22_jobafklaring_of_a_frikommune_case_skips_the_team_and_an_ordinary_case_goes_through_it(
        db, session, users):
    cases = {rule_set: visited(db, session, users, cpr, kategori="2", rule_set=rule_set)
             for rule_set, cpr in (("frikommune", "0101901234"), (None, "0202901234"))}
    cases[None].fire(date(2026, 2, 23))  # week 5 has begun: the first follow-up is in the inbox (both cases)
    for j in cases.values():
        j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 23)), date(2026, 2, 23))
    assert cases[None].fire(date(2026, 6, 2)) >= 2
    for j in cases.values():
        j.do("jc", "revurdering", {"revurderingsdato": "2026-06-03", "revurdering_udfald": "jobafklaringsforloeb",
                                   "revurdering_begrundelse": "Ingen forlængelsesgrundlag"}, date(2026, 6, 3))
    trial, ordinary = cases["frikommune"], cases[None]
    assert dict(trial.gateways())["jobafklaring_rehab_gw"] == ["til_overgang_jobafklaring"]
    assert "overgang_jobafklaring" in trial.open() and not trial.rehab_open()
    assert not {"henvis_jobafklaring", "indhent_lae265", "sundhedsfaglig_vurdering"} & set(trial.passed())
    assert dict(ordinary.gateways())["jobafklaring_rehab_gw"] == ["henvis_jobafklaring"]
    assert "overgang_jobafklaring" not in ordinary.open() and "indhent_lae265" in ordinary.open()
    trial.do("ys", "overgang_jobafklaring", {"sidste_sygedagpengedag": "2026-06-14",
                                             "ressourceforloebsydelse_fra": "2026-06-15",
                                             "afgoerelse_note": "Overgang uden rehabiliteringsteamet (frikommuneforsøg)"},
             date(2026, 6, 5))
    assert trial.case().status == "completed"
    assert trial.events("case_completed")[0].element_id == "jobafklaring_slut"


def test_a_rule_set_switched_by_a_team_lead_later_reaches_the_next_gateway(db, session, users):
    """The switch is read when the gateway is reached, from the case's rule set then (as a deadline is
    resolved when its task is created): a case put on the trial after its visitation gets the exemption."""
    from engine import case_attributes

    j = visited(db, session, users, "0101901234", kategori="2", rule_set=None)
    j.fire(date(2026, 2, 23))  # week 5 has begun: the first follow-up is in the inbox
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 23)), date(2026, 2, 23))
    case_attributes.change_rule_set(session, case_id=j.case_id, rule_set="frikommune", reason="Med i forsøget",
                                    user=j.users["jclead"], rules=RULES)
    session.commit()
    j.fire(date(2026, 6, 2))
    j.do("jc", "revurdering", {"revurderingsdato": "2026-06-03", "revurdering_udfald": "jobafklaringsforloeb",
                               "revurdering_begrundelse": "Ingen forlængelsesgrundlag"}, date(2026, 6, 3))
    assert dict(j.gateways())["jobafklaring_rehab_gw"] == ["til_overgang_jobafklaring"]
    [chosen] = j.events("rule_set_chosen")
    assert chosen.actor == "jclead" and "jobafklaring_uden_rehabiliteringsteam" in chosen.details["switches_on"]


# -- running cases of version 2 (before the LÆ265 step and the switches) move onto this version ----------

V2 = ROOT / "tests" / "data" / "sygedagpenge_v2"  # processes/sygedagpenge as it was, with its visitation form


@pytest.fixture
def v2_users(seed, session):
    return seed(V2, V2 / "forms" / "sdp_visitation.json", REHAB, rules=RULES) | {
        "yslead": f.add_user(session, "yslead", "teamlead", ["ydelsesservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
    }


def test_running_version_2_cases_move_onto_this_version_and_go_on_with_the_lae265_step(db, session, v2_users):
    """The new elements sit between kept ones, every old element keeps its id: the journey's migration file
    (processes/sygedagpenge/sygedagpenge.migration.toml, as `tovholder demo` uses it) needs no new line."""
    in_team = visited(db, session, v2_users, "0101901234", kategori="3", rule_set=None)
    looping = visited(db, session, v2_users, "0202901234", kategori="2", rule_set=None)
    looping.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 23)), date(2026, 2, 23))
    assert in_team.rehab_open() and "indhent_lae265" not in in_team.open()  # version 2 had no LÆ265 step
    old = in_team.case().version
    with clock.at(at(date(2026, 3, 2))):
        deployed = catalog.deploy(session, catalog.collect_files(list(PROCESSES)), rules=RULES, actor="owner")
        session.commit()
    [new] = [d.version for d in deployed if d.key == "sygedagpenge"]
    assert new == old + 1
    mapping = catch_up.mapping_files([ROOT / "processes"])["sygedagpenge"]
    with clock.at(at(date(2026, 3, 2))):
        done = catch_up.catch_up(db.session_factory, process_key="sygedagpenge", mapping=mapping, actor="owner",
                                 rules=RULES)
    [(from_version, result)] = done.batches
    assert from_version == old and result.refused == []
    assert sorted(result.migrated) == sorted([in_team.case_id, looping.case_id])
    # the case in the team's journey goes on there; the one in the loop reaches week 22 and the LÆ265
    assert in_team.case().version == new and in_team.rehab_open()
    in_team.rehab_steps(date(2026, 3, 3), "ordinaert_forloeb")
    assert dict(in_team.gateways())["rehab_kategori3_gw"] == ["rehab_kategori3_slut"]
    looping.fire_own(date(2026, 6, 2))
    looping.do("jc", "revurdering", {"revurderingsdato": "2026-06-03", "revurdering_udfald": "jobafklaringsforloeb",
                                     "revurdering_begrundelse": "Ingen forlængelsesgrundlag"}, date(2026, 6, 3))
    assert "indhent_lae265" in looping.open() and looping.open()["indhent_lae265"].process_version == new


def test_version_1_lines_of_the_migration_file_do_not_apply_to_version_2_cases():
    """Version 2 reuses ids version 1 had for other elements (vent_revurdering was version 1's week-22 wait,
    mapped on purpose to a task so such a case is refused): those lines apply only to a version with
    version 1's join samtaler_holdt, whatever number the database gave it."""
    plan = catch_up.mapping_files([ROOT / "processes"])["sygedagpenge"]
    assert plan.for_version({"samtaler_holdt", "vent_revurdering"})["vent_revurdering"] == "revurdering"
    assert plan.for_version({"vent_revurdering", "revurdering", "oplysningsskema"}) == {}
