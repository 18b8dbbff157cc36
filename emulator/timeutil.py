"""Time helpers: epoch milliseconds, the emulator clock, and the vendors' time-string formats."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MS_PER_DAY = 86_400_000
_OFFSET_BUCKET_MS = 900_000  # zone offsets change at most once per 15 minutes (checked, not assumed)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_instant(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO string ("Z" allowed) or an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time must carry a UTC offset: {value!r}")
    return value.astimezone(timezone.utc)


def to_ms(value: str | datetime) -> int:
    """Epoch milliseconds of an ISO string or aware datetime."""
    delta = parse_instant(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def two_years_before(ms: int) -> int:
    """The retention edge: the same calendar instant two years earlier (Feb 29 -> Feb 28)."""
    moment = from_ms(ms)
    try:
        earlier = moment.replace(year=moment.year - 2)
    except ValueError:
        earlier = moment.replace(year=moment.year - 2, day=28)
    return to_ms(earlier)


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises KeyError for an unknown or malformed name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise KeyError(name) from exc


def local_wall_to_ms(wall: datetime, zone_name: str) -> int:
    """Epoch ms of a naive wall-clock time read in ``zone_name`` (first reading on a fold)."""
    return to_ms(wall.replace(tzinfo=zone(zone_name)))


@lru_cache(maxsize=100_000)
def _offset_ms(zone_name: str, bucket: int) -> int | None:
    """UTC offset (ms) in force for the whole 15-minute bucket, or None if it changes inside it."""
    tz = zone(zone_name)
    first = datetime.fromtimestamp(bucket * _OFFSET_BUCKET_MS / 1000, tz).utcoffset()
    last = datetime.fromtimestamp(((bucket + 1) * _OFFSET_BUCKET_MS - 1) / 1000, tz).utcoffset()
    return int(first.total_seconds() * 1000) if first == last else None


def offset_ms(ms: int, zone_name: str) -> int:
    """UTC offset of ``zone_name`` at instant ``ms``, in milliseconds."""
    cached = _offset_ms(zone_name, ms // _OFFSET_BUCKET_MS)
    if cached is not None:
        return cached
    return int(datetime.fromtimestamp(ms / 1000, zone(zone_name)).utcoffset().total_seconds() * 1000)


@lru_cache(maxsize=20_000)
def _date_text(epoch_day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=epoch_day)).isoformat()


@lru_cache(maxsize=1024)
def _offset_text(off_ms: int, colon: bool) -> str:
    sign = "-" if off_ms < 0 else "+"
    hours, minutes = divmod(abs(off_ms) // 60_000, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" if colon else f"{sign}{hours:02d}{minutes:02d}"


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))


def local_text(ms: int, off_ms: int, colon: bool) -> str:
    """``2022-02-03T09:27:27.493-0500`` (colon=False) or ``...-05:00`` (colon=True)."""
    seconds, millis = divmod(ms + off_ms, 1000)
    day, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    two = _TWO_DIGITS
    return (f"{_date_text(day)}T{two[hours]}:{two[minutes]}:{two[seconds]}.{_THREE_DIGITS[millis]}"
            f"{_offset_text(off_ms, colon)}")


def hms(total_seconds: int) -> str:
    """``hh:mm:ss``; hours grow past 24 (the CDR API shows SLA times like ``48:16:27``)."""
    if total_seconds == 0:
        return "00:00:00"
    hours, rest = divmod(total_seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def iso_utc(ms: int) -> str:
    return local_text(ms, 0, colon=True)


class Clock:
    """The emulator clock: the real time, or a frozen instant set by ``set``.

    It decides which calls have ended (and so are listed) and the retention edge. Token and
    scroll lifetimes do not use it: they run on ``time.monotonic``.
    """

    def __init__(self, fixed: str | datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed_ms = None if fixed is None else to_ms(fixed)

    def set(self, value: str | datetime | None) -> None:
        with self._lock:
            self._fixed_ms = None if value is None else to_ms(value)

    def now_ms(self) -> int:
        fixed = self._fixed_ms
        return fixed if fixed is not None else time.time_ns() // 1_000_000

    def now(self) -> datetime:
        return from_ms(self.now_ms())
