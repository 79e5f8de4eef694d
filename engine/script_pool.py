"""Worker processes that run diagram scripts and expressions under CPU and memory limits.

Why processes: in the server process one C-level call (`sum(range(10**9))`)
holds the interpreter for as long as it runs, so every other request waits,
and `'x' * 10**9` takes the server's memory. A worker process
(engine.script_worker) is killed by the kernel when it passes its CPU limit
and gets a MemoryError at its memory limit, while the server thread that
waits for it blocks in `poll` without the interpreter lock.

engine.script_dispatch decides what is sent here (every script; an expression
unless it is provably cheap) and turns a failed answer back into an exception.
A worker that passed its limits answers with the reason, or dies and this
module names the reason (its CPU timer's SIGPROF, or our wall-clock kill).

The pool is per OS process, started at first use, grown to `limits.workers`
processes on demand, and a worker that died or was killed is replaced at once.
Nothing here touches the database.
"""
from __future__ import annotations

import atexit
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .script_wire import HEADER, MAX_FRAME_BYTES, TAG_VARIABLE, Codec, frame, new_tag
from .scripting import ScriptLimits, ScriptStopped

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
_START = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
          "from engine.script_worker import main; main()")


class ScriptWorkerDied(ScriptStopped):
    pass


def wall_seconds(limits: ScriptLimits) -> float:
    """How long the server waits for an answer: a backstop for a worker that is stuck, not busy."""
    return max(10.0, 5 * limits.cpu_seconds)


class _Process:
    """One worker process and its two pipes."""

    def __init__(self, tag: str):
        # none of the server's secrets; the tag in the environment, which unlike argv only our own user can read
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", TAG_VARIABLE: tag}
        self.proc = subprocess.Popen([sys.executable, "-I", "-B", "-c", _START, str(ROOT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT,
                                     close_fds=True, start_new_session=True)  # Ctrl-C reaches the server only
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both asked for as pipes
        self.pipes = (self.proc.stdin, self.proc.stdout)
        self.send, self.receive = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self.send, False)
        self.alive = True
        self.stopped_by_us = False

    def call(self, body: bytes, wait: float) -> bytes | None:
        """The answer to one request, or None when the process died or was stopped (it is then gone)."""
        deadline = time.monotonic() + wait
        try:
            if self._write(frame(body), deadline):
                head = self._read(HEADER.size, deadline)
                size = HEADER.unpack(head)[0] if head else None
                if size is not None and size <= MAX_FRAME_BYTES:
                    answer = self._read(size, deadline)
                    if answer is not None:
                        return answer
        except OSError:  # a broken pipe: the process is gone
            pass
        self.stop()
        return None

    def _wait_for(self, fd: int, event: int, deadline: float) -> bool:
        poller = select.poll()
        poller.register(fd, event)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stopped_by_us = True
                return False
            if poller.poll(left * 1000):
                return True

    def _write(self, data: bytes, deadline: float) -> bool:
        view = memoryview(data)
        while view:
            if not self._wait_for(self.send, select.POLLOUT, deadline):
                return False
            try:
                view = view[os.write(self.send, view):]
            except BlockingIOError:
                continue
        return True

    def _read(self, size: int, deadline: float) -> bytes | None:
        chunks, missing = [], size
        while missing:
            if not self._wait_for(self.receive, select.POLLIN, deadline):
                return None
            chunk = os.read(self.receive, min(missing, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> int:
        """Kill the process if it still runs; its exit status (negative: the signal that ended it)."""
        self.alive = False
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait()
        self.close()
        return code

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.close()
            except OSError:
                pass


class ScriptPool:
    def __init__(self) -> None:
        self.codec = Codec(new_tag())
        self._idle: list[_Process] = []
        self._all: set[_Process] = set()
        self._count = 0
        self._cond = threading.Condition()

    def run(self, body: bytes, limits: ScriptLimits) -> dict:
        """Send one encoded request to an idle worker and return its decoded answer."""
        process = self._acquire(limits.workers)
        try:
            raw = process.call(body, wall_seconds(limits))
            answer = self.codec.decode(raw) if raw is not None else self._death(process, limits)
            if answer.get("last"):  # the worker ends after this answer (it ran out of memory)
                process.stop()
        finally:
            self._release(process)
        return answer

    def _death(self, process: _Process, limits: ScriptLimits) -> dict:
        code = process.proc.returncode
        if code == -signal.SIGPROF:  # the worker's CPU timer: a C-level call ran past the limit
            kind, message = "ScriptTimeout", limits.timeout_message()
        elif process.stopped_by_us:
            kind, message = "ScriptTimeout", f"the script did not finish within {wall_seconds(limits):g} s and was stopped"
        else:
            log.warning("a script worker process ended with status %s", code)
            kind, message = "ScriptWorkerDied", f"the script's worker process ended unexpectedly (status {code})"
        return {"ok": False, "type": kind, "message": message, "line": None}

    def _acquire(self, workers: int) -> _Process:
        with self._cond:
            while not self._idle and self._count >= workers:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        return self._spawn()

    def _spawn(self) -> _Process:
        try:
            process = _Process(self.codec.tag)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._all.add(process)
        return process

    def _release(self, process: _Process) -> None:
        if process.alive:
            with self._cond:
                self._idle.append(process)
                self._cond.notify()
            return
        with self._cond:
            self._all.discard(process)
        try:  # a replacement starts now, so the next script does not wait for its start-up
            replacement = _Process(self.codec.tag)
        except OSError:
            log.exception("could not start a script worker process")
            with self._cond:
                self._count -= 1
                self._cond.notify()
            return
        with self._cond:
            self._all.add(replacement)
            self._idle.append(replacement)
            self._cond.notify()

    def close(self) -> None:
        """Close every worker's input: each ends when it has answered what it is doing."""
        with self._cond:
            processes, self._idle, self._all, self._count = list(self._all), [], set(), 0
        for process in processes:
            process.close()


_pool: ScriptPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ScriptPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ScriptPool()
        return _pool


def _forget_after_fork() -> None:
    """A forked child must not share the parent's workers: it closes its copies and starts its own pool."""
    global _pool, _pool_lock
    if _pool is not None:
        for process in list(_pool._all):
            process.close()
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _close_at_exit() -> None:
    if _pool is not None:
        _pool.close()


atexit.register(_close_at_exit)
