"""docs/CONTRACT.md is the shared contract, copied verbatim, so a clone has the contract the README links to.

The shared file sits beside the checkout (`../shared/CONTRACT.md`, or two
levels up for a worktree); where none is found the copy is only checked to exist.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / "docs" / "CONTRACT.md"


def _shared() -> Path | None:
    named = os.environ.get("TOVHOLDER_SHARED_CONTRACT")
    candidates = [Path(named)] if named else []
    candidates += [ROOT.parent / "shared" / "CONTRACT.md", ROOT.parent.parent / "shared" / "CONTRACT.md"]
    return next((p for p in candidates if p.is_file()), None)


@pytest.mark.database_free
def test_the_project_keeps_its_copy_of_the_contract():
    assert COPY.is_file()
    assert "# The outside contract" in COPY.read_text(encoding="utf-8")


@pytest.mark.database_free
def test_the_copy_matches_the_shared_contract():
    shared = _shared()
    if shared is None:
        return  # a clone without the shared folder: the copy is the contract
    assert COPY.read_bytes() == shared.read_bytes(), (
        f"docs/CONTRACT.md differs from {shared}: copy it over (cp {shared} docs/CONTRACT.md)")


@pytest.mark.database_free
def test_the_readme_links_the_copy():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/CONTRACT.md)" in readme
