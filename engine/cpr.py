"""CPR numbers: validation, normal form and masking.

A CPR number is DDMMYY-SSSS in ASCII digits (only those: a CPR typed in
other digits is refused, not read as the same number). The first serial digit fixes the century
(CPR-kontoret's table), so the date can be checked exactly. The modulus-11
check is not applied: numbers issued since 2007 need not satisfy it.
Never log a CPR number; show `cpr_masked` instead.
"""
from __future__ import annotations

import re
from datetime import date

# ASCII digits only: without re.ASCII, \d also matches full-width (０), Arabic-Indic (٠) and other
# digits, and int() reads them, so one citizen could be stored twice under two spellings. \Z, not $,
# which would let a trailing newline through.
_CPR = re.compile(r"(\d{2})(\d{2})(\d{2})-?(\d{4})\Z", re.ASCII)


class InvalidCpr(ValueError):
    pass


def _century(year2: int, first_serial_digit: int) -> int:
    if first_serial_digit <= 3:
        return 1900
    if first_serial_digit in (4, 9):
        return 2000 if year2 <= 36 else 1900
    return 2000 if year2 <= 57 else 1800


def normalize(value: object) -> str:
    """Return the ten digits of a valid CPR number, or raise InvalidCpr (without echoing it)."""
    if not isinstance(value, str):
        raise InvalidCpr("CPR must be a string of 10 digits, DDMMYY-XXXX or DDMMYYXXXX")
    match = _CPR.match(value.strip())
    if not match:
        raise InvalidCpr("CPR must be 10 digits 0-9, DDMMYY-XXXX or DDMMYYXXXX")
    day, month, year2, serial = match.groups()
    year = _century(int(year2), int(serial[0])) + int(year2)
    try:
        date(year, int(month), int(day))
    except ValueError:
        raise InvalidCpr("CPR does not start with a valid date (DDMMYY)") from None
    return f"{day}{month}{year2}{serial}"


def mask(digits: str) -> str:
    return f"{digits[:6]}-****"


def birth_date(digits: str) -> date:
    year2, serial0 = int(digits[4:6]), int(digits[6])
    return date(_century(year2, serial0) + year2, int(digits[2:4]), int(digits[0:2]))
