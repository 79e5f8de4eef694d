"""The worker's own HTTP port: GET /health and GET /metrics (Prometheus text format).

Served from a daemon thread (`--metrics-port N`); it only reads. /health says
503 when the database does not answer or the loop has not finished a pass
for a long while (stuck), so an orchestrator can restart the worker.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from engine.db import ping
from engine.monitoring import StateCollector


class WorkerMetrics:
    """Counters of this process plus the database-wide gauges (engine.operations)."""

    def __init__(self, session_factory=None):
        self.registry = CollectorRegistry()
        self.fired = Counter("tovholder_worker_timers_fired", "timers this worker fired", registry=self.registry)
        self.failures = Counter("tovholder_worker_timer_failures", "failed timer attempts", registry=self.registry)
        self.incidents = Counter("tovholder_worker_incidents", "incidents this worker opened", registry=self.registry)
        self.last_pass = Gauge("tovholder_worker_last_pass_timestamp_seconds", "when the last pass finished",
                               registry=self.registry)
        self.last_pass_monotonic = time.monotonic()
        if session_factory is not None:
            self.registry.register(StateCollector(session_factory))

    def pass_done(self, run) -> None:
        self.fired.inc(run.fired)
        self.failures.inc(len(run.failed))
        self.incidents.inc(len(run.incidents))
        self.last_pass.set_to_current_time()
        self.last_pass_monotonic = time.monotonic()


def serve(port: int, *, metrics: WorkerMetrics, db_engine, stale_after: float, host: str = "0.0.0.0"):
    """Start the server in a daemon thread; returns it (call .shutdown() to stop)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server name
            if self.path == "/metrics":
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif self.path == "/health":
                age = time.monotonic() - metrics.last_pass_monotonic
                db_ok = ping(db_engine)
                ok = db_ok and age < stale_after
                body = {"status": "ok" if ok else "degraded", "database": "ok" if db_ok else "unavailable",
                        "seconds_since_last_pass": round(age, 1)}
                self._send(200 if ok else 503, json.dumps(body).encode(), "application/json")
            else:
                self._send(404, b'{"detail": "not found"}', "application/json")

        def _send(self, status, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):  # scrapes every few seconds would flood the log
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-ops", daemon=True).start()
    return server
