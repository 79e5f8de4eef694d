"""Rows (h): one API process against two (`tovholder serve --workers 2`) on PostgreSQL, in the same run.

The same completions as row b4 (different cases, so no case lock waits), from
CLIENTS clients at once, first against one server process, then against two
on the same port. The goal (issue 16) is that two processes complete at least
1.6× the tasks per second of one on this machine's two cores; the client
threads run on the same cores, so the ratio is a lower bound of what two
processes give on a machine where the clients are elsewhere. The client is
api_rows.ConnectionPerRequest (minimal parsing, a new connection per
completion so that each is accepted by a process that waits for one; its
docstring says why), whose CPU per completion is a fraction of httpx's
(bench.cpu_rows): what it does not use is left to the servers. Each row's
note splits the CPU of its timed window (bench.cpu_split), and h2's gives
the ceiling that split puts on the ratio here.
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
from .cpu_split import Split, usable_cores

CLIENTS = 8
CLIENT = "per-request"  # api_rows.ConnectionPerRequest: why, in its docstring
COMPLETIONS = 400


def _rate(server_workers: int, task_ids: list[str], workdir: Path) -> tuple[list[float], float, str, Split]:
    server = Server(PG_URL, workdir, workers=server_workers)
    try:
        server.wait_ready()
        _concurrent(server.base, task_ids[:WARMUP * server_workers], CLIENTS, kind=CLIENT)  # every process warm
        before = Split.take([server.proc.pid])
        timings, wall, statuses = _concurrent(server.base, task_ids[WARMUP * server_workers:], CLIENTS,
                                             kind=CLIENT)
        return timings, wall, _status_note(statuses, server), Split.take([server.proc.pid]) - before
    finally:
        server.stop()


def _cpu_note(split: Split, n: int) -> str:
    ms = split.per_completion_ms(n)
    return (f"CPU per completion: server {ms['server']:.1f}, PostgreSQL {ms['postgres']:.1f}, "
            f"client {ms['client']:.1f}, other {ms['other']:.1f} ms")


def ceiling(split: Split, n: int, rate_one: float, processes: int = 2, cores: int | None = None) -> float:
    """The most `processes` API processes could give over one on these cores, as a multiple of one's rate.

    Each completion needs its server CPU in one process and, wherever it runs, the CPU of PostgreSQL
    and the client: `processes` servers are bounded by processes / server, the machine by
    cores / (server + postgres + client). Other sessions' load is left out, so this is the best case."""
    cores = cores or usable_cores()
    ms = split.per_completion_ms(n)
    per_server = ms["server"] / 1000
    per_machine = (ms["server"] + ms["postgres"] + ms["client"]) / 1000
    return min(processes / per_server, cores / per_machine) / rate_one


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
        t1, wall1, note1, cpu1 = _rate(1, one, Path(tmp))
        t2, wall2, note2, cpu2 = _rate(2, two, Path(tmp))
    rate1 = len(t1) / wall1
    ratio = (len(t2) / wall2) / rate1
    limit = ceiling(cpu1, len(t1), rate1)
    return [
        Row("h1", f"HTTP complete, PostgreSQL, 1 API process, {CLIENTS} clients", t1, wall=wall1,
            note=note1 or f"serve --workers 1; {_cpu_note(cpu1, len(t1))}"),
        Row("h2", f"HTTP complete, PostgreSQL, 2 API processes, {CLIENTS} clients", t2, wall=wall2,
            note=note2 or (f"serve --workers 2: {ratio:.2f}x h1's rate (goal 1.6x; these cores allow at most "
                           f"{limit:.2f}x by h1's CPU split); {_cpu_note(cpu2, len(t2))}")),
    ]
