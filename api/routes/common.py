"""Shared query parameters for list endpoints (CONTRACT.md: limit ≤ 500, offset)."""
from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=500, description="at most 500")]
Offset = Annotated[int, Query(ge=0)]
