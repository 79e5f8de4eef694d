"""Migration 0016 numbers the cases that exist (by start time, per year) and new starts carry on from there."""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from engine import migrate
from engine.models import Case
from tests import factories as f
from tests.conftest import audit_key_for_tests


def test_upgrade_numbers_existing_cases_and_new_starts_follow(db):
    with db.session() as session:
        users = f.standard_users(session)
        f.deploy_data(session, "intake.bpmn")
        started = []
        for moment in (datetime(2029, 5, 1, 9, tzinfo=timezone.utc), datetime(2029, 3, 1, 9, tzinfo=timezone.utc),
                       datetime(2030, 1, 2, 9, tzinfo=timezone.utc)):
            with time_machine.travel(moment, tick=False):
                started.append(f.start_case(session, "intake", actor=users["jc"]).id)
    db.engine.dispose()
    migrate.downgrade(db.url, "0013")
    db.engine.dispose()
    migrate.upgrade(db.url, audit_key=audit_key_for_tests())
    with db.session() as session:
        numbers = dict(session.execute(select(Case.id, Case.number)).all())
        assert [numbers[i] for i in started] == ["2029-000002", "2029-000001", "2030-000001"]
        with time_machine.travel(datetime(2030, 6, 1, 9, tzinfo=timezone.utc), tick=False):
            assert f.start_case(session, "intake", actor=users["jc"]).number == "2030-000002"
