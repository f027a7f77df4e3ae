"""Chinese working days for 公示, on the State Council's 2026 arrangement as shipped by chinesecalendar."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.programme import (
    CalendarNotCovered,
    add_working_days,
    calendar_info,
    is_working_day,
    publicity_period,
    working_days_between,
)


def test_the_calendar_covers_2026_and_names_itself():
    info = calendar_info()
    assert info.library == "chinesecalendar" and info.first_year <= 2025 and info.last_year >= 2026


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 2, 14), True),  # Saturday, 调休 before 春节
        (date(2026, 2, 16), False),  # Monday in the Spring Festival holiday (15–23 February)
        (date(2026, 2, 23), False),  # last holiday day
        (date(2026, 2, 28), True),  # Saturday, 调休 after 春节
        (date(2026, 9, 20), True),  # Sunday, 调休 before 国庆
        (date(2026, 10, 7), False),  # Wednesday in the National Day holiday (1–7 October)
        (date(2026, 10, 10), True),  # Saturday, 调休 after 国庆
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 10, 12), True),  # an ordinary Monday
    ],
)
def test_holidays_and_make_up_working_days_of_2026(day, working):
    assert is_working_day(day) is working


def test_a_publicity_period_across_national_day():
    period = publicity_period(date(2026, 9, 28), 5)
    # 28, 29, 30 September, then 1–7 October off, then 8 and 9 October.
    assert (period.first_day, period.end, period.provisional) == (date(2026, 9, 28), date(2026, 10, 9), False)
    assert working_days_between(date(2026, 9, 27), period.end) == 5


def test_a_publicity_period_across_the_spring_festival_counts_the_make_up_saturday():
    period = publicity_period(date(2026, 2, 12), 5)
    # 12, 13, 14 (调休 Saturday) February, then the holiday, then 24 and 25 February.
    assert period.end == date(2026, 2, 25)
    # Published on the holiday's first day, the period begins on the first working day after it.
    later = publicity_period(date(2026, 2, 15), 5)
    assert (later.first_day, later.end) == (date(2026, 2, 24), date(2026, 2, 28))  # ends on the 调休 Saturday


def test_add_working_days_and_counting_between():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 9), 0) == date(2026, 10, 9)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6  # 14, 24, 25, 26, 27, 28
    assert working_days_between(date(2026, 2, 28), date(2026, 2, 13)) == -6
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


def test_a_year_the_library_does_not_cover_is_an_error_not_a_guess():
    last = calendar_info().last_year
    with pytest.raises(CalendarNotCovered) as err:
        is_working_day(date(last + 1, 1, 4))
    problem = err.value.problems[0]
    assert problem.key == "calendar_not_covered" and problem.params["year"] == last + 1
    with pytest.raises(CalendarNotCovered):
        publicity_period(date(last, 12, 28), 5)
    with pytest.raises(CalendarNotCovered):
        add_working_days(date(last, 12, 28), 10)


def test_the_weekday_fallback_is_visible():
    last = calendar_info().last_year
    period = publicity_period(date(last, 12, 28), 10, fallback="weekdays")
    assert period.provisional and period.uncovered_years == (last + 1,)
    inside = publicity_period(date(last, 3, 2), 5, fallback="weekdays")
    assert not inside.provisional and inside.uncovered_years == ()


@given(st.dates(date(2025, 1, 1), date(2026, 10, 31)), st.integers(0, 30))
def test_counting_undoes_adding(start, n):
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    assert n == 0 or is_working_day(end)
