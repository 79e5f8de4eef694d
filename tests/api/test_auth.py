"""Authentication: tokens, 401 with a JSON detail everywhere, and /api/health open to all."""
from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
import time_machine

from engine import clock
from tests import factories as f

from .helpers import assert_error

# Every endpoint but /api/health and the token endpoint itself needs a token.
PROTECTED = [
    ("GET", "/me"),
    ("POST", "/process-definitions"),
    ("GET", "/process-definitions"),
    ("GET", "/process-definitions/intake"),
    ("GET", "/process-definitions/intake/versions/1/bpmn"),
    ("POST", "/cases"),
    ("GET", "/cases"),
    ("POST", "/cases/search"),
    ("GET", "/cases/00000000-0000-0000-0000-000000000000"),
    ("POST", "/cases/00000000-0000-0000-0000-000000000000/cancel"),
    ("GET", "/cases/00000000-0000-0000-0000-000000000000/audit"),
    ("GET", "/tasks"),
    ("GET", "/tasks/00000000-0000-0000-0000-000000000000"),
    ("POST", "/tasks/00000000-0000-0000-0000-000000000000/claim"),
    ("POST", "/tasks/00000000-0000-0000-0000-000000000000/release"),
    ("POST", "/tasks/00000000-0000-0000-0000-000000000000/assign"),
    ("POST", "/tasks/00000000-0000-0000-0000-000000000000/complete"),
    ("POST", "/messages"),
    ("POST", "/users/jc/revoke-sessions"),
    ("POST", "/users/jc/disable"),
    ("POST", "/users/jc/enable"),
]


def assert_unauthorized(response: httpx.Response) -> None:
    detail = assert_error(response, 401)
    assert isinstance(detail, str)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_health_needs_no_token(api, users):
    r = api().get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_token_for_good_credentials(live, api, users):
    r = httpx.post(f"{live}/api/auth/token", data={"username": "jc", "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer" and isinstance(body["access_token"], str) and body["access_token"]
    me = api(token=body["access_token"]).get("/me")
    assert me.status_code == 200
    assert me.json() == {"username": "jc", "role": "caseworker", "units": ["jobcenter"]}


@pytest.mark.parametrize("username,password", [
    ("jc", "wrong-password"), ("jc", ""), ("nobody", f.PASSWORD), ("JC", f.PASSWORD), ("jc", f.PASSWORD + " "),
])
def test_bad_credentials_are_401(live, users, username, password):
    r = httpx.post(f"{live}/api/auth/token", data={"username": username, "password": password})
    if password == "":
        # an empty form field is a missing field for the form parser: refused either way, never a token
        assert r.status_code in (401, 422), r.text
        assert "access_token" not in r.text
        return
    assert_unauthorized(r)


def test_token_request_must_be_a_form(live, users):
    r = httpx.post(f"{live}/api/auth/token", json={"username": "jc", "password": f.PASSWORD})
    assert_error(r, 422)
    assert "access_token" not in r.text


@pytest.mark.parametrize("method,path", PROTECTED)
def test_no_token_is_401(api, users, method, path):
    assert_unauthorized(api().request(method, path))


@pytest.mark.parametrize("method,path", PROTECTED)
def test_garbage_token_is_401(api, users, method, path):
    assert_unauthorized(api(token="not-a-jwt").request(method, path))


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer  x", "Basic amM6Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5", "bearer.x.y", "Token abc",
])
def test_malformed_authorization_header_is_401(live, users, header):
    r = httpx.get(f"{live}/api/cases", headers={"Authorization": header})
    assert_unauthorized(r)


def test_forged_tokens_are_401(api, users):
    now = int(clock.now().timestamp())
    claims = {"sub": "admin", "iat": now, "exp": now + 3600}
    forged = [
        jwt.encode(claims, "some-other-secret-key-of-enough-length!!", algorithm="HS256"),  # wrong key
        jwt.encode(claims, None, algorithm="none"),                                          # no signature
        jwt.encode({"sub": "admin", "iat": now}, "x" * 40, algorithm="HS256"),              # no expiry
    ]
    for token in forged:
        assert_unauthorized(api(token=token).get("/cases"))


def test_token_of_an_unknown_user_is_401(api, users):
    from api.security import issue_token
    from tests.conftest import TEST_SECRET
    token = issue_token("ghost", session_id="no-such-session", key=TEST_SECRET,
                        expires_at=clock.now() + timedelta(minutes=60))
    assert_unauthorized(api(token=token).get("/me"))


def test_a_signed_token_without_a_session_row_is_401(live, api, users):
    """The signature alone no longer lets anyone in: a token from before sessions had rows (no jti), or one
    naming a session of another user, is refused."""
    from api.security import issue_token
    from tests.conftest import TEST_SECRET
    now = int(clock.now().timestamp())
    old_style = jwt.encode({"sub": "jc", "iat": now, "exp": now + 3600}, TEST_SECRET, algorithm="HS256")
    assert_unauthorized(api(token=old_style).get("/me"))
    jc_session = jwt.decode(f.token(live, "jc"), TEST_SECRET, algorithms=["HS256"])["jti"]
    borrowed = issue_token("admin", session_id=jc_session, key=TEST_SECRET,
                           expires_at=clock.now() + timedelta(minutes=60))
    assert_unauthorized(api(token=borrowed).get("/me"))


def test_expired_token_is_401(api, users, settings):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        client = api("jc")
        assert client.get("/tasks").status_code == 200
        traveller.shift(timedelta(minutes=settings.token_minutes) - timedelta(seconds=5))
        assert client.get("/tasks").status_code == 200  # still valid just before it runs out
        traveller.shift(timedelta(seconds=10))
        assert_unauthorized(client.get("/tasks"))
        assert_unauthorized(client.get("/cases"))


def test_auth_errors_do_not_say_whether_the_user_exists(live, users):
    wrong_password = httpx.post(f"{live}/api/auth/token", data={"username": "jc", "password": "nope-nope"})
    no_such_user = httpx.post(f"{live}/api/auth/token", data={"username": "ghost", "password": "nope-nope"})
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json() == no_such_user.json()
