"""The working-day calendar: Monday to Friday, less Vietnamese public holidays.

Holidays (with their observed days) come from the maintained `holidays`
library. Weekend days that the government turns into working days to bridge a
holiday are *not* counted as working days: `metrics.md` defines a working day
as Monday-Friday that is not a holiday, and we follow it to the letter.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _vn_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


def holiday_name(day: dt.date) -> str | None:
    name = _vn_holidays().get(day)
    return str(name) if name else None


@lru_cache(maxsize=8192)
def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _vn_holidays()


def next_working_day(day: dt.date) -> dt.date:
    """`day` itself when it is a working day, else the next one."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `day` (0: `day` or the next working day)."""
    current = next_working_day(day)
    for _ in range(count):
        current = next_working_day(current + dt.timedelta(days=1))
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days d with start < d <= end (0 when end <= start)."""
    count = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count
