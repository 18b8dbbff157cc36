"""The emulator's generated data: deterministic per (seed, stream, day), built lazily and cached.

Two layers per UTC day: an *index* (what queries select on: times, PBX, CDR type...) that is cheap
to build, and the serialized rows, rendered in chunks of ``CHUNK_ROWS`` only when a page needs them.
So the first page of a huge query comes quickly, and counting a query rarely renders anything.
"""

from __future__ import annotations

import queue
import threading
from array import array
from typing import Sequence

from ..timeutil import MS_PER_DAY
from .calls import CallDay, LegDay, Renderer, RowIndex, collect_leg_day, generate_call_day, make_directory
from .common import LruCache, RowBlock
from .contact_center import CdrIndex, Reference, generate_cdr_index, make_reference, render_cdrs

WA_STREAMS = ("call_records", "call_legs")
CDR_STREAM = "contact_center_cdrs"
CHUNK_ROWS = 5000


class Dataset:
    """Both vendors' data for the range ``[lo_ms, hi_ms)``.

    Caches: day indexes (small) and rendered chunks (bounded by ``cache_mb``); evicted entries are
    regenerated identically. While a client pages through a query, the chunk its next page needs is
    rendered by a background thread (``prefetch``), so a cold read runs at the pace of the slower
    of client and generator rather than their sum.
    """

    def __init__(self, seed: int, lo_ms: int, hi_ms: int, calls_per_day: int, cc_per_day: int,
                 pbx_ids: tuple[str, ...], cache_mb: int) -> None:
        self.seed, self.lo_ms, self.hi_ms = seed, lo_ms, hi_ms
        self.calls_per_day, self.cc_per_day, self.pbx_ids = calls_per_day, cc_per_day, pbx_ids
        self.users = make_directory(seed)
        self.reference: Reference = make_reference(seed)
        budget = cache_mb * 1_000_000
        self._indexes = LruCache(max(budget // 8, 50_000_000), lambda item: item.nbytes())
        self._chunks = LruCache(budget, lambda block: block.nbytes())
        self._prefetch_queue: queue.Queue = queue.Queue()
        self._prefetch_pending: set = set()
        threading.Thread(target=self._prefetcher, name="emulator-prefetch", daemon=True).start()

    def close(self) -> None:
        self._prefetch_queue.put(None)

    # ---- days

    def first_day(self) -> int:
        return self.lo_ms // MS_PER_DAY

    def last_day(self, stream: str) -> int:
        """Last UTC day holding rows of ``stream`` (legs may start the day after the last call)."""
        return (self.hi_ms - 1) // MS_PER_DAY + (1 if stream == "call_legs" else 0)

    def _in_range(self, day: int) -> bool:
        return day * MS_PER_DAY < self.hi_ms and (day + 1) * MS_PER_DAY > self.lo_ms

    # ---- indexes

    def call_day(self, day: int) -> CallDay:
        def build() -> CallDay:
            volume = self.calls_per_day if self._in_range(day) else 0
            return generate_call_day(self.seed, day, volume, self.lo_ms, self.hi_ms, len(self.pbx_ids))

        return self._indexes.get(("calls", day), build)

    def leg_day(self, day: int) -> LegDay:
        def build() -> LegDay:
            return collect_leg_day(day, self.call_day(day - 1), self.call_day(day))

        return self._indexes.get(("legs", day), build)

    def row_index(self, stream: str, day: int) -> RowIndex:
        return self.call_day(day).index if stream == "call_records" else self.leg_day(day).index

    def cdr_index(self, day: int) -> CdrIndex:
        def build() -> CdrIndex:
            volume = self.cc_per_day if self._in_range(day) else 0
            return generate_cdr_index(self.seed, day, volume, self.lo_ms, self.hi_ms)

        return self._indexes.get(("cdrs", day), build)

    # ---- serialized rows

    def _chunk(self, stream: str, day: int, zone_name: str, chunk: int) -> RowBlock:
        """Rendered rows ``chunk * CHUNK_ROWS ..`` of a day (Work Analytics local times in ``zone_name``)."""

        def build() -> RowBlock:
            if stream == CDR_STREAM:
                index = self.cdr_index(day)
                a = chunk * CHUNK_ROWS
                return render_cdrs(self.seed, index, a, min(a + CHUNK_ROWS, len(index)), self.reference)
            renderer = Renderer(self.seed, self.users, self.pbx_ids, zone_name)
            source = self.call_day(day) if stream == "call_records" else self.leg_day(day)
            a = chunk * CHUNK_ROWS
            b = min(a + CHUNK_ROWS, len(source.index))
            return renderer.call_records(source, a, b) if stream == "call_records" else renderer.call_legs(source, a, b)

        key = (stream, day, "" if stream == CDR_STREAM else zone_name, chunk)
        return self._chunks.get(key, build)

    def spans(self, stream: str, day: int, zone_name: str, a: int, b: int) -> list[memoryview]:
        """Rows ``a .. b-1`` of a day as comma-separated slices, one per chunk."""
        out = []
        while a < b:
            chunk, offset = divmod(a, CHUNK_ROWS)
            end = min(b, (chunk + 1) * CHUNK_ROWS)
            out.append(self._chunk(stream, day, zone_name, chunk).span(offset, end - chunk * CHUNK_ROWS))
            a = end
        return out

    def rows_at(self, stream: str, day: int, zone_name: str, positions: Sequence[int]) -> list[memoryview]:
        """The rows at ascending ``positions`` of a day, one slice each."""
        out, block, current = [], None, -1
        for p in positions:
            chunk, offset = divmod(p, CHUNK_ROWS)
            if chunk != current:
                block, current = self._chunk(stream, day, zone_name, chunk), chunk
            out.append(block.row(offset))
        return out

    def select(self, stream: str, day: int, zone_name: str, positions: range | array, a: int, b: int
               ) -> list[memoryview]:
        """Rows ``positions[a:b]`` of a day; then the row after them is prefetched."""
        if isinstance(positions, range):
            out = self.spans(stream, day, zone_name, positions.start + a, positions.start + b)
        else:
            out = self.rows_at(stream, day, zone_name, positions[a:b])
        if b < len(positions):
            self.prefetch(stream, day, zone_name, positions[b])
        return out

    # ---- background rendering of the next chunk

    def prefetch(self, stream: str, day: int, zone_name: str, row: int) -> None:
        key = (stream, day, "" if stream == CDR_STREAM else zone_name, row // CHUNK_ROWS)
        if key in self._chunks or key in self._prefetch_pending or self._prefetch_queue.qsize() >= 4:
            return
        self._prefetch_pending.add(key)
        self._prefetch_queue.put((key, lambda: self._chunk(stream, day, zone_name, row // CHUNK_ROWS)))

    def _prefetcher(self) -> None:
        while (job := self._prefetch_queue.get()) is not None:
            key, build = job
            try:
                build()
            finally:
                self._prefetch_pending.discard(key)

    def warm(self, stream: str, zone_name: str) -> None:
        """Generate and render every day of ``stream`` now."""
        for day in range(self.first_day(), self.last_day(stream) + 1):
            n = len(self.cdr_index(day)) if stream == CDR_STREAM else len(self.row_index(stream, day))
            self.spans(stream, day, zone_name, 0, n)

    def cache_info(self) -> dict:
        return {name: {"entries": len(cache), "bytes": cache.size}
                for name, cache in (("indexes", self._indexes), ("chunks", self._chunks))}
