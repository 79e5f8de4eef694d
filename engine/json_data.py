"""Task and case data as plain JSON: what the API answers and the database keeps.

Pure functions; no database.
"""
from __future__ import annotations

import json
from typing import Any


def to_plain_json(value: Any) -> Any:
    """Task data as plain JSON for the API (dates become ISO strings)."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: object) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
