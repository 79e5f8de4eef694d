"""Logging that never carries a CPR number.

CONTRACT.md has `GET /api/cases?cpr=`, so a CPR can reach an access-log line;
this filter masks anything shaped like one in every record we emit.
"""
from __future__ import annotations

import logging
import re

_CPR_LIKE = re.compile(r"(?<!\d)(\d{6})-?(\d{4})(?!\d)")


def mask_cpr(text: str) -> str:
    return _CPR_LIKE.sub(r"\1-****", text)


class CprMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = mask_cpr(str(record.msg))
        return True


def install() -> None:
    masking = CprMaskingFilter()
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "tovholder", ""):
        logger = logging.getLogger(name)
        if not any(isinstance(f, CprMaskingFilter) for f in logger.filters):
            logger.addFilter(masking)
        for handler in logger.handlers:
            if not any(isinstance(f, CprMaskingFilter) for f in handler.filters):
                handler.addFilter(masking)
