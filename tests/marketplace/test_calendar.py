"""Dates and working days, against the State Council's published holiday schedules."""

from __future__ import annotations

import datetime as dt

from marketplace.calendar import DAY_SECONDS, Calendar


def test_sim_time_maps_to_dates() -> None:
    calendar = Calendar(dt.date(2024, 3, 20))
    assert calendar.date_at(0) == dt.date(2024, 3, 20)
    assert calendar.date_at(2 * DAY_SECONDS + 5) == dt.date(2024, 3, 22)
    assert calendar.seconds_at(dt.date(2024, 3, 22)) == 2 * DAY_SECONDS


def test_weekends_holidays_and_make_up_days() -> None:
    calendar = Calendar(dt.date(2024, 1, 1))
    assert not calendar.is_working_day(dt.date(2024, 1, 1))  # New Year's Day
    assert calendar.is_working_day(dt.date(2024, 1, 2))
    assert not calendar.is_working_day(dt.date(2024, 1, 6))  # a Saturday
    assert not calendar.is_working_day(dt.date(2024, 2, 12))  # Spring Festival
    assert calendar.is_working_day(dt.date(2024, 2, 4))  # a Sunday worked to make up for it
    assert not calendar.is_working_day(dt.date(2024, 10, 3))  # National Day week
    assert calendar.is_working_day(dt.date(2024, 10, 12))  # its make-up Saturday


def test_deadlines_in_working_days() -> None:
    calendar = Calendar(dt.date(2024, 9, 27))  # a Friday before National Day
    filed = 10 * 3600
    # Sun 29 Sep is a make-up working day (1), Mon 30 (2); 1-7 Oct are off; Tue 8 Oct (3)
    done = calendar.after_working_days(filed, 3)
    assert calendar.date_at(done) == dt.date(2024, 10, 9)  # the midnight after 8 Oct
    assert calendar.working_days_between(filed, done) == 3
    assert calendar.after_working_days(filed, 0) == filed
    ten = calendar.after_working_days(0, 10)
    assert calendar.working_days_between(0, ten) == 10
