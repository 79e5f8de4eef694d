"""What the numbers were measured on: CPU, cores, RAM, load, and the versions that matter."""
from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import datetime, timezone
from importlib.metadata import version

from .api_rows import postgres_problem, postgres_version
from .common import ROOT


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def describe() -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    problem = postgres_problem()
    pg = f"PostgreSQL {postgres_version()}" if problem is None else f"PostgreSQL not reachable ({problem})"
    return [
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {_commit()} (plus any uncommitted changes)",
        f"CPU: {_cpu_model()}, {os.cpu_count()} logical cores ({usable} usable), RAM {_ram_gib()}",
        f"OS: {platform.platform()}; load average at start (1/5/15 min): {_load()}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {pg}",
        f"SpiffWorkflow {version('SpiffWorkflow')}, SQLAlchemy {version('SQLAlchemy')}, "
        f"FastAPI {version('fastapi')}, uvicorn {version('uvicorn')}, psycopg {version('psycopg')}, "
        f"httpx {version('httpx')}",
    ]
