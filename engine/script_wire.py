"""The protocol between the server and its script worker processes (engine.script_pool, engine.script_worker).

One request and one answer at a time over a pipe; each message is a frame: a
4-byte big-endian length, then that many bytes of JSON. Task data is JSON
already; the few other values a script helper hands out (date, datetime,
timedelta, set) travel tagged as `{TAG: kind, "v": ...}` so an expression's
value arrives as it was computed. The tag key is random per server process
and handed to the worker when it starts, so no task data can spell it. Pure
functions; no I/O except the frame helpers' file descriptors.
"""
from __future__ import annotations

import json
import os
import secrets
import struct
from datetime import date, datetime, timedelta
from typing import Any

HEADER = struct.Struct("!I")
MAX_RESULT_BYTES = 16 * 1024 * 1024  # what a script may hand back; above it the script fails
MAX_FRAME_BYTES = MAX_RESULT_BYTES + 1024 * 1024
TAG_VARIABLE = "TOVHOLDER_SCRIPT_TAG"  # how the pool hands a new worker the tag key


def new_tag() -> str:
    return "\u00a7tovholder-" + secrets.token_hex(8)


class Codec:
    def __init__(self, tag: str):
        self.tag = tag

    def _tagged(self, value: object) -> dict:
        if isinstance(value, datetime):
            return {self.tag: "datetime", "v": value.isoformat()}
        if isinstance(value, date):
            return {self.tag: "date", "v": value.isoformat()}
        if isinstance(value, timedelta):
            return {self.tag: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
        if isinstance(value, (set, frozenset)):
            return {self.tag: "set", "v": list(value)}
        raise TypeError(f"a {type(value).__name__} cannot leave the sandbox")

    def _untag(self, obj: dict) -> Any:
        kind = obj.get(self.tag)
        if kind is None:
            return obj
        value = obj["v"]
        if kind == "datetime":
            return datetime.fromisoformat(value)
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "timedelta":
            return timedelta(*value)
        return set(value)

    def encode(self, message: dict) -> bytes:
        return json.dumps(message, default=self._tagged, separators=(",", ":")).encode("ascii")

    def decode(self, raw: bytes) -> dict:
        return json.loads(raw, object_hook=self._untag)


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_exactly(fd: int, size: int) -> bytes | None:
    """Blocking read of `size` bytes (the worker's side); None at end of input."""
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
