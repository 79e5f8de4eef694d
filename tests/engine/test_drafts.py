"""Studio drafts in the engine: saved over their revision, stale saves refused, nothing overwritten.

Real threads and connections race the saves, on SQLite and PostgreSQL; the publication holds the
draft against a save that comes while it runs.
"""
from __future__ import annotations

import threading

import pytest

from engine import drafts, studio
from engine.drafts import DraftStale
from engine.errors import Invalid, NotFound
from tests import factories as f

from .test_concurrency import run_in_threads

INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
CHANGED = INTAKE.replace('name="Visitation og rådighedsvurdering"', 'name="Visitation (ny)"')


@pytest.fixture
def deployed(session):
    f.standard_users(session)
    f.deploy_data(session, "intake.bpmn")


def save(session, xml=CHANGED, revision=None, actor="owner", forms=None):
    view = drafts.save_draft(session, "intake", bpmn=xml, forms=forms or {}, revision=revision, actor=actor)
    session.commit()
    return view


def test_each_save_names_the_revision_it_read_and_moves_it_on(session, deployed):
    first = save(session)
    assert (first.revision, first.base_version, first.created_by, first.updated_by) == (1, 1, "owner", "owner")
    second = save(session, INTAKE, revision=1, actor="admin")
    assert (second.revision, second.bpmn, second.created_by, second.updated_by) == (2, INTAKE, "owner", "admin")
    assert drafts.get_draft(session, "intake") == second


def test_a_stale_save_is_refused_and_overwrites_nothing(session, deployed):
    save(session)
    save(session, INTAKE, revision=1, actor="admin")
    with pytest.raises(DraftStale) as refused:
        save(session, INTAKE.replace("Afgjort", "Slut"), revision=1)
    session.rollback()
    assert "revision 2" in refused.value.message and "admin" in refused.value.message
    with pytest.raises(DraftStale):
        save(session, CHANGED, revision=None)      # a second draft of the same journey
    session.rollback()
    kept = drafts.get_draft(session, "intake")
    assert (kept.revision, kept.bpmn, kept.updated_by) == (2, INTAKE, "admin")


def test_two_saves_of_one_revision_at_once_one_wins(db, session, deployed):
    save(session)

    def saving(text):
        return lambda s: drafts.save_draft(s, "intake", bpmn=text, forms={}, revision=1, actor="tab")
    a, b = CHANGED.replace("(ny)", "(fane A)"), CHANGED.replace("(ny)", "(fane B)")
    outcomes = run_in_threads(db, saving(a), saving(b))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    loser = next(o for o in outcomes if o != "ok")
    assert isinstance(loser, DraftStale)
    session.expire_all()
    kept = drafts.get_draft(session, "intake")
    winner = a if outcomes[0] == "ok" else b
    assert (kept.revision, kept.bpmn) == (2, winner)


def test_two_new_drafts_at_once_one_wins(db, session, deployed):
    def starting(s):
        drafts.save_draft(s, "intake", bpmn=CHANGED, forms={}, revision=None, actor="tab")
    outcomes = run_in_threads(db, starting, starting)
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert isinstance(next(o for o in outcomes if o != "ok"), DraftStale)
    assert drafts.get_draft(session, "intake").revision == 1


def test_a_save_during_a_publication_is_refused(db, session, deployed):
    """The publication holds the draft's row to its commit; a save that comes meanwhile waits, then finds it gone.

    Whether the save reaches the row before or after the commit, it cannot win: the row is held
    from the publication's first statement on.
    """
    draft = save(session)
    outcome: list = []

    def saving():
        with db.session() as s:
            try:
                drafts.save_draft(s, "intake", bpmn=INTAKE, forms={}, revision=1, actor="tab")
                s.commit()
                outcome.append("ok")
            except DraftStale as exc:
                outcome.append(exc)
    with db.session() as publishing:
        published = studio.publish(publishing, "intake", revision=draft.revision, actor="owner", rules=f.RULES)
        thread = threading.Thread(target=saving)
        thread.start()
        publishing.commit()
    thread.join(timeout=60)
    assert published.version == 2
    assert isinstance(outcome[0], DraftStale) and "no longer exists" in outcome[0].message
    with pytest.raises(NotFound):
        drafts.get_draft(session, "intake")


def test_hold_and_delete_refuse_a_changed_or_missing_draft(session, deployed):
    with pytest.raises(NotFound):
        drafts.hold(session, "intake", revision=1)
    save(session)
    save(session, INTAKE, revision=1)
    with pytest.raises(DraftStale):
        drafts.hold(session, "intake", revision=1)
    with pytest.raises(DraftStale):
        drafts.delete_draft(session, "intake", revision=1)
    assert drafts.hold(session, "intake", revision=2).revision == 2
    drafts.delete_draft(session, "intake", revision=2)
    session.commit()
    assert drafts.find_draft(session, "intake") is None


@pytest.mark.parametrize("bpmn, forms, field", [
    ("no xml", {}, "bpmn"),
    (None, {}, "bpmn"),
    ("<?xml version='1.0'?><!DOCTYPE x><x/>", {}, "bpmn"),
    (CHANGED, {"t_visitation.json": "{"}, "forms.t_visitation.json"),
    (CHANGED, {"t visitation.json": "{}"}, "forms.t visitation.json"),
    (CHANGED, {"t_visitation.json": 7}, "forms.t_visitation.json"),
    (CHANGED, [], "forms"),
    (CHANGED, {f"f{i}.json": "{}" for i in range(drafts.MAX_FORMS + 1)}, "forms"),
])
def test_what_is_no_diagram_or_form_is_refused_before_anything_is_written(session, deployed, bpmn, forms, field):
    save(session)
    with pytest.raises(Invalid) as refused:
        drafts.save_draft(session, "intake", bpmn=bpmn, forms=forms, revision=1, actor="owner")
    assert [p["field"] for p in refused.value.detail] == [field]
    session.rollback()
    assert drafts.get_draft(session, "intake").revision == 1


def test_bad_keys_and_revisions_are_refused(session, deployed):
    for key in ("", "9lives", "a b", "x" * 201, "../x"):
        with pytest.raises(Invalid):
            drafts.save_draft(session, key, bpmn=CHANGED, forms={}, revision=None, actor="owner")
    for revision in (0, -1, True, "1", 1.0):
        with pytest.raises(Invalid):
            drafts.save_draft(session, "intake", bpmn=CHANGED, forms={}, revision=revision, actor="owner")
    assert drafts.list_drafts(session) == {}
