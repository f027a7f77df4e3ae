"""Count Chinese working days (statutory holidays and 调休 make-up working days) with the chinesecalendar library.

The library (PyPI ``chinesecalendar``, module ``chinese_calendar``) ships the State Council's yearly arrangement;
1.11.0 covers 2004–2026. A date outside the covered years raises ``CalendarNotCovered`` — never a guess. Only
``publicity_period(..., fallback="weekdays")`` may count uncovered days Monday–Friday, and then says so
(``provisional`` with the uncovered years) so the page can show it until the library is updated.
"""

from __future__ import annotations

from calendar import SATURDAY
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar

from scoring.programme.errors import CalendarNotCovered, Problem

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CalendarInfo:
    """Which calendar counted the days: library, version and the years it covers (for the decision record)."""

    library: str
    version: str
    first_year: int
    last_year: int


@dataclass(frozen=True)
class PublicityPeriod:
    """A 公示 period: ``working_days`` working days from ``first_day`` (the first working day on or after ``start``)
    to ``end`` inclusive; ``provisional`` when uncovered years were counted Monday–Friday."""

    start: date
    first_day: date
    end: date
    working_days: int
    provisional: bool
    uncovered_years: tuple[int, ...]
    calendar: CalendarInfo


@cache
def calendar_info() -> CalendarInfo:
    """Return the calendar library's name, version and covered years."""
    years = [d.year for d in chinese_calendar.holidays]
    return CalendarInfo("chinesecalendar", chinese_calendar.__version__, min(years), max(years))


def is_working_day(day: date) -> bool:
    """Return whether ``day`` is a working day in mainland China (a 调休 Saturday is; a holiday weekday is not).

    :raises CalendarNotCovered: for a year the library does not cover.
    """
    info = calendar_info()
    if not info.first_year <= day.year <= info.last_year:
        raise CalendarNotCovered([_uncovered(day.year, info)])
    return bool(chinese_calendar.is_workday(day))


def add_working_days(start: date, n: int) -> date:
    """Return the date ``n`` working days after ``start`` (``start`` itself is not counted; n = 0 gives ``start``).

    :raises CalendarNotCovered: if the count reaches a year the library does not cover.
    :raises ValueError: for a negative ``n``.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n > 0:
        day += ONE_DAY
        n -= is_working_day(day)
    return day


def working_days_between(a: date, b: date) -> int:
    """Return the number of working days d with a < d ≤ b (negative when b is before a).

    ``working_days_between(a, add_working_days(a, n)) == n`` for every n.

    :raises CalendarNotCovered: if a day in between lies in a year the library does not cover.
    """
    if b < a:
        return -working_days_between(b, a)
    count, day = 0, a
    while day < b:
        day += ONE_DAY
        count += is_working_day(day)
    return count


def publicity_period(start: date, n: int, fallback: str = "error") -> PublicityPeriod:
    """Return the 公示 period of ``n`` working days that begins on ``start`` (or its next working day).

    ``fallback="weekdays"`` counts days of uncovered years Monday–Friday and marks the period provisional.

    :raises CalendarNotCovered: (default) if the period touches a year the library does not cover.
    :raises ValueError: for n < 1 or an unknown fallback.
    """
    if n < 1 or fallback not in ("error", "weekdays"):
        raise ValueError("n must be at least 1 and fallback 'error' or 'weekdays'")
    uncovered: set[int] = set()

    def working(day: date) -> bool:
        """Return whether ``day`` counts, falling back to Monday–Friday for uncovered years when allowed."""
        try:
            return is_working_day(day)
        except CalendarNotCovered:
            if fallback == "error":
                raise
            uncovered.add(day.year)
            return day.weekday() < SATURDAY

    first = start
    while not working(first):
        first += ONE_DAY
    end, left = first, n - 1
    while left > 0:
        end += ONE_DAY
        left -= working(end)
    years = tuple(sorted(uncovered))
    return PublicityPeriod(start, first, end, n, bool(years), years, calendar_info())


def _uncovered(year: int, info: CalendarInfo) -> Problem:
    values = {"year": year, "first_year": info.first_year, "last_year": info.last_year, "version": info.version}
    return Problem("calendar_not_covered", "date", values)
