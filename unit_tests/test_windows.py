"""`wall_clock_window` (`components/windows.py`): the wall-clock window a slice is asked as, in any time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import List
from zoneinfo import ZoneInfo

import pytest

from source_8x8_cdr.components.timeutil import parse_utc
from source_8x8_cdr.components.windows import wall_clock_window
from unit_tests.component_inputs import NEW_YORK, UTC


def _readings(wall: datetime, zone: ZoneInfo) -> List[datetime]:
    """Both UTC instants a wall-clock time can mean in `zone` (the same one twice outside a fold)."""
    return [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]


def _assert_covers(start: datetime, end: datetime, zone: ZoneInfo) -> None:
    wall_start, wall_end = wall_clock_window(start, end, zone)
    assert max(_readings(wall_start, zone)) <= start
    assert min(_readings(wall_end, zone)) > end


class TestWallClockWindow:
    def test_given_utc_day_when_window_then_start_kept_and_end_pushed_to_next_second(self) -> None:
        window = wall_clock_window(parse_utc("2026-06-01T00:00:00Z"), parse_utc("2026-06-01T23:59:59.999Z"), ZoneInfo("UTC"))

        assert window == (datetime(2026, 6, 1, 0, 0, 0), datetime(2026, 6, 2, 0, 0, 0))

    def test_given_bounds_with_milliseconds_when_window_then_start_floored_and_end_plus_one_second_floored(self) -> None:
        window = wall_clock_window(parse_utc("2026-06-01T10:15:30.750Z"), parse_utc("2026-06-01T12:00:00.000Z"), ZoneInfo("UTC"))

        assert window == (datetime(2026, 6, 1, 10, 15, 30), datetime(2026, 6, 1, 12, 0, 1))

    def test_given_fixed_offset_zone_when_window_then_shifted_by_offset(self) -> None:
        window = wall_clock_window(parse_utc("2026-06-01T00:00:00Z"), parse_utc("2026-06-01T23:59:59.999Z"), ZoneInfo("Asia/Kolkata"))

        assert window == (datetime(2026, 6, 1, 5, 30, 0), datetime(2026, 6, 2, 5, 30, 0))

    def test_given_sao_paulo_when_window_then_three_hours_behind(self) -> None:
        window = wall_clock_window(parse_utc("2026-06-01T00:00:00Z"), parse_utc("2026-06-01T23:59:59.999Z"), ZoneInfo("America/Sao_Paulo"))

        assert window == (datetime(2026, 5, 31, 21, 0, 0), datetime(2026, 6, 1, 21, 0, 0))

    def test_given_slice_over_new_york_dst_fold_when_window_then_widened_to_cover_both_readings(self) -> None:
        # 2026-11-01 01:30 happens twice in New York: 05:30Z (EDT) and 06:30Z (EST).
        start, end = parse_utc("2026-11-01T05:30:00Z"), parse_utc("2026-11-01T06:30:00Z")

        window = wall_clock_window(start, end, NEW_YORK)

        assert window == (datetime(2026, 11, 1, 0, 30, 0), datetime(2026, 11, 1, 2, 30, 1))
        _assert_covers(start, end, NEW_YORK)

    @pytest.mark.parametrize(
        "start, end",
        [
            ("2026-11-01T06:30:00Z", "2026-11-01T06:45:00Z"),  # both bounds in the second reading (EST)
            ("2026-11-01T04:00:00Z", "2026-11-01T05:10:00Z"),  # the end in the first reading (EDT)
            ("2026-11-01T06:59:59.500Z", "2026-11-01T07:30:00Z"),  # the start in the fold's last second
            ("2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"),  # across the spring-forward gap
        ],
    )
    def test_given_slice_near_a_dst_change_when_window_then_every_reading_covers_the_slice(self, start: str, end: str) -> None:
        _assert_covers(parse_utc(start), parse_utc(end), NEW_YORK)

    def test_given_slice_away_from_dst_change_when_window_then_not_widened(self) -> None:
        window = wall_clock_window(parse_utc("2026-11-01T12:00:00Z"), parse_utc("2026-11-01T13:00:00Z"), NEW_YORK)

        assert window == (datetime(2026, 11, 1, 7, 0, 0), datetime(2026, 11, 1, 8, 0, 1))

    def test_given_end_padding_when_window_then_end_pushed_by_padding_and_one_second(self) -> None:
        window = wall_clock_window(
            parse_utc("2026-06-01T00:00:00Z"), parse_utc("2026-06-01T23:59:59.999Z"), ZoneInfo("UTC"), end_padding=timedelta(minutes=60)
        )

        assert window == (datetime(2026, 6, 1, 0, 0, 0), datetime(2026, 6, 2, 1, 0, 0))

    def test_given_start_padding_when_window_then_start_pulled_back_by_padding_and_floored(self) -> None:
        window = wall_clock_window(
            parse_utc("2026-06-01T00:00:00.250Z"), parse_utc("2026-06-01T23:59:59.999Z"), ZoneInfo("America/Sao_Paulo"), start_padding=timedelta(minutes=60)
        )

        assert window == (datetime(2026, 5, 31, 20, 0, 0), datetime(2026, 6, 1, 21, 0, 0))

    def test_given_any_window_when_computed_then_naive_wall_clock_times(self) -> None:
        start, end = wall_clock_window(parse_utc("2026-06-01T00:00:00Z"), parse_utc("2026-06-01T01:00:00Z"), NEW_YORK)

        assert start.tzinfo is None and end.tzinfo is None
