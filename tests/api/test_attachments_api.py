"""POST/GET /api/cases/{id}/attachments and GET /api/attachments/{id}, over real HTTP."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import Attachment, AuditEvent

from .helpers import assert_error, start

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def case_id(api, users):
    return start(api("jc"))["id"]


def upload(client, case_id, data=PDF, name="brev.pdf", content_type="application/pdf", **form):
    return client.post(f"/cases/{case_id}/attachments", files={"file": (name, data, content_type)},
                       data={"field": "bilag", **form})


def stored(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Attachment))


def test_upload_list_download(api, case_id, db):
    jc = api("jc")
    r = upload(jc, case_id, name="../Ansøgning.pdf")
    assert r.status_code == 201, r.text
    body = r.json()
    assert {k: body[k] for k in ("case_id", "field", "filename", "content_type", "size", "uploaded_by")} == {
        "case_id": case_id, "field": "bilag", "filename": "Ansøgning.pdf", "content_type": "application/pdf",
        "size": len(PDF), "uploaded_by": "jc"}
    listed = jc.get(f"/cases/{case_id}/attachments")
    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [body["id"]]
    got = jc.get(f"/attachments/{body['id']}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == \
        "attachment; filename=\"Ans_gning.pdf\"; filename*=UTF-8''Ans%C3%B8gning.pdf"
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.type == "attachment_added")).one()
        assert event.details["filename"] == "Ansøgning.pdf" and event.details["size"] == len(PDF)


def test_text_is_served_as_text_with_its_charset(api, case_id):
    jc = api("jc")
    ident = upload(jc, case_id, data="<script>alert(1)</script> æøå".encode(), name="x.html",
                   content_type="text/plain").json()["id"]
    got = jc.get(f"/attachments/{ident}")
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["content-disposition"].startswith('attachment; filename="x.html.txt"')
    assert "sandbox" in got.headers["content-security-policy"]


def test_disguised_type_is_415_and_nothing_stored(api, case_id, db):
    detail = assert_error(upload(api("jc"), case_id, data=b"MZ\x90\x00" + bytes(100), name="faktura.pdf"), 415)
    assert "tilladt" in detail
    assert stored(db) == 0


def test_too_large_is_413_with_a_message_and_nothing_stored(api, case_id, db, settings):
    settings.max_upload_bytes = 4096
    detail = assert_error(upload(api("jc"), case_id, data=PDF + bytes(5000)), 413)
    assert "for stor" in detail
    assert stored(db) == 0


def test_chunked_upload_over_the_limit_is_413_and_nothing_stored(api, case_id, db, settings):
    """Without Content-Length the body is counted as it arrives (api/limits.py)."""
    settings.max_upload_bytes = 4096
    boundary = "graense-0123456789"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode()

    def chunks():
        yield head + PDF
        for _ in range(60):  # 60 KiB: past ten uploads' worth (40 KiB)
            yield bytes(1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = api("jc").post(f"/cases/{case_id}/attachments", content=chunks(),
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413)
    assert stored(db) == 0


def test_another_units_caseworker_gets_403_the_auditor_may_read(api, case_id):
    ident = upload(api("jc"), case_id).json()["id"]
    ys = api("ys")
    assert_error(ys.get(f"/attachments/{ident}"), 403)
    assert_error(ys.get(f"/cases/{case_id}/attachments"), 403)
    assert_error(upload(ys, case_id), 403)
    auditor = api("auditor")
    assert auditor.get(f"/attachments/{ident}").content == PDF
    assert len(auditor.get(f"/cases/{case_id}/attachments").json()) == 1
    assert_error(upload(auditor, case_id), 403)
    assert_error(api().get(f"/attachments/{ident}"), 401)


def test_unknown_ids_and_bad_requests(api, case_id):
    jc = api("jc")
    assert_error(jc.get("/attachments/00000000-0000-0000-0000-000000000000"), 404)
    assert_error(upload(jc, "00000000-0000-0000-0000-000000000000"), 404)
    assert_error(jc.post(f"/cases/{case_id}/attachments", data={"field": "x"}), 422)  # no file
    assert_error(upload(jc, case_id, field="../x"), 422)
    assert_error(upload(jc, case_id, data=b""), 422)
