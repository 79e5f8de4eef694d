"""Shared pieces of the benchmark: table rows, timing statistics, and a database set up through the engine.

Everything here builds state the way the service does (engine.migrate, engine.accounts,
engine.catalog, engine.runtime) and commits at the edge, one transaction per call,
as a route or the CLI would. Nothing here asserts: the benchmark reports.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from engine import accounts, catalog, migrate, runtime
from engine.accounts import UserView
from engine.case_rules import CaseRules
from engine.db import make_db_engine, make_session_factory
from engine.models import HumanTask

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
FORMS = DATA / "forms"
RULES = CaseRules(forms_dir=FORMS)
LOOP_KEY = "bench_loop"          # user task -> exclusive gateway -> back (bench/data/loop.bpmn)
STD_LOOP_KEY = "bench_std_loop"  # the same user task as a BPMN standard loop (bench/data/std_loop.bpmn)
UNIT = "bench"
USERNAME = "bench-worker"
PASSWORD = "bench-password-not-secret"
CPR = "010190-1234"
BENCH_AUDIT_KEY = b"bench-audit-key-not-secret-0123456789"  # what the bench's audit chains are keyed with


@dataclass
class Row:
    """One line of the results table. `timings` are seconds per operation."""

    key: str
    what: str
    timings: list[float] = field(default_factory=list)
    wall: float | None = None          # seconds for all operations, when they ran back to back
    state_kib: float | None = None
    note: str = ""
    skipped: str | None = None

    @property
    def n(self) -> int:
        return len(self.timings)

    @property
    def per_second(self) -> float | None:
        if not self.timings:
            return None
        total = self.wall if self.wall is not None else sum(self.timings)
        return self.n / total if total > 0 else None

    @property
    def mean_ms(self) -> float | None:
        return 1000 * sum(self.timings) / self.n if self.timings else None

    def pct_ms(self, q: float) -> float | None:
        return 1000 * percentile(self.timings, q) if self.timings else None


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (q in 0..100)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: list[float]) -> float:
    return percentile(values, 50)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far: utime + stime from /proc/<pid>/stat (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and every live descendant (uvicorn's worker processes, script workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # ended meanwhile
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier += children
    total = 0.0
    for member in tree:
        try:
            total += cpu_seconds(member)
        except OSError:
            continue
    return total


def prepare_database(url: str):
    """Migrate, add the bench unit and user, deploy the bench processes. Returns (db_engine, factory, user)."""
    migrate.upgrade(url)
    db_engine = make_db_engine(url)
    factory = make_session_factory(db_engine, audit_key=BENCH_AUDIT_KEY)
    with factory() as session:
        accounts.add_unit(session, UNIT, "Benchmark")
        user = accounts.add_user(session, USERNAME, role="caseworker", password=PASSWORD, units=[UNIT])
        session.commit()
        files = catalog.collect_files([DATA / "loop.bpmn", DATA / "std_loop.bpmn"])
        catalog.deploy(session, files, rules=RULES, actor="bench")
        session.commit()
    return db_engine, factory, user


def start_case(factory, user: UserView, process_key: str) -> str:
    with factory() as session:
        case = runtime.start_case(session, process_key=process_key, cpr=CPR, data={}, actor=user, rules=RULES)
        session.commit()
        return case.id


def open_task_ids(session, case_id: str) -> list[str]:
    return list(session.scalars(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                           HumanTask.status.in_(("open", "claimed")))))
