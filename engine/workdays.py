"""Working days in Denmark: weekends, public holidays, and the days the municipality is closed.

Public holidays come from the maintained `holidays` library (Easter-based
days, Kristi himmelfartsdag, pinse, jul). Store Bededag is gone from 2024,
which the library knows. Municipal offices also close on Grundlovsdag,
juleaftensdag and nytårsaftensdag; those are configurable (`closed_days`,
MM-DD) because practice differs between municipalities. Pure functions; no I/O.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# Imported here, not on the first call: the first country_holidays() imports every country's
# module (some 200), and when that first call came from a deadline() in a timer expression it ran
# under the script sandbox's tracer (engine.scripting), which made it slow enough to trip the 2 s
# script limit on a busy machine: the step failed with ScriptTimeout.
from holidays.countries.denmark import Denmark

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
DEFAULT_CLOSED_DAYS = ("06-05", "12-24", "12-31")


class WorkCalendar:
    def __init__(self, closed_days: tuple[str, ...] = DEFAULT_CLOSED_DAYS):
        self.closed_days = tuple(closed_days)
        for md in self.closed_days:
            datetime.strptime(f"2000-{md}", "%Y-%m-%d")  # refuse a malformed MM-DD early

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        if day in _public_holidays(day.year):
            return False
        return day.strftime("%m-%d") not in self.closed_days

    def add_working_days(self, start: date, count: int) -> date:
        """The day `count` working days after `start` (start itself is not counted)."""
        if count < 0:
            raise ValueError("count must be zero or more")
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_before(self, end: date, count: int) -> date:
        """The day `count` working days before `end` (end itself is not counted)."""
        if count < 0:
            raise ValueError("count must be zero or more")
        day = end
        while count > 0:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def holiday_name(self, day: date) -> str | None:
        return _public_holidays(day.year).get(day)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> Denmark:
    return Denmark(years=[year], language="da")


def end_of_day(day: date) -> datetime:
    """A deadline on a day ends when that day ends in Denmark (as an aware datetime)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=DANISH_TIME)


def local_date(moment: datetime) -> date:
    return moment.astimezone(DANISH_TIME).date()
