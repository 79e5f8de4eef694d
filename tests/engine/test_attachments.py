"""engine.attachments and engine.filetypes: checked, durable, access-controlled files on a case."""
from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from sqlalchemy import func, select

from engine import attachments as att
from engine import filetypes, runtime
from engine.attachments import UploadLimits
from engine.case_rules import CaseRules
from engine.errors import Forbidden, FormRejected, Invalid, NotFound, TooLarge, UnsupportedType
from engine.forms import Form, FormField, validate_data
from engine.models import Attachment, AuditEvent, CaseAccess, HumanTask
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def odt_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), filetypes.ODT)  # first and stored, as ODF requires
        z.writestr("content.xml", "<office:document-content/>")
    return buf.getvalue()


@pytest.fixture
def case(seed, session):
    users = seed("intake.bpmn")
    return users, f.start_case(session, "intake", actor=users["jc"])


def add(session, user, case_id, data=PDF, filename="brev.pdf", content_type="application/pdf", **kw):
    view = att.add_attachment(session, case_id=case_id, user=user, field=kw.pop("field", "bilag"),
                              filename=filename, content_type=content_type, data=data, **kw)
    session.commit()
    return view


def count(session, model=Attachment) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_add_list_open_with_audit_and_access_log(session, case):
    users, c = case
    view = add(session, users["jc"], c.id)
    assert (view.case_id, view.field, view.filename, view.content_type, view.size, view.uploaded_by) == \
        (c.id, "bilag", "brev.pdf", "application/pdf", len(PDF), "jc")
    assert view.field_value() == {"attachment_id": view.id, "filename": "brev.pdf", "size": len(PDF)}
    assert att.list_attachments(session, case_id=c.id, user=users["jc"]) == [view]
    opened, data = att.open_attachment(session, attachment_id=view.id, user=users["jc"])
    session.commit()
    assert (opened, data) == (view, PDF)
    event = session.scalars(select(AuditEvent).where(AuditEvent.type == "attachment_added")).one()
    assert event.actor == "jc" and event.details["filename"] == "brev.pdf" and event.details["size"] == len(PDF)
    assert "content" not in event.details and "%PDF" not in str(event.details)
    actions = session.scalars(select(CaseAccess.action).where(CaseAccess.case_id == c.id)).all()
    assert "attachments" in actions and "attachment_download" in actions


@pytest.mark.parametrize("data, declared, expected", [
    (PNG, "image/png", "image/png"), (b"\xff\xd8\xff\xe0JFIF" + bytes(20), "image/jpg", "image/jpeg"),
    ("Notat om mødet – æøå\n".encode(), "text/plain; charset=utf-8", "text/plain"),
    ("Gammel fil æøå".encode("cp1252"), "text/plain", "text/plain"),
    (docx_bytes(), "application/octet-stream", filetypes.DOCX), (odt_bytes(), "", filetypes.ODT),
    (PDF, None, "application/pdf"),
])
def test_the_content_decides_the_type(session, case, data, declared, expected):
    users, c = case
    assert add(session, users["jc"], c.id, data=data, content_type=declared, filename="fil").content_type == expected


@pytest.mark.parametrize("data, declared", [
    (EXE, "application/pdf"),            # a program calling itself a PDF
    (b"<html><script>alert(1)</script></html>", "image/png"),  # text calling itself an image
    (PNG, "application/pdf"),            # an allowed type, but not the one it says
    (EXE, "application/octet-stream"),   # no claim, and not an allowed type
    (b"PK\x03\x04" + bytes(40), "application/zip"),
])
def test_disguised_or_unknown_types_are_refused_and_nothing_is_stored(session, case, data, declared):
    users, c = case
    with pytest.raises(UnsupportedType) as err:
        add(session, users["jc"], c.id, data=data, content_type=declared)
    assert err.value.status == 415 and "tilladt" in err.value.message
    session.rollback()
    assert count(session) == 0
    assert session.scalar(select(func.count()).where(AuditEvent.type == "attachment_added")) == 0


def test_allowed_types_come_from_settings(session, case):
    users, c = case
    limits = UploadLimits(allowed_types=("application/pdf",))
    with pytest.raises(UnsupportedType):
        add(session, users["jc"], c.id, data=PNG, content_type="image/png", limits=limits)
    assert add(session, users["jc"], c.id, limits=limits).content_type == "application/pdf"


def test_too_large_is_413_and_nothing_is_stored(session, case):
    users, c = case
    limits = UploadLimits(max_bytes=1024)
    with pytest.raises(TooLarge) as err:
        add(session, users["jc"], c.id, data=PDF + bytes(1024), limits=limits)
    assert err.value.status == 413 and "for stor" in err.value.message
    session.rollback()
    assert count(session) == 0
    assert add(session, users["jc"], c.id, data=PDF + bytes(1024 - len(PDF)), limits=limits).size == 1024
    with pytest.raises(Invalid):
        add(session, users["jc"], c.id, data=b"")


@pytest.mark.parametrize("given, content, expected", [
    ("../../etc/passwd", b"root:x:0:0\n", "passwd.txt"),
    ("C:\\Users\\hans\\..\\brev.PDF", PDF, "brev.PDF"),
    ("/var/www/html/shell.php", b"<?php echo 1; ?>\n", "shell.php.txt"),
    ("evil.html", b"<html></html>", "evil.html.txt"),
    ("fak\u202etxt.pdf", PDF, "faktxt.pdf"),
    ("ny\x00linje\r\nnavn.pdf", PDF, "nylinjenavn.pdf"),
    ("..", PDF, "bilag.pdf"),
    ('a<b>:"c|d?*.pdf', PDF, "a_b___c_d__.pdf"),
    ("Ansøgning om hjælp.pdf", PDF, "Ansøgning om hjælp.pdf"),
])
def test_file_names_are_reduced_to_a_safe_base_name(session, case, given, content, expected):
    users, c = case
    assert add(session, users["jc"], c.id, data=content, filename=given, content_type=None).filename == expected


def test_long_file_names_are_capped_keeping_the_ending(session, case):
    users, c = case
    name = add(session, users["jc"], c.id, filename="å" * 500 + ".pdf").filename
    assert len(name) == filetypes.MAX_FILENAME and name.endswith(".pdf")


def test_only_those_who_may_see_the_case_may_read(session, case):
    users, c = case
    view = add(session, users["jc"], c.id)
    for name in ("ys", "owner"):  # another unit's caseworker; a process owner
        with pytest.raises(Forbidden):
            att.list_attachments(session, case_id=c.id, user=users[name])
        with pytest.raises(Forbidden):
            att.open_attachment(session, attachment_id=view.id, user=users[name])
        with pytest.raises(Forbidden):
            add(session, users[name], c.id)
    for name in ("auditor", "admin", "jc2", "jclead"):
        assert att.open_attachment(session, attachment_id=view.id, user=users[name])[1] == PDF
    with pytest.raises(Forbidden, match="may not add"):
        add(session, users["auditor"], c.id)  # reads, never writes
    session.rollback()
    assert count(session) == 1


def test_unknown_ids_are_404(session, case):
    users, c = case
    for ident in ("00000000-0000-0000-0000-000000000000", "x" * 500):
        with pytest.raises(NotFound):
            att.open_attachment(session, attachment_id=ident, user=users["admin"])
        with pytest.raises(NotFound):
            att.list_attachments(session, case_id=ident, user=users["admin"])
    with pytest.raises(NotFound):
        add(session, users["admin"], "00000000-0000-0000-0000-000000000000")
    with pytest.raises(Invalid, match="not a task of case"):
        add(session, users["jc"], c.id, task_id="00000000-0000-0000-0000-000000000000")


def test_a_rollback_keeps_neither_file_nor_event(session, case):
    users, c = case
    att.add_attachment(session, case_id=c.id, user=users["jc"], field=None, filename="a.pdf",
                       content_type="application/pdf", data=PDF)
    session.rollback()
    assert count(session) == 0
    assert session.scalar(select(func.count()).where(AuditEvent.type == "attachment_added")) == 0


FORM = Form(key="t", title="T", fields=(FormField(name="dok", label="Dokument", type="file", required=True),))


def test_file_field_values_have_one_shape(session, case):
    users, c = case
    view = add(session, users["jc"], c.id)
    assert validate_data(FORM, {"dok": view.field_value()}) == {"dok": view.field_value()}
    for bad in ("brev.pdf", {"attachment_id": view.id}, {**view.field_value(), "size": "12"},
                {**view.field_value(), "extra": 1}, {**view.field_value(), "size": True}):
        with pytest.raises(FormRejected) as err:
            validate_data(FORM, {"dok": bad})
        assert err.value.detail[0]["field"] == "dok"
    with pytest.raises(FormRejected):
        validate_data(FORM, {})


def test_file_fields_must_name_an_attachment_of_the_case(session, case):
    users, c = case
    mine = add(session, users["jc"], c.id)
    other_case = f.start_case(session, "intake", actor=users["jc"], cpr="241182-1111")
    theirs = add(session, users["jc"], other_case.id)
    claimed = {**mine.field_value(), "filename": "andet.pdf", "size": 1}
    assert att.check_form_files(session, case_id=c.id, form=FORM, data={"dok": claimed}) == \
        {"dok": mine.field_value()}  # name and size come from the stored row
    for value in (theirs.field_value(), {**mine.field_value(), "attachment_id": "nope"}):
        with pytest.raises(FormRejected) as err:
            att.check_form_files(session, case_id=c.id, form=FORM, data={"dok": value})
        assert err.value.detail[0]["field"] == "dok"


def test_upload_and_completion_in_one_transaction(session, tmp_path):
    """What the task page does: add the file, then complete the task naming it, then commit once."""
    forms = tmp_path / "forms"
    shutil.copytree(f.FORMS, forms)
    form = json.loads((forms / "t_registrering.json").read_text(encoding="utf-8"))
    form["fields"].append({"name": "dok", "label": "Dokumentation", "type": "file", "required": True})
    (forms / "t_registrering.json").write_text(json.dumps(form), encoding="utf-8")
    rules = CaseRules(forms_dir=forms, deadlines_file=f.RULES.deadlines_file)
    users = f.standard_users(session)
    f.deploy_data(session, "intake.bpmn", rules=rules)
    case = f.start_case(session, "intake", actor=users["jc"], rules=rules)
    task = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).one()

    view = att.add_attachment(session, case_id=case.id, user=users["jc"], field="dok", filename="pas.pdf",
                              content_type="application/pdf", data=PDF, task_id=task.id)
    session.commit()
    # the engine itself refuses a file of another case (complete_task checks every file field)
    other = f.start_case(session, "intake", actor=users["jc"], cpr="241182-1111", rules=rules)
    foreign = att.add_attachment(session, case_id=other.id, user=users["jc"], field="dok", filename="x.pdf",
                                 content_type="application/pdf", data=PDF)
    session.commit()
    with pytest.raises(FormRejected) as refused:
        runtime.complete_task(session, task_id=task.id, user=users["jc"], rules=rules,
                              data={"forsikret": True, "henvendelsesdato": "2026-11-23", "dok": foreign.field_value()})
    assert refused.value.detail[0]["field"] == "dok"
    session.rollback()

    data = {"forsikret": True, "henvendelsesdato": "2026-11-23", "dok": view.field_value()}
    runtime.complete_task(session, task_id=task.id, data=data, user=users["jc"], rules=rules)
    session.commit()

    completed = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.type == "task_completed")).one()
    assert completed.details["data"]["dok"] == view.field_value()
    types = [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                             .order_by(AuditEvent.seq))]
    assert types.index("attachment_added") < types.index("task_completed")
    assert att.open_attachment(session, attachment_id=view.id, user=users["auditor"])[1] == PDF
