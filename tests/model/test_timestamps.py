"""Timestamps as Graph writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from graphlang.model.timestamps import format_ticks, inner_error_date, now_ticks, ticks_from_datetime


def test_ticks_format_with_seven_fractional_digits_and_z() -> None:
    assert format_ticks(0) == "1970-01-01T00:00:00.0000000Z"
    assert format_ticks(15_940_172_522_294_868) == "2020-07-06T06:34:12.2294868Z"


def test_now_is_formatted_as_graph_writes_it() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", format_ticks(now_ticks()))


def test_aware_datetimes_round_trip_through_ticks() -> None:
    moment = datetime(2020, 7, 6, 6, 34, 12, 229486, tzinfo=UTC)
    assert format_ticks(ticks_from_datetime(moment)) == "2020-07-06T06:34:12.2294860Z"


def test_ticks_sort_as_time_does() -> None:
    earlier = ticks_from_datetime(datetime(2020, 1, 1, tzinfo=UTC))
    later = ticks_from_datetime(datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=UTC))
    assert earlier < later
    assert format_ticks(earlier) < format_ticks(later)


def test_inner_error_date_has_seconds_and_no_zone() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", inner_error_date())
