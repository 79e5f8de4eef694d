"""Layering is checked, not hoped for (DESIGN.md): the engine knows nothing of its edges.

`engine/` never imports `api`, `workers`, `tovholder`, FastAPI or Starlette;
`workers/` never imports `api` (nor the web framework). Checked on the source
with `ast`, so an import hidden inside a function counts too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.database_free  # runs in the SQLite half only (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent

RULES = {
    "engine": {"api", "workers", "tovholder", "fastapi", "starlette"},
    "workers": {"api", "tovholder", "fastapi", "starlette"},
}


def imported_modules(path: Path, package_dir: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
    package = parts[:-1]  # the package a relative import starts from (also right for __init__.py)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(package[:len(package) - node.level + 1])
            targets = [node.module] if node.module else [alias.name for alias in node.names]
            found += [(node.lineno, f"{base}.{target}") for target in targets]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            found.append((node.lineno, node.args[0].value))
    return found


def _dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return (name in ("import_module", "__import__") and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def violations(package_dir: Path, forbidden: set[str]) -> list[str]:
    files = sorted(package_dir.rglob("*.py"))
    assert files, f"no Python files under {package_dir}"
    return [f"{path.relative_to(package_dir.parent)}:{line} imports {name}"
            for path in files for line, name in imported_modules(path, package_dir)
            if name.split(".")[0] in forbidden]


@pytest.mark.parametrize("package", sorted(RULES))
def test_layering(package):
    assert violations(ROOT / package, RULES[package]) == []


def test_the_check_catches_forbidden_imports(tmp_path):
    engine = tmp_path / "engine"
    (engine / "sub").mkdir(parents=True)
    (engine / "__init__.py").write_text("")
    (engine / "ok.py").write_text("import sqlalchemy\nfrom . import clock\nfrom .sub import x\n")
    (engine / "sub" / "bad.py").write_text(
        "def later():\n    from fastapi import FastAPI\n"
        "import api.main\nfrom workers.loop import run_forever\nfrom starlette import status\n"
        "import importlib\nimportlib.import_module('api.routes')\nfrom .. import clock\n")
    found = violations(engine, RULES["engine"])
    assert [f.split(" imports ")[1] for f in sorted(found, key=lambda f: int(f.split(":")[1].split()[0]))] == [
        "fastapi", "api.main", "workers.loop", "starlette", "api.routes"]
    assert all(f.startswith("engine/sub/bad.py:") for f in found)


def test_relative_imports_resolve_to_their_package(tmp_path):
    workers = tmp_path / "workers"
    workers.mkdir()
    (workers / "loop.py").write_text("from .timers import fire\nfrom . import timers\n")
    (workers / "__init__.py").write_text("from .loop import run\n")
    assert [n for _, n in imported_modules(workers / "loop.py", workers)] == ["workers.timers", "workers.timers"]
    assert [n for _, n in imported_modules(workers / "__init__.py", workers)] == ["workers.loop"]
