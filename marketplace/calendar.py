"""The run's calendar: sim time ↔ dates, and deadlines counted in working days.

A scenario starts on ``run.start_date``; sim day 0.0 is its midnight. Regulators count their
periods in working days (the 2022 Security Assessment Measures Art. 7 and 12; the Standard
Contract Measures Art. 7), so a mechanism filed at some time completes at the start of the day
after the last of its working days. Working days are Monday to Friday minus the public holidays,
plus the weekend make-up working days (调休) the State Council announces, as published in the
``holidays`` package (``holidays.country_holidays("CN")``; years beyond the published schedule
fall back to the statutory holidays computed by rule).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

__all__ = ["DAY_SECONDS", "Calendar"]

DAY_SECONDS = 86_400


@lru_cache(maxsize=8)
def _holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


class Calendar:
    """Dates and working days of one run."""

    def __init__(self, start: dt.date, country: str = "CN") -> None:
        self.start = start
        self.country = country
        self._days = _holidays(country)
        self._working: dict[dt.date, bool] = {}

    def date_at(self, seconds: int) -> dt.date:
        """The calendar date of sim time ``seconds``."""
        return self.start + dt.timedelta(days=seconds // DAY_SECONDS)

    def seconds_at(self, date: dt.date) -> int:
        """Sim time of the midnight that starts ``date``."""
        return (date - self.start).days * DAY_SECONDS

    def is_working_day(self, date: dt.date) -> bool:
        known = self._working.get(date)
        if known is None:
            known = self._working[date] = bool(self._days.is_working_day(date))
        return known

    def after_working_days(self, seconds: int, working_days: int) -> int:
        """When ``working_days`` full working days after sim time ``seconds`` have passed.

        Counting starts on the day after ``seconds`` (a period runs from the day after filing,
        as Chinese administrative periods do), and the result is the midnight ending the last
        working day; 0 working days is ``seconds`` itself.
        """
        if working_days <= 0:
            return seconds
        date = self.date_at(seconds)
        counted = 0
        while counted < working_days:
            date += dt.timedelta(days=1)
            if self.is_working_day(date):
                counted += 1
        return self.seconds_at(date + dt.timedelta(days=1))

    def working_days_between(self, start: int, end: int) -> int:
        """Working days strictly after the day of ``start``, up to and including the day
        before ``end``'s (the inverse of :meth:`after_working_days` on whole days)."""
        first = self.date_at(start) + dt.timedelta(days=1)
        last = self.date_at(end) - dt.timedelta(days=1)
        count = 0
        while first <= last:
            count += self.is_working_day(first)
            first += dt.timedelta(days=1)
        return count
