"""`tovholder serve --workers 2`: two real API processes on one port against PostgreSQL.

What must hold across processes is what a user meets when consecutive
requests land on different processes: a token issued by one is accepted by
the other, every completion happens once, and the login throttle counts
failures from both (it lives in the database). The test starts the real
command and polls its health; it asserts nothing about speed (that is a
`make bench` row).
"""
from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Case
from tests import factories as f

from .test_worker_processes import _tovholder, start, stop, worker_env

pytestmark = [pytest.mark.processes, pytest.mark.xdist_group("processes")]

CASES = 40


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving_children(parent: int) -> list[int]:
    """The processes uvicorn's supervisor spawned to serve (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    found = []
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.append(int(pid))
    return found


def _wait_ready(base: str, process: subprocess.Popen, log: Path, children: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if (httpx.get(f"{base}/api/health", timeout=2).status_code == 200
                    and len(_serving_children(process.pid)) == children):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"serve did not answer with {children} processes: {log.read_text()[-2000:]}")


def test_two_api_processes_share_tokens_completions_and_the_login_throttle(db, session, tmp_path):
    if not db.is_postgres:
        pytest.skip("several API processes need PostgreSQL (SQLite refuses --workers 2: tests/cli)")
    f.add_units(session)
    f.add_user(session, "jc", "caseworker", ["jobcenter"])
    f.deploy_data(session, "loop.bpmn")
    jc = f.add_user(session, "jc_start", "caseworker", ["jobcenter"])
    case_ids = [f.start_case(session, "bench_loop", actor=jc).id for _ in range(CASES)]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = start([*_tovholder(), "serve", "--port", str(port), "--workers", "2"], worker_env(db), log)
    try:
        _wait_ready(base, process, log, children=2)
        token = f.token(base, "jc")
        results: list[int] = []

        def complete_some(share: list[str]) -> None:
            # A new connection per request, so the kernel spreads them over both processes' accept queues.
            for case_id in share:
                headers = {"Authorization": f"Bearer {token}"}
                tasks = httpx.get(f"{base}/api/tasks", params={"case_id": case_id}, headers=headers, timeout=30)
                task_id = tasks.json()[0]["id"]
                r = httpx.post(f"{base}/api/tasks/{task_id}/complete", headers=headers, timeout=30,
                               json={"data": {"note": "færdig"}})
                results.append(r.status_code if r.status_code == 200 else (r.status_code, r.text[:300]))

        threads = [threading.Thread(target=complete_some, args=(case_ids[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [200] * CASES

        # Failures land on either process; the sixth attempt is locked whichever process takes it.
        answers = [httpx.post(f"{base}/api/auth/token", data={"username": "jc", "password": "wrong"}).status_code
                   for _ in range(6)]
        assert answers == [401] * 5 + [429]
        assert len(_serving_children(process.pid)) == 2
    finally:
        assert stop(process) == 0, log.read_text()[-2000:]

    with db.session() as s:
        done = s.scalar(select(func.count()).select_from(Case).where(Case.id.in_(case_ids),
                                                                     Case.status == "completed"))
        completions = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.case_id.in_(case_ids), AuditEvent.type == "task_completed"))
    assert (done, completions) == (CASES, CASES)
