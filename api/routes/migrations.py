"""Migration of running cases between versions of a process (process owners and admins).

`POST /api/migrations` runs the batch before it answers: one transaction per
case (engine.migration_batch owns them, so this route commits nothing itself).
For batches of thousands of cases, `tovholder migrate` shows progress.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from engine.access import MIGRATORS, require_role
from engine.case_rules import rules_from_settings
from engine.migration_batch import MAX_CASE_IDS, run_batch

from ..deps import CurrentUser, SettingsDep
from ..responses import BODY, ErrorMessage, FieldsRejected, RequestInvalid, errors

router = APIRouter(tags=["migrations"])


class Migration(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" for 1
    process_key: str = Field(min_length=1, max_length=200)
    from_version: int = Field(ge=1, le=2**31 - 1)
    to_version: int = Field(ge=1, le=2**31 - 1)
    mapping: dict[str, str] = Field(default_factory=dict, max_length=1000)
    case_ids: list[str] | None = Field(None, max_length=MAX_CASE_IDS)
    dry_run: bool = False


@router.post("/migrations", response_model=None, responses=errors(*BODY, 401, 403, 404, 409, 413, 415, 422,
                                            unprocessable=(RequestInvalid, FieldsRejected, ErrorMessage)))
def migrate(body: Migration, request: Request, user: CurrentUser, settings: SettingsDep) -> dict:
    require_role(user, MIGRATORS, "migrate cases")
    result = run_batch(request.app.state.session_factory, process_key=body.process_key,
                       from_version=body.from_version, to_version=body.to_version, mapping=body.mapping,
                       case_ids=body.case_ids, dry_run=body.dry_run, actor=user.username,
                       rules=rules_from_settings(settings))
    return result.as_dict()
