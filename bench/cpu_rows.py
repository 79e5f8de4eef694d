"""CPU time per task completion (issue 16, items 2 and 3): the server's, the client's, PostgreSQL's; SQL per completion.

`python -m bench.cpu_rows` runs alone (not part of `make bench`; it prints, writes nothing) and
takes about two minutes. On a shared two-core machine a wall-clock rate measures the neighbours
as much as the code; the CPU seconds a process used do not depend (much) on who else runs, so
they can be compared between rows and between runs. The same completion as rows b (a case of
bench/data/loop.bpmn with one open user task, completed with again=false, which ends the case):

- the floor (rows b0/b5): `engine.runtime.complete_task` and a commit in this process, no HTTP.
  Its CPU is this process's (`time.process_time`); as the service runs it and with the report
  rollup's flush listener (engine/report_rollup.py) taken off, in alternating chunks of CHUNK
  completions on one database, so the difference is the rollup's share (CPU here and in
  PostgreSQL, statements) under the same load.
- HTTP: `tovholder serve` in a subprocess, as rows b and h start it; its CPU is the utime + stime
  of its process tree (/proc/<pid>/stat: uvicorn's process and, with --workers 2, its worker
  processes) over the timed completions. The client's is this process's CPU (all its threads)
  over the same completions, for the cheap client rows b and h use (`api_rows.Connection`) and
  for httpx, which they used before.
- PostgreSQL's: the CPU time of the backends serving the measured connections (found by their
  application_name in pg_stat_activity, read from /proc like the server's).
- statements: SQL statements the database was sent per completion (a before_cursor_execute
  counter; a multi-row INSERT counts once), and pool checkouts (on PostgreSQL each checkout
  also sends the pool's pre-ping, which the counter does not see). For the HTTP rows they are
  counted over real HTTP against the same app in a uvicorn thread of this process, where the
  counter can listen; the statement shapes behind that count are printed below the table.

Every row divides by the completions it timed (after WARMUP untimed ones). A row that saw any
status but 200 says so.
"""
from __future__ import annotations

import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import uvicorn
from sqlalchemy import Engine, event

from engine import report_rollup
from engine.settings import Settings

from .api_rows import (
    PG_URL,
    SECRET,
    WARMUP,
    Server,
    _concurrent,
    _in_process,
    _start_cases,
    _status_note,
    postgres_problem,
    reset_pg_schema,
)
from .common import FORMS, cpu_seconds, prepare_database, tree_cpu_seconds
from .report import grid

N = 200           # timed completions per row
STATEMENT_N = 40  # completions whose statements are counted over HTTP
CLIENTS = 8       # as rows h
CHUNK = 20        # the floor's completions with and without the rollup alternate in chunks this long
SERVER_APP = "tovholder_bench_server"
FLOOR_APP = "tovholder_bench_floor"


@dataclass
class CpuRow:
    key: str
    what: str
    n: int = 0
    server_ms: float | None = None
    client_ms: float | None = None
    db_ms: float | None = None
    statements: float | None = None
    checkouts: float | None = None
    per_s: float | None = None
    note: str = ""
    shapes: Counter = field(default_factory=Counter)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(rows: list[CpuRow]) -> str:
    header = ("Row", "Measurement", "n", "server CPU ms", "client CPU ms", "PostgreSQL CPU ms", "statements",
              "checkouts", "wall per s", "Notes")
    cells = [(r.key, r.what, str(r.n), _ms(r.server_ms), _ms(r.client_ms), _ms(r.db_ms),
              "–" if r.statements is None else f"{r.statements:.1f}",
              "–" if r.checkouts is None else f"{r.checkouts:.1f}",
              "–" if r.per_s is None else f"{r.per_s:.1f}", r.note) for r in rows]
    return grid(header, cells, right={2, 3, 4, 5, 6, 7, 8})


# -- meters ---------------------------------------------------------------------------------------

class Statements:
    """Counts what an engine sends: statements (by shape) and pool checkouts."""

    def __init__(self, db_engine: Engine):
        self.count = self.checkouts = 0
        self.shapes: Counter = Counter()
        event.listen(db_engine, "before_cursor_execute", self._statement)
        event.listen(db_engine.pool, "checkout", self._checkout)

    def _statement(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        self.count += 1
        self.shapes[shape(statement)] += 1

    def _checkout(self, *_args) -> None:
        self.checkouts += 1

    def reset(self) -> None:
        self.count = self.checkouts = 0
        self.shapes.clear()


def shape(statement: str) -> str:
    """A statement's kind and table, its columns and values left out: `SELECT … FROM human_tasks …`."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    tables = re.findall(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+([A-Za-z_][\w.]*)", text, re.I)
    suffix = " FOR UPDATE" if text.upper().endswith("FOR UPDATE") else ""
    conflict = " ON CONFLICT" if " ON CONFLICT " in text.upper() else ""
    return f"{verb} {' + '.join(dict.fromkeys(tables)) or text[:40]}{conflict}{suffix}"


def _pg_backends(app_name: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving connections named `app_name`."""
    with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres") as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                               (app_name,))]
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:  # not on this machine's /proc (a server elsewhere): no figure
            continue
    return found


class DbCpu:
    """PostgreSQL backends' CPU over a window (None on SQLite, which runs inside the process)."""

    def __init__(self, app_name: str | None):
        self.app_name = app_name
        self.before: dict[int, float] = {}

    def start(self) -> None:
        self.before = _pg_backends(self.app_name) if self.app_name else {}

    def used(self) -> float | None:
        if not self.app_name:
            return None
        after = _pg_backends(self.app_name)
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())


def _named(url: str, app_name: str) -> str:
    return f"{url}&application_name={app_name}" if url.startswith("postgresql") else url


# -- rows -----------------------------------------------------------------------------------------

def floor_rows(keys: tuple[str, str], label: str, url: str) -> list[CpuRow]:
    """The floor in this process, with the rollup's flush listener and without it, in alternating chunks
    of CHUNK completions on one database (so both see the same machine; the order flips each chunk)."""
    pg = url.startswith("postgresql")
    db_engine, factory, user = prepare_database(_named(url, FLOOR_APP))
    meter = Statements(db_engine)
    task_ids = _start_cases(factory, user, WARMUP + 2 * N)
    _in_process(factory, user, task_ids[:WARMUP])
    todo = task_ids[WARMUP:]
    totals = {mode: {"cpu": 0.0, "db": 0.0, "n": 0, "wall": 0.0, "statements": 0, "checkouts": 0, "shapes": Counter()}
              for mode in (True, False)}
    db = DbCpu(FLOOR_APP if pg else None)
    for chunk in range(len(todo) // (2 * CHUNK)):
        for mode in ((True, False) if chunk % 2 == 0 else (False, True)):
            ids, todo = todo[:CHUNK], todo[CHUNK:]
            if not mode:
                event.remove(factory, "before_flush", report_rollup._before_flush)
            db.start()
            meter.reset()
            cpu0 = time.process_time()
            timings, wall = _in_process(factory, user, ids)
            total = totals[mode]
            total["cpu"] += time.process_time() - cpu0
            total["db"] += db.used() or 0.0
            total["n"] += len(timings)
            total["wall"] += wall
            total["statements"] += meter.count
            total["checkouts"] += meter.checkouts
            total["shapes"].update(meter.shapes)
            if not mode:
                event.listen(factory, "before_flush", report_rollup._before_flush)
    db_engine.dispose()
    rows = []
    for key, mode in zip(keys, (True, False), strict=True):
        t = totals[mode]
        n = t["n"]
        rows.append(CpuRow(
            key, f"in-process complete + commit, {label} (the floor)" + ("" if mode else ", without the rollup"), n,
            server_ms=1000 * t["cpu"] / n, db_ms=1000 * t["db"] / n if pg else None, statements=t["statements"] / n,
            checkouts=t["checkouts"] / n, per_s=n / t["wall"],
            note="CPU of this process" if mode else f"rollup listener off; chunks of {CHUNK} alternate with the row above",
            shapes=Counter({k: v / n for k, v in t["shapes"].items()})))
    return rows


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_statements(url: str) -> tuple[float, float, Counter]:
    """Statements and pool checkouts per HTTP completion: the real app in a uvicorn thread of this process."""
    from api.main import create_app
    from engine.db import make_db_engine
    db_engine, factory, user = prepare_database(url)
    task_ids = _start_cases(factory, user, WARMUP + STATEMENT_N)
    db_engine.dispose()
    app_engine = make_db_engine(url)
    meter = Statements(app_engine)
    app = create_app(Settings(database_url=url, secret_key=SECRET, forms_dir=FORMS), db_engine=app_engine)
    port = _free_port()
    server = _ThreadServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    try:
        _concurrent(base, task_ids[:WARMUP], 1)
        meter.reset()
        timings, _wall, statuses = _concurrent(base, task_ids[WARMUP:], 1)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app_engine.dispose()
    bad = {k: v for k, v in statuses.items() if k != 200}
    if bad:
        raise RuntimeError(f"statement count: answers {bad}")
    n = len(timings)
    return meter.count / n, meter.checkouts / n, Counter({k: v / n for k, v in meter.shapes.items()})


def http_row(key: str, what: str, url: str, workdir: Path, *, clients: int, workers: int = 1,
             kind: str = "raw", task_ids: list[str]) -> CpuRow:
    pg = url.startswith("postgresql")
    server = Server(_named(url, SERVER_APP), workdir, workers=workers)
    try:
        server.wait_ready()
        _concurrent(server.base, task_ids[:WARMUP * workers], clients, kind)  # every process warm
        timed = task_ids[WARMUP * workers:]
        db = DbCpu(SERVER_APP if pg else None)
        db.start()
        server0, client0 = tree_cpu_seconds(server.proc.pid), time.process_time()
        timings, wall, statuses = _concurrent(server.base, timed, clients, kind)
        client_cpu = time.process_time() - client0
        server_cpu = tree_cpu_seconds(server.proc.pid) - server0
        db_used = db.used()
        note = _status_note(statuses, server)
    finally:
        server.stop()
    n = len(timings)
    return CpuRow(key, what, n, server_ms=1000 * server_cpu / n, client_ms=1000 * client_cpu / n,
                  db_ms=None if db_used is None else 1000 * db_used / n, per_s=n / wall,
                  note=note or f"client: {kind}")


def measure(label: str, fresh: Callable[[], str], keys: str, workdir: Path, concurrency: bool) -> list[CpuRow]:
    """Rows for one database; `fresh()` gives an empty one; `keys` is the rows' letter (s: SQLite, p: PostgreSQL)."""
    progress(f"{label}: the floor, with and without the rollup ...")
    rows = floor_rows((f"{keys}0", f"{keys}1"), label, fresh())
    progress(f"{label}: statements per HTTP completion ...")
    statements, checkouts, shapes = http_statements(fresh())
    url = fresh()
    db_engine, factory, user = prepare_database(url)
    plan: list[tuple[str, str, int, int, str]] = [
        (f"{keys}2", f"HTTP complete, {label}, 1 client", 1, 1, "raw"),
        (f"{keys}3", f"HTTP complete, {label}, 1 client, httpx", 1, 1, "httpx"),
    ]
    if concurrency:
        plan += [
            (f"{keys}4", f"HTTP complete, {label}, {CLIENTS} clients, 1 process", CLIENTS, 1, "raw"),
            (f"{keys}5", f"HTTP complete, {label}, {CLIENTS} clients, 2 processes", CLIENTS, 2, "raw"),
            (f"{keys}6", f"HTTP complete, {label}, {CLIENTS} clients, 1 process, httpx", CLIENTS, 1, "httpx"),
            (f"{keys}7", f"HTTP complete, {label}, {CLIENTS} clients, 2 processes, httpx", CLIENTS, 2, "httpx"),
        ]
    progress(f"{label}: starting {sum(WARMUP * workers + N for *_, workers, _kind in plan)} cases ...")
    cases = {key: _start_cases(factory, user, WARMUP * workers + N) for key, _what, _clients, workers, _kind in plan}
    db_engine.dispose()
    for key, what, clients, workers, kind in plan:
        progress(f"{label}: {what} ...")
        row = http_row(key, what, url, workdir, clients=clients, workers=workers, kind=kind, task_ids=cases[key])
        row.statements, row.checkouts = statements, checkouts
        rows.append(row)
    rows[2].shapes = shapes
    return rows


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(progress_to: Callable[[str], None] = progress) -> list[CpuRow]:
    rows: list[CpuRow] = []
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        workdir = Path(tmp)
        files = iter(range(1000))
        rows += measure("SQLite", lambda: f"sqlite:///{workdir / f'cpu-{next(files)}.db'}", "s", workdir,
                        concurrency=False)
        problem = postgres_problem()
        if problem:
            progress_to(f"PostgreSQL rows skipped: {problem}")
        else:
            rows += measure("PostgreSQL", _fresh_pg, "p", workdir, concurrency=True)
    return rows


def _fresh_pg() -> str:
    reset_pg_schema()
    return PG_URL


def shapes_table(rows: list[CpuRow]) -> str:
    """What the statements of one HTTP completion and of the floor are, per database."""
    lines = []
    for row in rows:
        if not row.shapes:
            continue
        lines.append(f"\n{row.key}: {row.what}: statements per completion by shape\n")
        lines.append(grid(("per completion", "statement"),
                          [(f"{n:.2f}", s) for s, n in row.shapes.most_common()], right={0}))
    return "\n".join(lines)


if __name__ == "__main__":
    import logging

    from engine.bpmn import patches as bpmn_patches

    from .machine import describe
    bpmn_patches.apply()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    machine = describe()
    started = time.perf_counter()
    result = run()
    print("\n".join(f"- {line}" for line in machine))
    print(f"- load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- Whole run: {time.perf_counter() - started:.0f} s\n")
    print(table(result))
    print(shapes_table(result))
