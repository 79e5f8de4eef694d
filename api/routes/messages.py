"""POST /api/messages: deliver a named message to the case waiting for it."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine import runtime

from ..deps import CurrentUser, SessionDep

router = APIRouter(tags=["messages"])


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    correlation_key: str = Field(min_length=1, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)


@router.post("/messages")
def send(body: Message, user: CurrentUser, session: SessionDep):
    case = runtime.correlate_message(session, name=body.name, correlation_key=body.correlation_key,
                                     data=body.data, user=user)
    session.commit()
    return {"case_id": case.id}
