"""README's "A first case from the command line", run as written: its shell lines, with curl and jq, against
the demo (`tovholder demo`) served by the test server.

Only `make run &` is left out (the test server stands in for it) and `B` points at that server. The
block's output is the JSON documents its curl calls print, read back in order: the new case, the
jobcenter's open tasks (the new case's task among them) and the case found by its number. The clock
is in 2026, as the block's case number `2026-000001` (the demo's first case) assumes.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from tests.cli.test_cli import ROOT, cli  # noqa: F401 - cli is a fixture

BLOCK = re.compile(r"## A first case from the command line\n+```sh\n(.*?)\n```", re.S)


def readme_block() -> str:
    match = BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no sh block under '## A first case from the command line'"
    return match.group(1)


def documents(text: str) -> list:
    """The JSON documents printed one after another (curl -s prints no newline between them)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(text, at)
        found.append(value)
    return found


def test_the_readmes_command_line_example_works_as_written(cli, live, time_machine):  # noqa: F811
    for tool in ("curl", "jq", "bash"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed; the README's example needs it")
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc), tick=True)
    demo = cli("demo", env={"TOVHOLDER_FORMS_DIR": str(ROOT / "forms")}, unset=("TOVHOLDER_SECRET_KEY",))
    assert demo.returncode == 0, demo.stderr
    lines = readme_block().splitlines()
    assert lines[0].startswith("make run &"), lines[0]  # the test server is already running
    script = "\n".join(["set -eu"] + [line for line in lines[1:] if not line.startswith("B=")])
    done = subprocess.run(["bash", "-c", script], env={"B": f"{live}/api", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    case, tasks, found = documents(done.stdout)
    assert case["process_key"] == "demo_forloeb" and case["status"] == "running", case
    assert case["number"] == "2026-000001" and case["cpr_masked"] == "010190-****"
    assert case["id"] in {t["case_id"] for t in tasks} and {t["status"] for t in tasks} == {"open"}
    assert [c["id"] for c in found] == [case["id"]]
