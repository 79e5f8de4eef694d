"""Typed errors, each with the HTTP status the API answers with.

The engine raises only these (library exceptions are wrapped where they occur);
`api/` turns them into `{"detail": ...}` JSON.
"""
from __future__ import annotations


class EngineError(Exception):
    status = 400

    def __init__(self, message: str, detail: object = None):
        super().__init__(message)
        self.message = message
        self.detail = detail if detail is not None else message


class NotFound(EngineError):
    status = 404


class Forbidden(EngineError):
    status = 403


class Unauthorized(EngineError):
    status = 401


class Conflict(EngineError):
    status = 409


class TaskNotOpen(Conflict):
    pass


class CaseBusy(Conflict):
    """Another change of the same case won the race; retry on fresh state."""


class TooManyRequests(EngineError):
    """Refused for now (a login name locked after repeated failures); `retry_after` is in seconds."""

    status = 429
    retry_after: int | None = None


class Invalid(EngineError):
    status = 422


class InvalidDefinition(Invalid):
    """A diagram refused at deploy; detail is a list of {file, element, line, message}."""


class FormRejected(Invalid):
    """Completion data the task's form refuses; detail is a list of per-field messages."""


class InvalidJson(Invalid):
    """Data strict JSON cannot hold (NaN, Infinity, a lone surrogate); detail is [{field, message}]."""


class ProcessError(EngineError):
    """The diagram failed while running (script, expression, gateway with no path).

    The case keeps its previous state; the error names element and line.
    `case_id` and `actor` are set where the run failed, so the edge can audit
    the failure after rolling the run back (runtime.record_failure).
    """

    status = 422
    detail: dict  # {element, line, message}, and the field for data that cannot be stored
    case_id: str | None = None
    actor: str | None = None

    def __init__(self, message: str, detail: dict):
        super().__init__(message, detail)


class UnstorableData(ProcessError):
    """A run produced data strict JSON cannot hold (a script's NaN or Infinity); nothing is saved.

    The detail names the element whose data holds it and the field (`data.x`).
    """


class TooLarge(EngineError):
    """An upload over the configured size limit; nothing is stored."""

    status = 413


class UnsupportedType(EngineError):
    """An upload whose content is not one of the allowed file types; nothing is stored."""

    status = 415
