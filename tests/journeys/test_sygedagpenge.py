"""Journey 2 (sygedagpenge) through the real diagram, forms and deadlines in processes/, forms/ and config/.

Each test plays the units' parts: the employer's report comes in as a message,
Ydelsesservice, Jobcenter, SOF and the rehabiliteringsteam complete their
tasks, and time moves only by clock.at(...) and fire_due_timers(now=...).
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
CPR = "0101901234"
SYGEDAGPENGE = ROOT / "processes" / "sygedagpenge"
CVR = "12345678"


@pytest.fixture
def users(seed, session):
    return seed(SYGEDAGPENGE, rules=RULES) | {
        "yslead": f.add_user(session, "yslead", "teamlead", ["ydelsesservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
    }


@pytest.fixture
def deployed(seed):
    seed(SYGEDAGPENGE, rules=RULES)  # with the users: what `users` seeds, or nothing more when it has


def at(day: date, hour: int = 9) -> datetime:
    """A Danish working hour on that day, as the clock sees it."""
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


def tasks_of(session, case_id, status=("open", "claimed")):
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status.in_(status))
                                .order_by(HumanTask.created_at, HumanTask.element_id)))


def open_tasks(session, case_id) -> dict[str, HumanTask]:
    return {t.element_id: t for t in tasks_of(session, case_id)}


def events(session, case_id, type_=None):
    query = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    if type_:
        query = query.where(AuditEvent.type == type_)
    return list(session.scalars(query))


def completed_path(session, case_id) -> list[tuple[str, str]]:
    """(element, who) for every task completed, in order: the units' work on the case."""
    return [(e.element_id, e.actor) for e in events(session, case_id, "task_completed")]


def gateways(session, case_id) -> list[tuple[str, list]]:
    return [(e.element_id, e.details.get("taken")) for e in events(session, case_id, "gateway_taken")]


def complete(session, user, element, case_id, data, on: date):
    row = open_tasks(session, case_id)[element]
    with clock.at(at(on)):
        runtime.complete_task(session, task_id=row.id, data=data, user=user, rules=RULES)
    session.commit()
    return row


def fire(db, on: date, hour: int = 9):
    return fire_due_timers(db.session_factory, rules=RULES, now=at(on, hour))


def due(session, case_id, element) -> date:
    return danish_day(open_tasks(session, case_id)[element].due_at)


def sygemelding(session, users, *, received: date, foerste_fravaersdag: date) -> Case:
    with clock.at(at(received)):
        case = runtime.correlate_message(
            session, name="sygemelding_fra_arbejdsgiver", correlation_key=CPR,
            data={"foerste_fravaersdag": foerste_fravaersdag.isoformat(), "arbejdsgiver_cvr": CVR,
                  "arbejdsgiver_navn": "Randers Maskinfabrik A/S", "anmodning_om_refusion": True},
            user=users["system"], rules=RULES)
    session.commit()
    return case


def oplysninger(uger, afklaret, problemer, modtaget: date):
    return {"oplysningsskema_modtaget": modtaget.isoformat(), "forventede_uger": uger,
            "afklaret_behandling": afklaret, "problemer_ud_over_sygdom": problemer}


def ret(afgoerelsesdato: date, berettiget=True):
    return {"ret_til_sygedagpenge": berettiget, "arbejdsgiverrefusion": berettiget,
            "afgoerelsesdato": afgoerelsesdato.isoformat(), "begrundelse": "Beskæftigelseskravet er opfyldt"
            if berettiget else "Beskæftigelseskravet er ikke opfyldt"}


def visitation(visitationsdato: date, kategori: str):
    return {"visitationsdato": visitationsdato.isoformat(), "kategori": kategori,
            "begrundelse_kategori": "Vurderet ud fra oplysningsskema og lægeattest"}


def samtale(dato: date, raskmeldt=False):
    return {"samtaledato": dato.isoformat(), "raskmeldt": raskmeldt, "referat": "Status gennemgået"}


ARBEJDSGIVERSAMTALE = {"arbejdsgiversamtale_dato": "2026-01-26", "delvis_genoptagelse_mulig": False,
                       "fastholdelsesplan": True, "referat_arbejdsgiver": "Arbejdspladsen venter"}
STOP = {"udbetaling_stoppet_dato": "2026-04-10", "arbejdsgiver_underrettet": True}
ESCALATION_PAIRS = {"oplysningsskema", "berettigelse", "visitation", "arbejdsgiversamtale", "foerste_opfoelgning",
                    "sof_bidrag", "forbered_rehab", "rehabiliteringsmoede", "opfoelgning", "revurdering",
                    "overgang_jobafklaring", "stop_udbetaling", "stop_udbetaling_raskmelding"}

# Monday 5 January 2026 is the first day of absence in most journeys below.
FOERSTE = date(2026, 1, 5)


def through_visitation(session, users, *, uger, afklaret, problemer, kategori) -> Case:
    case = sygemelding(session, users, received=date(2026, 1, 12), foerste_fravaersdag=FOERSTE)
    complete(session, users["ys"], "oplysningsskema", case.id, oplysninger(uger, afklaret, problemer, date(2026, 1, 14)),
             date(2026, 1, 14))
    complete(session, users["ys"], "berettigelse", case.id, ret(date(2026, 1, 16)), date(2026, 1, 16))
    session.expire_all()
    assert session.get(Case, case.id).data["foreslaaet_kategori"] == kategori  # the decision table's suggestion
    assert open_tasks(session, case.id)["visitation"].unit == "jobcenter"
    complete(session, users["jc"], "visitation", case.id, visitation(date(2026, 1, 19), kategori), date(2026, 1, 19))
    return case


# -- every user task has a deadline and an escalation ----------------------------------------------


def test_every_user_task_has_a_form_a_deadline_and_an_escalation():
    from lxml import etree
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
    root = etree.parse(str(ROOT / "processes" / "sygedagpenge" / "sygedagpenge.bpmn")).getroot()
    tasks = root.findall(".//bpmn:userTask", ns)
    work = [t for t in tasks if not t.get("id").endswith("_paamindelse")]
    assert {t.get("id") for t in work} == ESCALATION_PAIRS
    for task in tasks:
        key = task.get("{%s}formKey" % ns["camunda"])
        assert key.startswith("sdp_") and (ROOT / "forms" / f"{key}.json").exists()
        [prop] = task.findall(".//camunda:property[@name='deadline']", ns)
        if task in work:
            [boundary] = root.findall(f".//bpmn:boundaryEvent[@attachedToRef='{task.get('id')}']", ns)
            assert boundary.get("cancelActivity") == "false"
            assert boundary.find(".//bpmn:timeDate", ns).text == f'deadline("{prop.get("value")}")'
        else:
            assert prop.get("value") == "sdp_paamindelse"
            assert not root.findall(f".//bpmn:boundaryEvent[@attachedToRef='{task.get('id')}']", ns)


# -- refusal ---------------------------------------------------------------------------------------


def test_refusal_of_entitlement_ends_the_case(db, session, users, deployed):
    case = sygemelding(session, users, received=date(2026, 1, 12), foerste_fravaersdag=FOERSTE)
    assert case.process_key == "sygedagpenge" and case.data["arbejdsgiver_cvr"] == CVR
    assert [(t.element_id, t.unit) for t in tasks_of(session, case.id)] == [("oplysningsskema", "ydelsesservice")]
    assert due(session, case.id, "oplysningsskema") == date(2026, 1, 20)  # 8 days after the report
    complete(session, users["ys"], "oplysningsskema", case.id, oplysninger(4, True, False, date(2026, 1, 14)),
             date(2026, 1, 14))
    # 10 working days from Wednesday 14 January: 15, 16, 19 ... 27, 28
    assert due(session, case.id, "berettigelse") == date(2026, 1, 28)
    complete(session, users["ys"], "berettigelse", case.id, ret(date(2026, 1, 16), berettiget=False), date(2026, 1, 16))
    session.expire_all()
    done = session.get(Case, case.id)
    assert done.status == "completed"
    assert events(session, case.id, "case_completed")[0].element_id == "afslag"
    assert completed_path(session, case.id) == [("oplysningsskema", "ys"), ("berettigelse", "ys")]
    assert gateways(session, case.id) == [("berettiget_gw", ["afslag"])]
    started = events(session, case.id, "case_started")[0]
    assert started.details["message"] == "sygemelding_fra_arbejdsgiver"
    assert tasks_of(session, case.id) == [] and session.scalars(select(Wait).where(Wait.case_id == case.id)).all() == []


# -- category 1 ------------------------------------------------------------------------------------


def test_category_1_minimal_follow_up_then_week_22_revurdering_and_raskmelding(db, session, users, deployed):
    case = through_visitation(session, users, uger=6, afklaret=True, problemer=False, kategori="1")
    tasks = open_tasks(session, case.id)
    assert {k: (t.unit, danish_day(t.due_at)) for k, t in tasks.items()} == {
        "arbejdsgiversamtale": ("jobcenter", date(2026, 2, 2)),   # 4 weeks from the first day of absence
        "foerste_opfoelgning": ("jobcenter", date(2026, 3, 1)),   # the last day of week 8 from the first day of absence
    }
    assert "sof_bidrag" not in tasks and "rehabiliteringsmoede" not in tasks
    complete(session, users["jc"], "arbejdsgiversamtale", case.id, ARBEJDSGIVERSAMTALE, date(2026, 1, 26))
    complete(session, users["jc2"], "foerste_opfoelgning", case.id, samtale(date(2026, 2, 23)), date(2026, 2, 23))
    # category 1: no 4-weekly follow-up; the case waits for week 22 (or a raskmelding)
    assert tasks_of(session, case.id) == []
    waits = {w.element_id: w for w in session.scalars(select(Wait).where(Wait.case_id == case.id))}
    assert set(waits) == {"kategori1_vent", "raskmelding_modtaget"}
    assert danish_day(waits["kategori1_vent"].due_at) == date(2026, 6, 1)  # 21 weeks after 5 January
    assert fire(db, date(2026, 5, 31)).fired == 0
    assert fire(db, date(2026, 6, 2)).fired == 1
    assert due(session, case.id, "revurdering") == date(2026, 6, 7)  # the last day of week 22 from the first day of absence
    complete(session, users["jc"], "revurdering", case.id,
             {"samtaledato": "2026-06-03", "revurdering_udfald": "forlaengelse",
              "forlaengelsesgrundlag": "behandling", "revurdering_begrundelse": "Operation i juli"}, date(2026, 6, 3))
    # after the extension: follow-up every 4 weeks, the first one shown a week before its deadline
    [nxt] = [w for w in session.scalars(select(Wait).where(Wait.case_id == case.id, Wait.kind == "timer"))]
    assert nxt.element_id == "vent_opfoelgning" and danish_day(nxt.due_at) == date(2026, 6, 24)
    fire(db, date(2026, 6, 25))
    assert due(session, case.id, "opfoelgning") == date(2026, 7, 1)

    # the employer reports the citizen back at work: the whole case is interrupted
    with clock.at(at(date(2026, 6, 26))):
        runtime.correlate_message(session, name="raskmelding", correlation_key=CPR,
                                  data={"raskmeldt_dato": "2026-06-29"}, user=users["system"], rules=RULES)
    session.commit()
    tasks = open_tasks(session, case.id)
    # the interrupting event subprocess cancels the main flow at once: the open follow-up goes,
    # and only Ydelsesservice's stop of the payment is left
    assert [(k, t.unit) for k, t in tasks.items()] == [("stop_udbetaling_raskmelding", "ydelsesservice")]
    # 2 working days from Friday 26 June: Monday 29, Tuesday 30
    assert due(session, case.id, "stop_udbetaling_raskmelding") == date(2026, 6, 30)
    session.expire_all()
    assert [t.status for t in session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.element_id == "opfoelgning"))] == ["cancelled"]
    # no further raskmelding is awaited; only the stop task's own deadline timer waits
    assert [w.element_id for w in session.scalars(select(Wait).where(Wait.case_id == case.id))] == [
        "stop_udbetaling_raskmelding_frist"]
    complete(session, users["ys"], "stop_udbetaling_raskmelding", case.id, STOP, date(2026, 6, 29))
    session.expire_all()
    done = session.get(Case, case.id)
    assert done.status == "completed" and done.data["raskmeldt_dato"] == "2026-06-29"
    assert events(session, case.id, "case_completed")[0].element_id == "raskmelding_slut"
    assert completed_path(session, case.id) == [
        ("oplysningsskema", "ys"), ("berettigelse", "ys"), ("visitation", "jc"), ("arbejdsgiversamtale", "jc"),
        ("foerste_opfoelgning", "jc2"), ("revurdering", "jc"), ("stop_udbetaling_raskmelding", "ys")]
    assert [e.element_id for e in events(session, case.id, "message_received")] == ["raskmelding_modtaget"]
    taken = dict(gateways(session, case.id))
    assert taken["status_gw"] == ["kategori1_vent"] and taken["revurdering_gw"] == ["opfoelgning_loop"]
    assert taken["naeste_gw"] == ["vent_opfoelgning"]  # after the revurdering: no second week-22 wait


# -- category 2 ------------------------------------------------------------------------------------


def test_category_2_follow_up_every_4_weeks_until_back_at_work(db, session, users, deployed):
    case = through_visitation(session, users, uger=12, afklaret=True, problemer=False, kategori="2")
    assert set(open_tasks(session, case.id)) == {"arbejdsgiversamtale", "foerste_opfoelgning"}
    complete(session, users["jc"], "arbejdsgiversamtale", case.id, ARBEJDSGIVERSAMTALE, date(2026, 1, 26))
    complete(session, users["jc"], "foerste_opfoelgning", case.id, samtale(date(2026, 2, 23)), date(2026, 2, 23))
    waits = {w.element_id: danish_day(w.due_at) for w in session.scalars(
        select(Wait).where(Wait.case_id == case.id, Wait.kind == "timer"))}
    assert waits == {"vent_opfoelgning": date(2026, 3, 16)}  # 3 weeks after the conversation (shown a week early)
    assert fire(db, date(2026, 3, 16)).fired == 0
    assert fire(db, date(2026, 3, 17)).fired == 1
    assert due(session, case.id, "opfoelgning") == date(2026, 3, 23)  # 4 weeks after the last conversation
    complete(session, users["jc"], "opfoelgning", case.id, samtale(date(2026, 3, 20)), date(2026, 3, 20))
    fire(db, date(2026, 4, 11))
    assert due(session, case.id, "opfoelgning") == date(2026, 4, 17)
    complete(session, users["jc2"], "opfoelgning", case.id, samtale(date(2026, 4, 9), raskmeldt=True), date(2026, 4, 13))
    assert [(t.element_id, t.unit) for t in tasks_of(session, case.id)] == [("stop_udbetaling", "ydelsesservice")]
    assert due(session, case.id, "stop_udbetaling") == date(2026, 4, 15)
    complete(session, users["ys"], "stop_udbetaling", case.id, STOP, date(2026, 4, 14))
    session.expire_all()
    assert session.get(Case, case.id).status == "completed"
    assert events(session, case.id, "case_completed")[0].element_id == "raskmeldt_slut"
    assert completed_path(session, case.id) == [
        ("oplysningsskema", "ys"), ("berettigelse", "ys"), ("visitation", "jc"), ("arbejdsgiversamtale", "jc"),
        ("foerste_opfoelgning", "jc"), ("opfoelgning", "jc"), ("opfoelgning", "jc2"), ("stop_udbetaling", "ys")]
    assert [e.element_id for e in events(session, case.id, "timer_fired")] == ["vent_opfoelgning"] * 2
    taken = gateways(session, case.id)
    assert ("kategori3_gw", ["rehab_afsluttet"]) in taken and ("status_gw", ["opfoelgning_loop"]) in taken
    assert [t for g, t in taken if g == "opfoelgning_gw"] == [["opfoelgning_loop"], ["til_stop"]]
    assert session.scalars(select(Wait).where(Wait.case_id == case.id)).all() == []


# -- category 3 ------------------------------------------------------------------------------------


def test_category_3_rehabiliteringsteam_with_sof_then_revurdering_to_jobafklaring(db, session, users, deployed):
    case = through_visitation(session, users, uger=20, afklaret=False, problemer=True, kategori="3")
    tasks = open_tasks(session, case.id)
    assert {k: (t.unit, danish_day(t.due_at)) for k, t in tasks.items()} == {
        "arbejdsgiversamtale": ("jobcenter", date(2026, 2, 2)),
        "foerste_opfoelgning": ("jobcenter", date(2026, 3, 1)),
        "sof_bidrag": ("sof", date(2026, 2, 2)),             # 2 weeks from visitationsdato 19 January
        "forbered_rehab": ("jobcenter", date(2026, 2, 2)),
    }
    complete(session, users["jc"], "arbejdsgiversamtale", case.id, ARBEJDSGIVERSAMTALE, date(2026, 1, 26))
    complete(session, users["sof"], "sof_bidrag", case.id,
             {"sof_problemomraader": "Boligproblemer", "sof_indsats": True, "sof_bidrag": "Bostøtte igangsat"},
             date(2026, 1, 28))
    assert "rehabiliteringsmoede" not in open_tasks(session, case.id)  # waits for the jobcenter's forelæggelse
    complete(session, users["jc"], "forbered_rehab", case.id,
             {"moededato_rehabiliteringsteam": "2026-02-12", "rehabiliteringsplan_forberedende_del": True},
             date(2026, 1, 30))
    rehab = open_tasks(session, case.id)["rehabiliteringsmoede"]
    assert rehab.unit == "rehabiliteringsteam" and danish_day(rehab.due_at) == date(2026, 2, 16)  # 4 weeks
    complete(session, users["rehab"], "rehabiliteringsmoede", case.id,
             {"rehab_indstilling": "fortsat_sygeopfoelgning", "rehab_begrundelse": "Afvent behandling"},
             date(2026, 2, 12))
    complete(session, users["jc"], "foerste_opfoelgning", case.id, samtale(date(2026, 2, 23)), date(2026, 2, 23))
    # follow-up every 4 weeks until week 22 comes first
    for conversation, shown in ((date(2026, 3, 20), date(2026, 3, 17)), (date(2026, 4, 14), date(2026, 4, 11)),
                                (date(2026, 5, 8), date(2026, 5, 6)), (date(2026, 5, 29), date(2026, 5, 30))):
        assert fire(db, shown).fired == 1
        complete(session, users["jc"], "opfoelgning", case.id, samtale(conversation), conversation)
    # the next follow-up would be shown 19 June; week 22 begins first
    assert fire(db, date(2026, 6, 2)).fired == 1
    assert [(t.element_id, t.unit) for t in tasks_of(session, case.id)] == [("revurdering", "jobcenter")]
    assert due(session, case.id, "revurdering") == date(2026, 6, 7)
    complete(session, users["jc"], "revurdering", case.id,
             {"samtaledato": "2026-06-04", "revurdering_udfald": "jobafklaringsforloeb",
              "revurdering_begrundelse": "Ingen forlængelsesgrundlag"}, date(2026, 6, 4))
    assert [(t.element_id, t.unit) for t in tasks_of(session, case.id)] == [("overgang_jobafklaring", "ydelsesservice")]
    # 2 working days from Thursday 4 June: Friday 5 June is Grundlovsdag (closed) -> Monday 8, Tuesday 9
    assert due(session, case.id, "overgang_jobafklaring") == date(2026, 6, 9)
    complete(session, users["ys"], "overgang_jobafklaring", case.id,
             {"sidste_sygedagpengedag": "2026-06-07", "ressourceforloebsydelse_fra": "2026-06-08",
              "afgoerelse_note": "Overgang til jobafklaringsforløb"}, date(2026, 6, 5))
    session.expire_all()
    assert session.get(Case, case.id).status == "completed"
    assert events(session, case.id, "case_completed")[0].element_id == "jobafklaring_slut"
    path = completed_path(session, case.id)
    assert path[:6] == [("oplysningsskema", "ys"), ("berettigelse", "ys"), ("visitation", "jc"),
                        ("arbejdsgiversamtale", "jc"), ("sof_bidrag", "sofie"), ("forbered_rehab", "jc")]
    assert path[6:] == [("rehabiliteringsmoede", "rehab"), ("foerste_opfoelgning", "jc")] \
        + [("opfoelgning", "jc")] * 4 + [("revurdering", "jc"), ("overgang_jobafklaring", "ys")]
    fired = [e.element_id for e in events(session, case.id, "timer_fired")]
    assert fired == ["vent_opfoelgning"] * 4 + ["vent_revurdering"]
    taken = dict(gateways(session, case.id))
    assert taken["kategori3_gw"] == ["rehab_forberedelse"] and taken["revurdering_gw"] == ["overgang_jobafklaring"]
    passed = events(session, case.id, "element_passed")
    assert any(e.element_id == "foreslaa_kategori" and e.details["kind"] == "BusinessRuleTask" for e in passed)


def test_raskmelding_during_the_rehabilitation_cancels_all_open_work(db, session, users, deployed):
    case = through_visitation(session, users, uger=20, afklaret=False, problemer=False, kategori="3")
    assert len(open_tasks(session, case.id)) == 4
    with clock.at(at(date(2026, 1, 22))):
        runtime.correlate_message(session, name="raskmelding", correlation_key=CPR,
                                  data={"raskmeldt_dato": "2026-01-22"}, user=users["system"], rules=RULES)
    session.commit()
    assert "stop_udbetaling_raskmelding" in open_tasks(session, case.id)
    # Thursday 22 January + 2 working days = Monday 26 January (across the weekend)
    assert due(session, case.id, "stop_udbetaling_raskmelding") == date(2026, 1, 26)
    complete(session, users["ys"], "stop_udbetaling_raskmelding", case.id, STOP, date(2026, 1, 23))
    session.expire_all()
    assert session.get(Case, case.id).status == "completed"
    assert tasks_of(session, case.id) == []
    cancelled = {t.element_id for t in session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.status == "cancelled"))}
    assert cancelled == {"arbejdsgiversamtale", "foerste_opfoelgning", "sof_bidrag", "forbered_rehab"}
    assert events(session, case.id, "case_completed")[0].element_id == "raskmelding_slut"
    assert session.scalars(select(Wait).where(Wait.case_id == case.id)).all() == []


# -- deadlines across weekends and Easter 2026 -----------------------------------------------------


def test_deadlines_across_a_weekend_and_easter_and_the_team_leads_reminder(db, session, users, deployed):
    # First day of absence Friday 27 March 2026; the report arrives Monday 30 March, Easter week
    # (Skærtorsdag 2 April, Langfredag 3 April, Påskedag 5 April, 2. påskedag 6 April).
    case = sygemelding(session, users, received=date(2026, 3, 30), foerste_fravaersdag=date(2026, 3, 27))
    assert due(session, case.id, "oplysningsskema") == date(2026, 4, 7)  # 8 calendar days: holidays count
    complete(session, users["ys"], "oplysningsskema", case.id, oplysninger(10, True, False, date(2026, 4, 1)),
             date(2026, 4, 1))
    # 10 working days from Wednesday 1 April: 2, 3, 6 April are holidays -> 7, 8, 9, 10, 13, 14, 15, 16, 17, 20
    assert due(session, case.id, "berettigelse") == date(2026, 4, 20)
    berettigelse = open_tasks(session, case.id)["berettigelse"]
    [frist] = session.scalars(select(Wait).where(Wait.case_id == case.id, Wait.element_id == "berettigelse_frist"))
    assert clock.as_utc(frist.due_at) == clock.as_utc(berettigelse.due_at)  # escalation = the task's deadline

    # nobody decides in time: the non-interrupting timer raises a reminder for Ydelsesservice's team lead
    assert fire(db, date(2026, 4, 20), 23).fired == 0
    assert fire(db, date(2026, 4, 21), 7).fired == 1
    tasks = open_tasks(session, case.id)
    assert set(tasks) == {"berettigelse", "berettigelse_paamindelse"}
    assert tasks["berettigelse_paamindelse"].unit == "ydelsesservice"
    assert danish_day(tasks["berettigelse_paamindelse"].due_at) == date(2026, 4, 23)  # 2 working days
    complete(session, users["yslead"], "berettigelse_paamindelse", case.id,
             {"handling": "Omfordelt til ys; afgørelse i dag"}, date(2026, 4, 21))
    complete(session, users["ys"], "berettigelse", case.id, ret(date(2026, 4, 21)), date(2026, 4, 21))
    # 5 working days from Tuesday 21 April: 22, 23, 24, 27, 28
    assert due(session, case.id, "visitation") == date(2026, 4, 28)
    complete(session, users["jc"], "visitation", case.id, visitation(date(2026, 4, 30), "2"), date(2026, 4, 30))
    # calendar deadlines from the first day of absence: 4 weeks -> Friday 24 April (already passed),
    # the end of week 8 -> Thursday 21 May
    assert due(session, case.id, "arbejdsgiversamtale") == date(2026, 4, 24)
    assert due(session, case.id, "foerste_opfoelgning") == date(2026, 5, 21)
    # the employer conversation is overdue already: the jobcenter lead's reminder comes at once
    reminder = open_tasks(session, case.id)["arbejdsgiversamtale_paamindelse"]
    assert reminder.unit == "jobcenter"
    # 2 working days from Thursday 30 April: Friday 1 May is a working day, then the weekend -> Monday 4 May
    assert danish_day(reminder.due_at) == date(2026, 5, 4)
    complete(session, users["jclead"], "arbejdsgiversamtale_paamindelse", case.id,
             {"handling": "Samtale booket"}, date(2026, 5, 1))
    path = completed_path(session, case.id)
    assert path == [("oplysningsskema", "ys"), ("berettigelse_paamindelse", "yslead"), ("berettigelse", "ys"),
                    ("visitation", "jc"), ("arbejdsgiversamtale_paamindelse", "jclead")]
    assert [e.element_id for e in events(session, case.id, "timer_fired")] == ["berettigelse_frist",
                                                                              "arbejdsgiversamtale_frist"]
    assert {t.deadline_rule for t in tasks_of(session, case.id)} == {"sdp_arbejdsgiversamtale", "sdp_foerste_opfoelgning"}
