"""Instants as the two APIs write them: slice bounds, state values and record cursors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Optional, Union


def parse_utc(value: Union[str, int, float, datetime], zone: tzinfo = timezone.utc) -> datetime:
    """An aware UTC datetime from a slice bound or state value (ISO 8601, with `Z` or an offset; without one,
    a wall-clock time in `zone`)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


_MILLISECOND = timedelta(milliseconds=1)


def epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // _MILLISECOND


def utc_text(moment_ms: int) -> str:
    """Epoch milliseconds as the UTC text the connector emits instants in (`2024-07-31T15:43:09.000Z`). Raises
    OverflowError past the year 9999."""
    return (EPOCH + timedelta(milliseconds=moment_ms)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment_ms % 1000:03d}Z"


# Epoch values below this are seconds: as milliseconds they would fall before March 1973, as seconds they reach
# the year 5138. The APIs keep two years of data and their documented unit is milliseconds.
SECONDS_BELOW = 100_000_000_000
LAST_MS = epoch_ms(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc))  # datetime's range ends there


def _epoch_moment(number: Union[int, float]) -> Optional[datetime]:
    """Epoch milliseconds, or epoch seconds when below `SECONDS_BELOW`, as a UTC datetime; None past year 9999."""
    try:
        return EPOCH + timedelta(milliseconds=number * 1000 if abs(number) < SECONDS_BELOW else number)
    except (OverflowError, ValueError):  # out of datetime's range, or not a number (NaN)
        return None


def cursor_moment(value: Any, zone: tzinfo = timezone.utc) -> Optional[datetime]:
    """A record cursor as an aware UTC datetime: epoch milliseconds (int or digit string; epoch seconds are
    recognised, see `SECONDS_BELOW`) or ISO 8601 with an offset, such as `2024-07-31T12:43:09.000-03:00`
    (without one, a wall-clock time in `zone`). None when the value cannot be read (or lies past the year
    9999)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _epoch_moment(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _epoch_moment(int(text))
        try:
            return parse_utc(text, zone)
        except ValueError:
            return None
    return None


def cursor_epoch_ms(value: Any, zone: tzinfo = timezone.utc) -> Optional[int]:
    """`cursor_moment` in epoch milliseconds; an ISO string with an offset is read without a UTC datetime."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return (moment - EPOCH) // _MILLISECOND
    moment = cursor_moment(value, zone)
    return None if moment is None else epoch_ms(moment)
