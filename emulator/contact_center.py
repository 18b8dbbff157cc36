"""Plays the contact-center CDR API: ``/api/v2/cdr`` with the 10,000-record cap, and reference lists.

What the vendor does and how it is played here:

* The user's API key travels as the ``key`` query parameter; a wrong one answers
  ``{"error": "Invalid User API Key"}`` with ``cc_bad_key_status`` (401 or 403: not published).
* ``page``/``per_page`` (1..10000, else 422) page through one *search*. A server may serve fewer records
  a page than asked, without saying so: ``cc_max_per_page`` plays that (pages then hold that many, and
  ``page`` counts pages of that size). A search yields at most
  ``cc_search_cap`` records; beyond that, pages are empty. When more records match, the answer
  carries ``search_token``: the client repeats the query with it (and ``page=1``) to continue after
  the last record of the capped search. Where the token appears is ``cc_token_placement``. Tokens are
  base64 of the cursor ``[timestamp_ms, "cdr_item#<uuid>"]`` (like the vendor's sample) but must have
  been issued by this server; an unknown one answers 400.
* ``total`` is an estimate (records per day times the window, with noise), never the record or
  page count, so a client cannot stop on it.
* Dates and datetimes are read in ``cc_time_zone``; ``end_date`` includes its whole day;
  ``timestamp`` carries a UTC offset, or (``cc_timestamp_offset`` False) is a wall-clock time in that zone;
  ``end_datetime`` is compared with ``<=`` (``cc_end_inclusive``) or ``<``. They select on the
  ``timestamp`` (end time), or with ``cc_select_by="start_time"`` on the start (``timestamp`` minus
  ``duration``). Only interactions whose ``timestamp`` is not after the emulator clock are listed,
  sorted by (timestamp, uuid).
"""

from __future__ import annotations

import base64
import re
import threading
from array import array
from bisect import bisect_left
from datetime import datetime, timedelta
from typing import Callable

import orjson

from .config import EmulatorConfig
from .data import CDR_STREAM, Dataset
from .data.common import stable_seed
from .data.contact_center import MAX_DURATION_MS, CdrIndex
from .messages import Request, Response, framed, json_response
from .timeutil import MS_PER_DAY, Clock, local_text, local_wall_to_ms, offset_ms, to_ms

CDR_PATH = "/api/v2/cdr"
REFERENCE_PATHS = {f"{CDR_PATH}/{name}": name
                   for name in ("agents", "queues", "teams", "campaigns", "deleted_agents", "wrapup_codes")}
MAX_PER_PAGE = 10_000
DEFAULT_PER_PAGE = 1000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
Cursor = tuple[int, str]  # (timestamp ms, uuid) of the last record already delivered


class SearchTokens:
    """Issued search tokens and the cursor each continues after."""

    def __init__(self) -> None:
        self._cursors: dict[str, Cursor] = {}
        self._lock = threading.Lock()
        self._aliases = 0

    def issue(self, cursor: Cursor) -> str:
        token = base64.b64encode(orjson.dumps([cursor[0], f"cdr_item#{cursor[1]}"])).decode()
        with self._lock:
            self._cursors[token] = cursor
        return token

    def get(self, token: str) -> Cursor | None:
        return self._cursors.get(token)

    def alias(self, token: str) -> str | None:
        """Another token for the position ``token`` names (None when it names none): the fault ``empty_new_token``."""
        cursor = self.get(token)
        if cursor is None:
            return None
        with self._lock:
            self._aliases += 1
            alias = base64.b64encode(orjson.dumps([cursor[0], f"cdr_item#{cursor[1]}", self._aliases])).decode()
            self._cursors[alias] = cursor
        return alias

    def expire_all(self) -> None:
        with self._lock:
            self._cursors.clear()


class _Unprocessable(Exception):
    pass


class Query:
    """A CDR query: the records with a ``timestamp`` in ``[lo_ms, hi_ms)`` that match exact filters and, with
    ``cc_select_by="start_time"``, whose start (from ``starts``, per day) lies in ``start_window``."""

    def __init__(self, lo_ms: int, hi_ms: int, filters: dict[str, str],
                 starts: Callable[[int, CdrIndex], array] | None = None, start_window: tuple[int, int] = (0, 0)) -> None:
        self.lo_ms, self.hi_ms, self.filters = lo_ms, hi_ms, filters
        self.starts, self.start_window = starts, start_window

    def positions(self, day_number: int, day: CdrIndex, after: Cursor | None) -> range | array:
        """Positions in ``day`` of the matching records, after the cursor if any."""
        i, j = bisect_left(day.ts, self.lo_ms), bisect_left(day.ts, self.hi_ms)
        if after is not None and after[0] >= self.lo_ms:
            k = bisect_left(day.ts, after[0])
            while k < len(day) and day.ts[k] == after[0] and day.uuid[k] <= after[1]:
                k += 1
            i = max(i, k)
        if not self.filters and not self.starts:
            return range(i, j)
        columns = [(getattr(day, name), value) for name, value in self.filters.items()]
        selected = (p for p in range(i, j) if all(column[p] == value for column, value in columns))
        if self.starts:
            starts, (low, high) = self.starts(day_number, day), self.start_window
            selected = (p for p in selected if low <= starts[p] < high)
        return array("i", selected)


class ContactCenterAPI:
    def __init__(self, config: EmulatorConfig, dataset: Dataset, clock: Clock) -> None:
        self.config, self.dataset, self.clock = config, dataset, clock
        self.tokens = SearchTokens()
        self._starts: dict[int, array] = {}  # per day: each record's start (timestamp - duration), when asked
        self._starts_lock = threading.Lock()

    def _bad_key(self) -> Response:
        return json_response(self.config.cc_bad_key_status, {"error": "Invalid User API Key"})

    def reference(self, request: Request) -> Response:
        if request.params.get("key") != self.config.cc_api_key:
            return self._bad_key()
        return json_response(200, self.dataset.reference.as_lists()[REFERENCE_PATHS[request.path]])

    def cdr(self, request: Request) -> Response:
        params = request.params
        if params.get("key") != self.config.cc_api_key:
            return self._bad_key()
        try:
            page = _integer(params, "page", 1, 1, None)
            per_page = _integer(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
            per_page = min(per_page, self.config.cc_max_per_page or per_page)
            query = self._query(params)
        except _Unprocessable as exc:
            return json_response(422, {"error": str(exc)})
        cursor = None
        if params.get("search_token"):
            cursor = self.tokens.get(params["search_token"])
            if cursor is None:
                return json_response(400, {"error": "Invalid search_token"})
        cap = self.config.cc_search_cap
        skip = (page - 1) * per_page
        rows, capped, cap_cursor = self._scan(query, cursor, skip, min(skip + per_page, cap), cap)
        token = None
        if capped and (self.config.cc_token_placement == "every_page" or skip < cap <= skip + per_page):
            token = self.tokens.issue(cap_cursor)
        tail = b'],"total":%d,"page":%d,"search_token":%s}' % (self._estimate(query), page, orjson.dumps(token))
        body = framed(b'{"records":[', rows, tail)
        if not self.config.cc_timestamp_offset:
            answer = orjson.loads(body)
            self._without_offsets(answer["records"])
            body = orjson.dumps(answer)
        return Response(200, body)

    def _without_offsets(self, records: list[dict]) -> None:
        """Each ``timestamp`` as the wall-clock time in ``cc_time_zone``, without a UTC offset."""
        zone_name = self.config.cc_time_zone
        for record in records:
            ms = to_ms(record["timestamp"])
            record["timestamp"] = local_text(ms, offset_ms(ms, zone_name), colon=True)[:23]

    # ---- query

    def _query(self, params: dict[str, str]) -> Query:
        zone_name = self.config.cc_time_zone
        lows, highs = [0], [1 << 62]  # the window asked for
        for name, pattern, fmt in (("start_date", _DATE, "%Y-%m-%d"), ("end_date", _DATE, "%Y-%m-%d"),
                                   ("start_datetime", _DATETIME, "%Y-%m-%dT%H:%M:%S"),
                                   ("end_datetime", _DATETIME, "%Y-%m-%dT%H:%M:%S")):
            text = params.get(name)
            if not text:
                continue
            try:
                if not pattern.fullmatch(text):
                    raise ValueError
                wall = datetime.strptime(text, fmt)
            except ValueError:
                raise _Unprocessable(f"{name} must be in the format {fmt.replace('%', '')}") from None
            if name == "end_date":
                wall += timedelta(days=1)  # whole end day included
            ms = local_wall_to_ms(wall, zone_name)
            if name.startswith("start"):
                lows.append(ms)
            elif name == "end_datetime" and self.config.cc_end_inclusive:
                highs.append(ms + 1)
            else:
                highs.append(ms)
        filters = {name: params[name] for name in ("type", "disposition", "uuid") if params.get(name)}
        listed = (self.dataset.lo_ms, min(self.dataset.hi_ms, self.clock.now_ms() + 1))  # timestamps that exist now
        if self.config.cc_select_by == "start_time":  # a record ends at most MAX_DURATION_MS after it starts
            window = (max(lows), min(highs))
            return Query(max(window[0], listed[0]), min(window[1] + MAX_DURATION_MS, listed[1]), filters,
                         self._start_times, window)
        return Query(max(lows + [listed[0]]), min(highs + [listed[1]]), filters)

    def _start_times(self, day_number: int, day: CdrIndex) -> array:
        """When each record of a day started: its timestamp minus its rendered ``duration`` (``hh:mm:ss``)."""
        with self._starts_lock:
            if day_number not in self._starts:
                rows = orjson.loads(framed(b"[", self.dataset.select(CDR_STREAM, day_number, "", range(len(day)), 0, len(day)), b"]"))
                durations = (sum(int(part) * unit for part, unit in zip(row["duration"].split(":"), (3_600_000, 60_000, 1000)))
                             for row in rows)
                self._starts[day_number] = array("q", (ts - duration for ts, duration in zip(day.ts, durations)))
            return self._starts[day_number]

    def _scan(self, query: Query, after: Cursor | None, take_from: int, take_to: int, cap: int
              ) -> tuple[list[memoryview], bool, Cursor | None]:
        """Rows ``take_from .. take_to`` of the search continuing after ``after``; whether more than
        ``cap`` records match; and the cursor of the cap-th record (where a token continues)."""
        rows: list[memoryview] = []
        seen = 0
        cap_cursor = None
        lo_ms = max(query.lo_ms, after[0]) if after else query.lo_ms
        first = max(lo_ms // MS_PER_DAY, self.dataset.first_day())
        last = min((query.hi_ms - 1) // MS_PER_DAY, self.dataset.last_day(CDR_STREAM))
        for day_number in range(first, last + 1):
            day = self.dataset.cdr_index(day_number)
            positions = query.positions(day_number, day, after)
            n = len(positions)
            a, b = max(take_from - seen, 0), min(take_to - seen, n)
            if a < b:
                rows.extend(self.dataset.select(CDR_STREAM, day_number, "", positions, a, b))
            if seen < cap <= seen + n:
                p = positions[cap - 1 - seen]
                cap_cursor = (day.ts[p], day.uuid[p])
            if seen + n > cap:
                return rows, True, cap_cursor
            seen += n
        return rows, False, None

    def _estimate(self, query: Query) -> int:
        """``total``: records per day times the share of each day in the window, with +-10% noise."""
        lo, hi = max(query.lo_ms, self.dataset.lo_ms), min(query.hi_ms, self.dataset.hi_ms)
        total = 0.0
        for day in range(lo // MS_PER_DAY, (hi - 1) // MS_PER_DAY + 1):
            share = (min(hi, (day + 1) * MS_PER_DAY) - max(lo, day * MS_PER_DAY)) / MS_PER_DAY
            noise = 0.9 + (stable_seed(self.dataset.seed, "cc-total", day) % 2001) / 10_000
            total += self.config.cc_records_per_day * share * noise
        return int(total) + 1

    # ---- for tests

    def ground_truth(self, lo_ms: int, hi_ms: int) -> list[dict]:
        query = Query(max(lo_ms, self.dataset.lo_ms), min(hi_ms, self.clock.now_ms() + 1), {})
        rows, _, _ = self._scan(query, None, 0, 1 << 62, 1 << 62)
        records = orjson.loads(framed(b"[", rows, b"]"))
        if not self.config.cc_timestamp_offset:
            self._without_offsets(records)
        return records


def _integer(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _Unprocessable(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise _Unprocessable(f"{name} must be between {low} and {high}" if high else f"{name} must be >= {low}")
    return value
