"""Bearer tokens end when they should: revoked by an admin, the user disabled or removed; and the token
endpoint is throttled like the web login (one count for both). All over real HTTP."""
from __future__ import annotations

from datetime import timedelta

import httpx
import time_machine
from sqlalchemy import delete

from engine import auth_sessions, clock
from engine.login_throttle import FREE_FAILURES, lock_for
from engine.models import User
from tests import factories as f

from .helpers import assert_error


def _token(live: str, username: str, password: str = f.PASSWORD) -> httpx.Response:
    return httpx.post(f"{live}/api/auth/token", data={"username": username, "password": password},
                      verify=f.TLS)


def test_an_admin_revokes_every_token_of_a_user(live, api, users, session):
    first, second = api("jc"), api("jc")
    other = api("jc2")
    assert first.get("/tasks").status_code == second.get("/tasks").status_code == 200
    assert len(auth_sessions.live_sessions(session, "jc")) == 2
    r = api("admin").post("/users/jc/revoke-sessions")
    assert r.status_code == 200, r.text
    assert r.json() == {"username": "jc", "ended": 2}
    for client in (first, second):
        detail = assert_error(client.get("/tasks"), 401)
        assert "revoked" in detail
    assert other.get("/tasks").status_code == 200  # only that user's tokens
    assert api("jc").get("/tasks").status_code == 200  # and jc may log in again


def test_only_admins_revoke_and_an_unknown_user_is_404(api, users):
    jc = api("jc")
    for username in ("jclead", "auditor", "owner", "system", "jc2"):
        assert_error(api(username).post("/users/jc/revoke-sessions"), 403)
        assert_error(api(username).post("/users/jc/disable"), 403)
    assert jc.get("/me").status_code == 200
    assert_error(api("admin").post("/users/ghost/revoke-sessions"), 404)
    assert_error(api("admin").post("/users/ghost/disable"), 404)
    assert_error(api("admin").post("/users/admin/disable"), 409)  # no admin locks themselves out


def test_a_disabled_user_is_out_at_once_and_can_be_let_back_in(live, api, users):
    jc, admin = api("jc"), api("admin")
    assert jc.get("/me").status_code == 200
    r = admin.post("/users/jc/disable")
    assert r.status_code == 200 and r.json() == {"username": "jc", "active": False, "ended": 1}
    assert_error(jc.get("/me"), 401)
    assert_error(_token(live, "jc"), 401)  # the same answer as a wrong password
    assert admin.post("/users/jc/enable").json() == {"username": "jc", "active": True}
    assert_error(jc.get("/me"), 401)  # enabling revives no old token
    assert api("jc").get("/me").status_code == 200


def test_a_removed_user_is_out_at_once(api, users, session):
    jc = api("jc")
    assert jc.get("/me").status_code == 200
    session.execute(delete(User).where(User.username == "jc"))
    session.commit()
    assert_error(jc.get("/me"), 401)


def test_the_token_endpoint_is_throttled_like_the_web_login(live, users):
    for _ in range(FREE_FAILURES):
        detail = assert_error(_token(live, "jc", "wrong password"), 401)
        assert detail == "wrong username or password"
    r = _token(live, "jc")  # the right password, but the name is locked now
    detail = assert_error(r, 429)
    assert "too many failed logins" in detail and "access_token" not in r.text
    assert 0 < int(r.headers["retry-after"]) <= lock_for(FREE_FAILURES).total_seconds()
    assert_error(_token(live, "jc2", "wrong password"), 401)  # other names are not affected
    assert _token(live, "jc2").status_code == 200
    with time_machine.travel(clock.now() + lock_for(FREE_FAILURES) + timedelta(seconds=1), tick=False):
        assert _token(live, "jc").status_code == 200  # the lock runs out; a success clears the count
        assert_error(_token(live, "jc", "wrong password"), 401)
    # an unknown name is counted the same way (no hint whether a name exists)
    answers = [_token(live, "nobody", "x" * 9).status_code for _ in range(FREE_FAILURES + 1)]
    assert answers == [401] * FREE_FAILURES + [429]
