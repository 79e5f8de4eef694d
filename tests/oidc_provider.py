"""A real OpenID Connect provider on loopback for the tests: oidc-provider-mock (PyPI, pinned), in a thread.

It is a complete provider (Authlib's authorization server: discovery, JWKS,
authorization code flow, ID tokens signed RS256 with a key it makes at
start); the tests tell it a user's claims (`set_user`) and log in through its
authorization form, in the browser or over HTTP (`code_for`). Nothing here
fakes a token: every token a test uses was signed by a running provider.

Fixtures: `oidc` (a provider for the test), `oidc_settings` (Settings for
the live server that trust it, with the group mapping GROUP_MAP) and the
helpers a test calls.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import authlib.deprecate
import httpx
import pytest

from engine.settings import Settings
from tests.conftest import DATA, ROOT, TEST_SECRET

with warnings.catch_warnings():  # the provider still imports Authlib's deprecated JOSE module
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    import oidc_provider_mock

CLIENT_ID = "tovholder"
CLIENT_SECRET = "tovholder-test-client-secret"
PROVIDER_NAME = "Testkommunens login"
GROUP_MAP = """
[groups."tovholder-jobcenter"]
role = "caseworker"
units = ["jobcenter"]

[groups."tovholder-jobcenter-ledere"]
role = "teamlead"
units = ["jobcenter"]

[groups."tovholder-ydelse"]
role = "caseworker"
units = ["ydelsesservice"]

[groups."tovholder-sof"]
units = ["sof"]

[groups."tovholder-admins"]
role = "admin"
"""
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Provider:
    issuer: str

    def set_user(self, sub: str, **claims) -> None:
        """What the provider says about `sub` from now on (its ID tokens carry these claims)."""
        r = httpx.put(f"{self.issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10)
        assert r.status_code == 204, r.text

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Log `sub` in at the provider's form; where it sends the browser back (the client's redirect URI)."""
        r = httpx.post(authorize_url, data={"sub": sub}, timeout=10)
        assert r.status_code == 302, r.text
        return r.headers["location"]

    def deny(self, authorize_url: str) -> str:
        r = httpx.post(authorize_url, data={"action": "deny"}, timeout=10)
        assert r.status_code == 302, r.text
        return r.headers["location"]

    def tokens(self, sub: str, *, client_id: str = CLIENT_ID) -> dict:
        """A token response for `sub` through the code flow, as another client of the provider would get it."""
        meta = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10).json()
        redirect = "http://127.0.0.1:9/callback"
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                 "scope": "openid profile email", "state": "s", "nonce": "n"}
        url = meta["authorization_endpoint"] + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        back = self.authorize(url, sub)
        code = parse_qs(urlsplit(back).query)["code"][0]
        r = httpx.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code,
                                                     "redirect_uri": redirect},
                       auth=(client_id, CLIENT_SECRET), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def id_token(self, sub: str, *, client_id: str = CLIENT_ID) -> str:
        return self.tokens(sub, client_id=client_id)["id_token"]


@contextmanager
def running_provider(port: int = 0) -> Iterator[Provider]:
    with oidc_provider_mock.run_server_in_thread(port=port, require_nonce=True) as server:
        yield Provider(f"http://127.0.0.1:{server.server_port}")


@pytest.fixture
def oidc() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


def provider_settings(db_url: str, issuer: str, group_map: Path, **overrides) -> Settings:
    return Settings(database_url=db_url, secret_key=TEST_SECRET, forms_dir=DATA / "forms",
                    processes_dir=ROOT / "processes", demo_mode=False, oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
                    oidc_client_secret=CLIENT_SECRET, oidc_group_map=group_map, oidc_name=PROVIDER_NAME,
                    **overrides)


@pytest.fixture
def group_map_file(tmp_path) -> Path:
    path = tmp_path / "oidc-groups.toml"
    path.write_text(GROUP_MAP, encoding="utf-8")
    return path


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def start_login(client: httpx.Client, next: str = "/") -> str:
    """Press "Log ind med ..." on the login page; the provider's authorization URL it sends the browser to."""
    page = client.get("/login", follow_redirects=True)  # a logged-in browser lands in the inbox: it has the token too
    assert page.status_code == 200
    r = client.post("/login/oidc", data={"csrf_token": csrf_of(page.text), "next": next})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def web_login(client: httpx.Client, provider: Provider, sub: str) -> httpx.Response:
    """The whole browser round trip over HTTP: our button, the provider's form, back to our callback."""
    back = provider.authorize(start_login(client), sub)
    return client.get(back)
