"""API test fixtures: clients that talk real HTTP to the `live` server.

Every client made by `api` checks every response it receives: no CPR number
used anywhere in these tests may appear in a response body, in any form
(only `cpr_masked`, like 010190-****, may).
"""
from __future__ import annotations

import httpx
import pytest

from tests import factories as f

from .helpers import FORBIDDEN_CPR_STRINGS


def assert_no_cpr(response: httpx.Response) -> None:
    response.read()
    leaked = sorted(s for s in FORBIDDEN_CPR_STRINGS if s in response.text)
    assert not leaked, (f"a CPR number appears in the response to {response.request.method} "
                        f"{response.request.url.path}: {leaked}")


@pytest.fixture
def api(live):
    """api("jc") → an httpx client for /api logged in as jc; api() → without a token."""
    clients: list[httpx.Client] = []

    def make(username: str | None = None, *, token: str | None = None) -> httpx.Client:
        if username is not None:
            token = f.token(live, username)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=f"{live}/api", headers=headers, timeout=30, verify=f.TLS,
                              event_hooks={"response": [assert_no_cpr]})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def staff(seed):
    """Units and one user of each kind (see tests/factories.py), nothing deployed."""
    return seed()


@pytest.fixture
def users(seed):
    """Units, users, and the intake and parallel test processes deployed (version 1 each)."""
    return seed("intake.bpmn", "parallel.bpmn")
