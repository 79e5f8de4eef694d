"""A script worker process: runs sandboxed scripts and expressions for engine.script_pool, under OS limits.

Started by the pool as `python -I -B -c ...` with a minimal environment and
no database, files or sockets of the server. It reads one request frame at a
time from its stdin (engine.script_wire), runs it through engine.scripting
and writes the answer to its stdout. For each request it sets:

- a CPU timer (`ITIMER_PROF`, the limit plus GRACE): when a single C-level
  call (`sum(range(10**9))`) holds the interpreter, the kernel's SIGPROF ends
  the process; the pool sees it die and answers "used more than N s".
  Python-level loops are stopped at the limit by the tracer, with their line;
- an address-space limit (`RLIMIT_AS`, what the process held after start-up
  plus the memory limit): `'x' * 10**9` raises MemoryError here, which is
  answered as a script over its memory limit; the process then exits so the
  next request gets a fresh one.

The process ends at end of input, i.e. when the server closes the pipe or dies.
"""
from __future__ import annotations

import os
import resource
import signal
from datetime import datetime

from . import clock
from .script_wire import HEADER, MAX_RESULT_BYTES, TAG_VARIABLE, Codec, frame, read_exactly, write_all
from .scripting import ScriptContext, ScriptLimits, evaluate, execute
from .storable import NotJson
from .workdays import WorkCalendar

GRACE = 0.25  # the tracer stops Python-level loops first, with the line they were on


def _address_space() -> int | None:
    """Bytes of address space this process holds now (Linux); None where that cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _error_line(exc: BaseException) -> int | None:
    if isinstance(exc, SyntaxError):
        return exc.lineno
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<string>":  # the sandboxed code, not a helper
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class Worker:
    def __init__(self, tag: str, inp: int, out: int):
        self.codec, self.inp, self.out = Codec(tag), inp, out
        self.base = _address_space()
        self.memory_limit: int | None = None
        self.limits = ScriptLimits()
        self.contexts: dict[str, ScriptContext] = {}

    def serve(self) -> None:
        while True:
            head = read_exactly(self.inp, HEADER.size)
            body = read_exactly(self.inp, HEADER.unpack(head)[0]) if head else None
            if body is None:
                return
            answer, last = self.answer(body)
            write_all(self.out, frame(answer))
            if last:  # after a MemoryError: the server starts a fresh worker rather than trust this one
                return

    def answer(self, body: bytes) -> tuple[bytes, bool]:
        try:
            return self._run(body), False
        except MemoryError:
            pass  # outside the except block the frames that held the memory are gone
        return self._failure("ScriptMemoryExceeded", self.limits.memory_message(), None, last=True), True

    def _run(self, body: bytes) -> bytes:
        try:
            request = self.codec.decode(body)
            self.limits = ScriptLimits(cpu_seconds=request["cpu"], memory_bytes=request["mem"])
            self._limit_memory(self.limits.memory_bytes)
            ctx = self._context(request["ctx"])
            signal.setitimer(signal.ITIMER_PROF, self.limits.cpu_seconds + GRACE)
            try:
                with clock.at(datetime.fromisoformat(request["now"])):
                    if request["op"] == "eval":
                        result = {"ok": True, "value": evaluate(ctx, request["src"], request["data"], request["ext"])}
                    else:
                        result = {"ok": True, "data": execute(ctx, request["src"], request["data"], request["ext"])}
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
            encoded = self.codec.encode(result)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the script raised goes back to the server
            return self._failure(type(exc).__name__, str(exc.args[0]) if exc.args else "", _error_line(exc),
                                 field=getattr(exc, "field", None) if isinstance(exc, NotJson) else None)
        if len(encoded) > MAX_RESULT_BYTES:
            return self._failure("NotJson", f"the result is larger than {MAX_RESULT_BYTES // 2**20} MiB", None)
        return encoded

    def _failure(self, kind: str, message: str, line: int | None, last: bool = False,
                 field: str | None = None) -> bytes:
        return self.codec.encode({"ok": False, "type": kind, "message": message, "line": line, "last": last,
                                  "field": field})

    def _limit_memory(self, memory_bytes: int) -> None:
        if self.base is None or memory_bytes == self.memory_limit:
            return
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = self.base + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
        self.memory_limit = memory_bytes

    def _context(self, value: dict) -> ScriptContext:
        key = repr((value, self.limits))
        ctx = self.contexts.get(key)
        if ctx is None:
            if len(self.contexts) > 64:
                self.contexts.clear()
            ctx = self.contexts[key] = ScriptContext.from_dict(value, self.limits)
        return ctx


def main() -> None:
    tag = os.environ.pop(TAG_VARIABLE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The protocol gets private descriptors; fds 0 and 1 point nowhere, so nothing else can write a frame.
    inp, out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    WorkCalendar().is_working_day(clock.now().date())  # loads the holiday tables before the limits apply
    Worker(tag, inp, out).serve()
