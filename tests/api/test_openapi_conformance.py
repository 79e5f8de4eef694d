"""Schemathesis against the live server's /openapi.json: every operation, with a token per role.

For each role (tests/factories.py standard users) every operation in the
description gets generated requests, valid and invalid, against a database
holding deployed processes and a running case with open tasks (path
parameters are sometimes those real ids, so more than the 404 path is
exercised). A response fails the test when it is a server error, or when its
status, content type, headers or body are not what the description declares.

Bounded and repeatable: a few examples per operation, derandomized, no
example database, no shrinking (a failure is reported as found).
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from engine.models import HumanTask
from tests import factories as f

USERS_BY_ROLE = {"caseworker": "jc", "teamlead": "jclead", "process_owner": "owner", "auditor": "auditor",
                 "admin": "admin", "integration": "system"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# per operation and role; TOVHOLDER_FUZZ_EXAMPLES=50 explores further (the default keeps `make test` quick)
EXAMPLES_PER_OPERATION = int(os.environ.get("TOVHOLDER_FUZZ_EXAMPLES", "6"))


@pytest.fixture
def known_ids(users, session):
    """A running intake case with its open task, so that generated requests can name real things."""
    case = f.start_case(session, "intake", actor=users["jc"])
    task = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).first()
    return {"case_id": case.id, "task_id": task.id, "key": "intake", "version": 1}


def _strategy(operation, known: dict):
    names = {p.name for p in operation.path_parameters}
    fixed = {name: value for name, value in known.items() if name in names}
    modes = [operation.as_strategy(generation_mode=mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if fixed:
        modes.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=fixed))
    return st.one_of(modes)


@pytest.mark.parametrize("role", list(USERS_BY_ROLE))
def test_every_operation_answers_as_its_description_says(live, known_ids, role):
    schema = schemathesis.openapi.from_url(f"{live}/openapi.json")
    headers = {"Authorization": f"Bearer {f.token(live, USERS_BY_ROLE[role])}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, known_ids))
        def exercise(case):
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - every failing operation is reported, not only the first
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 25, f"only {operations} operations in /openapi.json"
    assert not failures, f"{len(failures)} operation(s) answered otherwise than described:\n\n" + "\n\n".join(failures)
