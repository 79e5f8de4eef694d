"""Rows (h): one API process against two (`tovholder serve --workers 2`) on PostgreSQL, in the same run.

The same completions as row b4 (different cases, so no case lock waits), from
CLIENTS clients at once, first against one server process, then against two
on the same port. The goal (issue 16) is that two processes complete at least
1.6× the tasks per second of one on this machine's two cores; the client
threads run on the same cores, so the ratio is a lower bound of what two
processes give on a machine where the clients are elsewhere. The client is
api_rows.Connection (one kept-alive connection per thread, minimal parsing),
whose CPU per completion is about a sixth of httpx's (bench.cpu_rows): what
it does not use is left to the servers.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from .api_rows import (
    PG_URL,
    WARMUP,
    Server,
    _concurrent,
    _start_cases,
    _status_note,
    postgres_problem,
    reset_pg_schema,
)
from .common import Row, prepare_database

CLIENTS = 8
COMPLETIONS = 400


def _rate(server_workers: int, task_ids: list[str], workdir: Path) -> tuple[list[float], float, str]:
    server = Server(PG_URL, workdir, workers=server_workers)
    try:
        server.wait_ready()
        _concurrent(server.base, task_ids[:WARMUP * server_workers], CLIENTS)  # every process warm
        timings, wall, statuses = _concurrent(server.base, task_ids[WARMUP * server_workers:], CLIENTS)
        return timings, wall, _status_note(statuses, server)
    finally:
        server.stop()


def run() -> list[Row]:
    problem = postgres_problem()
    if problem:
        return [Row(key, title, skipped=f"skipped: {problem}") for key, title in (
            ("h1", f"HTTP complete, PostgreSQL, 1 API process, {CLIENTS} clients"),
            ("h2", f"HTTP complete, PostgreSQL, 2 API processes, {CLIENTS} clients"))]
    reset_pg_schema()
    db_engine, factory, user = prepare_database(PG_URL)
    one = _start_cases(factory, user, WARMUP + COMPLETIONS)
    two = _start_cases(factory, user, 2 * WARMUP + COMPLETIONS)
    db_engine.dispose()
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        t1, wall1, note1 = _rate(1, one, Path(tmp))
        t2, wall2, note2 = _rate(2, two, Path(tmp))
    ratio = (len(t2) / wall2) / (len(t1) / wall1)
    return [
        Row("h1", f"HTTP complete, PostgreSQL, 1 API process, {CLIENTS} clients", t1, wall=wall1,
            note=note1 or "serve --workers 1"),
        Row("h2", f"HTTP complete, PostgreSQL, 2 API processes, {CLIENTS} clients", t2, wall=wall2,
            note=note2 or f"serve --workers 2: {ratio:.2f}x h1's rate (goal 1.6x)"),
    ]
