"""The emulator's generated data: deterministic per (seed, stream, day), built lazily and cached."""

from __future__ import annotations

from ..timeutil import MS_PER_DAY
from .calls import CallDay, LegDay, Renderer, RowIndex, collect_leg_day, generate_call_day, make_directory
from .common import LruCache
from .contact_center import CdrDay, Reference, generate_cdr_day, make_reference

WA_STREAMS = ("call_records", "call_legs")


class Dataset:
    """Both vendors' data for the range ``[lo_ms, hi_ms)``.

    Three caches: timing skeletons of call days (small), serialized Work Analytics rows per
    (stream, day, time zone) and serialized CDR days. Evicted days are regenerated identically.
    """

    def __init__(self, seed: int, lo_ms: int, hi_ms: int, calls_per_day: int, cc_per_day: int,
                 pbx_ids: tuple[str, ...], cache_mb: int) -> None:
        self.seed, self.lo_ms, self.hi_ms = seed, lo_ms, hi_ms
        self.calls_per_day, self.cc_per_day, self.pbx_ids = calls_per_day, cc_per_day, pbx_ids
        self.users = make_directory(seed)
        self.reference: Reference = make_reference(seed)
        budget = cache_mb * 1_000_000
        self._skeletons = LruCache(max(budget // 8, 50_000_000), lambda item: item.nbytes())
        self._rows = LruCache(budget, lambda rows: sum(map(len, rows)) + 100 * len(rows) + 200)
        self._cdrs = LruCache(budget // 2, lambda day: day.nbytes())

    # ---- days

    def first_day(self) -> int:
        return self.lo_ms // MS_PER_DAY

    def last_day(self, stream: str) -> int:
        """Last UTC day holding rows of ``stream`` (legs may start the day after the last call)."""
        return (self.hi_ms - 1) // MS_PER_DAY + (1 if stream == "call_legs" else 0)

    # ---- Work Analytics

    def _in_range(self, day: int) -> bool:
        return day * MS_PER_DAY < self.hi_ms and (day + 1) * MS_PER_DAY > self.lo_ms

    def call_day(self, day: int) -> CallDay:
        def build() -> CallDay:
            volume = self.calls_per_day if self._in_range(day) else 0
            return generate_call_day(self.seed, day, volume, self.lo_ms, self.hi_ms, len(self.pbx_ids))

        return self._skeletons.get(("calls", day), build)

    def leg_day(self, day: int) -> LegDay:
        return self._skeletons.get(("legs", day), lambda: collect_leg_day(day, self.call_day(day - 1), self.call_day(day)))

    def row_index(self, stream: str, day: int) -> RowIndex:
        return self.call_day(day).index if stream == "call_records" else self.leg_day(day).index

    def rows(self, stream: str, day: int, zone_name: str) -> list[bytes]:
        """Serialized rows of ``stream`` starting on ``day``, local times in ``zone_name``."""

        def build() -> list[bytes]:
            renderer = Renderer(self.seed, self.users, self.pbx_ids, zone_name)
            if stream == "call_records":
                return renderer.call_records(self.call_day(day))
            return renderer.call_legs(self.leg_day(day))

        return self._rows.get((stream, day, zone_name), build)

    # ---- contact center

    def cdr_day(self, day: int) -> CdrDay:
        def build() -> CdrDay:
            volume = self.cc_per_day if self._in_range(day) else 0
            return generate_cdr_day(self.seed, day, volume, self.lo_ms, self.hi_ms, self.reference)

        return self._cdrs.get(day, build)

    def cache_info(self) -> dict:
        return {name: {"entries": len(cache), "bytes": cache.size}
                for name, cache in (("skeletons", self._skeletons), ("wa_rows", self._rows), ("cdr_days", self._cdrs))}
