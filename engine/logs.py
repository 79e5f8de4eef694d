"""Logging that never carries a CPR number.

CONTRACT.md has `GET /api/cases?cpr=`, so a CPR can reach an access-log line;
`install()` masks anything shaped like one in every record the process emits,
also when percent-encoding hides it, and the value of any `cpr=` parameter.

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
from typing import Any

# \d without re.ASCII on purpose: a number written in other digits (full-width ０) is masked too. A UUID
# (a user's, a case's, a task's id) is matched first and kept: its last group can hold ten digits in a row
# after a letter ("…-2a0978443722"), which alone looks like a CPR number and made the id unreadable.
_CPR_LIKE = re.compile(r"(?P<uuid>(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                       r"[0-9A-Fa-f]{12}(?![0-9A-Fa-f-]))|(?<!\d)(\d{6})-?(\d{4})(?!\d)")
# The value of a `cpr` query parameter, whatever it holds (a mistyped CPR is personal data too).
_CPR_PARAM = re.compile(r"(?<![A-Za-z0-9_.~-])(cpr=)([^&#\s\"']+)", re.IGNORECASE)
_MASKED = re.compile(r"\d{6}-\*{4}")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PLAIN = (int, float, bool, type(None))


def mask_cpr(text: str) -> str:
    """Mask CPR-shaped numbers and `cpr=` values, also where percent-encoding hides them.

    uvicorn logs the query string as sent, so `?cpr=090990%2D9012` or
    `?cpr=%30909909012` (even double-encoded, `%2530...`) hold a full number
    that no pattern sees in the raw text. When decoding the escapes shows
    something to mask, the line is logged decoded and masked; escapes of
    spaces and control characters stay encoded, so a line cannot be split.
    """
    masked = _mask_plain(text)
    if "%" not in masked:
        return masked
    decoded = _unescape(masked)
    if decoded == masked:
        return masked
    remasked = _mask_plain(decoded)
    return remasked if remasked != decoded else masked


def _mask_plain(text: str) -> str:
    return _CPR_PARAM.sub(_mask_param, _CPR_LIKE.sub(_mask_number, text))


def _mask_number(match: re.Match) -> str:
    return match.group("uuid") or f"{match.group(2)}-****"


def _mask_param(match: re.Match) -> str:
    value = match.group(2)
    return match.group(1) + (value if _MASKED.fullmatch(value) else "***")


def _unescape(text: str, rounds: int = 3) -> str:
    """Percent-escapes of printable, non-space characters decoded, `rounds` times over (double encoding)."""
    for _ in range(rounds):
        decoded = _ESCAPES.sub(_unescape_run, text)
        if decoded == text:
            break
        text = decoded
    return text


def _unescape_run(match: re.Match) -> str:
    raw = bytes.fromhex(match.group().replace("%", ""))
    out = []
    for char in raw.decode("utf-8", "surrogateescape"):
        if char.isprintable() and not char.isspace():  # lone surrogates (undecodable bytes) are not printable
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogateescape")))
    return "".join(out)


def _mask_value(value: object) -> object:
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

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(factory(*args, **kwargs))

    masking_factory.masks_cpr = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
