"""Emulator settings: one dataclass, every field defaulted.

Each switch selects one of the plausible vendor behaviours that the published documents leave
open (8x8's Work Analytics developer documentation and OpenAPI reference, and the contact-center
CDR API's REST reference), so a client can be tested against all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WA_LAST_PAGE_MODES = (
    "no_data_page",  # last data page carries a real scrollId; the next answer is scrollId "No Data"
    "missing_scroll_id",  # last data page has no scrollId key
    "empty_scroll_id",  # last data page has scrollId ""
    "lowercase_no_data",  # like no_data_page, but the empty page says "no data"
    "empty_data_with_scroll_id",  # after the last data page: empty data with a fresh, real scrollId
)
CC_TOKEN_PLACEMENTS = ("every_page", "cap_page")
CC_SELECT_BY = (
    "end_time",  # start_/end_datetime select interactions by `timestamp` (when they ended)
    "start_time",  # ... by when they started: timestamp - duration
)


@dataclass
class EmulatorConfig:
    """Everything the emulator can be told. Times accept ISO strings or aware datetimes.

    Dataset range: calls and interactions exist in ``[start, end)``. When ``end`` is None it is
    the UTC midnight that ends the emulator clock's current day; when ``start`` is None it is
    ``end - days``. Explicit ``start``/``end`` give fully reproducible data; the defaults follow
    the calendar (each day's content still depends only on the seed and the day).

    Clock: ``now`` None means the real clock; a value freezes the emulator clock there (also see
    ``Emulator.set_now``). Work Analytics serves only the last two years before the clock, so an
    old fixed range needs a matching ``now``.

    The behaviour switches (``latency_ms``, ``token_lifetime_s``, ``scroll_ttl_s``,
    ``end_time_inclusive``, ``wa_last_page``, ``wa_summary_trailing_comma``, every ``cc_*`` field except
    ``cc_api_key``, and the ``rate_limit_*`` fields) are read on each request, so they may be changed on
    ``emulator.config`` while it runs. The data settings and credentials may not.
    """

    seed: int = 42
    start: str | datetime | None = None
    end: str | datetime | None = None
    days: int = 7
    now: str | datetime | None = None
    port: int = 0  # 0: pick a free port

    # volume: exact counts per full UTC day
    calls_per_day: int = 500
    cc_records_per_day: int = 500

    # service behaviour
    latency_ms: float = 0.0  # sleep before answering every vendor request
    faults: list[dict[str, Any]] = field(default_factory=list)  # initial fault rules (see faults.py)
    cache_mb: int = 2048  # bound on cached serialized records; days are regenerated after eviction

    # Work Analytics
    wa_api_key: str = "emu8x8+Key/Work=Analytics=="
    wa_username: str = "wa.reader@acme-corp.example"
    wa_password: str = "p@ss word%20&x+y=z"
    pbx_ids: tuple[str, ...] = ("acmecorp", "acmecorp2", "acmesales")
    token_lifetime_s: float = 1800.0
    scroll_ttl_s: float = 300.0
    end_time_inclusive: bool = False  # endTime compared with <= (True) or < (False)
    wa_last_page: str = "no_data_page"  # one of WA_LAST_PAGE_MODES
    wa_summary_trailing_comma: bool = False  # summary bodies end each object with a comma, as the vendor's example

    # contact-center CDR API
    cc_api_key: str = "cc+Api/Key=voiso7f3a9"
    cc_bad_key_status: int = 401
    cc_time_zone: str = "UTC"  # zone in which start_/end_date and start_/end_datetime are read
    cc_timestamp_offset: bool = True  # False: `timestamp` is a wall-clock time in cc_time_zone, without offset
    cc_end_inclusive: bool = True  # end_datetime compared with <= (True) or < (False)
    cc_token_placement: str = "every_page"  # one of CC_TOKEN_PLACEMENTS
    cc_search_cap: int = 10_000
    cc_select_by: str = "end_time"  # one of CC_SELECT_BY: which time the datetime window selects on
    cc_max_per_page: int | None = None  # serve at most this many records a page, whatever per_page asks (silently)

    # rate limit (see ratelimit.py): per API, at most `rate_limit_requests` in any `rate_limit_window_s`, 429
    # beyond it (0: no limit), with Retry-After (whole seconds) or without
    rate_limit_requests: int = 0
    rate_limit_window_s: float = 60.0
    rate_limit_retry_after: bool = True

    def __post_init__(self) -> None:
        if self.wa_last_page not in WA_LAST_PAGE_MODES:
            raise ValueError(f"wa_last_page must be one of {WA_LAST_PAGE_MODES}")
        if self.cc_select_by not in CC_SELECT_BY:
            raise ValueError(f"cc_select_by must be one of {CC_SELECT_BY}")
        if self.cc_token_placement not in CC_TOKEN_PLACEMENTS:
            raise ValueError(f"cc_token_placement must be one of {CC_TOKEN_PLACEMENTS}")
        if self.cc_bad_key_status not in (401, 403):
            raise ValueError("cc_bad_key_status must be 401 or 403")
        if self.cc_search_cap < 1 or self.calls_per_day < 0 or self.cc_records_per_day < 0:
            raise ValueError("cc_search_cap must be >= 1 and volumes >= 0")
        if self.cc_max_per_page is not None and self.cc_max_per_page < 1:
            raise ValueError("cc_max_per_page must be >= 1 (or None: serve what per_page asks)")
        if self.rate_limit_requests < 0 or self.rate_limit_window_s <= 0:
            raise ValueError("rate_limit_requests must be >= 0 and rate_limit_window_s > 0")
        self.pbx_ids = tuple(self.pbx_ids)
