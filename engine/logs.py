"""Logging that never carries a CPR number.

CONTRACT.md has `GET /api/cases?cpr=`, so a CPR can reach an access-log line;
`install()` masks anything shaped like one in every record the process emits.

It wraps the log-record factory rather than adding filters to loggers or
handlers: a logger's filter does not see records that propagate from its
children, and a handler's filter misses handlers added later (uvicorn's own
logging setup, `logging.basicConfig`, a test's capture handler). The record
keeps its shape: uvicorn's access formatter unpacks `record.args`, so the
arguments are masked one by one instead of being merged into the message.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_CPR_LIKE = re.compile(r"(?<!\d)(\d{6})-?(\d{4})(?!\d)")
_PLAIN = (int, float, bool, type(None))


def mask_cpr(text: str) -> str:
    return _CPR_LIKE.sub(r"\1-****", text)


def _mask_value(value):
    if isinstance(value, str):
        return mask_cpr(value)
    if isinstance(value, _PLAIN):
        return value  # keeps %d and %f working; digits alone are not read as a CPR
    text = str(value)
    masked = mask_cpr(text)
    return value if masked == text else masked


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask CPR-like text in a record's message, arguments, traceback and stack, in place."""
    if isinstance(record.msg, str):
        record.msg = mask_cpr(record.msg)
    elif record.msg is not None and not isinstance(record.msg, _PLAIN):
        record.msg = _mask_value(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_mask_value(a) for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _mask_value(v) for k, v in record.args.items()}
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text, so the traceback is rendered (masked) once here.
        record.exc_text = mask_cpr(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_cpr(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_cpr(record.stack_info)
    return record


class CprMaskingFilter(logging.Filter):
    """The same masking as a filter, for a handler that wants it explicitly."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install() -> None:
    """Mask every log record created from now on in this process (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_cpr", False):
        return

    def masking_factory(*args, **kwargs) -> logging.LogRecord:
        return mask_record(factory(*args, **kwargs))

    masking_factory.masks_cpr = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
