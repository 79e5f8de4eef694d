"""GET /metrics: the operator's gauges in Prometheus text format (no authentication; counts only).

Read fresh from the database at each scrape (engine.operations); nothing is written.
Restrict the path at the reverse proxy if the counts should not be public.
"""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from engine.monitoring import StateCollector

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = CollectorRegistry()
    registry.register(StateCollector(request.app.state.session_factory))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
