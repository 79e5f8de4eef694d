"""Run Alembic migrations programmatically (no alembic.ini needed).

`upgrade(url)` creates or migrates the schema; it commits its own transaction
because it is itself an edge (the `tovholder db upgrade` command).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", *, forms_dir: Path | str | None = None,
            audit_key: bytes | Callable[[], bytes] | None = None) -> None:
    """`forms_dir`: where migration 0009 reads the forms it stores with versions deployed before it;
    `audit_key`: what migration 0012 hashes the audit events already stored with (Settings.audit_key;
    asked for only when there are any)."""
    cfg = alembic_config(url)
    if forms_dir is not None:
        cfg.attributes["forms_dir"] = str(forms_dir)
    if audit_key is not None:
        cfg.attributes["audit_key"] = audit_key
    command.upgrade(cfg, revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
