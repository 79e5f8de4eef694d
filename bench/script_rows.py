"""Rows (g): what running an expression or script costs in the server process versus in a worker process.

Everything goes through engine.script_dispatch.ScriptDispatch, what
SpiffWorkflow's script environment (engine.bpmn.script_engine) calls, with
task data shaped like a kontanthjælp case (30 fields). In-process means `scripting.evaluate`/`scripting.execute` (what every
expression and script cost before the worker processes, and what a cheap
expression still costs); pooled means the same request through a warm worker
process: encode, pipe, decode, run, and back. g7 is a worker's cold start:
spawn, imports, first answer. Runnable alone: `python -m bench.script_rows`
prints its table and writes nothing.
"""
from __future__ import annotations

import time

from engine import scripting
from engine.script_dispatch import ScriptDispatch, _named
from engine.script_pool import ScriptPool, get_pool
from engine.scripting import ScriptContext

from .common import Row, median

N = 2000
N_SLOW = 300
CONDITION = 'kategori == "jobparat" and not forsikret'
BIG_CONDITION = 'noter[0] != "" and kategori == "jobparat"'
SCRIPT = "sats_i_alt = sats * 12\nhenvist = kategori != \"jobparat\""


def task_data(extra_kib: int = 0) -> dict:
    data = {f"felt_{i}": (f"værdi nummer {i}" if i % 3 else i) for i in range(26)}
    data.update({"kategori": "jobparat", "forsikret": False, "sats": 12000, "henvendelsesdato": "2026-11-23"})
    if extra_kib:
        data["noter"] = ["x" * 1000 for _ in range(extra_kib)]
    return data


def _time(action, n: int) -> list[float]:
    action()  # warm: compile caches, a worker process started
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


def _cold_starts(n: int) -> list[float]:
    timings = []
    for _ in range(n):
        pool = ScriptPool()  # a pool of its own, so its first request starts a process
        env = ScriptDispatch(ScriptContext())
        body = pool.codec.encode({"op": "eval", "src": "1", "data": {}, "ext": {}, "ctx": env.ctx.as_dict(),
                                  "now": "2026-11-23T08:00:00+00:00", "cpu": 2.0, "mem": 256 * scripting.MIB})
        started = time.perf_counter()
        pool.run(body, env.ctx.limits)
        timings.append(time.perf_counter() - started)
        pool.close()
    return timings


def run() -> list[Row]:
    ctx = ScriptContext()
    env = ScriptDispatch(ctx)
    data, big = task_data(), task_data(extra_kib=100)

    def pooled(expression: str, context: dict):  # what env.evaluate does for an expression that is not cheap
        return env.remote("eval", expression, _named(expression, "eval", context), None)

    assert scripting.is_cheap(CONDITION)
    local_eval = _time(lambda: env.evaluate(CONDITION, data), N)
    pooled_eval = _time(lambda: pooled(CONDITION, data), N)
    local_exec = _time(lambda: scripting.execute(ctx, SCRIPT, dict(data)), N)
    pooled_exec = _time(lambda: env.execute(SCRIPT, dict(data)), N)
    unnamed_big = _time(lambda: pooled(CONDITION, big), N_SLOW)
    named_big = _time(lambda: pooled(BIG_CONDITION, big), N_SLOW)
    get_pool()  # the shared pool stays for the rest of the run; the cold starts use their own
    return [
        Row("g1", "condition in-process (cheap: stays in the server)", local_eval,
            note=f"`{CONDITION}`, 30 fields of task data; p50 {median(local_eval) * 1e6:.1f} µs"),
        Row("g2", "the same condition in a warm worker process", pooled_eval,
            note=f"{median(pooled_eval) / median(local_eval):.0f}x g1: the round trip, not the expression"),
        Row("g3", "script in-process (before: no limits)", local_exec, note="two assignments, 30 fields"),
        Row("g4", "the same script in a warm worker process (now)", pooled_exec,
            note=f"{median(pooled_exec) / median(local_exec):.0f}x g3"),
        Row("g5", "g2 with 100 KiB more task data it does not name", unnamed_big,
            note=f"{median(unnamed_big) / median(pooled_eval):.1f}x g2: only named fields travel"),
        Row("g6", "a condition naming that 100 KiB field, in a worker", named_big,
            note=f"{median(named_big) / median(pooled_eval):.1f}x g2: the field is sent each time"),
        Row("g7", "a worker's cold start: spawn, imports, first answer", _cold_starts(5),
            note="once per server process, and after a kill"),
    ]


if __name__ == "__main__":
    from .report import table
    print(table(run()))
