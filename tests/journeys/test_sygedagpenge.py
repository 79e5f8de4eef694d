"""Journey 2 (sygedagpenge), version 2, through the real diagrams, forms and deadlines in processes/, forms/, config/.

Each test plays the units' parts (tests/journeys/sdp_journey.py): the employer's report and
messages come in as messages, Ydelsesservice, Jobcenter and the rehabiliteringsteam journey
complete their tasks, and time moves only by clock.at(...) and fire_due_timers(now=...).

The rules under test (DOMAIN.md, journey 2): the jobcenter's clocks run from the first day of
absence beside Ydelsesservice's paperwork; no join lets one open task hold back the follow-ups
or the revurdering; category 1 is re-visited after week 8; the employer's conversation is
followed up (a message, or a task when none came); categories 2 and 3 every 4 weeks, category 3
to the rehabiliteringsteam, whose decision a gateway reads; the revurdering counts the weeks paid
within the last 9 months and the jobafklaringsforløb goes through the team; a raskmelding ends
the case at any point.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from engine.errors import Invalid
from engine.models import HumanTask
from tests.journeys.sdp_journey import (
    ANMELDT,
    BPMN,
    EMPLOYER_MESSAGE,
    FOERSTE,
    NS,
    ROOT,
    STOP,
    Sdp,
    arbejdsgiver_fulgt_op,
    danish_day,
    oplysninger,
    ret,
    samtale,
    sygedagpenge_users,
    visitation,
)

# The deadlines the law sets (config/deadlines.toml marks them "Lov"); none may be born overdue.
LEGAL = {"sdp_foerste_opfoelgning", "sdp_opfoelgning", "sdp_varighed_revurdering", "sdp_oplysningsskema"}
ESCALATION_PAIRS = {"oplysningsskema", "berettigelse", "visitation", "arbejdsgiversamtale", "foerste_opfoelgning",
                    "genvisitation", "opfoelgning", "revurdering", "overgang_jobafklaring", "overgang_efter_rehab",
                    "stop_udbetaling", "stop_udbetaling_raskmelding", "indhent_lae265", "sundhedsfaglig_vurdering"}


@pytest.fixture
def users(seed, session):
    return sygedagpenge_users(seed, session)


@pytest.fixture
def j(db, session, users) -> Sdp:
    return Sdp(db, session, users)


def through_visitation(j: Sdp, *, uger, afklaret, problemer, kategori, tidligere_uger=0) -> None:
    """Report, oplysningsskema, visitation and entitlement, each done quickly (the ordinary good case);
    category 3's LÆ265 is obtained the day of the visitation."""
    j.report()
    j.do("ys", "oplysningsskema", oplysninger(uger, afklaret, problemer, date(2026, 1, 14)), date(2026, 1, 14))
    assert j.case().data["foreslaaet_kategori"] == kategori  # the decision table's suggestion
    j.do("jc", "visitation", visitation(date(2026, 1, 15), kategori), date(2026, 1, 15))
    if kategori == "3":
        j.lae265(date(2026, 1, 15))
    j.do("ys", "berettigelse", ret(date(2026, 1, 16), tidligere_uger=tidligere_uger), date(2026, 1, 16))


# -- structure -------------------------------------------------------------------------------------


def test_every_user_task_has_a_form_a_deadline_and_an_escalation():
    root = etree.parse(str(BPMN)).getroot()
    tasks = root.findall(".//bpmn:userTask", NS)
    work = [t for t in tasks if not t.get("id").endswith("_paamindelse")]
    assert {t.get("id") for t in work} == ESCALATION_PAIRS
    for task in tasks:
        key = task.get("{%s}formKey" % NS["camunda"])
        assert key.startswith("sdp_") and (ROOT / "forms" / f"{key}.json").exists()
        [prop] = task.findall(".//camunda:property[@name='deadline']", NS)
        if task in work:
            [boundary] = root.findall(f".//bpmn:boundaryEvent[@attachedToRef='{task.get('id')}']", NS)
            assert boundary.get("cancelActivity") == "false"
            assert boundary.find(".//bpmn:timeDate", NS).text == f'deadline("{prop.get("value")}")'
        else:
            assert prop.get("value") == "sdp_paamindelse"


def test_no_parallel_join_anywhere_and_the_rehabiliteringsteam_is_a_call_activity():
    """Parallel gateways only split (one flow in): no open task can hold back another unit's step."""
    root = etree.parse(str(BPMN)).getroot()
    for gateway in root.findall(".//bpmn:parallelGateway", NS):
        incoming = root.findall(f".//bpmn:sequenceFlow[@targetRef='{gateway.get('id')}']", NS)
        assert len(incoming) == 1, gateway.get("id")
    calls = {c.get("id"): c.get("calledElement") for c in root.findall(".//bpmn:callActivity", NS)}
    assert calls == {"rehab_kategori3": "rehabiliteringsteam", "rehab_jobafklaring": "rehabiliteringsteam"}
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert not ids & {"forbered_rehab", "sof_bidrag", "rehabiliteringsmoede", "samtaler_holdt", "rehab_klar"}
    # gateways read the municipality's decision on the team's indstilling
    conditions = [c.text for c in root.findall(".//bpmn:conditionExpression", NS)]
    assert sum("rehab_afgoerelse" in c for c in conditions) == 2


# -- the worst ordinary case: every unit uses its full time ------------------------------------------


def test_worst_ordinary_case_the_jobcenters_clocks_run_beside_ydelsesservices_paperwork(j):
    j.report()  # Monday 12 January, a week after the first day of absence
    tasks = j.open()
    assert {k: (t.unit, danish_day(t.due_at)) for k, t in tasks.items()} == {
        "oplysningsskema": ("ydelsesservice", date(2026, 1, 20)),      # 8 days after it is sent
    }
    # the jobcenter's first follow-up runs from the report beside Ydelsesservice's oplysningsskema: a timer that
    # puts it in the inbox when week 5 begins, 4 weeks (the follow-up cadence) before its deadline
    assert j.timers()["foerste_opfoelgning_klar"] == date(2026, 2, 1)  # passes at the end of 1 February
    # the employer's 4 weeks run from the first day of absence too: a timer, not a task yet
    assert j.timers()["arbejdsgiversamtale_ikke_meldt"] == date(2026, 2, 2)
    assert "arbejdsgiversamtale_meddelt" in j.waits()

    j.do("ys", "oplysningsskema", oplysninger(12, True, False, date(2026, 1, 20)), date(2026, 1, 20))  # last day
    # entitlement and visitation go on side by side, both counted from the oplysningsskema
    assert j.due("berettigelse") == date(2026, 2, 3)   # 10 working days from Tuesday 20 January
    assert j.due("visitation") == date(2026, 1, 27)    # 5 working days
    j.do("jc", "visitation", visitation(date(2026, 1, 27), "2"), date(2026, 1, 27))
    # the employer has not reported the conversation by the end of week 4: the jobcenter follows up,
    # while Ydelsesservice's entitlement decision is still open (its deadline is 3 February)
    assert j.fire(date(2026, 2, 2), 8) == 1  # Monday 2 February, week 5: the first follow-up is in the inbox
    assert j.due("foerste_opfoelgning") == date(2026, 3, 1)  # the last day of week 8
    assert danish_day(j.open()["foerste_opfoelgning"].created_at) == date(2026, 2, 2)
    assert j.fire(date(2026, 2, 2), 23) == 0
    assert j.fire(date(2026, 2, 3), 7) == 1
    tasks = j.open()
    assert {"arbejdsgiversamtale", "berettigelse", "foerste_opfoelgning"} <= set(tasks)
    assert tasks["arbejdsgiversamtale"].unit == "jobcenter"
    assert j.due("arbejdsgiversamtale") == date(2026, 2, 9)  # local target: a week after the employer's deadline
    j.do("ys", "berettigelse", ret(date(2026, 2, 3)), date(2026, 2, 3))
    j.do("jc", "arbejdsgiversamtale", arbejdsgiver_fulgt_op(date(2026, 2, 5)), date(2026, 2, 9))
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 3, 1)), date(2026, 3, 1))  # the last day of week 8
    # category 2: every 4 weeks, shown a week before
    assert j.timers()["vent_opfoelgning"] == date(2026, 3, 22)
    assert j.fire(date(2026, 3, 23)) == 1
    assert j.due("opfoelgning") == date(2026, 3, 29)
    j.do("jc", "opfoelgning", samtale(date(2026, 3, 29)), date(2026, 3, 29))
    assert j.fire(date(2026, 4, 20)) == 1
    assert j.due("opfoelgning") == date(2026, 4, 26)
    j.do("jc2", "opfoelgning", samtale(date(2026, 4, 26), raskmeldt=True), date(2026, 4, 26))
    assert [(t.element_id, t.unit) for t in j.tasks()] == [("stop_udbetaling", "ydelsesservice")]
    j.do("ys", "stop_udbetaling", STOP, date(2026, 4, 28))
    case = j.case()
    assert case.status == "completed" and j.events("case_completed")[0].element_id == "raskmeldt_slut"
    assert j.waits() == {}  # the revurdering timer went with the terminating end
    assert j.born_overdue() == []
    assert all(t.deadline_rule for t in j.all_tasks())
    assert {t.deadline_rule for t in j.all_tasks()} >= {"sdp_foerste_opfoelgning", "sdp_opfoelgning"}


def test_a_conversation_early_in_the_first_follow_ups_time_recorded_at_its_end_leaves_the_next_its_4_weeks(j, session):
    """Issue 14 (walk finding, tests/journeys/test_walks.py KNOWN): the first follow-up was in the inbox from the
    report, 8 weeks before its deadline; a conversation held in week 1 and recorded on the last day of week 8
    made the next follow-up, due 4 weeks after the conversation, born overdue. Now the task comes when week 5
    begins, and its conversation may not be dated before the task was created nor in the future: held on the
    task's first day and recorded on its last, the next follow-up still has its time."""
    through_visitation(j, uger=20, afklaret=True, problemer=False, kategori="2")
    j.message("arbejdsgiversamtale_afholdt", EMPLOYER_MESSAGE, date(2026, 1, 26))
    assert "foerste_opfoelgning" not in j.open() and j.timers()["foerste_opfoelgning_klar"] == date(2026, 2, 1)
    assert j.fire(date(2026, 2, 2), 0) == 1  # Monday 2 February 00:00 (Danish time 01:00): week 5 begins
    first = j.open()["foerste_opfoelgning"]
    assert danish_day(first.created_at) == date(2026, 2, 2) and j.due("foerste_opfoelgning") == date(2026, 3, 1)
    for too_early_or_late in (date(2026, 1, 20), date(2026, 3, 2)):  # before the task; after the day it is done
        with pytest.raises(Invalid) as refused:
            j.do("jc", "foerste_opfoelgning", samtale(too_early_or_late), date(2026, 3, 1), hour=15)
        assert [d["field"] for d in refused.value.detail] == ["samtaledato"]
        session.rollback()
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 2)), date(2026, 3, 1), hour=15)  # the last day
    assert "opfoelgning" in j.open()  # its call-in (3 weeks from 2 February) had passed: in the inbox at once
    assert j.due("opfoelgning") == date(2026, 3, 2)  # 4 weeks from the conversation: not before it was created
    assert j.born_overdue() == []


def test_no_legal_task_is_born_overdue_when_the_report_comes_late_in_week_4(j):
    """The employer may report late: the jobcenter's tasks still get their legal dates, never before creation."""
    j.report(received=date(2026, 1, 30))  # Friday of week 4
    assert j.timers()["foerste_opfoelgning_klar"] == date(2026, 2, 1)
    assert j.fire(date(2026, 2, 3)) == 2  # week 5 began, and the employer's 4 weeks passed with no message
    assert j.due("foerste_opfoelgning") == date(2026, 3, 1)
    assert j.due("arbejdsgiversamtale") == date(2026, 2, 9)
    assert "oplysningsskema" in j.open()  # Ydelsesservice has not even got the oplysningsskema back
    assert j.born_overdue() == []


# -- the employer's conversation -------------------------------------------------------------------


def test_the_employer_reports_the_conversation_and_no_jobcenter_task_is_made(j, session):
    j.report()
    # a message the form refuses changes nothing
    with pytest.raises(Invalid) as refused:
        j.message("arbejdsgiversamtale_afholdt", {"arbejdsgiversamtale_dato": "2026-01-26"}, date(2026, 1, 26))
    assert {d["field"] for d in refused.value.detail} >= {"delvis_genoptagelse_mulig", "fastholdelsesplan"}
    session.rollback()
    assert "arbejdsgiversamtale_meddelt" in j.waits()
    j.message("arbejdsgiversamtale_afholdt", EMPLOYER_MESSAGE, date(2026, 1, 26))
    assert "arbejdsgiversamtale_ikke_meldt" not in j.timers() and "arbejdsgiversamtale_meddelt" not in j.waits()
    assert j.case().data["fastholdelsesplan"] is True
    assert j.fire(date(2026, 2, 3)) == 1  # only the first follow-up's: week 5 began
    assert "arbejdsgiversamtale" not in j.open() and "foerste_opfoelgning" in j.open()
    assert [e.element_id for e in j.events("message_received")] == ["arbejdsgiversamtale_meddelt"]
    assert ("afvent_arbejdsgiversamtale", ["arbejdsgiversamtale_meddelt"]) in j.gateways()


# -- no join: open tasks do not hold back the follow-ups or the revurdering --------------------------


def test_open_employer_and_rehabiliteringsteam_tasks_do_not_hold_back_follow_ups_or_the_revurdering(j):
    through_visitation(j, uger=20, afklaret=False, problemer=True, kategori="3")
    assert j.rehab_open(), "category 3 goes to the rehabiliteringsteam at once"
    assert "henvis_kategori3" in j.passed()  # rehab_henvisning = "sygedagpenge_kategori3" before the call
    assert j.fire(date(2026, 2, 3)) >= 1
    assert "arbejdsgiversamtale" in j.open()  # nobody follows up on the employer: it stays open
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 23)), date(2026, 2, 23))
    # the 4-weekly follow-ups come while both stay open
    for shown, held in ((date(2026, 3, 17), date(2026, 3, 23)), (date(2026, 4, 14), date(2026, 4, 20)),
                        (date(2026, 5, 12), date(2026, 5, 18))):
        j.fire(shown)
        assert "opfoelgning" in j.open(), shown
        j.do("jc", "opfoelgning", samtale(held), held)
    assert "arbejdsgiversamtale" in j.open() and j.rehab_open()
    # week 22 begins on 1 June (21 weeks from 5 January): the revurdering comes all the same
    assert j.timers()["vent_revurdering"] == date(2026, 6, 1)
    j.fire(date(2026, 6, 2))
    assert {"revurdering", "arbejdsgiversamtale"} <= set(j.open()) and j.rehab_open()
    assert j.timers()["vent_opfoelgning"] == date(2026, 6, 8)  # the next follow-up waits on its own clock
    assert j.due("revurdering") == date(2026, 6, 7)  # the last day of week 22
    assert j.born_overdue() == []


# -- category 1: re-visited after week 8 -----------------------------------------------------------------


def test_category_1_not_back_after_week_8_is_visited_again(j):
    through_visitation(j, uger=6, afklaret=True, problemer=False, kategori="1")
    j.message("arbejdsgiversamtale_afholdt", EMPLOYER_MESSAGE, date(2026, 1, 26))
    assert j.fire(date(2026, 2, 2)) == 1  # week 5: the first follow-up
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 16)), date(2026, 2, 16))
    # the end of week 8 is watched from the visitation: still running then means not back
    assert j.timers()["kategori1_uge8"] == date(2026, 3, 1)
    assert j.fire(date(2026, 3, 1), 12) == 0
    assert j.fire(date(2026, 3, 2)) == 1
    assert j.open()["genvisitation"].unit == "jobcenter"
    assert j.due("genvisitation") == date(2026, 3, 8)  # the last day of week 9
    j.do("jc", "genvisitation", visitation(date(2026, 3, 4), "3"), date(2026, 3, 4))
    j.lae265(date(2026, 3, 4))
    # now category 3: the rehabiliteringsteam, beside the follow-up every 4 weeks
    assert j.rehab_open() and j.timers()["vent_opfoelgning"] == date(2026, 3, 9)  # 3 weeks from 16 February
    assert ("genvisitation_gw", ["til_rehab_kategori3"]) in j.gateways()
    assert ("kategori_gw", ["kategori1_uge8"]) in j.gateways()
    assert j.born_overdue() == []


def test_category_1_back_before_week_8_is_not_visited_again(j):
    through_visitation(j, uger=4, afklaret=True, problemer=False, kategori="1")
    j.fire(date(2026, 2, 2))  # week 5: the first follow-up
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 2), raskmeldt=True), date(2026, 2, 2))
    j.do("ys", "stop_udbetaling", STOP, date(2026, 2, 3))
    assert j.case().status == "completed"
    assert "genvisitation" not in {t.element_id for t in j.all_tasks()}
    cancelled = {t.element_id for t in j.all_tasks() if t.status == "cancelled"}
    assert cancelled == set()  # nothing else was open; the employer's timer was dropped with the case
    assert j.waits() == {}


# -- category 3 and the rehabiliteringsteam's decision -----------------------------------------------------


@pytest.mark.parametrize("afgoerelse, ending", [("fleksjob", "anden_ordning_slut"),
                                                ("ressourceforloeb", "anden_ordning_slut"),
                                                ("ordinaert_forloeb", None)])
def test_category_3_the_rehabiliteringsteams_decision_decides_the_path(j, afgoerelse, ending):
    through_visitation(j, uger=20, afklaret=False, problemer=True, kategori="3")
    j.fire(date(2026, 2, 2))  # week 5: the first follow-up
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 2)), date(2026, 2, 2))
    # the team's journey: SOF's contribution among the preparations, all due within 4 weeks of the visitation
    preparing = j.rehab_open()
    assert "sof" in {t.unit for t in preparing}
    assert all(danish_day(t.due_at) <= date(2026, 2, 12) for t in preparing)  # 15 January + 4 weeks
    j.rehab_steps(date(2026, 2, 10), afgoerelse)
    meeting = [t for t in j.all_tasks() if t.unit == "rehabiliteringsteam" and t.element_id not in
               {p.element_id for p in preparing}]
    assert meeting and all(danish_day(t.due_at) <= date(2026, 2, 12) for t in meeting)
    taken = dict(j.gateways())
    if ending:
        assert taken["rehab_kategori3_gw"] == ["til_overgang_efter_rehab"]
        assert j.open()["overgang_efter_rehab"].unit == "ydelsesservice"
        j.do("ys", "overgang_efter_rehab", {"sidste_sygedagpengedag": "2026-02-28", "ny_ydelse_fra": "2026-03-01",
                                            "afgoerelse_note": "Overgang efter rehabiliteringsteamet"},
             date(2026, 2, 12))
        assert j.case().status == "completed" and j.events("case_completed")[0].element_id == ending
        assert j.waits() == {}
    else:
        # back to the ordinary course: the follow-ups go on, nothing for Ydelsesservice
        assert taken["rehab_kategori3_gw"] == ["rehab_kategori3_slut"]
        assert j.case().status == "running" and "vent_opfoelgning" in j.timers()
        assert "overgang_efter_rehab" not in j.open()


# -- the revurdering: 22 weeks within 9 months, and the jobafklaringsforløb through the team -------------


def test_the_revurdering_counts_weeks_paid_within_the_last_9_months(j):
    through_visitation(j, uger=30, afklaret=True, problemer=False, kategori="2", tidligere_uger=10)
    # 10 weeks paid before this spell: 12 left, so the limit's last week begins 11 weeks from 5 January
    assert "beregn_varighed" in j.passed()  # varighed_regnes_fra = 5 January - 10 weeks = 27 October 2025
    assert j.fire(date(2026, 2, 3)) == 2  # week 5 (the first follow-up) and the employer's 4 weeks
    assert j.timers()["vent_revurdering"] == date(2026, 3, 23) == FOERSTE + timedelta(weeks=11)
    assert j.fire(date(2026, 3, 24)) >= 1
    assert j.due("revurdering") == date(2026, 3, 29)  # 2025-10-27 + 153 days: the last day of the 22nd week
    assert "foerste_opfoelgning" in j.open() or "opfoelgning" in j.open() or "vent_opfoelgning" in j.timers()
    assert j.born_overdue() == []


def test_earlier_weeks_that_fill_the_22_start_the_revurdering_at_once_with_time_to_hold_it(j):
    """Issue 14 (walk finding): with 21 weeks paid within the last 9 months, the limit (5 January - 21 weeks
    + 153 days = 11 January) lay before the entitlement decision that recorded those weeks, so the revurdering
    was born overdue. It now starts at once and is due 2 weeks after that decision (sdp_revurdering_straks)."""
    through_visitation(j, uger=30, afklaret=True, problemer=False, kategori="2", tidligere_uger=21)
    data = j.case().data
    assert (data["varighed_regnes_fra"], data["varighed_kendt_fra"]) == ("2025-08-11", "2026-01-16")
    # the limit's last week began on 5 January, before the decision: the wait for it passes at once
    assert "vent_revurdering" not in j.timers() and "revurderingsfrist" in j.passed()
    revurdering = j.open()["revurdering"]
    assert revurdering.deadline_rule == "sdp_varighed_revurdering"
    assert danish_day(revurdering.created_at) == date(2026, 1, 16) and j.due("revurdering") == date(2026, 1, 30)
    assert j.case().data["revurdering_senest"] == "2026-01-30"      # not the limit of 11 January
    assert j.born_overdue() == []
    j.do("jc", "revurdering", {"revurderingsdato": "2026-01-30", "revurdering_udfald": "forlaengelse",
                               "forlaengelsesgrundlag": "behandling", "revurdering_begrundelse": "Operation planlagt"},
         date(2026, 1, 30))
    assert "revurdering" not in j.open()


def test_week_22_jobafklaring_goes_through_the_rehabiliteringsteam(j):
    through_visitation(j, uger=30, afklaret=True, problemer=False, kategori="2")
    j.fire(date(2026, 2, 2))  # week 5: the first follow-up
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 2, 23)), date(2026, 2, 23))
    assert j.fire(date(2026, 6, 2)) >= 1
    j.do("jc", "revurdering", {"revurderingsdato": "2026-06-03", "revurdering_udfald": "jobafklaringsforloeb",
                               "revurdering_begrundelse": "Ingen forlængelsesgrundlag"}, date(2026, 6, 3))
    assert "henvis_jobafklaring" in j.passed()  # rehab_henvisning = "jobafklaring" before the call
    assert dict(j.gateways())["jobafklaring_rehab_gw"] == ["henvis_jobafklaring"]  # ordinary rules: the team
    assert dict(j.gateways())["lae265_gw"] == ["indhent_lae265"]  # with a LÆ265, ordinary rules
    assert j.due("indhent_lae265") == date(2026, 6, 11)  # 5 working days from 3 June (5 June: Grundlovsdag)
    j.lae265(date(2026, 6, 5))
    assert j.rehab_open(), "the jobafklaringsforløb goes through the rehabiliteringsteam"
    assert "overgang_jobafklaring" not in j.open()
    j.rehab_steps(date(2026, 6, 10), "jobafklaringsforloeb")
    assert dict(j.gateways())["rehab_jobafklaring_gw"] == ["til_overgang_jobafklaring"]
    j.do("ys", "overgang_jobafklaring", {"sidste_sygedagpengedag": "2026-06-14", "ressourceforloebsydelse_fra":
                                         "2026-06-15", "afgoerelse_note": "Overgang til jobafklaringsforløb"},
         date(2026, 6, 11))
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "jobafklaring_slut"
    assert j.waits() == {} and j.tasks() == []


def test_week_22_extension_keeps_the_follow_ups_going(j):
    through_visitation(j, uger=30, afklaret=True, problemer=False, kategori="2")
    j.fire(date(2026, 2, 2))  # week 5: the first follow-up
    j.do("jc", "foerste_opfoelgning", samtale(date(2026, 5, 20)), date(2026, 5, 20))
    j.fire(date(2026, 6, 2))
    with pytest.raises(Invalid) as refused:  # an extension names its ground
        j.do("jc", "revurdering", {"revurderingsdato": "2026-06-03", "revurdering_udfald": "forlaengelse",
                                   "revurdering_begrundelse": "Operation i juli"}, date(2026, 6, 3))
    assert [d["field"] for d in refused.value.detail] == ["forlaengelsesgrundlag"]
    j.session.rollback()
    j.do("jc", "revurdering", {"revurderingsdato": "2026-06-03", "revurdering_udfald": "forlaengelse",
                               "forlaengelsesgrundlag": "behandling", "revurdering_begrundelse": "Operation i juli"},
         date(2026, 6, 3))
    assert dict(j.gateways())["revurdering_gw"] == ["forlaenget_slut"]
    assert j.case().status == "running" and j.timers()["vent_opfoelgning"] == date(2026, 6, 10)


# -- refusal and raskmelding --------------------------------------------------------------------------------


def test_refusal_of_entitlement_ends_the_case_and_the_jobcenters_work(j):
    j.report()
    j.do("ys", "oplysningsskema", oplysninger(4, True, False, date(2026, 1, 14)), date(2026, 1, 14))
    assert j.due("berettigelse") == date(2026, 1, 28)  # 10 working days from Wednesday 14 January
    j.do("ys", "berettigelse", ret(date(2026, 1, 16), berettiget=False), date(2026, 1, 16))
    case = j.case()
    assert case.status == "completed" and j.events("case_completed")[0].element_id == "afslag"
    # the first follow-up was still a timer (week 5): it went with the case, as the visitation's task did
    assert {t.element_id for t in j.all_tasks() if t.status == "cancelled"} == {"visitation"}
    assert j.tasks() == [] and j.waits() == {}
    assert j.events("case_started")[0].details["message"] == "sygemelding_fra_arbejdsgiver"


def test_raskmelding_at_any_point_cancels_everything_and_ydelsesservice_stops_the_payment(j, session):
    through_visitation(j, uger=20, afklaret=False, problemer=False, kategori="3")
    assert j.rehab_open()
    j.message("raskmelding", {"raskmeldt_dato": "2026-01-22"}, date(2026, 1, 22))
    assert [t.element_id for t in j.tasks()] == ["stop_udbetaling_raskmelding"]
    # Thursday 22 January + 2 working days = Monday 26 January (across the weekend)
    assert j.due("stop_udbetaling_raskmelding") == date(2026, 1, 26)
    j.do("ys", "stop_udbetaling_raskmelding", STOP, date(2026, 1, 23))
    assert j.case().status == "completed" and j.events("case_completed")[0].element_id == "raskmelding_slut"
    cancelled = {t.element_id for t in j.all_tasks() if t.status == "cancelled"}
    assert cancelled and "foerste_opfoelgning_klar" not in j.timers()  # the team's tasks and the week-5 timer
    assert j.waits() == {}
    assert not session.scalars(select(HumanTask).where(HumanTask.case_id == j.case_id,
                                                       HumanTask.status.in_(("open", "claimed")))).all()


# -- deadlines across weekends and Easter 2026 -----------------------------------------------------------


def test_deadlines_across_a_weekend_and_easter_and_the_team_leads_reminder(j):
    # First day of absence Friday 27 March 2026; the report arrives Monday 30 March, Easter week
    # (Skærtorsdag 2 April, Langfredag 3 April, Påskedag 5 April, 2. påskedag 6 April).
    j.report(received=date(2026, 3, 30), foerste=date(2026, 3, 27))
    assert j.due("oplysningsskema") == date(2026, 4, 7)  # 8 calendar days: holidays count
    assert j.timers()["foerste_opfoelgning_klar"] == date(2026, 4, 23)  # week 5 begins on 24 April
    j.do("ys", "oplysningsskema", oplysninger(10, True, False, date(2026, 4, 1)), date(2026, 4, 1))
    # 10 working days from Wednesday 1 April: 2, 3, 6 April are holidays -> 7, 8, 9, 10, 13, 14, 15, 16, 17, 20
    assert j.due("berettigelse") == date(2026, 4, 20)
    # 5 working days: 7, 8, 9, 10, 13 April
    assert j.due("visitation") == date(2026, 4, 13)
    # nobody decides in time: the non-interrupting timer raises a reminder for Ydelsesservice's team lead
    assert j.fire(date(2026, 4, 20), 23) <= 1
    j.fire(date(2026, 4, 21), 7)
    tasks = j.open()
    assert {"berettigelse", "berettigelse_paamindelse", "visitation_paamindelse"} <= set(tasks)
    assert tasks["berettigelse_paamindelse"].unit == "ydelsesservice"
    assert danish_day(tasks["berettigelse_paamindelse"].due_at) == date(2026, 4, 23)  # 2 working days
    j.do("yslead", "berettigelse_paamindelse", {"handling": "Omfordelt; afgørelse i dag"}, date(2026, 4, 21))
    # the employer's 4 weeks ended Friday 24 April: the jobcenter's task, due a week later; week 5 began the same
    # day, so the first follow-up is in the inbox too, due at the end of week 8
    assert j.fire(date(2026, 4, 25), 7) == 2
    assert j.due("arbejdsgiversamtale") == date(2026, 5, 1)
    assert j.due("foerste_opfoelgning") == date(2026, 5, 21)
    assert j.born_overdue() == []
    assert ANMELDT < date(2026, 3, 30)
