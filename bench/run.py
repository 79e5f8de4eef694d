"""`make bench`: measure everything in one run and print one table; rewrite docs/performance.md's results.

Rows a: SpiffWorkflow alone, in-process (bench.library).
Rows b: task completions through the HTTP API on SQLite and PostgreSQL, and the same completion in-process
(b0, b5: the floor under them) (bench.api_rows).
Rows c, d: the cost of one completion as a case grows to 10, 100 and 1,000 completed tasks (bench.growth).
Rows e: the worker: timer lag for 10,000 timers with 1 and 3 workers, idle CPU (bench.worker_rows).
Row f: running cases migrated to a new version, a batch of 10,000 on PostgreSQL (bench.migration_rows).
Rows g: an expression or script in the server process versus in a script worker process (bench.script_rows).
Rows h: one API process against two on PostgreSQL (bench.serve_rows).
Rows i: a peer engine, bpmn-engine on Node.js, on the same loop with its state in PostgreSQL (bench.peer_rows).
Rows j, k: reports and the inbox over 1,000,000 task rows and 10 million audit events, PostgreSQL (bench.volume_rows).

A benchmark, not a test: it asserts nothing. Every loop is bounded; the whole
run takes a few minutes on two cores. Progress goes to stderr, the result to stdout.
"""
from __future__ import annotations

import logging
import sys
import time

from engine.bpmn import patches as bpmn_patches

from . import (
    api_rows,
    growth,
    library,
    machine,
    migration_rows,
    peer_rows,
    report,
    script_rows,
    serve_rows,
    volume_rows,
    worker_rows,
)


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main() -> int:
    bpmn_patches.apply()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    started = time.perf_counter()
    description = machine.describe()
    rows = []
    _progress("(a) SpiffWorkflow in-process ...")
    rows += library.run()
    _progress("(b) HTTP API on SQLite and PostgreSQL ...")
    rows += api_rows.run()
    _progress("(c, d) one completion as a case grows ...")
    rows += growth.run()
    # The rows whose goals are ratios within this run (b0 against b1, c/d at 1,000 against 10, h2 against h1,
    # i against c) come first, while the machine is as quiet as the run will find it; the long rows after.
    _progress("(h) one API process against two on PostgreSQL ...")
    rows += serve_rows.run()
    _progress("(i) a peer engine: bpmn-engine on the same loop ...")
    rows += peer_rows.run()
    _progress("(e) the worker: timer lag and idle CPU ...")
    rows += worker_rows.run(_progress)
    _progress("(f) migrating 10,000 running cases to a new version ...")
    rows += migration_rows.run(_progress)
    _progress("(g) scripts and expressions: in-process versus a worker process ...")
    rows += script_rows.run()
    _progress("(j, k) reports and the inbox over a generated history of 1,000,000 task rows ...")
    rows += volume_rows.run(_progress)
    seconds = time.perf_counter() - started
    rows.sort(key=lambda row: row.key)  # the table reads a, b, c ... whatever order they ran in
    print("\n".join(description))
    print(f"Whole run: {seconds:.0f} s\n")
    print(report.table(rows), flush=True)
    path = report.write_doc(report.results_block(description, rows, seconds))
    _progress(f"results written to {path.relative_to(report.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
