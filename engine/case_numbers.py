"""Case numbers people can say on the phone: `2026-000123` (the start year, Danish time, and a sequence).

`assign` runs inside the case start's transaction (engine.runtime.new_case):
it bumps the year's row in `case_number_counters` with one UPDATE, which on
PostgreSQL holds that row's lock until the start commits, so concurrent
starts queue and never share a number (SQLite serialises every writer). A
start that rolls back gives its number back with it. The first start of a
year creates the row with INSERT … ON CONFLICT DO NOTHING, so two first
starts never collide either. `cases.number` is unique as a last guard.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .clock import as_utc
from .models import CaseNumberCounter
from .workdays import DANISH_TIME

PATTERN = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*(\d{1,6})\s*$")


def format_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def parse(text: str) -> str | None:
    """A case number as typed (`2026-123`, `2026 000123`, `2026000123`) in its stored form, or None."""
    match = PATTERN.match(text or "")
    if match is None:
        return None
    return format_number(int(match.group(1)), int(match.group(2)))


def assign(session: Session, started_at: datetime) -> str:
    """The next number of the start's year; call inside the transaction that creates the case."""
    moment = as_utc(started_at)
    assert moment is not None
    year = moment.astimezone(DANISH_TIME).year
    bump = (update(CaseNumberCounter).where(CaseNumberCounter.year == year)
            .values(last=CaseNumberCounter.last + 1).returning(CaseNumberCounter.last))
    value = session.execute(bump).scalar()
    if value is None:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(CaseNumberCounter).values(year=year, last=0).on_conflict_do_nothing())
        value = session.execute(bump).scalar_one()
    return format_number(year, int(value))
