"""Only ASCII digits are a CPR number: in other digits it is refused everywhere one is read.

Python's `\\d` and int() accept full-width, Arabic-Indic, Devanagari and
mathematical digits. A CPR typed in them became a second citizen, so messages
by the ASCII number missed the case and started duplicates.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import Case, Citizen
from tests import factories as f
from tests.browser.conftest import csrf_of, web_client

from .helpers import CPR_A, assert_error, start

SEM = f.DATA / "semantics"
ASCII = "0123456789"
DIGITS = {
    "full-width": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "extended-arabic-indic": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "mathematical-bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
}


def spelled(cpr: str, digits: str) -> str:
    return cpr.translate(str.maketrans(ASCII, digits))


VARIANTS = [pytest.param(spelled(form, digits), id=f"{name}{'-dash' if '-' in form else ''}")
            for name, digits in DIGITS.items() for form in (CPR_A, CPR_A.replace("-", ""))]
VARIANTS.append(pytest.param("01019" + "０" + "-1234", id="one-full-width-digit"))


def counts(db) -> tuple[int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(Citizen)),
                s.scalar(select(func.count()).select_from(Case)))


@pytest.mark.parametrize("cpr", VARIANTS)
def test_a_cpr_in_other_digits_starts_no_case_and_finds_none(api, users, db, cpr):
    jc, auditor = api("jc"), api("auditor")
    case = start(jc, cpr=CPR_A)
    before = counts(db)
    r = jc.post("/cases", json={"process_key": "intake", "cpr": cpr, "data": {}})
    assert assert_error(r, 422) == [{"field": "cpr", "message": r.json()["detail"][0]["message"]}]
    assert cpr not in r.text  # the number is not echoed
    for response in (auditor.get("/cases", params={"cpr": cpr}), auditor.post("/cases/search", json={"cpr": cpr})):
        assert_error(response, 422)
        assert cpr not in response.text
    assert counts(db) == before
    assert [c["id"] for c in auditor.get("/cases", params={"cpr": CPR_A}).json()] == [case["id"]]


@pytest.mark.parametrize("cpr", VARIANTS)
def test_a_message_keyed_by_a_cpr_in_other_digits_starts_no_second_citizen(api, staff, db, cpr):
    assert api("owner").post("/process-definitions", files=[
        ("files", ("referral.bpmn", (SEM / "referral.bpmn").read_bytes(), "text/xml"))]).status_code == 201
    system = api("system")
    first = system.post("/messages", json={"name": "sof_henvisning", "correlation_key": CPR_A})
    assert first.status_code == 200, first.text
    before = counts(db)
    assert_error(system.post("/messages", json={"name": "sof_henvisning", "correlation_key": cpr}), 404)
    assert counts(db) == before == (1, 1)


@pytest.mark.parametrize("cpr", [VARIANTS[0], VARIANTS[2]])
def test_the_web_start_form_refuses_a_cpr_in_other_digits(api, users, db, live, cpr):
    page = web_client(live, "jc")
    try:
        form = page.get("/sager/ny?forloeb=intake")
        r = page.post("/sager/ny", data={"csrf_token": csrf_of(form.text), "forloeb": "intake", "cpr": cpr})
        assert r.status_code == 422 and "CPR-nummeret er ikke gyldigt" in r.text
    finally:
        page.close()
    assert counts(db) == (0, 0)
