"""GET /api/health: no authentication; 503 when the database does not answer."""
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from engine.db import ping

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request):
    ok = ping(request.app.state.db_engine)
    body = {"status": "ok" if ok else "degraded", "database": "ok" if ok else "unavailable"}
    return JSONResponse(body, status_code=200 if ok else 503)
