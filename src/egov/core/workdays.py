"""Working days in Belarus: weekends and public holidays off, transferred Saturdays worked.

Deadlines in law are counted in working days. The ``holidays`` package knows Belarus's public
holidays, the days off moved by the government's yearly transfer decrees and the Saturdays
that become working days in exchange (``weekend_workdays``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BY", years=year)


def is_working_day(day: date) -> bool:
    calendar = _calendar(day.year)
    if day in calendar.weekend_workdays:
        return True
    return day.weekday() < 5 and day not in calendar


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start``; with 0, the first working day on or
    after ``start`` (a same-day service asked for on a Sunday is due on Monday)."""
    day = start
    if days == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(start + timedelta(offset))
    )
