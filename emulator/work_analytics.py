"""Plays 8x8 Work Analytics: login, ``/v2/call-records`` and ``/v2/call-legs`` with scrollId paging (the
PBX directory and the summary reports are in ``summaries.py``).

What the vendor does and how it is played here:

* ``POST /v1/oauth/token``: ``8x8-apikey`` header plus urlencoded ``username``/``password``. Opaque
  bearer tokens that really expire after ``token_lifetime_s`` (monotonic clock). No refresh token.
* Data calls need the bearer token and the ``8x8-apikey`` header; errors use the published bodies:
  400 ``SHA001`` (key), 401 ``invalid_token``, 403 ``Access Denied`` naming user and PBX.
* ``startTime``/``endTime`` (second precision, read in ``timeZone``) select rows by
  ``startTimeUTC`` (millisecond precision): start inclusive, end exclusive unless
  ``end_time_inclusive``. Only calls that have ended by the emulator clock are listed, and only
  the last two years before it.
* Paging is a snapshot taken at the first request; every page gets a new opaque scrollId (kept
  server-side for ``scroll_ttl_s``) that names the snapshot and the offset of the next page, so
  retrying a request repeats the same page. How the last page is marked is ``wa_last_page``.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from .config import EmulatorConfig
from .data import Dataset
from .data.calls import MAX_CALL_MS
from .messages import Request, Response, framed, json_response
from .timeutil import MS_PER_DAY, Clock, iso_utc, local_wall_to_ms, two_years_before, zone

BASE_PATH = "/analytics/work"
TOKEN_PATH = BASE_PATH + "/v1/oauth/token"
REPORT_PATHS = {BASE_PATH + "/v2/call-records": "call_records", BASE_PATH + "/v2/call-legs": "call_legs"}
MAX_PAGE_SIZE = 7000
DEFAULT_PAGE_SIZE = 100
_WALL_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


class TokenStore:
    """Issued access tokens and when they expire (``time.monotonic``)."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, lifetime_s: float) -> str:
        token = f"eyJhbGciOiJSUzI1NiJ9.{secrets.token_urlsafe(96)}.{secrets.token_urlsafe(32)}"
        with self._lock:
            now = time.monotonic()
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + lifetime_s
        return token

    def is_valid(self, token: str) -> bool:
        return self._expiry.get(token, 0.0) > time.monotonic()

    def expire_all(self) -> None:
        with self._lock:
            self._expiry.clear()


@dataclass
class Snapshot:
    """The rows a query matched when it was first asked: per day, positions into that day's rows."""

    stream: str
    zone: str
    segments: list[tuple[int, range | array]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # first row number of each segment
    total: int = 0

    def add(self, day: int, positions: range | array) -> None:
        if len(positions):
            self.segments.append((day, positions))
            self.offsets.append(self.total)
            self.total += len(positions)

    def rows(self, dataset: Dataset, offset: int, count: int) -> tuple[list[memoryview], int]:
        """Rows ``offset .. offset+count`` (fewer at the end) as serialized slices, and how many."""
        slices: list[memoryview] = []
        taken = 0
        k = bisect_right(self.offsets, offset) - 1
        while taken < count and 0 <= k < len(self.segments):
            day, positions = self.segments[k]
            a = offset + taken - self.offsets[k]
            b = min(len(positions), a + count - taken)
            slices.extend(dataset.select(self.stream, day, self.zone, positions, a, b))
            taken += b - a
            k += 1
        if 0 < k < len(self.segments) and offset + taken == self.offsets[k]:  # the next page starts a new day
            day, positions = self.segments[k]
            dataset.prefetch(self.stream, day, self.zone, positions[0])
        return slices, taken


class ScrollStore:
    """scrollId -> (snapshot, offset of the next page), each id valid for ``ttl_s`` after issue."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[Snapshot, int, float]] = {}
        self._lock = threading.Lock()
        self._serial = 0

    def issue(self, snapshot: Snapshot, offset: int, ttl_s: float) -> str:
        with self._lock:
            now = time.monotonic()
            if len(self._items) > 10_000:
                self._items = {k: v for k, v in self._items.items() if v[2] > now}
            self._serial += 1
            raw = f"supertenantcsm_{secrets.randbelow(10 ** 13):013d}_{self._serial:09d}_{time.time_ns() // 1_000_000}"
            scroll_id = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            self._items[scroll_id] = (snapshot, offset, now + ttl_s)
        return scroll_id

    def get(self, scroll_id: str) -> tuple[Snapshot, int] | None:
        item = self._items.get(scroll_id)
        if item is None or item[2] <= time.monotonic():
            return None
        return item[0], item[1]

    def alias(self, scroll_id: str, ttl_s: float) -> str | None:
        """A new scrollId for the position ``scroll_id`` names (None when it names none): ``empty_new_token``."""
        state = self.get(scroll_id)
        return None if state is None else self.issue(state[0], state[1], ttl_s)

    def expire_all(self) -> None:
        with self._lock:
            self._items.clear()


class BadRequest(Exception):
    """A request parameter is missing or malformed (the message says which)."""


def parse_window(params: dict[str, str]) -> tuple[int, int, str]:
    """``startTime`` and ``endTime`` read in ``timeZone``, in epoch ms, and the zone; ``pbxId`` must be there."""
    for name in ("pbxId", "startTime", "endTime", "timeZone"):
        if not params.get(name):
            raise BadRequest(f"Required request parameter '{name}' is not present")
    zone_name = params["timeZone"]
    try:
        zone(zone_name)
    except KeyError:
        raise BadRequest(f"Invalid timeZone: {zone_name}") from None
    bounds = []
    for name in ("startTime", "endTime"):
        text = params[name]
        if not _WALL_TIME.fullmatch(text):
            raise BadRequest(f"Invalid {name} '{text}': expected format yyyy-MM-dd HH:mm:ss")
        try:
            wall = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise BadRequest(f"Invalid {name} '{text}'") from None
        bounds.append(local_wall_to_ms(wall, zone_name))
    lo_ms, hi_ms = bounds
    if lo_ms > hi_ms:
        raise BadRequest("startTime must not be after endTime")
    return lo_ms, hi_ms, zone_name


class WorkAnalyticsAPI:
    def __init__(self, config: EmulatorConfig, dataset: Dataset, clock: Clock) -> None:
        self.config, self.dataset, self.clock = config, dataset, clock
        self.tokens = TokenStore()
        self.scrolls = ScrollStore()

    # ---- errors, as published

    @staticmethod
    def _bad_key() -> Response:
        return json_response(400, {"status": 400, "message": "Invalid 8x8-apikey", "code": "SHA001",
                                   "details": ["The 8x8-apikey header is missing or not an active API key"]})

    @staticmethod
    def _invalid_token(token: str | None) -> Response:
        description = f"Access token expired: {token or ''}"  # the vendor echoes the token
        return json_response(401, {"error": "invalid_token", "error_description": description})

    def bad_request(self, message: str, path: str) -> Response:
        return json_response(400, {"timestamp": iso_utc(self.clock.now_ms()), "status": 400, "error": "Bad Request",
                                   "message": message, "path": path})

    # ---- endpoints

    def login(self, request: Request) -> Response:
        if request.header("8x8-apikey") != self.config.wa_api_key:
            return self._bad_key()
        form = request.form()
        if form.get("username") != self.config.wa_username or form.get("password") != self.config.wa_password:
            return json_response(400, {"error": "invalid_grant", "error_description": "USER_NOTFOUND_ERROR"})
        lifetime = self.config.token_lifetime_s
        return json_response(200, {"access_token": self.tokens.issue(lifetime), "token_type": "bearer",
                                   "expires_in": math.ceil(lifetime)})

    def refused(self, request: Request) -> Response | None:
        """The answer to a data call without a valid API key and bearer token, or None when it has both."""
        if request.header("8x8-apikey") != self.config.wa_api_key:
            return self._bad_key()
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.is_valid(token.strip()):
            return self._invalid_token(token.strip() or None)
        return None

    def access_denied(self, pbx_id: str) -> Response:
        return json_response(403, {"status": 403, "error": "Access Denied", "exception":
                                   f"user({self.config.wa_username}) does not have access to pbxId({pbx_id})"})

    def report(self, request: Request) -> Response:
        """One page of call records or call legs."""
        refused = self.refused(request)
        if refused is not None:
            return refused
        try:
            stream, lo_ms, hi_ms, zone_name, page_size = self._parse(request)
        except BadRequest as exc:
            return self.bad_request(str(exc), request.path)
        pbx_id = request.params["pbxId"]
        try:
            pbx_codes = self.pbx_codes(pbx_id)
        except KeyError as exc:
            return self.access_denied(exc.args[0])
        scroll_id = request.params.get("scrollId")
        if scroll_id:
            state = self.scrolls.get(scroll_id)
            if state is None:
                return json_response(400, {"status": 400, "message": "Invalid or expired scrollId",
                                           "code": "SCROLL001"})
            snapshot, offset = state
        else:
            snapshot, offset = self.select(stream, lo_ms, hi_ms, pbx_codes, zone_name), 0
        return self._page(snapshot, offset, page_size)

    # ---- query

    def _parse(self, request: Request) -> tuple[str, int, int, str, int]:
        params = request.params
        lo_ms, hi_ms, zone_name = parse_window(params)
        size_text = params.get("pageSize") or str(DEFAULT_PAGE_SIZE)
        if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
            raise BadRequest(f"Invalid pageSize '{size_text}': must be between 1 and {MAX_PAGE_SIZE}")
        hi_exclusive = hi_ms + 1 if self.config.end_time_inclusive else hi_ms
        return REPORT_PATHS[request.path], lo_ms, hi_exclusive, zone_name, int(size_text)

    def pbx_codes(self, pbx_id: str) -> frozenset[int] | None:
        """Indexes of the PBXes named by ``pbxId`` (None: all); KeyError names one the user can't see."""
        if pbx_id.strip().lower() == "allpbxes":
            return None
        codes = set()
        for name in pbx_id.split(","):
            name = name.strip()
            if name not in self.config.pbx_ids:
                raise KeyError(name)
            codes.add(self.config.pbx_ids.index(name))
        return frozenset(codes)

    def select(self, stream: str, lo_ms: int, hi_ms: int, pbx_codes: frozenset[int] | None, zone_name: str) -> Snapshot:
        """Rows of ``stream`` with startTimeUTC in ``[lo_ms, hi_ms)``, listable now, in serving order."""
        now = self.clock.now_ms()
        lo_ms = max(lo_ms, two_years_before(now))
        snapshot = Snapshot(stream, zone_name)
        first = max(lo_ms // MS_PER_DAY, self.dataset.first_day())
        last = min((hi_ms - 1) // MS_PER_DAY, self.dataset.last_day(stream))
        for day in range(first, last + 1):
            if stream == "call_records" and pbx_codes is None and self._whole_day(day, lo_ms, hi_ms, now):
                snapshot.add(day, range(self.dataset.calls_per_day))  # counted without generating the day
                continue
            index = self.dataset.row_index(stream, day)
            i, j = bisect_left(index.start, lo_ms), bisect_left(index.start, hi_ms)
            positions: range | array = range(i, j)
            if pbx_codes is not None:
                positions = array("i", (p for p in positions if index.pbx[p] in pbx_codes))
            if index.max_visible > now:
                positions = array("i", (p for p in positions if index.visible[p] <= now))
            snapshot.add(day, positions)
        return snapshot

    def _whole_day(self, day: int, lo_ms: int, hi_ms: int, now: int) -> bool:
        """Whether the query takes every call of ``day``: inside the window and the dataset, all ended."""
        day_lo, day_hi = day * MS_PER_DAY, (day + 1) * MS_PER_DAY
        inside = max(lo_ms, self.dataset.lo_ms) <= day_lo and day_hi <= min(hi_ms, self.dataset.hi_ms)
        return inside and now >= day_hi + MAX_CALL_MS

    def _page(self, snapshot: Snapshot, offset: int, page_size: int) -> Response:
        rows, count = snapshot.rows(self.dataset, offset, page_size)
        mode = self.config.wa_last_page
        meta: dict = {"totalRecordCount": snapshot.total if count else 0}
        ends = (count > 0 and offset + count >= snapshot.total) or (count == 0 and offset == 0)
        if mode == "missing_scroll_id" and ends:
            pass  # the last data page (or an empty result) has no scrollId key
        elif mode == "empty_scroll_id" and ends:
            meta["scrollId"] = ""
        elif count == 0 and mode != "empty_data_with_scroll_id":
            meta["scrollId"] = "no data" if mode == "lowercase_no_data" else "No Data"
        else:  # a real scrollId, also on a short last page
            meta["scrollId"] = self.scrolls.issue(snapshot, offset + count, self.config.scroll_ttl_s)
        return Response(200, framed(b'{"meta":' + orjson.dumps(meta) + b',"data":[', rows, b"]}"))

    # ---- for tests

    def ground_truth(self, stream: str, lo_ms: int, hi_ms: int, zone_name: str, pbx_id: str) -> list[dict]:
        snapshot = self.select(stream, lo_ms, hi_ms, self.pbx_codes(pbx_id), zone_name)
        chunks, _ = snapshot.rows(self.dataset, 0, snapshot.total)
        return orjson.loads(framed(b"[", chunks, b"]"))
