"""No CPR number in any log record, through the real server (`live`).

CONTRACT.md has `GET /api/cases?cpr=`, so the number is in the request line
that uvicorn's access log writes. Records are captured on the loggers that
matter (uvicorn.access and uvicorn.error do not propagate to the root) with
the access log switched on, and every part of every record is searched:
message, arguments, formatted message and traceback.
"""
from __future__ import annotations

import logging
import re

import pytest
from uvicorn.logging import AccessFormatter

from engine import logs
from tests import factories as f

CPR = "010190-1234"
OTHER_CPR = "311299-4321"  # a citizen nobody has a case for
FORBIDDEN = {CPR, CPR.replace("-", ""), OTHER_CPR, OTHER_CPR.replace("-", "")}
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "tovholder", "")


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def record_texts(record: logging.LogRecord) -> list[str]:
    # What a handler writes: the message, plus the traceback (formatters reuse exc_text).
    texts = [str(record.msg), repr(record.args), record.getMessage(), record.exc_text or "",
             record.stack_info or "", logging.Formatter("%(name)s %(message)s").format(record)]
    if record.name == "uvicorn.access":
        texts.append(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                                     use_colors=False).format(record))
    return texts


def leaks(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {text}" for r in records for text in record_texts(r)
            if any(cpr in text for cpr in FORBIDDEN)]


@pytest.fixture
def captured(live):
    """Capture every record of the server's loggers, access log included, at INFO and above."""
    handler = Capture()
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.addHandler(handler)
        if name.startswith("uvicorn") or name == "tovholder":
            logger.setLevel(logging.INFO)  # the test server runs uvicorn at "warning"
    yield handler.records
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_starting_and_searching_by_cpr_logs_no_cpr(live, session, captured):
    f.standard_users(session)
    f.deploy_data(session, "intake.bpmn")
    with f.client(live, "jc") as jc, f.client(live, "admin") as admin, f.client(live) as anonymous:
        started = jc.post("/cases", json={"process_key": "intake", "cpr": CPR, "data": {}})
        assert started.status_code == 201, started.text
        case_id = started.json()["id"]

        for who in (jc, admin):
            for form in (CPR, CPR.replace("-", "")):
                found = who.get("/cases", params={"cpr": form})
                assert found.status_code == 200, found.text
                assert [c["id"] for c in found.json()] == [case_id]
            assert who.get("/cases", params={"cpr": OTHER_CPR}).json() == []
            assert who.get(f"/cases?cpr={OTHER_CPR.replace('-', '')}&status=running").json() == []
        assert admin.post("/cases/search", json={"cpr": CPR}).status_code == 200
        assert anonymous.get("/cases", params={"cpr": CPR}).status_code == 401
        assert jc.get("/cases", params={"cpr": CPR, "limit": 0}).status_code == 422
        assert jc.post("/cases", json={"process_key": "no-such-process", "cpr": OTHER_CPR}).status_code == 404
        assert jc.post("/cases", json={"process_key": "intake", "cpr": "320190-1234"}).status_code == 422
        assert jc.get(f"/cases/{case_id}").status_code == 200
        assert jc.get(f"/no-such-endpoint/{CPR}").status_code == 404

    access = [r for r in captured if r.name == "uvicorn.access"]
    # The capture is not vacuous: the CPR searches were logged, with the number masked.
    searches = [r.getMessage() for r in access if "/api/cases?cpr=" in r.getMessage()]
    assert len(searches) >= 8, [r.getMessage() for r in access]
    assert all("010190-****" in line or "311299-****" in line for line in searches), searches
    assert leaks(captured) == []


def test_a_record_from_any_logger_is_masked(live, captured):
    """Child loggers propagate to handlers added at any time; the masking reaches them too."""
    logging.getLogger("tovholder.api.test").warning("search for %s failed", CPR)
    logging.getLogger("tovholder.worker").warning("case for citizen " + CPR.replace("-", ""))
    logging.getLogger("some.library").warning("query params %r", {"cpr": CPR})
    try:
        raise ValueError(f"no citizen {CPR}")
    except ValueError:
        logging.getLogger("tovholder").exception("lookup failed")
    texts = [r.getMessage() for r in captured]
    assert any(t == "search for 010190-**** failed" for t in texts), texts
    assert leaks(captured) == []


def test_access_records_keep_the_shape_uvicorn_formats():
    logs.install()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/cases?cpr={CPR}", "1.1", 200), None)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /api/cases?cpr=010190-**** HTTP/1.1" 200 OK'
    assert record.args[4] == 200  # numbers stay numbers (%d)


@pytest.mark.parametrize("text, masked", [
    ("cpr=0101901234&x=1", "cpr=010190-****&x=1"),
    ("010190-1234", "010190-****"),
    ("id 12345678901 is not a CPR", "id 12345678901 is not a CPR"),
    ("case 7f3e2a10-0c4b-4f0e-9d7b-1a2b3c4d5e6f", "case 7f3e2a10-0c4b-4f0e-9d7b-1a2b3c4d5e6f"),
])
def test_mask_cpr(text, masked):
    assert logs.mask_cpr(text) == masked
    assert not re.search(r"(?<!\d)\d{6}-?\d{4}(?!\d)", logs.mask_cpr(text))


def test_an_id_whose_last_group_has_ten_digits_stays_readable_and_a_cpr_beside_it_does_not():
    """A random UUID's last group can be a letter and ten digits ("…-2a0978443722"): the id is kept whole,
    as the log reader needs it (the OIDC log names users by id), and a CPR number next to it is masked."""
    user = "60ff9888-74ea-4fc2-9fdc-2a0978443722"
    assert logs.mask_cpr(f"oidc user {user} created") == f"oidc user {user} created"
    assert logs.mask_cpr(f"{user} 0101901234") == f"{user} 010190-****"
    assert logs.mask_cpr(f"x{user}") == f"x{user}"  # a letter before an id is still an id
    assert logs.mask_cpr("kunde0101901234") == "kunde010190-****"  # glued to letters, not an id: masked


def _decoded_forms(text: str) -> list[str]:
    """The text as a reader of the log could read it: percent-decoded (up to three times), digits folded."""
    import unicodedata
    from urllib.parse import unquote, unquote_plus

    forms = [text]
    for _ in range(3):
        forms += [unquote(forms[-1]), unquote_plus(forms[-1])]
    return forms + [unicodedata.normalize("NFKC", form) for form in forms]


def decoded_leaks(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {text}" for r in records for text in record_texts(r)
            if any(cpr in form for form in _decoded_forms(text) for cpr in FORBIDDEN)]


FULL_WIDTH = CPR.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
ENCODED = [  # what a client may send for CPR (010190-1234); each must reach the log masked
    "/api/cases?cpr=010190%2D1234",
    "/api/cases?cpr=%30101901234",
    "/api/cases?cpr=%2530101901234",          # encoded twice
    "/api/cases?cpr=%30%31%30%31%39%30%31%32%33%34",
    "/api/cases?%63pr=01019O1234",            # the name encoded: still the cpr parameter (a mistyped CPR)
    "/api/cases?CPR=010190%2d1234",
    f"/api/cases?cpr={FULL_WIDTH}",           # httpx sends it UTF-8 percent-encoded
    "/api/cases?process_key=010190%2D1234",   # a CPR in other parameters
    "/api/tasks?case_id=%30101901234&unit=x",
    "/api/cases?status=01019%30-1234",
    "/api/cases/010190%2D1234",               # and in paths
    "/api/cases/%30101901234/audit",
    "/api/no-such-endpoint/%2530101901234",
    f"/api/cases/{FULL_WIDTH}",
]


def test_percent_encoded_cprs_in_queries_and_paths_reach_the_log_masked(live, session, captured):
    f.standard_users(session)
    with f.client(live, "auditor") as auditor:
        for path in ENCODED:
            r = auditor.get(path.removeprefix("/api"))  # the client's base URL ends in /api
            assert r.status_code < 500, (path, r.text)
    access = [r.getMessage() for r in captured if r.name == "uvicorn.access"]
    assert len(access) >= len(ENCODED), access  # the capture is not vacuous
    assert decoded_leaks(captured) == []
    assert sum("cpr=010190-****" in line.lower() or "cpr=***" in line.lower() for line in access) >= 7, access


@pytest.mark.parametrize("text", [
    "GET /api/cases?cpr=010190%2D1234 HTTP/1.1", "/api/cases?cpr=%30101901234", "/api/cases?cpr=%2530101901234",
    "/api/cases?cpr=01019O1234", "/x?q=010190%2d1234&y=1", "/x/%EF%BC%90%EF%BC%91%EF%BC%90%EF%BC%91%EF%BC%99"
    "%EF%BC%90%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94", "cpr=" + FULL_WIDTH,
])
def test_mask_cpr_sees_through_percent_encoding_and_other_digits(text):
    masked = logs.mask_cpr(text)
    assert not any(cpr in form for form in _decoded_forms(masked) for cpr in FORBIDDEN), masked
    assert "01019O1234" not in masked  # a cpr parameter is masked whatever it holds


def test_masking_keeps_other_escapes_so_a_line_cannot_be_split():
    assert logs.mask_cpr("/x?a=%0A%0D&q=010190%2D1234") == "/x?a=%0A%0D&q=010190-****"
    assert logs.mask_cpr("/x?process_key=a%20b&n=%ED%A0%80") == "/x?process_key=a%20b&n=%ED%A0%80"
