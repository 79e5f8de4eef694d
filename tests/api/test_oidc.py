"""OpenID Connect login against a real provider on loopback (tests/oidc_provider.py), over real HTTP.

The web login round trip (our button → the provider's form → our callback)
makes and updates the user from the provider's groups; the provider's own
tokens work on the API while a token that is expired, from another issuer,
signed with another key, or for another audience gets 401; a user whose
groups no longer map is refused and their old session ends; local passwords
can be switched off.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import select

from api.oidc import KEY_REFRESH
from engine.models import AuthSession, User, UserUnit
from engine.oidc_accounts import NO_PASSWORD
from tests import factories as f
from tests.oidc_provider import (  # noqa: F401 - fixtures
    CLIENT_ID,
    CLIENT_SECRET,
    PROVIDER_NAME,
    csrf_of,
    group_map_file,
    oidc,
    provider_settings,
    running_provider,
    start_login,
    web_login,
)

ANNA = {"preferred_username": "anna@kommune.dk", "email": "anna@kommune.dk"}


@pytest.fixture
def settings(db, oidc, group_map_file):
    return provider_settings(db.url, oidc.issuer, group_map_file)


@pytest.fixture
def units(session, live):
    f.add_units(session)


@pytest.fixture
def browser_client(live):
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        client = httpx.Client(base_url=live, timeout=30, follow_redirects=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _user(session, username: str) -> tuple[User, set[str]]:
    session.expire_all()
    user = session.scalars(select(User).where(User.username == username)).one()
    return user, set(session.scalars(select(UserUnit.unit_key).where(UserUnit.user_id == user.id)))


def _me(live: str, token: str) -> httpx.Response:
    return httpx.get(f"{live}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


# -- the web login ------------------------------------------------------------------------------

def test_the_login_page_offers_the_provider_and_the_password_form(live, units):
    page = httpx.get(f"{live}/login")
    assert f"Log ind med {PROVIDER_NAME}" in page.text
    assert 'name="password"' in page.text


def test_login_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(browser_client, oidc, units):
    url = start_login(browser_client())
    assert url.startswith(oidc.issuer + "/oauth2/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert "code_verifier" not in query
    other = parse_qs(urlsplit(start_login(browser_client())).query)
    assert other["state"] != query["state"] and other["nonce"] != query["nonce"]


def test_groups_become_role_and_units_and_the_browser_lands_in_the_inbox(browser_client, oidc, units, session, live):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter", "tovholder-sof", "somebody-elses-group"])
    client = browser_client()
    back = web_login(client, oidc, "sub-anna")
    assert back.status_code == 303 and back.headers["location"] == "/"
    inbox = client.get("/")
    assert inbox.status_code == 200
    assert "anna@kommune.dk (sagsbehandler, Jobcenter, SOF)" in inbox.text
    user, unit_keys = _user(session, "anna@kommune.dk")
    assert (user.role, unit_keys, user.oidc_subject, user.email) == ("caseworker", {"jobcenter", "sof"}, "sub-anna",
                                                                     "anna@kommune.dk")
    assert user.password_hash == NO_PASSWORD
    # the provider's user has no password here
    r = httpx.post(f"{live}/api/auth/token", data={"username": "anna@kommune.dk", "password": NO_PASSWORD})
    assert r.status_code == 401


def test_changed_groups_change_role_and_units_at_the_next_login(browser_client, oidc, units, session):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    assert web_login(browser_client(), oidc, "sub-anna").status_code == 303
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter-ledere", "tovholder-ydelse"])
    client = browser_client()
    assert web_login(client, oidc, "sub-anna").status_code == 303
    user, unit_keys = _user(session, "anna@kommune.dk")
    assert (user.role, unit_keys) == ("teamlead", {"jobcenter", "ydelsesservice"})
    assert "anna@kommune.dk (teamleder, Jobcenter, Ydelsesservice)" in client.get("/").text
    assert session.scalar(select(User.id).where(User.oidc_subject == "sub-anna")) == user.id  # one row


def test_a_local_account_of_the_same_name_is_taken_over_and_its_password_stops(browser_client, oidc, units, session,
                                                                              live):
    f.add_user(session, "anna@kommune.dk", "caseworker", ["ydelsesservice"])
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    assert web_login(browser_client(), oidc, "sub-anna").status_code == 303
    user, unit_keys = _user(session, "anna@kommune.dk")
    assert (user.oidc_subject, unit_keys) == ("sub-anna", {"jobcenter"})
    r = httpx.post(f"{live}/api/auth/token", data={"username": "anna@kommune.dk", "password": f.PASSWORD})
    assert r.status_code == 401


def test_groups_that_map_to_no_role_are_refused_and_the_users_old_session_ends(browser_client, oidc, units, session,
                                                                              live):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    old = browser_client()
    assert web_login(old, oidc, "sub-anna").status_code == 303
    old_token = oidc.id_token("sub-anna")
    assert old.get("/").status_code == 200

    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-sof", "somebody-elses-group"])  # units only: no role
    refused = web_login(browser_client(), oidc, "sub-anna")
    assert refused.status_code == 403
    assert "Ingen af dine grupper hos identitetsudbyderen giver adgang til Tovholder." in refused.text
    assert 'role="alert"' in refused.text and "tovholder_session" in refused.cookies  # an anonymous session
    assert old.get("/").headers["location"].startswith("/login")  # the old session is over
    user, _ = _user(session, "anna@kommune.dk")
    assert user.oidc_refused_at is not None
    ended = session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).all()
    assert ended and all(row.ended_by == "oidc: no mapped group" for row in ended)
    # a provider token from before the refusal no longer gets in either
    r = _me(live, old_token)
    assert r.status_code == 403 and "no role" in r.json()["detail"]

    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])  # the provider lets her in again
    again = browser_client()
    assert web_login(again, oidc, "sub-anna").status_code == 303
    assert _user(session, "anna@kommune.dk")[0].oidc_refused_at is None


def test_a_caseworker_without_a_unit_is_refused(browser_client, oidc, units, session):
    oidc.set_user("sub-bo", preferred_username="bo", groups=["somebody-elses-group"])
    r = web_login(browser_client(), oidc, "sub-bo")
    assert r.status_code == 403 and "giver adgang" in r.text
    assert session.scalar(select(User).where(User.username == "bo")) is None  # nobody made


def test_a_login_the_provider_denies_ends_this_browsers_session(browser_client, oidc, units):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    client = browser_client()
    assert web_login(client, oidc, "sub-anna").status_code == 303
    r = client.get(oidc.deny(start_login(client)))
    assert r.status_code == 403 and f"{PROVIDER_NAME} afviste login" in r.text
    assert client.get("/").status_code == 303  # logged out


def test_after_the_login_the_browser_goes_where_it_was_going_and_only_to_a_local_page(browser_client, oidc, units):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    for asked, lands in (("/sager/ny", "/sager/ny"), ("//evil.example/", "/"), ("https://evil.example/", "/")):
        client = browser_client()
        back = client.get(oidc.authorize(start_login(client, next=asked), "sub-anna"))
        assert (back.status_code, back.headers["location"]) == (303, lands)


def test_starting_a_login_needs_the_forms_csrf_token(browser_client, units):
    client = browser_client()
    client.get("/login")
    r = client.post("/login/oidc", data={"csrf_token": "forged", "next": "/"})
    assert r.status_code == 403 and "location" not in r.headers


def test_a_callback_this_browser_did_not_start_is_refused(browser_client, oidc, units):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    victim, attacker = browser_client(), browser_client()
    start_login(victim)
    back = oidc.authorize(start_login(attacker), "sub-anna")  # the attacker's code, in the victim's browser
    r = victim.get(back)
    assert r.status_code == 400 and "Login-forsøget kunne ikke genkendes" in r.text
    assert victim.get("/").status_code == 303
    # and one try only: the attacker's own browser cannot use the callback twice
    assert attacker.get(back).status_code == 303
    assert attacker.get(back).status_code == 400


def test_an_id_token_for_another_nonce_is_refused(browser_client, oidc, units):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    client = browser_client()
    url = start_login(client)
    nonce = parse_qs(urlsplit(url).query)["nonce"][0]
    back = oidc.authorize(url.replace(f"nonce={nonce}", "nonce=replayed-nonce"), "sub-anna")
    r = client.get(back)
    assert r.status_code == 400 and "kunne ikke godkendes" in r.text
    assert client.get("/").status_code == 303


def test_the_login_is_refused_while_the_group_file_is_broken(browser_client, oidc, units, group_map_file):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    group_map_file.write_text('[groups."x"]\nrole = "chef"\n', encoding="utf-8")
    r = web_login(browser_client(), oidc, "sub-anna")
    assert r.status_code == 403 and "opsætning af grupper har en fejl" in r.text


# -- bearer tokens from the provider --------------------------------------------------------------

def test_a_token_from_the_provider_works_on_the_api(oidc, units, live):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    token = oidc.id_token("sub-anna")
    r = _me(live, token)
    assert r.status_code == 200, r.text
    assert r.json() == {"username": "anna@kommune.dk", "role": "caseworker", "units": ["jobcenter"]}
    r = httpx.get(f"{live}/api/tasks", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json() == []


def test_tovholders_own_tokens_keep_working(oidc, units, session, live):
    f.add_user(session, "jc", "caseworker", ["jobcenter"])
    assert _me(live, f.token(live, "jc")).json()["username"] == "jc"


def test_an_expired_token_gets_401(oidc, units, live):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    token = oidc.id_token("sub-anna")  # valid for an hour
    assert _me(live, token).status_code == 200
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(hours=1, minutes=2), tick=False):
        r = _me(live, token)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "expired" in r.json()["detail"]


def test_a_token_from_another_issuer_gets_401(oidc, units, live):
    with running_provider() as foreign:
        foreign.set_user("sub-anna", **ANNA, groups=["tovholder-admins"])
        token = foreign.id_token("sub-anna")
    r = _me(live, token)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_a_token_for_another_audience_gets_401(oidc, units, live):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-admins"])
    r = _me(live, oidc.id_token("sub-anna", client_id="another-app"))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def _claims(issuer: str) -> dict:
    now = int(time.time())
    return {"iss": issuer, "aud": CLIENT_ID, "sub": "sub-mallory", "iat": now, "exp": now + 600,
            "preferred_username": "mallory", "groups": ["tovholder-admins"]}


def test_tokens_signed_with_another_key_or_without_a_key_get_401(oidc, units, live):
    real_kid = httpx.get(f"{oidc.issuer}/jwks").json()["keys"][0]["kid"]
    forged_key = RSAKey.generate_key(2048)
    cases = {
        "their kid, our key": jwt.encode({"alg": "RS256", "kid": real_kid}, _claims(oidc.issuer), forged_key),
        "unknown kid": jwt.encode({"alg": "RS256", "kid": "mallorys-key"}, _claims(oidc.issuer), forged_key),
        "HMAC with the client secret": jwt.encode({"alg": "HS256"}, _claims(oidc.issuer),
                                                  OctKey.import_key(CLIENT_SECRET * 2)),
    }
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    payload = jwt.encode({"alg": "HS256"}, _claims(oidc.issuer), OctKey.import_key("x" * 32)).split(".")[1]
    cases["alg none"] = f"{header}.{payload}."
    cases["not a JWT"] = "definitely-not-a-token"
    for name, token in cases.items():
        r = _me(live, token)
        assert r.status_code == 401, name
        assert r.headers["www-authenticate"].startswith("Bearer"), name


def test_a_key_the_provider_rolled_is_fetched_again(group_map_file, db, units, live, _live_app):
    """The provider restarts with a new key at the same address: the first token with the new key id makes
    Tovholder fetch the key set again (once the last fetch is KEY_REFRESH old) and is accepted."""
    app, _ = _live_app
    with running_provider() as first:
        port = int(first.issuer.rsplit(":", 1)[1])
        app.state.settings = provider_settings(db.url, first.issuer, group_map_file)
        first.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
        assert _me(live, first.id_token("sub-anna")).status_code == 200
    with running_provider(port) as second:
        second.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
        token = second.id_token("sub-anna")
        assert _me(live, token).status_code == 401  # a kid we do not know, but the keys were fetched just now
        with time_machine.travel(datetime.now(timezone.utc) + KEY_REFRESH + timedelta(seconds=1), tick=False):
            assert _me(live, token).status_code == 200


def test_a_token_without_groups_lets_in_only_a_user_the_groups_let_in_before(oidc, units, live):
    oidc.set_user("sub-bo", preferred_username="bo")
    r = _me(live, oidc.id_token("sub-bo"))
    assert r.status_code == 403 and "not logged in before" in r.json()["detail"]


def test_an_older_token_does_not_undo_a_newer_one(oidc, units, live, session):
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
    older = oidc.id_token("sub-anna")
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-ydelse"])
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=5), tick=False):
        newer = oidc.id_token("sub-anna")
        assert _me(live, newer).json()["units"] == ["ydelsesservice"]
        assert _me(live, older).json()["units"] == ["ydelsesservice"]  # the row as the newer token left it


# -- local passwords switched off --------------------------------------------------------------------

def test_local_login_switched_off_refuses_passwords(oidc, units, session, live, _live_app, db, group_map_file):
    f.add_user(session, "jc", "caseworker", ["jobcenter"])
    _live_app[0].state.settings = provider_settings(db.url, oidc.issuer, group_map_file, local_login=False)
    r = httpx.post(f"{live}/api/auth/token", data={"username": "jc", "password": f.PASSWORD})
    assert r.status_code == 403 and "switched off" in r.json()["detail"]
    client = httpx.Client(base_url=live, timeout=10)
    page = client.get("/login")
    assert f"Log ind med {PROVIDER_NAME}" in page.text and 'name="password"' not in page.text
    r = client.post("/login", data={"username": "jc", "password": f.PASSWORD, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403 and "adgangskode er slået fra" in r.text
    assert client.get("/", follow_redirects=False).status_code == 303
    client.close()


def test_parallel_first_requests_with_a_new_token_all_get_in(oidc, units, live, session):
    """Several requests with a new user's first token at once: one creates the user, the others find it."""
    oidc.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter", "tovholder-sof"])
    token = oidc.id_token("sub-anna")
    barrier = threading.Barrier(6)

    def call(_):
        barrier.wait()
        return _me(live, token).status_code

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(call, range(6))) == [200] * 6
    assert _user(session, "anna@kommune.dk")[1] == {"jobcenter", "sof"}


def test_while_the_provider_is_down(group_map_file, db, units, session, live, _live_app, browser_client):
    """Its own tokens still decide alone (an expired one is 401, not 503); a provider token and the login button
    say the provider does not answer (503), and the login page keeps the password form."""
    with running_provider() as gone:
        issuer = gone.issuer
        gone.set_user("sub-anna", **ANNA, groups=["tovholder-jobcenter"])
        provider_token = gone.id_token("sub-anna")
    _live_app[0].state.settings = provider_settings(db.url, issuer, group_map_file)
    f.add_user(session, "jc", "caseworker", ["jobcenter"])
    own = f.token(live, "jc")
    assert _me(live, own).status_code == 200
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(hours=9), tick=False):
        r = _me(live, own)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = _me(live, provider_token)
    assert r.status_code == 503 and "does not answer" in r.json()["detail"]
    client = browser_client()
    page = client.get("/login")
    r = client.post("/login/oidc", data={"csrf_token": csrf_of(page.text), "next": "/"})
    assert r.status_code == 503 and f"{PROVIDER_NAME} svarer ikke lige nu" in r.text and 'name="password"' in r.text
