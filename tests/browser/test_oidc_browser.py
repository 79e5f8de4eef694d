"""Logging in with the identity provider in a real browser (Playwright + Chromium) against a real provider.

A jobcenter caseworker known only to the provider presses "Log ind med …",
logs in at the provider's own form, and lands in her unit's inbox with the
unit's task; when the provider's groups no longer give her a role, the next
login shows the reason in Danish and her other browser's session is over.
"""
from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.browser.test_web_browser import _shot
from tests.oidc_provider import PROVIDER_NAME, group_map_file, oidc, provider_settings  # noqa: F401 - fixtures


@pytest.fixture
def settings(db, oidc, group_map_file):
    return provider_settings(db.url, oidc.issuer, group_map_file)


def _login_at_provider(page, oidc, sub: str) -> None:
    page.goto("/")
    assert page.url.endswith("/login?next=%2F")
    _shot(page, "login")
    page.get_by_role("button", name=f"Log ind med {PROVIDER_NAME}").click()
    page.wait_for_url(re.compile(re.escape(oidc.issuer) + r"/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_a_caseworker_logs_in_with_the_provider_and_lands_in_her_units_inbox(web_users, session, oidc, new_page):
    f.start_case(session, "web_intake", actor=web_users["jc"], data={"note": "Borger ringede"})
    oidc.set_user("sub-anna", preferred_username="anna@kommune.dk", email="anna@kommune.dk",
                  groups=["tovholder-jobcenter"])
    page = new_page()
    _login_at_provider(page, oidc, "sub-anna")
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("status").inner_text() == "Du er logget ind som anna@kommune.dk."
    assert "anna@kommune.dk (sagsbehandler, Jobcenter)" in page.locator("header").inner_text()
    assert page.get_by_role("link", name=re.compile(r"Min enhed \(1\)")).get_attribute("aria-current") == "page"
    rows = page.locator("table.tasks tbody tr").all_inner_texts()
    assert len(rows) == 1 and "Vurdering af henvendelse" in rows[0]

    oidc.set_user("sub-anna", preferred_username="anna@kommune.dk", groups=["somebody-elses-group"])
    other = new_page()
    _login_at_provider(other, oidc, "sub-anna")
    other.wait_for_url(re.compile(r"/login/oidc/callback\?"))
    assert "Ingen af dine grupper hos identitetsudbyderen giver adgang til Tovholder." in \
        other.get_by_role("alert").inner_text()
    _shot(other, "login-afvist")
    page.reload()
    assert "/login?next=" in page.url  # her first browser is logged out too
