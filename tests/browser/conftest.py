"""Web UI fixtures: users and the web_intake test journey, logins over real HTTP, and a real Chromium.

The server is tests/conftest.py's live uvicorn server. Browser tests use
Playwright with Debian's Chromium (/usr/bin/chromium, installed by .ci/run
where missing); without it they are skipped with the reason shown.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from tests import factories as f

CHROMIUM = Path(os.environ.get("TOVHOLDER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_users(seed, live):
    """Units, one user of each kind, and the web_intake journey deployed; the live server uses this database."""
    return seed("web_intake.bpmn")


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def web_client(base_url: str, username: str | None = None, password: str = f.PASSWORD) -> httpx.Client:
    """An httpx client with a web session (cookies), logged in as `username` if given."""
    client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False, verify=f.TLS)
    if username:
        page = client.get("/login")
        r = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text),
                                        "next": "/"})
        assert r.status_code == 303, r.text
    return client


@pytest.fixture
def web(live):
    clients: list[httpx.Client] = []

    def make(username: str | None = None) -> httpx.Client:
        client = web_client(live, username)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium; .ci/run does this)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")
    # expect() has its own 5 s default, apart from the context's: a draft save that runs the
    # deploy checks takes longer than that on a loaded CI machine (the CI run of stop 20 failed so)
    sync_api.expect.set_options(timeout=15_000)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live):
    contexts = []

    def make():
        context = browser.new_context(base_url=live, locale="da-DK", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
