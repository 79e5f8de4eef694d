"""Web sessions end when they should, over real HTTP: logging out, an admin's revocation, disabling the
user; and one login throttle for the web form and the token endpoint."""
from __future__ import annotations

from pathlib import Path

import httpx

from engine import auth_sessions
from engine.login_throttle import FREE_FAILURES
from tests import cli_runner
from tests import factories as f
from tests.conftest import TEST_SECRET

from .conftest import csrf_of, web_client

COOKIE = "tovholder_session"


def _inbox_with(live: str, cookie: str) -> httpx.Response:
    return httpx.get(f"{live}/", cookies={COOKIE: cookie}, follow_redirects=False)


def _assert_sent_to_login(r: httpx.Response) -> None:
    assert r.status_code == 303 and r.headers["location"].startswith("/login"), (r.status_code, r.headers)


def test_logging_out_ends_the_session_for_the_old_cookie_too(web_users, web, live, session):
    jc = web("jc")
    old_cookie = jc.cookies[COOKIE]
    inbox = jc.get("/")
    assert inbox.status_code == 200
    assert _inbox_with(live, old_cookie).status_code == 200  # a copy of the cookie works while logged in
    r = jc.post("/logout", data={"csrf_token": csrf_of(inbox.text)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    _assert_sent_to_login(jc.get("/"))
    r = _inbox_with(live, old_cookie)  # the stolen or kept copy opens nothing any more
    _assert_sent_to_login(r)
    assert COOKIE in r.cookies and r.cookies[COOKIE] != old_cookie  # replaced by a visitor's cookie
    page = httpx.get(f"{live}/login", cookies={COOKIE: old_cookie}, follow_redirects=False)
    assert page.status_code == 200 and "csrf_token" in page.text  # the login form, not a redirect loop
    assert auth_sessions.live_sessions(session, "jc") == []


def test_revoking_a_user_ends_their_web_sessions_and_tokens(web_users, web, live):
    browser, laptop = web("jc"), web("jc")
    token = f.token(live, "jc")
    admin = f.client(live, "admin")
    assert admin.post("/users/jc/revoke-sessions").json() == {"username": "jc", "ended": 3}
    _assert_sent_to_login(browser.get("/"))
    _assert_sent_to_login(laptop.get("/sager/ny"))
    assert httpx.get(f"{live}/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert web("jc").get("/").status_code == 200  # logging in again works
    admin.close()


def test_disabling_a_user_with_the_cli_ends_their_session_at_once(web_users, web, live, db, settings, tmp_path):
    jc = web("jc")
    assert jc.get("/").status_code == 200
    result = _cli(db, tmp_path, "users", "disable", "jc", real=True)  # another process, as in production
    assert result.returncode == 0, result.stderr
    assert "jc disabled" in result.stdout and "1 session" in result.stdout
    _assert_sent_to_login(jc.get("/"))
    client = web_client(live)
    r = client.post("/login", data={"username": "jc", "password": f.PASSWORD,
                                    "csrf_token": csrf_of(client.get("/login").text)})
    assert r.status_code == 401
    assert _cli(db, tmp_path, "users", "enable", "jc").returncode == 0
    assert web("jc").get("/").status_code == 200
    revoke = _cli(db, tmp_path, "users", "revoke", "jc")
    assert revoke.returncode == 0 and "1 session(s)" in revoke.stdout, revoke
    unknown = _cli(db, tmp_path, "users", "revoke", "ghost")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "tovholder: user 'ghost' does not exist"


def test_web_and_token_logins_share_one_throttle(web_users, live):
    client = web_client(live)
    csrf = csrf_of(client.get("/login").text)
    for _ in range(FREE_FAILURES - 1):
        r = client.post("/login", data={"username": "jc", "password": "wrong password", "csrf_token": csrf})
        assert r.status_code == 401
    r = httpx.post(f"{live}/api/auth/token", data={"username": "jc", "password": "wrong password"})
    assert r.status_code == 401
    r = client.post("/login", data={"username": "jc", "password": f.PASSWORD, "csrf_token": csrf})
    assert r.status_code == 429 and "For mange mislykkede forsøg" in r.text
    r = httpx.post(f"{live}/api/auth/token", data={"username": "jc", "password": f.PASSWORD})
    assert r.status_code == 429 and "too many failed logins" in r.json()["detail"]


def _cli(db, tmp_path: Path, *args: str, real: bool = False) -> cli_runner.Result:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": db.url, "TOVHOLDER_SECRET_KEY": TEST_SECRET}
    return cli_runner.run(args, env=env, cwd=tmp_path, real=real)
