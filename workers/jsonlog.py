"""Structured logs for the worker: one JSON object per line on stderr.

CPR numbers never reach them: engine.logs.install() masks every record at
creation (message, arguments and extra fields) before this formatter sees it.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from engine.logs import install as mask_cpr_in_logs
from engine.logs import mask_cpr

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# extra fields a library may attach that hold case data (SpiffWorkflow's task records): never written
_PERSONAL = {"data", "internal_data"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": mask_cpr(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _PERSONAL and not key.startswith("_"):
                entry[key] = value if isinstance(value, (int, float, bool, type(None))) else mask_cpr(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: a traceback may quote case data
        return json.dumps(entry, ensure_ascii=False)


def setup(level: int = logging.INFO) -> None:
    mask_cpr_in_logs()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SpiffWorkflow logs every task state change at INFO, with the task's data: far too much, and personal
    logging.getLogger("spiff").setLevel(logging.WARNING)
