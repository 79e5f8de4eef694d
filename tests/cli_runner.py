"""Running the `tovholder` command in tests: in this process for most calls, as a real subprocess for some.

A subprocess costs a fresh interpreter that imports SQLAlchemy, SpiffWorkflow and alembic again (about
0.7 s of CPU, several seconds on two shared cores), and there hashes passwords at the production cost:
the CLI tests spent two thirds of the suite's time doing that. `run` calls `tovholder.cli.main` here
instead, with what a process of its own would have: the environment given (and nothing else of the
developer's TOVHOLDER_* or DATABASE_URL), the working directory given (so no `.env` is read), standard
input, and its own standard output and error. A warning logged without a handler reaches standard error
as Python's last-resort handler would print it, so "one line on stderr" means the same in here.

In this process `serve` and `worker` run up to the point where they would start the server or the
loop (and the worker's JSON logging): there the call fails the test, so a refusal that no longer
refuses fails at once instead of serving inside the test. `real=True` runs the installed console
script as a subprocess: a `serve` or `worker` that is meant to run, and a few calls in each CLI test
file, so the console script itself stays tested. TEST_CLI_SUBPROCESS=1 makes every call a real
subprocess, as all were before: the CLI tests pass both ways.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ALL_REAL = os.environ.get("TEST_CLI_SUBPROCESS", "") not in ("", "0")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def command() -> list[str]:
    """The installed console script (or `python -m tovholder` where there is none)."""
    script = Path(sys.executable).parent / "tovholder"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tovholder"]


def run(args: tuple[str, ...] | list[str], *, env: dict[str, str], cwd: Path, stdin: str = "",
        real: bool = False, timeout: float = 60) -> Result:
    """Run `tovholder ARGS` with exactly `env` as its environment."""
    args = list(args)
    if real or ALL_REAL:
        done = subprocess.run([*command(), *args], input=stdin, capture_output=True, text=True, cwd=cwd,
                              env=env, timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)
    return _in_process(args, env=env, cwd=cwd, stdin=stdin)


class WouldStart(AssertionError):
    pass


def _would_start(what: str):
    def refuse(*_args, **_kwargs):
        raise WouldStart(f"`tovholder` would start {what} in the test process; run it with real=True")
    return refuse


def _in_process(args: list[str], *, env: dict[str, str], cwd: Path, stdin: str) -> Result:
    import uvicorn

    import workers.jsonlog
    import workers.loop
    from tovholder.cli import main

    out, err = io.StringIO(), io.StringIO()
    last_resort = logging.StreamHandler(err)  # what logging.lastResort prints when no handler is set up
    last_resort.setLevel(logging.WARNING)
    root = logging.getLogger()
    with pytest.MonkeyPatch.context() as mp:
        for name in set(os.environ) - set(env):
            mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        mp.chdir(cwd)
        mp.setattr(sys, "stdin", io.StringIO(stdin))
        mp.setattr(uvicorn, "run", _would_start("the web server"))
        mp.setattr(workers.loop, "run_forever", _would_start("the worker loop"))
        mp.setattr(workers.jsonlog, "setup", _would_start("the worker's logging"))
        root.addHandler(last_resort)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(args)
                except SystemExit as exc:  # argparse's --help
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            root.removeHandler(last_resort)
    return Result(code, out.getvalue(), err.getvalue())
