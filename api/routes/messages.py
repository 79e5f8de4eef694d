"""Messages from outside: POST /api/messages delivers one to the case waiting for it (checked against the
catching event's form); GET /api/messages lists what the deployed processes wait for and what each must carry."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine import runtime
from engine.access import MESSAGE_SENDERS, require_role
from engine.message_forms import deployed_messages

from ..deps import CurrentUser, RulesDep, SessionDep, SettingsDep
from ..responses import BODY, ErrorMessage, FieldsRejected, ProcessFailed, RequestInvalid, errors
from .common import JsonObject, Text

router = APIRouter(tags=["messages"])


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    name: Text = Field(min_length=1, max_length=200)
    correlation_key: Text = Field(min_length=1, max_length=100)
    data: JsonObject = Field(default_factory=dict)


@router.get("/messages", response_model=None, responses=errors(401))
def waited_for(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> list[dict]:
    """[{name, process_key, element_id, unit, form}]: every message catch of each process's latest version.

    What the diagrams wait for is no case's data: every signed-in role may read it (an integration to
    know what to send, a process owner to check a version)."""
    return deployed_messages(session, forms_dir=settings.forms_dir)


@router.post("/messages", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, FieldsRejected, ProcessFailed, ErrorMessage)))
def send(body: Message, user: CurrentUser, session: SessionDep, rules: RulesDep) -> dict:
    require_role(user, MESSAGE_SENDERS, "send messages")  # 403 before a 404 says whether a case waits
    case = runtime.correlate_message(session, name=body.name, correlation_key=body.correlation_key,
                                     data=body.data, user=user, rules=rules)
    session.commit()
    return {"case_id": case.id}
