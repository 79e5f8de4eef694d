"""The first deadline() a process evaluates must not pay for importing the holiday library under the sandbox.

country_holidays() imports every country's module on its first call; when that call came from a
timer expression it ran under engine.scripting's tracer and could take longer than the script
limit on a busy machine (a migration test hit ScriptTimeout at load 15). engine.workdays now
imports the Danish calendar itself. A fresh interpreter shows it: with the limit at a quarter of a
second the first deadline() still answers.
"""
from __future__ import annotations

import subprocess
import sys

from tests import factories as f

PROBE = """
from engine import scripting
ctx = scripting.ScriptContext(limits=scripting.ScriptLimits(cpu_seconds=0.25))
try:
    print(scripting.evaluate(ctx, 'deadline("P5D working")', {}))
except scripting.ScriptTimeout:
    print("timeout")
"""


def test_the_first_deadline_in_a_fresh_process_is_not_slowed_by_the_holiday_import():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=f.ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != "timeout"
    assert done.stdout.strip().endswith("T23:59:59+01:00") or done.stdout.strip().endswith("T23:59:59+02:00")
