"""A completion in a large journey: ms per `engine.runtime.complete_task` over seeded walks of the real processes.

`python -m bench.journey_rows [--postgres URL] [--walks N]` runs alone (not part of `make bench`; it prints,
writes nothing) and takes under a minute on SQLite. It deploys processes/ with forms/ and
config/deadlines.toml into a fresh database (a temporary SQLite file, or a schema of its own on the
PostgreSQL server given), adds the standard units and users (tests/factories.py), and walks cases of
kontanthjælp and sygedagpenge with tests/journeys/walker.py, seeds 0..N-1, as
tests/journeys/test_walks.py does. Every `complete_task` call of the walks is timed, commit
excluded (the walker commits after it): wall time and this process's CPU time. The make bench
rows (b0-b5, c, d) complete cases of a small loop diagram (bench/data/loop.bpmn, about 3 KiB of
spec); these are the journeys' own diagrams (kontanthjælp's spec has about 450 task specs and five
called processes), where the spec's size shows.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from engine import migrate, runtime
from engine.bpmn import patches
from engine.case_rules import CaseRules
from engine.db import make_db_engine, make_session_factory

from .common import percentile

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("kontanthjaelp", "sygedagpenge")


class _Db:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_db_engine(url)
        self.session_factory = make_session_factory(self.engine, audit_key=b"journey-rows-audit-key-0123456789")


def _database(postgres: str | None) -> str:
    if postgres is None:
        return f"sqlite:///{tempfile.mkdtemp(prefix='journey_rows_')}/journeys.db"
    schema = "tovholder_journey_rows"
    admin = make_db_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in postgres else "?"
    return f"{postgres}{sep}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+psycopg://...); default: SQLite")
    parser.add_argument("--walks", type=int, default=6)
    args = parser.parse_args()
    patches.apply()
    from tests import factories as f  # the walker and the standard users are the tests' own
    from tests.journeys.walker import Walker, WalkResult, read_diagrams

    url = _database(args.postgres)
    migrate.upgrade(url)
    db = _Db(url)
    rules = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
    session = db.session_factory()
    users = f.standard_users(session)
    f.deploy_files(session, ROOT / "processes", rules=rules)
    walker = Walker(db, session, rules, read_diagrams(ROOT / "processes"), users)

    timings: list[tuple[float, float]] = []
    real = runtime.complete_task

    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            timings.append((time.perf_counter() - wall, time.process_time() - cpu))

    runtime.complete_task = timed
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, {args.walks} walks per journey")
    print("| journey | completions | wall mean ms | wall p50 ms | wall p95 ms | CPU mean ms |")
    print("|---|---:|---:|---:|---:|---:|")
    try:
        for process in PROCESSES:
            timings.clear()
            result = WalkResult()
            for seed in range(args.walks):
                walker.walk(process, seed, result)
            walls = [w * 1e3 for w, _ in timings]
            cpus = [c * 1e3 for _, c in timings]
            print(f"| {process} | {len(walls)} | {sum(walls) / len(walls):.1f} | {percentile(walls, 50):.1f} "
                  f"| {percentile(walls, 95):.1f} | {sum(cpus) / len(cpus):.1f} |")
    finally:
        runtime.complete_task = real
        session.close()
        db.engine.dispose()


if __name__ == "__main__":
    main()
