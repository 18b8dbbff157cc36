"""A vendor-style rate limit: at most N requests per API in any window of W seconds, HTTP 429 beyond it.

Neither vendor publishes a limit for these endpoints; another 8x8 analytics API allows 10 requests per 60 s.
The limit is a sliding window per API (Work Analytics and the contact center count apart, as two vendors
would): a request is admitted when fewer than ``rate_limit_requests`` requests were admitted in the last
``rate_limit_window_s`` seconds, else it gets the API's own 429 body, with ``Retry-After`` (whole seconds
until the oldest admitted request leaves the window, at least 1) when ``rate_limit_retry_after`` is set.
A refused request does not use up the window. Every vendor request is counted, the login included, so
that tests and the benchmark can read how many requests an API got and how many of them it refused, and how
many of those came before the API admitted a request again after its first 429 (what a client pays to find
the limit: the requests already on their way, and the retries that came too early), the rest being refused
once a pace was found.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque

from .config import EmulatorConfig
from .faults import FaultRule, _family, status_response

APIS = ("work_analytics", "contact_center")


class RateLimiter:
    """Admits or refuses vendor requests under the emulator config's ``rate_limit_*`` switches, read on
    every request (0 requests: no limit)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._admitted: dict[str, deque[float]] = {api: deque() for api in APIS}
        self._counts: dict[str, Counter] = {api: Counter() for api in APIS}
        self._resumed: dict[str, bool] = {}  # per API, from its first 429: whether it has admitted a request since
        self._first: dict[str, float] = {}  # when each API got its first and last request (time.monotonic)
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def refuse(self, path: str, timestamp: str):
        """None when the request may go on, else the 429 answer to send instead."""
        api = _family(path)
        if api not in self._admitted:
            return None
        limit, window = self.config.rate_limit_requests, self.config.rate_limit_window_s
        with self._lock:
            now = time.monotonic()
            self._counts[api]["requests"] += 1
            self._first.setdefault(api, now)
            self._last[api] = now
            if limit <= 0:
                return None
            admitted = self._admitted[api]
            while admitted and admitted[0] <= now - window:
                admitted.popleft()
            if len(admitted) < limit:
                admitted.append(now)
                if api in self._resumed:
                    self._resumed[api] = True
                return None
            self._counts[api]["limited"] += 1
            if not self._resumed.setdefault(api, False):
                self._counts[api]["limited_until_resumed"] += 1
            wait = max(1, math.ceil(admitted[0] + window - now))
        retry_after = wait if self.config.rate_limit_retry_after else None
        return status_response(FaultRule(kind="status", status=429, retry_after=retry_after), path, timestamp)

    def counts(self) -> dict[str, dict[str, float]]:
        """Per API: ``requests`` received (the refused ones included), ``limited`` (answered 429), of those
        ``limited_until_resumed`` (from the first 429 to the next request admitted), and ``span_s``, the seconds
        from the first request to the last."""
        with self._lock:
            return {api: {"requests": counts["requests"], "limited": counts["limited"],
                          "limited_until_resumed": counts["limited_until_resumed"],
                          "span_s": round(self._last.get(api, 0.0) - self._first.get(api, 0.0), 3)}
                    for api, counts in self._counts.items()}

    def reset(self) -> None:
        """Forget the window and the counts (a new test or benchmark run)."""
        with self._lock:
            for api in APIS:
                self._admitted[api].clear()
                self._counts[api].clear()
            self._resumed.clear()
            self._first.clear()
            self._last.clear()
