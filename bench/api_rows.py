"""Rows (b): task completions per second through the HTTP API, on SQLite and PostgreSQL.

The server is the real one (`python -m tovholder serve`, uvicorn, one process)
in a subprocess on 127.0.0.1 and a free port; the client (`Connection`) keeps
one HTTP/1.1 connection per client thread and sends a real bearer token from
POST /api/auth/token; it reads every answer in full but parses only its status
line and Content-Length (its CPU per completion, against httpx's, is measured
by bench.cpu_rows). Cases of bench/data/loop.bpmn are
started through the engine beforehand; each case has one open user task, and
completing it with again=false finishes the case. Only the POST
/api/tasks/{id}/complete calls are timed: first one client after another
(latency), then CLIENTS clients at once (throughput under contention).
Before the server starts, as many completions run in-process through
engine.runtime.complete_task with a commit each (rows b0 and b5: the floor).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
from sqlalchemy import text

from engine import migrate, runtime
from engine.db import make_db_engine, make_session_factory

from .common import (
    BENCH_AUDIT_KEY,
    FORMS,
    LOOP_KEY,
    PASSWORD,
    ROOT,
    RULES,
    USERNAME,
    Row,
    open_task_ids,
    prepare_database,
    start_case,
)

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "tovholder_bench"
PG_URL = f"{PG_BASE}?options=-csearch_path%3D{PG_SCHEMA}"
WARMUP = 20
SEQUENTIAL = 300
CLIENTS = 4
CONCURRENT = 300
SECRET = "bench-secret-key-0123456789abcdef0123456789"
START_DEADLINE_S = 30


def postgres_problem() -> str | None:
    """None when the bench server answers, else the reason in one line."""
    try:
        with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres", connect_timeout=3):
            return None
    except psycopg.Error as exc:
        lines = str(exc).strip().splitlines()
        return lines[0] if lines else type(exc).__name__


def postgres_version() -> str | None:
    try:
        with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres", connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        return None


def reset_pg_schema(schema: str = PG_SCHEMA) -> None:
    """An empty schema of the benchmark's own in the PostgreSQL test database (dropped first if there)."""
    admin = make_db_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()


def migrated_pg_schema(schema: str):
    """A fresh schema with Tovholder's tables: its engine and session factory."""
    reset_pg_schema(schema)
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    db_engine = make_db_engine(url)
    return db_engine, make_session_factory(db_engine, audit_key=BENCH_AUDIT_KEY)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tovholder serve` in a subprocess, its output in a log file."""

    def __init__(self, url: str, workdir: Path, workers: int = 1):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
        env.update(DATABASE_URL=url, TOVHOLDER_SECRET_KEY=SECRET, TOVHOLDER_FORMS_DIR=str(FORMS))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tovholder", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {START_DEADLINE_S} s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        self._log.flush()
        return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])

    def error_summary(self) -> str:
        """The most common exception line in the server log, if any."""
        self._log.flush()
        found = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception)[^\n]{0,80})",
                           self.log_path.read_text(errors="replace"), re.M)
        if not found:
            return ""
        line, count = Counter(found).most_common(1)[0]
        return f"{count}x {line.strip()}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _token(base: str) -> str:
    r = httpx.post(f"{base}/api/auth/token", data={"username": USERNAME, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


class _Closed(ConnectionError):
    """The server closed a kept-alive connection before answering (its keep-alive timeout)."""


class Connection:
    """One kept-alive HTTP/1.1 connection that POSTs JSON with a bearer token and reads each answer.

    The timed client of rows b and h: on two shared cores the client's CPU is taken from the servers
    it measures, so it does as little as an honest client can. The request is real HTTP/1.1 over TCP
    with the headers httpx sent (Host, Authorization, Content-Type, Content-Length); the answer is
    read in full (status line, headers, the Content-Length bytes of its body) and its status counted,
    but its JSON is not parsed, as httpx's was not either. A request on a kept-alive connection the
    server closed before answering is sent again once on a new one; anything else is an error."""

    def __init__(self, base: str, token: str):
        parts = urlsplit(base)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.headers = (f"Host: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
                        "Content-Type: application/json\r\n").encode()
        self.sock: socket.socket | None = None
        self.pending = b""

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        request = (b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.headers
                   + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        reused = self.sock is not None
        try:
            self._send(request)
            return self._answer()
        except (_Closed, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            self.close()
            self._send(request)
            return self._answer()

    def _send(self, request: bytes) -> None:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.pending = b""
        self.sock.sendall(request)

    def _read(self) -> bytes:
        assert self.sock is not None
        return self.sock.recv(65536)

    def _answer(self) -> tuple[int, bytes]:
        buffer = self.pending
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            chunk = self._read()
            if not chunk:
                if buffer:
                    raise ConnectionError("the server closed the connection in the middle of an answer")
                raise _Closed("closed before answering")
            buffer += chunk
        head, rest = buffer[:end].lower(), buffer[end + 4:]
        status = int(head[9:12])
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            raise ConnectionError("an answer without Content-Length (chunked?) is not what the API sends")
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17:line_end if line_end >= 0 else len(head)])
        while len(rest) < length:
            chunk = self._read()
            if not chunk:
                raise ConnectionError("the server closed the connection in the middle of an answer")
            rest += chunk
        self.pending = rest[length:]
        if b"\r\nconnection: close" in head:
            self.close()
        return status, rest[:length]

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.pending = None, b""


class ConnectionPerRequest(Connection):
    """Connection, but each request on a new TCP connection ("Connection: close"), as a client or a proxy
    without keep-alive sends them. Rows h use it: several API processes share one listening socket, and a
    kept-alive connection stays with the process that accepted it, so eight long-lived connections split
    unevenly between two processes (measured: 5.2 s of CPU in one, 1.9 s in the other, in one window);
    a new connection is accepted by whichever process is waiting for one."""

    def __init__(self, base: str, token: str):
        super().__init__(base, token)
        self.headers += b"Connection: close\r\n"


class HttpxConnection:
    """The client rows b and h used before Connection: httpx, its CPU measured beside it (bench.cpu_rows)."""

    def __init__(self, base: str, token: str):
        self.client = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        r = self.client.post(path, content=body, headers={"Content-Type": "application/json"})
        return r.status_code, r.content

    def close(self) -> None:
        self.client.close()


CLIENT_KINDS = {"raw": Connection, "per-request": ConnectionPerRequest, "httpx": HttpxConnection}
_STATUS_LOCK = threading.Lock()
COMPLETE_BODY = json.dumps({"data": {"again": False, "note": "bench"}}).encode()


def _complete(client, task_id: str, timings: list[float], statuses: Counter) -> None:
    t0 = time.perf_counter()
    try:
        status, _body = client.post(f"/api/tasks/{task_id}/complete", COMPLETE_BODY)
    except OSError:  # no answer at all: counted as status 0, and the next request opens a new connection
        client.close()
        status = 0
    timings.append(time.perf_counter() - t0)
    with _STATUS_LOCK:
        statuses[status] += 1


def _sequential(base: str, task_ids: list[str], kind: str = "raw") -> tuple[list[float], float, Counter]:
    return _concurrent(base, task_ids, 1, kind)


def _concurrent(base: str, task_ids: list[str], clients_n: int = CLIENTS,
                kind: str = "raw") -> tuple[list[float], float, Counter]:
    """`clients_n` threads, each with its own kept-alive connection, completing their share of the tasks."""
    timings: list[float] = []
    statuses: Counter = Counter()
    token = _token(base)
    clients = [CLIENT_KINDS[kind](base, token) for _ in range(clients_n)]
    shares = [task_ids[i::clients_n] for i in range(clients_n)]
    threads = [threading.Thread(target=lambda c=c, s=s: [_complete(c, t, timings, statuses) for t in s])
               for c, s in zip(clients, shares, strict=False)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    for client in clients:
        client.close()
    return timings, wall, statuses


def _start_cases(factory, user, count: int) -> list[str]:
    task_ids = []
    for _ in range(count):
        case_id = start_case(factory, user, LOOP_KEY)
        with factory() as session:
            task_ids.extend(open_task_ids(session, case_id))
    return task_ids


def _status_note(statuses: Counter, server: Server) -> str:
    bad = {code: n for code, n in statuses.items() if code != 200}
    if not bad:
        return ""
    codes = ", ".join(f"{n}x HTTP {code}" for code, n in sorted(bad.items()))
    summary = server.error_summary()
    return f"FAILED: {codes}" + (f" ({summary})" if summary else "")


def _in_process(factory, user, task_ids: list[str]) -> tuple[list[float], float]:
    """The floor under an HTTP completion: the same completion through the engine, a session and commit each."""
    timings: list[float] = []
    t0 = time.perf_counter()
    for task_id in task_ids:
        started = time.perf_counter()
        with factory() as session:
            runtime.complete_task(session, task_id=task_id, data={"again": False, "note": "bench"}, user=user,
                                  rules=RULES)
            session.commit()
        timings.append(time.perf_counter() - started)
    return timings, time.perf_counter() - t0


def measure(label: str, keys: tuple[str, str, str], url: str, workdir: Path) -> list[Row]:
    db_engine, factory, user = prepare_database(url)
    task_ids = _start_cases(factory, user, 2 * WARMUP + 2 * SEQUENTIAL + CONCURRENT)
    _in_process(factory, user, task_ids[:WARMUP])
    floor, floor_wall = _in_process(factory, user, task_ids[WARMUP:WARMUP + SEQUENTIAL])
    db_engine.dispose()
    task_ids = task_ids[WARMUP + SEQUENTIAL:]
    warm, seq, conc = task_ids[:WARMUP], task_ids[WARMUP:WARMUP + SEQUENTIAL], task_ids[WARMUP + SEQUENTIAL:]
    server = Server(url, workdir)
    try:
        server.wait_ready()
        _sequential(server.base, warm)
        s_timings, s_wall, s_status = _sequential(server.base, seq)
        c_timings, c_wall, c_status = _concurrent(server.base, conc)
        s_note, c_note = _status_note(s_status, server), _status_note(c_status, server)
    finally:
        server.stop()
    floor_rate, http_rate = len(floor) / floor_wall, len(s_timings) / s_wall
    return [
        Row(keys[2], f"in-process complete + commit, {label} (the floor)", floor, wall=floor_wall,
            note="engine step, projections, audit, state save, one commit; no HTTP"),
        Row(keys[0], f"HTTP complete, {label}, 1 client", s_timings, wall=s_wall,
            note=s_note or f"one case per task, again=false ends it; {http_rate / floor_rate:.0%} of "
                           f"{keys[2]}'s rate"),
        Row(keys[1], f"HTTP complete, {label}, {CLIENTS} clients", c_timings, wall=c_wall,
            note=c_note or "different cases, so no case lock conflicts"),
    ]


def run() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        workdir = Path(tmp)
        rows += measure("SQLite", ("b1", "b2", "b0"), f"sqlite:///{workdir / 'bench.db'}", workdir)
        problem = postgres_problem()
        if problem:
            rows += [Row("b5", "in-process complete + commit, PostgreSQL (the floor)", skipped=f"skipped: {problem}"),
                     Row("b3", "HTTP complete, PostgreSQL, 1 client", skipped=f"skipped: {problem}"),
                     Row("b4", f"HTTP complete, PostgreSQL, {CLIENTS} clients", skipped=f"skipped: {problem}")]
        else:
            reset_pg_schema()
            rows += measure("PostgreSQL", ("b3", "b4", "b5"), PG_URL, workdir)
    return rows
