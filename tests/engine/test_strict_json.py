"""engine.strict_json: strict writing, tolerant reading, and the JSON columns' serializer on the real database."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError

from engine import clock, strict_json
from engine.errors import InvalidJson
from engine.models import AuditEvent, Case
from tests import factories as f


@pytest.mark.parametrize("value, path", [
    ({"x": float("nan")}, "data.x"),
    ({"x": [1, float("inf")]}, "data.x[1]"),
    ({"x": {"y": -float("inf")}}, "data.x.y"),
    ({"x": "a\ud800"}, "data.x"),
    ({"a\udfff": 1}, "data.a\\udfff"),
    ([{"x": 1}, {"y": ["\udc00"]}], "data[1].y[0]"),
])
def test_what_strict_json_cannot_hold_is_found_and_named(value, path):
    found = strict_json.problem(value)
    assert found is not None and found.field() == path
    with pytest.raises(strict_json.NotStrictJson) as refused:
        strict_json.dumps(value)
    assert refused.value.field() == path
    with pytest.raises(InvalidJson) as invalid:
        strict_json.check_input(value)
    assert invalid.value.status == 422 and invalid.value.detail[0]["field"] == path
    invalid.value.detail[0]["message"].encode("utf-8")  # the message can be sent


@pytest.mark.parametrize("value", [
    {"emoji": "🎉👩‍💼", "dansk": "ÆØÅ æøå", "backslash_u": "\\ud800 is six characters here", "nul": "a\u0000b"},
    {"big": 10**30, "tiny": 5e-324, "max": 1.7976931348623157e308, "nested": [[{"a": None, "b": True}]]},
])
def test_strict_json_is_plain_json_as_before(value):
    assert strict_json.problem(value) is None
    dumped = strict_json.dumps(value)
    assert dumped == json.dumps(value)  # the stored format does not change
    assert strict_json.loads(dumped) == value


def test_what_was_stored_before_reads_back_repaired():
    stored = ('{"a": NaN, "b": "f\\u00f8r \\ud800 efter", "c": 1e400, "d": "\\ud83d\\ude00", '
              '"e\\udc00": [Infinity, -Infinity, 1.5, "\\\\ud800"]}')
    assert strict_json.loads(stored) == {"a": None, "b": "før \ufffd efter", "c": None, "d": "😀",
                                         "e\ufffd": [None, None, 1.5, "\\ud800"]}
    assert strict_json.loads(stored.encode("utf-8")) == strict_json.loads(stored)  # psycopg hands over bytes
    strict_json.dumps(strict_json.loads(stored))  # and what was read can be written


@pytest.mark.parametrize("details", [{"x": float("nan")}, {"x": "\ud800"}, {"x": [1e308 * 10]}])
def test_a_json_column_never_stores_what_it_could_not_read(db, session, details):
    """The net under the engine's own checks: the column serializer (engine.db) refuses, nothing is committed."""
    f.standard_users(session)
    f.deploy_data(session, "parallel.bpmn")
    case = f.start_case(session, "parallel")
    seq = case.audit_seq + 1
    session.add(AuditEvent(case_id=case.id, seq=seq, at=clock.now(), type="note", actor="test", details=details))
    # SQLite: SQLAlchemy serializes and wraps the error; PostgreSQL: psycopg serializes and raises it as is
    with pytest.raises((StatementError, strict_json.NotStrictJson)) as refused:
        session.flush()
    assert isinstance(getattr(refused.value, "orig", refused.value), strict_json.NotStrictJson)
    session.rollback()
    with db.session() as fresh:
        assert fresh.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq == seq)) == 0


def test_a_json_column_reads_back_what_was_stored_before(db, session):
    f.standard_users(session)
    f.deploy_data(session, "parallel.bpmn")
    case = f.start_case(session, "parallel")
    stored = '{"note": "\\ud800", "n": 1e400}'
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET data = " + ("CAST(:v AS json)" if db.is_postgres else ":v")
                          + " WHERE id = :id"), {"v": stored, "id": case.id})
    with db.session() as fresh:
        assert fresh.get(Case, case.id).data == {"note": "\ufffd", "n": None}
