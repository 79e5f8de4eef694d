"""Kontanthjælp: an aktivitetsparat citizen gets a koordinerende sagsbehandler at the visitation
(forms/kh_visitation.json), whom SOF's case, started by the referral, carries too, as it carries the
trial rule set (DOMAIN.md journey 1 step 6; 000_* p.13: the jobcenter stays tovholder)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import case_attributes
from engine.errors import FormRejected
from engine.models import Case
from engine.task_read import read_task

from .test_kontanthjaelp import RULES, Journey, at, danish_day, users  # noqa: F401 - the fixture

MONDAY = date(2026, 9, 7)


@pytest.fixture
def journey(db, session, users):  # noqa: F811 - the fixture imported above
    return Journey(db, session, users)


def test_an_aktivitetsparat_citizen_gets_a_coordinator_that_sofs_case_carries(journey, session):
    j = journey
    j.grant(j.to_decision(MONDAY, kategori="aktivitetsparat", problemer=True))
    assert case_attributes.coordinator_name(session, j.case()) == "jc"
    [chosen] = j.events("coordinator_set")
    assert chosen.actor == "jc" and chosen.element_id == "visitation" and chosen.details["to"] == "jc"
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))
    assert case_attributes.coordinator_name(session, sof_case) == "jc"
    [inherited] = j.events("coordinator_set", sof_case.id)
    assert inherited.details["from_case"] == j.case_id and inherited.actor == "system:engine"
    sof_task = j.tasks(sof_case.id)[0]
    assert read_task(session, sof_task.id, j.users["sof"], forms_dir=RULES.forms_dir).as_dict()["coordinator"] == "jc"


def test_the_visitation_of_an_aktivitetsparat_citizen_without_a_coordinator_is_refused(journey, session):
    j = journey
    j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, at(MONDAY))
    data = {"visitationsdato": MONDAY.isoformat(), "til_raadighed": True, "kategori": "aktivitetsparat",
            "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28", "vurdering": "Står til rådighed"}
    with pytest.raises(FormRejected) as refused:
        j.do("jc", "visitation", data, at(MONDAY))
    assert [e["field"] for e in refused.value.detail] == ["koordinerende_sagsbehandler"]
    session.rollback()
    j.do("jc", "visitation", {**data, "kategori": "jobparat"}, at(MONDAY))  # a jobparat citizen needs none
    assert j.case().coordinator_id is None


def test_a_trial_case_passes_its_rule_set_to_the_case_it_starts(journey, session):
    j = journey
    j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
    case_attributes.change_rule_set(session, case_id=j.case_id, rule_set="frikommune", reason="Forsøgsborger",
                                    user=j.users["jclead"], rules=RULES)
    session.commit()
    j.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, at(MONDAY))
    j.do("jc", "visitation", {"visitationsdato": MONDAY.isoformat(), "til_raadighed": True,
                              "kategori": "aktivitetsparat", "koordinerende_sagsbehandler": "jc2",
                              "problemer_ud_over_ledighed": True, "problemomraader": "bolig",
                              "cv_frist": "2026-09-28", "vurdering": "Står til rådighed"}, at(MONDAY))
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))
    if sof_case is None:  # the referral goes after Ydelsesservice's decision in this version of the journey
        j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": MONDAY.isoformat()}, at(MONDAY))
        j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True,
                                             "ansoegning_komplet_dato": MONDAY.isoformat()}, at(MONDAY))
        j.grant(MONDAY)
        sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))
    assert sof_case.rule_set == "frikommune"
    assert case_attributes.coordinator_name(session, sof_case) == "jc2"
    [chosen] = j.events("rule_set_chosen", sof_case.id)
    assert chosen.details["from_case"] == j.case_id and chosen.details["to"] == "frikommune"


def test_a_frikommune_case_gets_the_trials_job_conversation_cadence_and_an_ordinary_case_the_ordinary(journey,
                                                                                                     session):
    """config/deadlines.toml: the six conversations fall due 6 weeks, 3, 5, 7, 9 and 12 months from the henvendelse;
    [rule_sets.frikommune] makes them 3, 3, 6, 8, 10 and 12 months (the offer after the second stays at 3 months
    and 14 days: it is not part of the trial). Each step is done on its last day; none is born overdue.

    Version 2 of kontanthjælp (issue 14) starts the contact course at the visitation, so the rule set is
    chosen before it (a trial case is chosen at the start or the visitation); the conversation counts from
    the henvendelse either way."""
    j = journey
    due = {}
    for rule_set in (None, "frikommune"):  # two cases of one citizen
        j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
        j.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, at(MONDAY))
        if rule_set:  # switched while the case runs: the conversations created from now on follow the trial
            case_attributes.change_rule_set(session, case_id=j.case_id, rule_set=rule_set, reason=None,
                                            user=j.users["jclead"], rules=RULES)
            session.commit()
        j.do("jc", "visitation", {"visitationsdato": "2026-09-09", "til_raadighed": True, "kategori": "jobparat",
                                  "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28",
                                  "vurdering": "Står til rådighed"}, at(date(2026, 9, 9)))
        due[rule_set] = {"jobsamtale_1": j.task("jobsamtale_1").due_at}
        # each conversation on its last day, then the next one's due date under the case's rule set
        for element, after in (("jobsamtale_1", "jobsamtale_2"), ("jobsamtale_2", "jobparat_tilbud"),
                               ("jobparat_tilbud", "jobsamtale_3"), ("jobsamtale_3", "jobsamtale_4"),
                               ("jobsamtale_4", "jobsamtale_5"), ("jobsamtale_5", "jobsamtale_6")):
            day = danish_day(j.task(element).due_at)
            data = ({"jobparat_tilbud_valg": "nytteindsats", "jobparat_tilbud_start": day.isoformat(),
                     "jobparat_tilbud_note": "Nytteindsats"}
                    if element == "jobparat_tilbud" else
                    {"samtaledato": day.isoformat(), "samtale_referat": "Søger", "jobsamtale_udfald": "ny_samtale",
                     "samtaleform": "telefon" if rule_set else "fremmoede"})
            j.do("jc", element, data, at(day, 15))
            due[rule_set][after] = j.task(after).due_at
            assert danish_day(due[rule_set][after]) >= day, (rule_set, after)  # none is born overdue
    days = {rule_set: {e: danish_day(d) for e, d in dues.items()} for rule_set, dues in due.items()}
    # months from the henvendelse (7 September 2026): ordinary 6 weeks, 3, 5, 7, 9, 12; the trial 3, 3, 6, 8, 10, 12
    assert days[None] == {"jobsamtale_1": MONDAY + timedelta(weeks=6), "jobsamtale_2": date(2026, 12, 7),
                          "jobparat_tilbud": date(2026, 12, 21), "jobsamtale_3": date(2027, 2, 7),
                          "jobsamtale_4": date(2027, 4, 7), "jobsamtale_5": date(2027, 6, 7),
                          "jobsamtale_6": date(2027, 9, 7)}
    assert days["frikommune"] == {"jobsamtale_1": date(2026, 12, 7), "jobsamtale_2": date(2026, 12, 7),
                                  "jobparat_tilbud": date(2026, 12, 21), "jobsamtale_3": date(2027, 3, 7),
                                  "jobsamtale_4": date(2027, 5, 7), "jobsamtale_5": date(2027, 7, 7),
                                  "jobsamtale_6": date(2027, 9, 7)}


def test_a_frikommune_case_gets_the_trials_conversation_form_and_an_ordinary_case_the_ordinary(journey, session):
    """[rule_sets.frikommune.forms] swaps kh_jobsamtale for kh_jobsamtale_frikommune (004_* »Formkrav ved
    lovpligtige samtaler« a): the trial's conversation may be by telephone, video or in a group; the
    ordinary one only by personal attendance. The task row, its read (the API's and the page's) and the
    completion's checks all use the swapped form."""
    j = journey
    rows = {}
    for rule_set in (None, "frikommune"):
        j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
        j.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, at(MONDAY))
        if rule_set:
            case_attributes.change_rule_set(session, case_id=j.case_id, rule_set=rule_set, reason="Med i forsøget",
                                            user=j.users["jclead"], rules=RULES)
            session.commit()
        j.do("jc", "visitation", {"visitationsdato": "2026-09-09", "til_raadighed": True, "kategori": "jobparat",
                                  "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28",
                                  "vurdering": "Står til rådighed"}, at(date(2026, 9, 9)))
        rows[rule_set] = j.task("jobsamtale_1")
    assert rows[None].form_key == "kh_jobsamtale" and rows["frikommune"].form_key == "kh_jobsamtale_frikommune"
    read = {k: read_task(session, task_id=row.id, user=j.users["jc"], forms_dir=RULES.forms_dir, rules=RULES)
            for k, row in rows.items()}
    forms = {k: {fld.name: fld for fld in r.form.fields} for k, r in read.items()}
    assert [v for v, _label in forms[None]["samtaleform"].choices] == ["fremmoede"]
    assert [v for v, _label in forms["frikommune"]["samtaleform"].choices] == [
        "fremmoede", "telefon", "video", "gruppesamtale"]
    assert forms["frikommune"]["samtaleform"].required
    talk = {"samtaledato": "2026-09-21", "samtale_referat": "Søger", "jobsamtale_udfald": "ny_samtale"}
    # the ordinary form refuses a telephone conversation, and the trial's asks which form was used
    with pytest.raises(FormRejected):
        j.do("jc", "jobsamtale_1", {**talk, "samtaleform": "telefon"}, at(date(2026, 9, 21)), case_id=rows[None].case_id)
    session.rollback()
    with pytest.raises(FormRejected) as refused:
        j.do("jc", "jobsamtale_1", talk, at(date(2026, 9, 21)), case_id=rows["frikommune"].case_id)
    assert [d["field"] for d in refused.value.detail] == ["samtaleform"]
    session.rollback()
    j.do("jc", "jobsamtale_1", {**talk, "samtaleform": "telefon"}, at(date(2026, 9, 21)), case_id=rows["frikommune"].case_id)
    [created] = [e for e in j.events("task_created", rows["frikommune"].case_id) if e.task_id == rows["frikommune"].id]
    assert created.details["form_key"] == "kh_jobsamtale_frikommune"
    assert created.details["form_swapped_from"] == "kh_jobsamtale"
