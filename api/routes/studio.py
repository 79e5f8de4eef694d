"""The studio's JSON API: drafts of journeys, their checks, a preview of publishing, publishing, the catalog.

Process owners and admins only (403 for every other role). The modeler page
(/studio/{key}/edit) and the server-rendered studio pages use the same
engine calls (engine.studio, engine.drafts). Routes that change a draft or
publish commit once, at the end; the others only read.
"""
from __future__ import annotations

from typing import Annotated, Union

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from engine import catalog as definitions
from engine import drafts, studio, studio_catalog
from engine.access import DEPLOYERS, require_role
from engine.errors import NotFound
from engine.validation import MAX_FILE_BYTES

from ..deps import CurrentUser, RulesDep, SessionDep, SettingsDep
from ..responses import BODY, ErrorMessage, FieldsRejected, RequestInvalid, errors
from .common import Text

router = APIRouter(prefix="/studio", tags=["studio"])

STUDIO_ROLES = DEPLOYERS  # process owners and admins


class StudioProblem(BaseModel):
    element: Union[str, None] = Field(description="the BPMN element id, or null for the draft as a whole")
    line: Union[int, None]
    message: str = Field(description="in Danish, for a process owner")
    severity: str = Field(description="error (stops publishing) or warning")
    file: Union[str, None] = Field(None, description="the decision table (.dmn) the problem is in; null: the diagram")


class PublishRefusedBody(BaseModel):
    detail: list[StudioProblem]


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent
    bpmn: Text = Field(max_length=MAX_FILE_BYTES, description="the BPMN XML")
    forms: dict[str, Text] = Field(default_factory=dict, max_length=drafts.MAX_FORMS,
                                   description='form files changed or added: {"<form key>.json": text}')
    revision: Union[int, None] = Field(description="the revision read; null for a new draft")
    decisions: Union[dict[str, Text], None] = Field(
        None, max_length=drafts.MAX_DECISIONS,
        description='decision tables edited with the draft: {"<folder>/<name>.dmn": DMN text}; '
                    "left out or null: the draft's edited tables are kept as they are")


class CheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    bpmn: Text = Field(max_length=MAX_FILE_BYTES)
    forms: dict[str, Text] = Field(default_factory=dict, max_length=drafts.MAX_FORMS)
    key: Union[str, None] = Field(None, max_length=200,
                                  description="the journey's key, if known: its process must carry it")
    decisions: dict[str, Text] = Field(default_factory=dict, max_length=drafts.MAX_DECISIONS,
                                       description="edited decision tables, as in a draft")


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    revision: int = Field(ge=1, le=2**31 - 1)


READ = errors(401, 403, 404, 422, unprocessable=(FieldsRejected, RequestInvalid))
WRITE = errors(*BODY, 401, 403, 404, 409, 413, 415, 422, unprocessable=(FieldsRejected, RequestInvalid, ErrorMessage))


def _allowed(user) -> None:
    require_role(user, STUDIO_ROLES, "use the studio")


@router.get("/drafts", responses=errors(401, 403))
def list_drafts(user: CurrentUser, session: SessionDep):
    """Every draft, without its texts."""
    _allowed(user)
    return [d.summary() for d in drafts.list_drafts(session).values()]


@router.get("/drafts/{key}", responses=READ)
def get_draft(key: str, user: CurrentUser, session: SessionDep):
    _allowed(user)
    return drafts.get_draft(session, key).as_dict()


@router.put("/drafts/{key}", responses=WRITE)
def save_draft(key: str, body: Draft, user: CurrentUser, session: SessionDep, rules: RulesDep,
               settings: SettingsDep):
    """Save over `revision` (null: a new draft): 409 when the draft changed meanwhile, and nothing is overwritten."""
    _allowed(user)
    view, _ = studio.save(session, key, bpmn=body.bpmn, forms=body.forms, revision=body.revision,
                          actor=user.username, rules=rules, processes_dir=settings.processes_dir,
                          decisions=body.decisions)
    session.commit()
    return view.as_dict()


@router.delete("/drafts/{key}", status_code=204, responses=errors(401, 403, 404, 409, 422, unprocessable=(
    FieldsRejected, RequestInvalid)))
def discard_draft(key: str, user: CurrentUser, session: SessionDep,
                  revision: Annotated[int, Query(ge=1, le=2**31 - 1)]):
    """Discard the draft at `revision` (409 when it changed meanwhile)."""
    _allowed(user)
    drafts.delete_draft(session, key, revision=revision)
    session.commit()
    return Response(status_code=204)


@router.post("/check", responses=errors(*BODY, 401, 403, 413, 415, 422, unprocessable=(RequestInvalid,)))
def check(body: CheckBody, user: CurrentUser, session: SessionDep, rules: RulesDep, settings: SettingsDep):
    """The deploy's checks on a draft, in Danish, with element and line; stores nothing."""
    _allowed(user)
    problems = studio.check(session, key=body.key, bpmn=body.bpmn, forms=body.forms, rules=rules,
                            processes_dir=settings.processes_dir, decisions=body.decisions)
    return {"problems": [p.as_dict() for p in problems]}


@router.get("/decisions/{key}", responses=READ)
def decisions(key: str, user: CurrentUser, session: SessionDep, settings: SettingsDep):
    """The decision tables the journey's draft (else its latest version) names, as publishing would use them."""
    _allowed(user)
    drafts.check_key(key)
    draft = drafts.find_draft(session, key)
    latest = definitions.latest_definition(session, key)
    if draft is None and latest is None:
        raise NotFound(f"process '{key}' is neither deployed nor drafted")
    bpmn = draft.bpmn if draft is not None else latest.bpmn_xml  # type: ignore[union-attr]  # one is there
    found = studio.journey_decisions(session, key, bpmn, draft=draft.decisions if draft else None,
                                     processes_dir=settings.processes_dir)
    return {"decisions": found, "edited": sorted(draft.decisions) if draft else []}


@router.post("/drafts/{key}/publish-preview", responses=READ)
def publish_preview(key: str, user: CurrentUser, session: SessionDep, rules: RulesDep, settings: SettingsDep):
    """What publishing would change: problems, the diff to the latest version, the running cases it reaches."""
    _allowed(user)
    return studio.preview(session, key, rules=rules, processes_dir=settings.processes_dir).as_dict()


@router.post("/drafts/{key}/publish", status_code=201, responses=errors(
    *BODY, 401, 403, 404, 409, 413, 415, 422, unprocessable=(PublishRefusedBody, FieldsRejected, RequestInvalid)))
def publish(key: str, body: PublishBody, user: CurrentUser, session: SessionDep, rules: RulesDep,
            settings: SettingsDep):
    """The normal deploy of the draft at `revision` with its forms, in one transaction; the draft is removed."""
    _allowed(user)
    deployed = studio.publish(session, key, revision=body.revision, actor=user.username, rules=rules,
                              processes_dir=settings.processes_dir)
    session.commit()
    return {"key": deployed.key, "version": deployed.version, "new": deployed.new}


@router.get("/catalog", responses=errors(401, 403))
def catalog(user: CurrentUser, session: SessionDep, rules: RulesDep):
    """What the properties panel offers: units, forms, named deadlines, processes to call, message names."""
    _allowed(user)
    return studio_catalog.studio_catalog(session, rules)
