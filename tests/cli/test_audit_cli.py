"""`tovholder audit verify` and `tovholder audit checkpoint` as a subprocess against the test's database.

The events are written by the test's sessions under the test audit key, so
the command runs with the same TOVHOLDER_SECRET_KEY the key derives from.
"""
from __future__ import annotations

import json

import pytest

from tests import audit_tamper as tamper
from tests import factories as f
from tests.conftest import TEST_SECRET, audit_key_for_tests
from tests.engine.test_audit_chain import case_id, users  # noqa: F401 - fixtures

from .test_cli import assert_one_line_error, cli  # noqa: F401 - fixture

SAME_KEY = {"TOVHOLDER_SECRET_KEY": TEST_SECRET}


@pytest.fixture
def audit(cli):  # noqa: F811 - the fixture imported above
    return lambda *args: cli("audit", *args, env=SAME_KEY)


def test_intact_chains_verify(audit, case_id, session, users):  # noqa: F811
    f.start_case(session, "intake", actor=users["jc"])
    result = audit("verify")
    assert result.returncode == 0, result
    assert "2 audit chain(s)" in result.stdout and "intact" in result.stdout
    assert audit("verify", "--case", case_id).stdout.startswith("1 audit chain(s)")


@pytest.mark.parametrize("attack,seq", [
    (lambda db, case_id: tamper.change(db, case_id, 2, actor="mallory"), 2),
    (lambda db, case_id: tamper.remove(db, case_id, 3), 3),
    (lambda db, case_id: tamper.insert(db, case_id, 4), 4),
])
def test_a_broken_chain_exits_non_zero_naming_its_seq(audit, db, case_id, session, users, attack, seq):  # noqa: F811
    other = f.start_case(session, "intake", actor=users["jc"]).id
    attack(db, case_id)
    for args in (("verify",), ("verify", "--case", case_id)):
        result = audit(*args)
        assert result.returncode == 1, result
        assert f"case {case_id}: broken at seq {seq}" in result.stdout
        assert other not in result.stdout
        assert_one_line_error(result, "1 of", "broken")
    assert audit("verify", "--case", other).returncode == 0


def test_the_wrong_key_breaks_every_chain(cli, case_id):  # noqa: F811
    result = cli("audit", "verify")  # the CLI tests' own secret key: not the one the events were written with
    assert result.returncode == 1 and f"case {case_id}: broken at seq 1" in result.stdout


def test_a_checkpoint_finds_a_rewritten_chain(audit, db, case_id, session, users, tmp_path):  # noqa: F811
    checkpoint = tmp_path / "checkpoint.json"
    written = audit("checkpoint", "--out", str(checkpoint))
    assert written.returncode == 0, written
    assert "checkpoint of 1 audit chain(s)" in written.stdout
    document = json.loads(checkpoint.read_text())
    assert set(document) == {"format", "created_at", "cases", "heads", "signature"}
    f.start_case(session, "intake", actor=users["jc"])  # chains that grow, or are new, are no finding
    assert audit("verify", "--checkpoint", str(checkpoint)).returncode == 0
    tamper.rewrite_chain(db, audit_key_for_tests(), case_id, 2, actor="mallory")
    assert audit("verify").returncode == 0  # the chain alone cannot tell
    result = audit("verify", "--checkpoint", str(checkpoint))
    assert result.returncode == 1
    assert f"case {case_id}: against the checkpoint" in result.stdout and "rewritten" in result.stdout
    assert_one_line_error(result, "differ from the checkpoint")
    assert audit("verify", "--case", case_id, "--checkpoint", str(checkpoint)).returncode == 1


def test_a_changed_or_missing_checkpoint_file_is_refused(audit, case_id, tmp_path):  # noqa: F811
    checkpoint = tmp_path / "checkpoint.json"
    audit("checkpoint", "--out", str(checkpoint))
    document = json.loads(checkpoint.read_text())
    document["heads"][case_id]["seq"] = 1
    checkpoint.write_text(json.dumps(document))
    assert_one_line_error(audit("verify", "--checkpoint", str(checkpoint)), "signature")
    checkpoint.write_text("{")
    assert_one_line_error(audit("verify", "--checkpoint", str(checkpoint)), "not JSON")
    assert_one_line_error(audit("verify", "--checkpoint", str(tmp_path / "gone.json")), "gone.json")


def test_bad_input_is_one_line(audit, case_id):  # noqa: F811
    assert_one_line_error(audit("verify", "--case", "ukendt"), "not found")
    assert_one_line_error(audit("checkpoint"), "--out")
    assert_one_line_error(audit("sign"), "invalid choice")
