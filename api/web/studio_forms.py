"""The studio's forms editor: a journey's form files edited in the browser, previewed as the task page shows them.

`/studio/{key}/forms` lists the forms the journey names (and those its draft
carries); `/studio/{key}/forms/{name}` edits one: title, and per field its
name, label, type, required, help, choices and checks (engine.form_editor).
The preview is rendered by the task page's own macros (_fields.html) from the
form as engine.forms parses it, and "Afprøv" checks typed values with
engine.forms.validate_data as a completion would. Everything works without
JavaScript (one form, several buttons); /static/studio-forms.js only asks
the server for the preview again while typing.

Saving puts the form file into the journey's draft (engine.studio.save: a
PUT over the revision the page was read at; a draft changed meanwhile is
refused with 409 and the edits stay on the page). A draft is begun from the
latest version's diagram. The form is published with the draft. A save
commits once, after engine.studio.save; showing and trying out write nothing.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from engine import bundles, catalog, drafts, form_editor, studio, studio_words
from engine.case_rules import rules_from_settings
from engine.errors import FormRejected, Invalid, NotFound
from engine.forms import parse_form_text, validate_data
from engine.validation import named_forms, parse_tree

from ..deps import SessionDep, SettingsDep
from . import formdata
from .render import page, redirect, templates
from .session import check_csrf, web_session
from .studio_pages import studio_user

router = APIRouter()


def _journey(session, key: str):
    """(latest version or None, draft or None); NotFound when the key is neither deployed nor drafted."""
    drafts.check_key(key)
    latest = catalog.latest_definition(session, key)
    draft = drafts.find_draft(session, key)
    if latest is None and draft is None:
        raise NotFound(f"Forløbet »{key}« findes ikke.")
    return latest, draft


def _name(name: str) -> str:
    if not drafts.FORM_FILE.match(f"{name}.json"):
        raise Invalid("Et formularnavn består af bogstaver, tal, _ eller - (fx kh_visitation).")
    return name


def _named_by(bpmn: str) -> dict[str, list[tuple[str, str]]]:
    """{form key: [(element id, element name)]} of a diagram."""
    found: dict[str, list[tuple[str, str]]] = {}
    try:
        root = parse_tree(bpmn.encode("utf-8"))
    except Exception:  # noqa: BLE001 - a draft that is no diagram names no forms
        return found
    for key, node in named_forms(root):
        element = node.get("id") or ""
        found.setdefault(key, []).append((element, node.get("name") or element))
    return found


@router.get("/studio/{key}/forms")
def form_list(request: Request, key: str, session: SessionDep, settings: SettingsDep, ny: str = ""):
    user = studio_user(request, session)
    latest, draft = _journey(session, key)
    if ny.strip():  # "Opret formular" on this page: to the editor of the new form
        return redirect(request, f"/studio/{key}/forms/{_name(ny.strip())}")
    bpmn = draft.bpmn if draft is not None else latest.bpmn_xml
    named = _named_by(bpmn)
    stored = bundles.form_files(session, latest.id) if latest is not None else {}
    names = sorted(set(named) | {n.rsplit(".", 1)[0] for n in (draft.forms if draft else {})})
    rows = []
    for name in names:
        found = form_editor.find_form(name, draft=draft, version_forms=stored,
                                      latest_version=latest.version if latest else None, forms_dir=settings.forms_dir)
        rows.append({"name": name, "source": found.source, "version": found.version, "named_by": named.get(name, [])})
    return page(request, "studio_forms.html", {"key": key, "name": latest.name if latest else key, "rows": rows,
                                               "draft": draft, "active": "studio"}, user=user)


def _context(session, settings, key: str, name: str, editor: form_editor.Editor, *, values=None, errors=None,
             general=None, problem=None, status_note=None) -> dict:
    """What the editor page shows; `general` are the preview's messages, `notices` (added by callers) the page's."""
    latest, draft = _journey(session, key)
    stored = bundles.form_files(session, latest.id) if latest is not None else {}
    found = form_editor.find_form(name, draft=draft, version_forms=stored,
                                  latest_version=latest.version if latest else None, forms_dir=settings.forms_dir)
    content, editor = form_editor.to_json(name, editor)
    form = None
    if problem is None:
        try:
            form = parse_form_text(name, content, found.layout, file_name=f"{name}.json")
        except Invalid as exc:
            problem = studio_words.danish(exc.message)
    return {"key": key, "name": name, "journey": latest.name if latest else key, "editor": editor,
            "found": found, "draft": draft, "revision": draft.revision if draft else "", "form": form,
            "problem": problem, "values": values or {}, "errors": errors or {}, "general": general or [],
            "type_names": form_editor.TYPE_NAMES, "notices": [], "named_by": _named_by(draft.bpmn if draft else latest.bpmn_xml)
            .get(name, []), "status_note": status_note, "active": "studio"}


@router.get("/studio/{key}/forms/{name}")
def editor_page(request: Request, key: str, name: str, session: SessionDep, settings: SettingsDep):
    user = studio_user(request, session)
    _name(name)
    latest, draft = _journey(session, key)
    stored = bundles.form_files(session, latest.id) if latest is not None else {}
    found = form_editor.find_form(name, draft=draft, version_forms=stored,
                                  latest_version=latest.version if latest else None, forms_dir=settings.forms_dir)
    editor = form_editor.rows_from_json(found.content) if found.content else form_editor.Editor(title=name)
    return page(request, "studio_form.html", _context(session, settings, key, name, editor), user=user)


@router.post("/studio/{key}/forms/{name}")
async def editor_post(request: Request, key: str, name: str, session: SessionDep, settings: SettingsDep):
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_post, request, key, name, posted, session, settings)


@router.post("/studio/{key}/forms/{name}/preview")
async def preview_fragment(request: Request, key: str, name: str, session: SessionDep, settings: SettingsDep):
    """The preview alone, for the page's script: the same rendering as the "Vis" button's page."""
    posted = await request.form()
    check_csrf(request, posted)
    user = studio_user(request, session)
    _name(name)
    context = _context(session, settings, key, name, form_editor.rows_from_post(posted))
    context["values"] = formdata.raw_values(context["form"], posted)
    html = templates.get_template("_studio_preview.html").render(
        {**context, "request": request, "user": user, "csrf_token": web_session(request).csrf})
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _post(request: Request, key: str, name: str, posted, session, settings):
    user = studio_user(request, session)
    _name(name)
    editor = form_editor.rows_from_post(posted)
    action = str(posted.get("handling") or "vis")
    kind, _, index = action.partition("-")
    if kind == "tilfoej":
        editor = form_editor.added_row(editor)
    elif kind in ("fjern", "op", "ned") and index.isdigit():
        i = int(index)
        editor = (form_editor.without_row(editor, i) if kind == "fjern"
                  else form_editor.moved_row(editor, i, -1 if kind == "op" else 1))
    context = _context(session, settings, key, name, editor)
    values = formdata.raw_values(context["form"], posted)
    if kind == "afproev" and context["form"] is not None:
        return _try_out(request, context, values, user)
    if kind == "gem":
        return _save(request, session, settings, user, key, name, posted, context)
    if kind == "fortryd":
        return _revert(request, session, settings, user, key, name, posted, context)
    return page(request, "studio_form.html", {**context, "values": values}, user=user)


def _try_out(request, context, values, user):
    try:
        validate_data(context["form"], formdata.to_data(context["form"], values))
        note = "Formularen godtager det udfyldte."
        errors: dict[str, str] = {}
        general: list[str] = []
    except FormRejected as exc:
        errors, general = formdata.field_errors(exc.detail)
        note = None
    return page(request, "studio_form.html", {**context, "values": values, "errors": errors, "general": general,
                                              "status_note": note}, user=user)


def _revision(posted) -> int | None:
    text = str(posted.get("revision") or "")
    return int(text) if text.isdigit() else None


def _base(session, key: str, revision: int | None):
    """The diagram and forms a save builds on: the draft read (if any), else the latest version's diagram."""
    draft = drafts.find_draft(session, key)
    if draft is not None:  # if it changed since the page was read (another revision), the save is refused as stale
        return draft.bpmn, dict(draft.forms)
    latest = catalog.latest_definition(session, key)
    if latest is None:
        raise NotFound(f"Forløbet »{key}« findes ikke længere som udkast.")
    return latest.bpmn_xml, {}


def _save(request, session, settings, user, key, name, posted, context):
    editor = context["editor"]
    if editor.errors or context["problem"]:
        problems = [context["problem"]] if context["problem"] else []
        return page(request, "studio_form.html", {**context, "notices": [
            "Formularen er ikke gemt: ret fejlene herunder først.", *problems]}, status=422, user=user)
    content, _ = form_editor.to_json(name, editor)
    revision = _revision(posted)
    bpmn, forms = _base(session, key, revision)
    forms[f"{name}.json"] = content
    if context["found"].layout is not None:  # the layout goes with its form, or the upload would lose it
        forms[f"{name}.html"] = context["found"].layout
    return _store(request, session, settings, user, key, bpmn, forms, revision, context,
                  f"Formularen »{name}« er gemt i udkastet. Den udgives sammen med udkastet.")


def _revert(request, session, settings, user, key, name, posted, context):
    revision = _revision(posted)
    bpmn, forms = _base(session, key, revision)
    forms.pop(f"{name}.json", None)
    forms.pop(f"{name}.html", None)
    return _store(request, session, settings, user, key, bpmn, forms, revision, context,
                  f"Udkastets ændringer af »{name}« er fjernet; formularen er igen som i den udgivne version.")


def _store(request, session, settings, user, key, bpmn, forms, revision, context, done: str):
    try:
        studio.save(session, key, bpmn=bpmn, forms=forms, revision=revision, actor=user.username,
                    rules=rules_from_settings(settings), processes_dir=settings.processes_dir)
    except Invalid as exc:  # too large, or no JSON object: refused before anything was written
        session.rollback()
        detail = exc.detail if isinstance(exc.detail, list) else [{"message": exc.message}]
        return page(request, "studio_form.html", {**context, "notices": [
            "Formularen er ikke gemt: " + "; ".join(studio_words.danish(str(p.get("message"))) for p in detail
                                                    if isinstance(p, dict))]}, status=422, user=user)
    except drafts.DraftStale as exc:
        session.rollback()
        return page(request, "studio_form.html", {**context, "notices": [
            "Formularen er ikke gemt, fordi udkastet er ændret imens (i en anden fane eller af en kollega): "
            + _stale_words(exc) + " Dine ændringer står stadig herunder: kopiér dem, genindlæs siden og gem igen."]},
            status=409, user=user)
    session.commit()
    return redirect(request, f"/studio/{key}/forms/{context['name']}", flash=done)


def _stale_words(exc: drafts.DraftStale) -> str:
    if "no longer exists" in exc.message:
        return "udkastet findes ikke længere (det er udgivet eller kasseret)."
    return "en nyere udgave er gemt."
