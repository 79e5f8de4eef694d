"""GET /api/health: no authentication; 503 when the database does not answer."""
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engine.db import ping

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


@router.get("/health", responses={200: {"model": Health, "description": "The service and its database answer"},
                                  503: {"model": Health, "description": "The database does not answer"}})
def health(request: Request) -> JSONResponse:
    ok = ping(request.app.state.db_engine)
    body = {"status": "ok" if ok else "degraded", "database": "ok" if ok else "unavailable"}
    return JSONResponse(body, status_code=200 if ok else 503)
