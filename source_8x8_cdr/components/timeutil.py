"""Instants as the two APIs write them: slice bounds, state values and record cursors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Union

def parse_utc(value: Union[str, int, float, datetime]) -> datetime:
    """An aware UTC datetime from a slice bound or state value (ISO 8601, with `Z` or an offset)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


_MILLISECOND = timedelta(milliseconds=1)


def epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // _MILLISECOND


def cursor_moment(value: Any) -> Optional[datetime]:
    """A record cursor as an aware UTC datetime: epoch milliseconds (int or digit string) or ISO 8601 with an
    offset, such as `2024-07-31T12:43:09.000-03:00`. None when the value cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return EPOCH + timedelta(milliseconds=value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return EPOCH + timedelta(milliseconds=int(text))
        try:
            return parse_utc(text)
        except ValueError:
            return None
    return None


def cursor_epoch_ms(value: Any) -> Optional[int]:
    """`cursor_moment` in epoch milliseconds; an ISO string with an offset is read without a UTC datetime."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return (moment - EPOCH) // _MILLISECOND
    moment = cursor_moment(value)
    return None if moment is None else epoch_ms(moment)
