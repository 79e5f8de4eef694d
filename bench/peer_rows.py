"""Rows (i): a peer engine in the same run — bpmn-engine (Node.js, from the npm registry) on the same loop.

bench/peer/loop.mjs runs bench/data/loop.bpmn's loop (bench/peer/loop.bpmn: the
same elements, the condition in bpmn-engine's expression language) and stores
its state in PostgreSQL the way Tovholder does: one transaction per completion
that locks the case's row, recovers the engine from the stored state, signals
the user task, stores the new state and commits. At 10, 100 and 1,000 completed
tasks, MEASURE completions are timed, as rows c time Tovholder's own (rows c run
on SQLite and include Tovholder's projections and audit events, which
bpmn-engine does not have; the rows show where each engine's cost grows, not a
like-for-like price). The packages are installed by `npm ci` in bench/peer from
its own package-lock.json the first time the bench runs.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .api_rows import postgres_problem
from .common import Row

PEER = Path(__file__).resolve().parent / "peer"
PG = "postgresql://postgres@127.0.0.1:5432/test"
SIZES = (10, 100, 1000)
MEASURE = 20


def _problem() -> str | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm not found"
    if not (PEER / "node_modules" / "bpmn-engine").exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER,
                              capture_output=True, text=True)
        if done.returncode != 0:
            return f"npm ci in bench/peer failed: {done.stderr.strip().splitlines()[-1:]}"
    return postgres_problem()


def run() -> list[Row]:
    titles = [(f"i{n}", f"bpmn-engine gateway loop + PostgreSQL, at {size:,} completed tasks")
              for n, size in enumerate(SIZES, start=1)]
    problem = _problem()
    if problem:
        return [Row(key, title, skipped=f"skipped: {problem}") for key, title in titles]
    done = subprocess.run(["node", str(PEER / "loop.mjs"), PG, ",".join(map(str, SIZES)), str(MEASURE)],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [Row(key, title, skipped=f"failed: {reason}") for key, title in titles]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [Row(key, title, [ms / 1000 for ms in result["timings_ms"]], state_kib=result["state_bytes"] / 1024,
                note="bpmn-engine 25.0.1 (Node.js): recover, signal, getState, UPDATE, COMMIT")
            for (key, title), result in zip(titles, results, strict=True)]
