from datetime import date

import pytest

from egov.core.workdays import add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 25), 2, date(2026, 11, 27)),  # Wed + 2 = Fri
        (date(2026, 11, 26), 2, date(2026, 11, 30)),  # Thu + 2 skips the weekend
        (date(2026, 11, 6), 1, date(2026, 11, 9)),  # Fri + 1: Sat 7 Nov is also a holiday
        (date(2025, 12, 31), 1, date(2026, 1, 5)),  # 1 and 2 January are holidays
        (date(2026, 1, 6), 1, date(2026, 1, 8)),  # 7 January, Orthodox Christmas
        (date(2026, 4, 24), 1, date(2026, 4, 25)),  # Saturday 25 April is a transferred working day
        (date(2026, 4, 17), 1, date(2026, 4, 22)),  # 20 April moved day off, 21 April Radunitsa
        (date(2026, 11, 29), 0, date(2026, 11, 30)),  # same-day service asked on a Sunday
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
    ],
)
def test_working_days_follow_the_belarusian_calendar(start, days, expected):
    assert add_working_days(start, days) == expected


def test_weekend_and_holidays_are_not_working_days():
    assert not is_working_day(date(2026, 7, 3))  # Independence Day
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert is_working_day(date(2026, 4, 25))  # transferred Saturday


def test_counting_between_dates_is_the_inverse_of_adding():
    start = date(2026, 12, 20)
    for days in range(0, 30):
        end = add_working_days(start, days)
        if days:
            assert working_days_between(start, end) == days
    assert working_days_between(date(2026, 11, 30), date(2026, 11, 25)) == -3
