"""The case lock: a conditional UPDATE on `cases.lock_version`.

Works the same on SQLite and PostgreSQL. The first transaction to bump the
version wins; a concurrent one finds the version moved and gets CaseBusy
(409), so no change is lost or applied twice. The lock is held until the
caller's transaction ends.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from .errors import CaseBusy, NotFound
from .models import Case


def read_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def lock_case(session: Session, case_id: str, *, seen_version: int | None = None) -> Case:
    """Lock the case for this transaction; `seen_version` is the version the caller's decision rests on."""
    case = read_case(session, case_id)
    expected = case.lock_version if seen_version is None else seen_version
    result = session.execute(
        update(Case).where(Case.id == case_id, Case.lock_version == expected)
        .values(lock_version=expected + 1).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        raise CaseBusy(f"case {case_id} was changed by someone else at the same time; reload and try again")
    return read_case(session, case_id)
