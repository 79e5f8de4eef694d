"""How values are shown to people, one way everywhere: Danish dates, numbers and file sizes.

The web UI's Jinja filters (api/web/render.py) and the engine's display of
recorded values (engine.handover.display) both use these, so a date reads
"11. sep. 2026" on every page and in every handover. Pure functions.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import clock

LOCAL = ZoneInfo("Europe/Copenhagen")
MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")


def _local(value: datetime | str | None) -> datetime | None:
    """Rows hold datetimes, engine views ISO strings; both are UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = clock.as_utc(value)
    return value.astimezone(LOCAL) if value is not None else None


def _day(value: date | datetime | str | None) -> date | None:
    if isinstance(value, str) and len(value) == 10:  # a date field's value: a calendar day, no time zone
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        moment = _local(value)
    except ValueError:
        return None
    return moment.date() if moment is not None else None


def dato(value: date | datetime | str | None) -> str:
    """11. sep. 2026 (a date, a moment in Danish time, or their ISO text); — when there is none."""
    day = _day(value)
    if day is None:
        return "—" if value in (None, "") else str(value)
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def tidspunkt(value: datetime | str | None) -> str:
    """11. sep. 2026 kl. 10.05 (Danish uses a full stop between hours and minutes)."""
    moment = _local(value)
    return f"{dato(moment)} kl. {moment:%H.%M}" if moment is not None else "—"


def tal(value: float | int) -> str:
    """12345.5 → "12.345,5"; 12000 → "12.000" (thousands with a full stop, decimals with a comma)."""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.12f}".rstrip("0").rstrip(".")
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def filstoerrelse(size: int) -> str:
    """800 → "800 bytes"; 1.536 bytes → "1,5 kB"; 5.242.880 → "5,0 MB" (Danish decimal comma)."""
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    value, unit = (size / 1048576, "MB") if size >= 1048576 else (size / 1024, "kB")
    return f"{value:.1f} {unit}".replace(".", ",")
