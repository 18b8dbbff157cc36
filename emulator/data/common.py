"""Deterministic randomness and a bounded cache shared by the generators."""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from typing import Any, Callable, Hashable, Iterable, Sequence


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts``; unlike ``hash()`` it is the same in every process."""
    text = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def cumulative(weights: Sequence[float]) -> list[float]:
    """Cumulative shares of ``weights``, for ``bisect_left(cdf, random())`` choices."""
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total / sum(weights))
    return out


class Draw:
    """Random choices for one record, derived from a key alone (not from generation order).

    Lets the call-records and call-legs generators agree on a call's parties without sharing
    state. Entropy comes from a 256-bit hash of the key, topped up when used up.
    """

    __slots__ = ("_key", "_round", "_pool")

    def __init__(self, *key: object) -> None:
        self._key = "\x1f".join(map(str, key)).encode()
        self._round = 0
        self._pool = self._hash()

    def _hash(self) -> int:
        digest = hashlib.blake2b(self._key + self._round.to_bytes(2, "big"), digest_size=32).digest()
        return int.from_bytes(digest, "big") | (1 << 256)  # sentinel bit: pool never reads as empty

    def below(self, n: int) -> int:
        """A number in ``range(n)``."""
        if self._pool < (1 << 64):
            self._round += 1
            self._pool = self._hash()
        self._pool, value = divmod(self._pool, n)
        return value

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.below(len(options))]

    def chance(self, percent: float) -> bool:
        return self.below(10_000) < percent * 100

    def digits(self, count: int) -> str:
        return f"{self.below(10 ** count):0{count}d}"


class LruCache:
    """A thread-safe LRU cache bounded by a size estimate; each key is built at most once at a time."""

    def __init__(self, max_size: int, size_of: Callable[[Any], int]) -> None:
        self._max = max_size
        self._size_of = size_of
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._items.get(key)
                if hit is not None:
                    return hit[0]
            value = build()
            size = self._size_of(value)
            with self._lock:
                self._items[key] = (value, size)
                self._size += size
                while self._size > self._max and len(self._items) > 1:
                    _, (_, old_size) = self._items.popitem(last=False)
                    self._size -= old_size
                self._building.pop(key, None)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._items)


class RowBlock:
    """Serialized rows kept in one buffer, comma-separated, so that a run of rows is one slice.

    Row ``i`` is ``data[starts[i]:starts[i + 1] - 1]``. One buffer per day keeps memory near the
    JSON size (a separate bytes object per row would cost several times that) and lets a page of
    consecutive rows be served without joining thousands of objects.
    """

    __slots__ = ("data", "starts")

    def __init__(self, rows: Iterable[bytes]) -> None:
        buffer = bytearray()
        starts = array("q", [0])
        for row in rows:
            buffer += row
            buffer += b","
            starts.append(len(buffer))
        self.data = memoryview(bytes(buffer))
        self.starts = starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def row(self, i: int) -> memoryview:
        return self.data[self.starts[i]:self.starts[i + 1] - 1]

    def span(self, a: int, b: int) -> memoryview:
        """Rows ``a .. b-1`` as one comma-separated slice (``a < b``)."""
        return self.data[self.starts[a]:self.starts[b] - 1]

    def nbytes(self) -> int:
        return len(self.data) + 8 * len(self.starts) + 200
