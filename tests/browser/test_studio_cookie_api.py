"""The studio's JSON API called the way the modeler page calls it: with the web session cookie (over HTTP).

Only /api/studio/ takes the cookie; everything else under /api still wants a
bearer token. A request with the cookie that changes anything must send the
page's CSRF token in X-CSRF-Token. Roles are the API's: process owners and
admins; a caseworker's cookie gets 403.
"""
from __future__ import annotations

import json
import re

from tests import factories as f

CONFIG = re.compile(r'<script type="application/json" id="studio-config">(.*?)</script>', re.S)
WEB_INTAKE = (f.DATA / "web_intake.bpmn").read_text(encoding="utf-8")


def _page_csrf(client) -> str:
    """The CSRF token the modeler page hands its script."""
    page = client.get("/studio/web_intake/edit")
    assert page.status_code == 200, page.text
    return json.loads(CONFIG.search(page.text).group(1))["csrf"]


def test_the_modeler_page_saves_and_reads_a_draft_with_its_cookie_and_csrf_token(web_users, web):
    owner = web("owner")
    csrf = _page_csrf(owner)
    assert owner.get("/api/studio/catalog").status_code == 200
    assert owner.get("/api/studio/drafts/web_intake").status_code == 404
    body = {"bpmn": WEB_INTAKE, "forms": {}, "revision": None}
    refused = owner.put("/api/studio/drafts/web_intake", json=body)  # no token: a forged cross-site write
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    wrong = owner.put("/api/studio/drafts/web_intake", json=body, headers={"X-CSRF-Token": csrf[:-1] + "x"})
    assert wrong.status_code == 403
    assert owner.get("/api/studio/drafts/web_intake").status_code == 404  # nothing was saved
    saved = owner.put("/api/studio/drafts/web_intake", json=body, headers={"X-CSRF-Token": csrf})
    assert saved.status_code == 200 and saved.json()["revision"] == 1
    checked = owner.post("/api/studio/check", json={"bpmn": WEB_INTAKE}, headers={"X-CSRF-Token": csrf})
    assert checked.status_code == 200 and "problems" in checked.json()
    assert owner.get("/api/studio/drafts/web_intake").json()["updated_by"] == "owner"


def test_the_cookie_counts_only_for_the_studio_api_and_only_for_its_roles(web_users, web):
    owner, caseworker = web("owner"), web("jc")
    assert owner.get("/api/process-definitions").status_code == 401  # elsewhere: a bearer token, as before
    assert owner.get("/api/tasks").status_code == 401
    assert caseworker.get("/api/studio/catalog").status_code == 403
    assert web().get("/api/studio/catalog").status_code == 401        # no session at all
    owner.post("/logout", data={"csrf_token": _page_csrf(owner)})
    assert owner.get("/api/studio/catalog").status_code == 401        # an ended session is no login
