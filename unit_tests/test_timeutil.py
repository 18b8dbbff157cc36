"""`cursor_moment` and `parse_utc` (`components/timeutil.py`): every cursor form the APIs send, read as one UTC moment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from source_8x8_cdr.components.timeutil import cursor_moment, parse_utc
from unit_tests.component_inputs import UTC


class TestCursorMoment:
    @pytest.mark.parametrize(
        "value, expected",
        [
            (1780272000000, "2026-06-01T00:00:00+00:00"),
            (1780272000000.5, "2026-06-01T00:00:00.000500+00:00"),
            ("1780272000123", "2026-06-01T00:00:00.123000+00:00"),
            (" 1780272000123 ", "2026-06-01T00:00:00.123000+00:00"),
            ("2024-07-31T12:43:09.000-03:00", "2024-07-31T15:43:09+00:00"),
            ("2024-07-31T12:43:09+05:30", "2024-07-31T07:13:09+00:00"),
            ("2024-07-31T12:43:09.000Z", "2024-07-31T12:43:09+00:00"),
            ("2024-07-31T12:43:09", "2024-07-31T12:43:09+00:00"),
            (1780272000, "2026-06-01T00:00:00+00:00"),
            ("1780272000", "2026-06-01T00:00:00+00:00"),
            (99999999999, "5138-11-16T09:46:39+00:00"),
            (100000000000, "1973-03-03T09:46:40+00:00"),
        ],
        ids=[
            "epoch_int", "epoch_float", "epoch_digits", "epoch_digits_padded", "offset_-03:00", "offset_+05:30", "z", "naive_is_utc",
            "epoch_seconds", "epoch_seconds_digits", "largest_seconds", "smallest_milliseconds",
        ],
    )
    def test_given_readable_value_when_parsed_then_aware_utc(self, value: Any, expected: str) -> None:
        moment = cursor_moment(value)

        assert moment is not None and moment.utcoffset() == timedelta(0)
        assert moment.isoformat() == expected

    @pytest.mark.parametrize(
        "value", [None, True, False, "", "yesterday", "2024-13-01T00:00:00Z", {"ms": 1}, [1], "99999999999999999", 99999999999999999, 1e300, float("nan")]
    )
    def test_given_unreadable_value_when_parsed_then_none(self, value: Any) -> None:
        assert cursor_moment(value) is None


class TestParseUtc:
    @pytest.mark.parametrize(
        "value, expected",
        [
            ("2026-06-01T00:00:00.000000Z", datetime(2026, 6, 1, tzinfo=UTC)),
            ("2026-06-01T05:30:00+05:30", datetime(2026, 6, 1, tzinfo=UTC)),
            ("2026-06-01T00:00:00", datetime(2026, 6, 1, tzinfo=UTC)),
            (datetime(2026, 6, 1), datetime(2026, 6, 1, tzinfo=UTC)),
            (datetime(2026, 5, 31, 21, tzinfo=timezone(timedelta(hours=-3))), datetime(2026, 6, 1, tzinfo=UTC)),
        ],
        ids=["z", "offset", "naive_string", "naive_datetime", "aware_datetime"],
    )
    def test_given_value_when_parsed_then_same_instant_in_utc(self, value: Any, expected: datetime) -> None:
        moment = parse_utc(value)

        assert moment == expected and moment.tzinfo == UTC

    def test_given_unreadable_value_when_parsed_then_value_error(self) -> None:
        with pytest.raises(ValueError):
            parse_utc("not a date")
