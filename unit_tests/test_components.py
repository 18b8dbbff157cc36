"""Unit tests of the `source_8x8_cdr.components` modules and `source_8x8_cdr.secrets`: no HTTP, no source.

Each component gets hand-made `requests.Response` objects and slices, so that every rule of its docstring
is checked on its own.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, List, Mapping, Optional
from unittest.mock import Mock
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr import secrets
from source_8x8_cdr.components import errors, page_body, page_json
from source_8x8_cdr.components.errors import PageCheckingErrorHandler
from source_8x8_cdr.components.extraction import JsonPageExtractor
from source_8x8_cdr.components.filtering import ExactlyOnceSliceFilter
from source_8x8_cdr.components.page_body import parsed_body
from source_8x8_cdr.components.pagination import ScrollIdPagination, SearchTokenPagination
from source_8x8_cdr.components.timeutil import cursor_moment, parse_utc
from source_8x8_cdr.components.windows import wall_clock_window
from source_8x8_cdr.components.paging_guard import PagingLoopGuard

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def _response(body: Any, status_code: int = 200, url: str = "https://api.test/v2/call-records?startTime=day-1") -> requests.Response:
    """A `requests.Response` whose body is `body` as JSON, or as it is when it is bytes or a string."""
    response = requests.Response()
    response.status_code = status_code
    response.request = requests.Request("GET", url).prepare()
    if isinstance(body, bytes):
        response._content = body
    elif isinstance(body, str):
        response._content = body.encode()
    else:
        response._content = json.dumps(body).encode()
    return response


def _utc(text: str) -> datetime:
    return parse_utc(text)


# ---------------------------------------------------------------------------------------------------------------------
# ScrollIdPagination
# ---------------------------------------------------------------------------------------------------------------------


class TestScrollIdPagination:
    _PAGE_SIZE = 3

    def _next(self, body: Any) -> Optional[Any]:
        strategy = ScrollIdPagination(config={}, parameters={}, page_size=self._PAGE_SIZE)
        records = body.get("data", []) if isinstance(body, dict) else []
        return strategy.next_page_token(_response(body), len(records or []), None, None)

    @pytest.mark.parametrize("scroll_id", ["No Data", "no data", "NO DATA", " No Data "])
    def test_given_no_data_scroll_id_in_any_case_when_next_page_then_none(self, scroll_id: str) -> None:
        assert self._next({"data": [{"callId": 1}] * 3, "meta": {"scrollId": scroll_id}}) is None

    @pytest.mark.parametrize(
        "meta",
        [None, {}, {"scrollId": None}, {"scrollId": ""}, {"scrollId": "   "}, {"scrollId": 42}, "scroll-1"],
        ids=["no_meta", "empty_meta", "null", "empty", "whitespace", "not_a_string", "meta_not_an_object"],
    )
    def test_given_missing_or_blank_scroll_id_when_next_page_then_none(self, meta: Any) -> None:
        body = {"data": [{"callId": 1}] * 3}
        if meta is not None:
            body["meta"] = meta

        assert self._next(body) is None

    @pytest.mark.parametrize("data", [[], None], ids=["empty_list", "null"])
    def test_given_no_data_with_real_scroll_id_when_next_page_then_none(self, data: Any) -> None:
        assert self._next({"data": data, "meta": {"scrollId": "scroll-2"}}) is None

    def test_given_short_page_with_real_scroll_id_when_next_page_then_continues(self) -> None:
        assert self._next({"data": [{"callId": 1}], "meta": {"scrollId": "scroll-2"}}) == "scroll-2"

    def test_given_full_page_with_real_scroll_id_when_next_page_then_continues(self) -> None:
        assert self._next({"data": [{"callId": 1}] * 3, "meta": {"scrollId": "scroll-2"}}) == "scroll-2"

    def test_given_body_not_json_when_next_page_then_none(self) -> None:
        assert self._next("<html>Bad Gateway</html>") is None

    def test_given_interpolated_page_size_when_get_page_size_then_config_value(self) -> None:
        strategy = ScrollIdPagination(
            config={"work_analytics": {"page_size": 500}},
            parameters={},
            page_size="{{ config['work_analytics'].get('page_size', 7000) }}",
        )

        assert strategy.get_page_size() == 500
        assert strategy.initial_token is None


# ---------------------------------------------------------------------------------------------------------------------
# SearchTokenPagination
# ---------------------------------------------------------------------------------------------------------------------


def _page(count: int, search_token: Optional[str] = None, total: Optional[int] = None) -> requests.Response:
    body: dict = {"records": [{"uuid": f"r{index}"} for index in range(count)], "search_token": search_token, "page": 1}
    if total is not None:
        body["total"] = total
    return _response(body)


def _token(page: int, search_token: Optional[str] = None, shown: Optional[str] = None) -> dict:
    token: dict = {"page": page}
    if search_token:
        token["search_token"] = search_token
    if shown:
        token["shown"] = shown
    return token


class TestSearchTokenPagination:
    """Pages of 3 records asked for; the server may serve fewer."""

    def _next(self, response: requests.Response, last_token: Optional[dict] = None) -> Optional[dict]:
        strategy = SearchTokenPagination(config={}, parameters={}, page_size=3)
        return strategy.next_page_token(response, 0, None, last_token)

    def test_given_full_first_page_when_next_page_then_page_two_of_same_search(self) -> None:
        assert self._next(_page(3)) == _token(2)

    @pytest.mark.parametrize("count", [1, 2], ids=["one", "two"])
    def test_given_short_page_without_token_when_next_page_then_page_two_not_the_end(self, count: int) -> None:
        assert self._next(_page(count)) == _token(2)

    def test_given_page_showing_a_token_when_next_page_then_next_page_of_same_search_remembering_the_token(self) -> None:
        assert self._next(_page(2, search_token="token-1")) == _token(2, shown="token-1")

    def test_given_token_shown_earlier_when_page_without_token_then_still_remembered(self) -> None:
        assert self._next(_page(3), _token(2, shown="token-1")) == _token(3, shown="token-1")

    def test_given_full_page_in_a_continued_search_when_next_page_then_keeps_that_search_token(self) -> None:
        assert self._next(_page(3), _token(1, "token-1")) == _token(2, "token-1")

    def test_given_empty_page_after_a_token_was_shown_when_next_page_then_next_search_from_page_one(self) -> None:
        assert self._next(_page(0), _token(4, shown="token-1")) == _token(1, "token-1")

    def test_given_empty_page_showing_a_token_when_next_page_then_next_search(self) -> None:
        assert self._next(_page(0, search_token="token-2"), _token(3, "token-1")) == _token(1, "token-2")

    def test_given_empty_page_and_no_token_shown_when_next_page_then_end(self) -> None:
        assert self._next(_page(0)) is None
        assert self._next(_page(0), _token(3, "token-1")) is None

    def test_given_empty_string_token_when_next_page_then_treated_as_no_token(self) -> None:
        assert self._next(_page(1, search_token="")) == _token(2)
        assert self._next(_page(0, search_token=""), _token(2)) is None

    @pytest.mark.parametrize("total", [0, 1, 3, 10**6], ids=["zero", "one", "page_size", "huge"])
    def test_given_any_total_when_next_page_then_total_is_ignored(self, total: int) -> None:
        assert self._next(_page(3, total=total)) == _token(2)
        assert self._next(_page(0, total=total), _token(2)) is None

    def test_given_body_not_json_when_next_page_then_end(self) -> None:
        assert self._next(_response("<html>oops</html>")) is None

    def test_given_interpolated_page_size_when_get_page_size_then_config_value(self) -> None:
        strategy = SearchTokenPagination(
            config={"contact_center": {"per_page": 500}},
            parameters={},
            page_size="{{ config['contact_center'].get('per_page', 10000) }}",
        )

        assert strategy.get_page_size() == 500
        assert strategy.initial_token is None


# ---------------------------------------------------------------------------------------------------------------------
# PagingLoopGuard
# ---------------------------------------------------------------------------------------------------------------------

_SLICE = {"start_time": "2026-06-01T00:00:00.000000Z", "end_time": "2026-06-01T23:59:59.999000Z"}


def _arrived(records: List[dict]) -> requests.Response:
    """A page as the error handler leaves it: counted (and fingerprinted) before the extractor empties it."""
    response = _response({"records": records})
    page_body.records_in_page(response, "records")
    return response


class TestPagingLoopGuard:
    def test_given_a_page_the_slice_already_had_when_paged_then_transient_failure_naming_api_and_slice(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}, {"uuid": "b"}]), True, _SLICE)

        with pytest.raises(AirbyteTracedException) as failure:
            guard.page(_arrived([{"uuid": "a"}, {"uuid": "b"}]), False, _SLICE)

        assert failure.value.failure_type == FailureType.transient_error
        assert failure.value.message.startswith(
            "The API answered a page of records it had already sent in the slice 2026-06-01T00:00:00.000000Z to 2026-06-01T23:59:59.999000Z"
        )

    def test_given_the_same_first_page_after_a_restart_when_paged_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)
        guard.follow("token-1", _SLICE)

        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)  # the slice read again from its first page
        guard.follow("token-1", _SLICE)

    def test_given_pages_sharing_first_and_last_records_but_not_their_size_when_paged_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}, {"uuid": "z"}]), True, _SLICE)

        guard.page(_arrived([{"uuid": "a"}, {"uuid": "m"}, {"uuid": "z"}]), False, _SLICE)

    def test_given_a_token_followed_twice_when_repeats_fail_then_transient_failure(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)
        guard.follow("token-1", _SLICE)

        with pytest.raises(AirbyteTracedException, match="answered a search_token that was already followed"):
            guard.follow("token-1", _SLICE)

    def test_given_a_scroll_id_followed_twice_with_new_pages_when_repeats_allowed_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="Work Analytics", token_name="scrollId", fail_on_repeated_token=False)
        for number, first in enumerate((True, False, False)):
            guard.page(_arrived([{"callId": str(number)}]), first, _SLICE)
            guard.follow("scroll", _SLICE)

    def test_given_more_empty_searches_than_the_bound_when_counted_then_transient_failure(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token", max_empty_searches=2)
        guard.page(_arrived([]), True, _SLICE)
        guard.empty_search(_SLICE)
        guard.empty_search(_SLICE)

        with pytest.raises(AirbyteTracedException, match="answered 3 continued searches with no records and a new search_token each"):
            guard.empty_search(_SLICE)

    def test_given_two_threads_on_two_slices_when_paged_then_each_has_its_own_memory(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)

        with ThreadPoolExecutor(max_workers=1) as other_thread:
            other_thread.submit(guard.page, _arrived([{"uuid": "a"}]), True, _SLICE).result()
            other_thread.submit(guard.page, _arrived([{"uuid": "b"}]), False, _SLICE).result()

        guard.page(_arrived([{"uuid": "b"}]), False, _SLICE)


# ---------------------------------------------------------------------------------------------------------------------
# wall_clock_window
# ---------------------------------------------------------------------------------------------------------------------


def _readings(wall: datetime, zone: ZoneInfo) -> List[datetime]:
    """Both UTC instants a wall-clock time can mean in `zone` (the same one twice outside a fold)."""
    return [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]


def _assert_covers(start: datetime, end: datetime, zone: ZoneInfo) -> None:
    wall_start, wall_end = wall_clock_window(start, end, zone)
    assert max(_readings(wall_start, zone)) <= start
    assert min(_readings(wall_end, zone)) > end


class TestWallClockWindow:
    def test_given_utc_day_when_window_then_start_kept_and_end_pushed_to_next_second(self) -> None:
        window = wall_clock_window(_utc("2026-06-01T00:00:00Z"), _utc("2026-06-01T23:59:59.999Z"), ZoneInfo("UTC"))

        assert window == (datetime(2026, 6, 1, 0, 0, 0), datetime(2026, 6, 2, 0, 0, 0))

    def test_given_bounds_with_milliseconds_when_window_then_start_floored_and_end_plus_one_second_floored(self) -> None:
        window = wall_clock_window(_utc("2026-06-01T10:15:30.750Z"), _utc("2026-06-01T12:00:00.000Z"), ZoneInfo("UTC"))

        assert window == (datetime(2026, 6, 1, 10, 15, 30), datetime(2026, 6, 1, 12, 0, 1))

    def test_given_fixed_offset_zone_when_window_then_shifted_by_offset(self) -> None:
        window = wall_clock_window(_utc("2026-06-01T00:00:00Z"), _utc("2026-06-01T23:59:59.999Z"), ZoneInfo("Asia/Kolkata"))

        assert window == (datetime(2026, 6, 1, 5, 30, 0), datetime(2026, 6, 2, 5, 30, 0))

    def test_given_sao_paulo_when_window_then_three_hours_behind(self) -> None:
        window = wall_clock_window(_utc("2026-06-01T00:00:00Z"), _utc("2026-06-01T23:59:59.999Z"), ZoneInfo("America/Sao_Paulo"))

        assert window == (datetime(2026, 5, 31, 21, 0, 0), datetime(2026, 6, 1, 21, 0, 0))

    def test_given_slice_over_new_york_dst_fold_when_window_then_widened_to_cover_both_readings(self) -> None:
        # 2026-11-01 01:30 happens twice in New York: 05:30Z (EDT) and 06:30Z (EST).
        start, end = _utc("2026-11-01T05:30:00Z"), _utc("2026-11-01T06:30:00Z")

        window = wall_clock_window(start, end, NEW_YORK)

        assert window == (datetime(2026, 11, 1, 0, 30, 0), datetime(2026, 11, 1, 2, 30, 1))
        _assert_covers(start, end, NEW_YORK)

    @pytest.mark.parametrize(
        "start, end",
        [
            ("2026-11-01T06:30:00Z", "2026-11-01T06:45:00Z"),  # both bounds in the second reading (EST)
            ("2026-11-01T04:00:00Z", "2026-11-01T05:10:00Z"),  # the end in the first reading (EDT)
            ("2026-11-01T06:59:59.500Z", "2026-11-01T07:30:00Z"),  # the start in the fold's last second
            ("2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"),  # across the spring-forward gap
        ],
    )
    def test_given_slice_near_a_dst_change_when_window_then_every_reading_covers_the_slice(self, start: str, end: str) -> None:
        _assert_covers(_utc(start), _utc(end), NEW_YORK)

    def test_given_slice_away_from_dst_change_when_window_then_not_widened(self) -> None:
        window = wall_clock_window(_utc("2026-11-01T12:00:00Z"), _utc("2026-11-01T13:00:00Z"), NEW_YORK)

        assert window == (datetime(2026, 11, 1, 7, 0, 0), datetime(2026, 11, 1, 8, 0, 1))

    def test_given_end_padding_when_window_then_end_pushed_by_padding_and_one_second(self) -> None:
        window = wall_clock_window(
            _utc("2026-06-01T00:00:00Z"), _utc("2026-06-01T23:59:59.999Z"), ZoneInfo("UTC"), end_padding=timedelta(minutes=60)
        )

        assert window == (datetime(2026, 6, 1, 0, 0, 0), datetime(2026, 6, 2, 1, 0, 0))

    def test_given_start_padding_when_window_then_start_pulled_back_by_padding_and_floored(self) -> None:
        window = wall_clock_window(
            _utc("2026-06-01T00:00:00.250Z"), _utc("2026-06-01T23:59:59.999Z"), ZoneInfo("America/Sao_Paulo"), start_padding=timedelta(minutes=60)
        )

        assert window == (datetime(2026, 5, 31, 20, 0, 0), datetime(2026, 6, 1, 21, 0, 0))

    def test_given_any_window_when_computed_then_naive_wall_clock_times(self) -> None:
        start, end = wall_clock_window(_utc("2026-06-01T00:00:00Z"), _utc("2026-06-01T01:00:00Z"), NEW_YORK)

        assert start.tzinfo is None and end.tzinfo is None


# ---------------------------------------------------------------------------------------------------------------------
# ExactlyOnceSliceFilter
# ---------------------------------------------------------------------------------------------------------------------

_DAY_ONE = StreamSlice(partition={}, cursor_slice={"start_time": "2026-06-01T00:00:00.000000Z", "end_time": "2026-06-01T23:59:59.999000Z"})
_DAY_TWO = StreamSlice(partition={}, cursor_slice={"start_time": "2026-06-02T00:00:00.000000Z", "end_time": "2026-06-02T23:59:59.999000Z"})


def _cdr(uuid: Any, timestamp: Any) -> dict:
    return {"uuid": uuid, "timestamp": timestamp}


def _slice_filter() -> ExactlyOnceSliceFilter:
    return ExactlyOnceSliceFilter(config={}, parameters={}, cursor_field="timestamp", primary_key="uuid")


def _kept(record_filter: ExactlyOnceSliceFilter, records: Iterable[Mapping[str, Any]], stream_slice: Optional[StreamSlice] = _DAY_ONE) -> List[Any]:
    return [record["uuid"] for record in record_filter.filter_records(records, stream_state={}, stream_slice=stream_slice)]


class TestExactlyOnceSliceFilter:
    @pytest.mark.parametrize(
        "timestamp",
        [
            "2026-06-01T00:00:00.000Z",
            "2026-06-01T12:00:00.000Z",
            "2026-06-01T23:59:59.999Z",
            "2026-06-01T20:59:59.999-03:00",
            "2026-06-02T05:29:59.999+05:30",
            "2026-05-31T21:00:00.000-03:00",
        ],
        ids=["start", "inside", "end", "end_with_-03:00", "end_with_+05:30", "start_with_-03:00"],
    )
    def test_given_cursor_inside_or_on_a_bound_when_filtered_then_kept(self, timestamp: str) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == ["a"]

    @pytest.mark.parametrize(
        "timestamp",
        ["2026-05-31T23:59:59.999Z", "2026-06-02T00:00:00.000Z", "2026-06-01T21:00:00.000-03:00", "2026-06-01T05:29:59.999+05:30"],
        ids=["ms_before_start", "ms_after_end", "after_end_with_-03:00", "before_start_with_+05:30"],
    )
    def test_given_cursor_outside_the_slice_when_filtered_then_dropped(self, timestamp: str) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == []

    def test_given_same_key_twice_in_a_slice_when_filtered_then_kept_once(self) -> None:
        record_filter = _slice_filter()
        records = [_cdr("a", "2026-06-01T10:00:00.000Z"), _cdr("b", "2026-06-01T11:00:00.000Z"), _cdr("a", "2026-06-01T10:00:00.000Z")]

        assert _kept(record_filter, records) == ["a", "b"]

    def test_given_key_seen_on_an_earlier_page_of_the_slice_when_filtered_then_dropped(self) -> None:
        record_filter = _slice_filter()
        _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")])

        assert _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z"), _cdr("b", "2026-06-01T10:00:01.000Z")]) == ["b"]

    def test_given_a_new_slice_when_filtered_then_keys_of_the_previous_slice_forgotten(self) -> None:
        record_filter = _slice_filter()
        _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")])
        _kept(record_filter, [_cdr("b", "2026-06-02T10:00:00.000Z")], _DAY_TWO)

        assert _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")]) == ["a"]

    def test_given_a_finished_slice_when_forgotten_then_its_keys_are_released(self) -> None:
        record_filter = _slice_filter()
        _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")])

        record_filter.forget_slice()

        assert record_filter._current.slice is None
        assert _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")]) == ["a"]

    def test_given_two_threads_on_two_slices_when_interleaved_then_each_keeps_its_own_keys(self) -> None:
        record_filter = _slice_filter()
        day_one_reader, day_two_reader = ThreadPoolExecutor(max_workers=1), ThreadPoolExecutor(max_workers=1)

        def on(reader: ThreadPoolExecutor, records: List[dict], stream_slice: StreamSlice) -> List[Any]:
            return reader.submit(_kept, record_filter, records, stream_slice).result()

        with day_one_reader, day_two_reader:
            first_page = on(day_one_reader, [_cdr("a", "2026-06-01T10:00:00.000Z")], _DAY_ONE)
            other_slice = on(day_two_reader, [_cdr("a", "2026-06-02T10:00:00.000Z")], _DAY_TWO)
            second_page = on(day_one_reader, [_cdr("a", "2026-06-01T10:00:00.000Z")], _DAY_ONE)

        assert (first_page, other_slice, second_page) == (["a"], ["a"], [])

    @pytest.mark.parametrize("timestamp", [None, "not a date", True, {"at": 1}, ""], ids=["null", "garbage", "bool", "object", "empty"])
    def test_given_unreadable_cursor_when_filtered_then_kept_with_a_warning(self, timestamp: Any, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="airbyte"):
            kept = _kept(_slice_filter(), [_cdr("a", timestamp)])

        assert kept == ["a"]
        assert "unreadable timestamp" in caplog.text

    def test_given_offsets_alternating_in_a_page_when_kept_then_each_compared_at_its_own_offset_and_the_latest_across_them(self) -> None:
        records = [
            _cdr("a", "2026-06-01T20:00:00.000-03:00"),  # 23:00 UTC
            _cdr("b", "2026-06-01T22:00:00.000Z"),
            _cdr("c", "2026-06-01T21:00:00.000-03:00"),  # 00:00 UTC the next day: dropped
            _cdr("d", "2026-06-01T23:30:00.000Z"),
            _cdr("e", "2026-06-01T20:59:59.999-03:00"),  # 23:59:59.999 UTC: the latest
            _cdr("f", "2026-06-01T00:00:00.000Z"),
        ]

        kept, latest = _slice_filter().keep(records, _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a", "b", "d", "e", "f"]
        assert latest["uuid"] == "e"

    @pytest.mark.parametrize("timestamp", ["2026-06-01T25:00:00.000Z", "2026-13-01T10:00:00.000-03:00", "2026-06-01T1O:00:00.000Z"])
    def test_given_a_fixed_width_cursor_that_is_no_date_when_kept_then_kept_as_unreadable(self, timestamp: str) -> None:
        kept, latest = _slice_filter().keep([_cdr("a", timestamp), _cdr("b", "2026-06-01T10:00:00.000Z")], _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a", "b"] and latest["uuid"] == "b"

    @pytest.mark.parametrize(
        "timestamp, kept",
        [("1780272000000", ["a"]), (1780272000000, ["a"]), ("1780271999999", []), (1780358400000, [])],
        ids=["digit_string_at_start", "int_at_start", "digit_string_ms_before", "int_next_day"],
    )
    def test_given_epoch_milliseconds_when_filtered_then_compared_as_instants(self, timestamp: Any, kept: List[str]) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == kept

    def test_given_airbyte_records_when_filtered_then_read_from_their_data(self) -> None:
        record = Record(data=_cdr("a", "2026-06-01T10:00:00.000Z"), stream_name="contact_center_cdrs", associated_slice=_DAY_ONE)

        assert list(_slice_filter().filter_records([record, record], stream_state={}, stream_slice=_DAY_ONE)) == [record]

    @pytest.mark.parametrize("stream_slice", [None, StreamSlice(partition={}, cursor_slice={})], ids=["no_slice", "no_bounds"])
    def test_given_no_slice_bounds_when_filtered_then_everything_kept(self, stream_slice: Optional[StreamSlice]) -> None:
        records = [_cdr("a", "1999-01-01T00:00:00Z"), _cdr("a", "1999-01-01T00:00:00Z")]

        assert _kept(_slice_filter(), records, stream_slice) == ["a", "a"]

    def test_given_interpolated_fields_when_built_then_resolved_from_parameters(self) -> None:
        record_filter = ExactlyOnceSliceFilter(
            config={}, parameters={"primary_key": "callId"}, cursor_field="startTimeUTC", primary_key="{{ parameters['primary_key'] }}"
        )
        records = [{"callId": 1, "startTimeUTC": 1780272000000}, {"callId": 1, "startTimeUTC": 1780272000000}]

        assert len(list(record_filter.filter_records(records, stream_state={}, stream_slice=_DAY_ONE))) == 1

    def test_given_a_page_when_kept_then_the_latest_is_the_kept_record_with_the_greatest_instant(self) -> None:
        records = [
            _cdr("a", "2026-06-01T10:00:00.000Z"),
            _cdr("b", "2026-06-01T20:30:00.000-03:00"),  # 23:30 UTC: the latest
            _cdr("c", "2026-06-02T01:00:00.000Z"),  # next day: dropped, not the latest
            _cdr("d", "2026-06-01T22:00:00.000Z"),
            _cdr("e", None),  # unreadable: kept, never the latest
        ]

        kept, latest = _slice_filter().keep(records, _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a", "b", "d", "e"]
        assert latest["uuid"] == "b"

    @pytest.mark.parametrize(
        "timestamp, kept",
        [
            ("2026-06-01 23:59:59.999Z", ["a"]),
            ("2026-06-02 00:00:00.000Z", []),
            ("2026-06-01T23:59:59.999+00:00", ["a"]),
            ("2026-06-02T05:29:59.999+05:30", ["a"]),
            ("2026-06-02T05:30:00.000+05:30", []),
            ("2026-06-01T23:59:59.9991Z", ["a"]),
            ("2026-06-01T20:59:59-03:00", ["a"]),
        ],
        ids=["space_separator", "space_separator_next_day", "plus_zero", "half_hour_offset_end", "half_hour_offset_after",
             "microseconds", "no_milliseconds"],
    )
    def test_given_other_iso_shapes_when_filtered_then_compared_as_instants(self, timestamp: str, kept: List[str]) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == kept

    def test_given_only_unreadable_cursors_when_kept_then_no_latest(self) -> None:
        kept, latest = _slice_filter().keep([_cdr("a", "garbage")], _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a"] and latest is None

    def test_given_two_distinct_records_without_a_key_when_filtered_then_both_kept(self) -> None:
        records = [{"timestamp": "2026-06-01T10:00:00.000Z", "from": "1"}, {"timestamp": "2026-06-01T11:00:00.000Z", "from": "2"}]

        assert len(list(_slice_filter().filter_records(records, stream_state={}, stream_slice=_DAY_ONE))) == 2


# ---------------------------------------------------------------------------------------------------------------------
# cursor_moment, parse_utc, parsed_body, JsonPageExtractor
# ---------------------------------------------------------------------------------------------------------------------


class TestCursorMoment:
    @pytest.mark.parametrize(
        "value, expected",
        [
            (1780272000000, "2026-06-01T00:00:00+00:00"),
            (1780272000000.5, "2026-06-01T00:00:00.000500+00:00"),
            ("1780272000123", "2026-06-01T00:00:00.123000+00:00"),
            (" 1780272000123 ", "2026-06-01T00:00:00.123000+00:00"),
            ("2024-07-31T12:43:09.000-03:00", "2024-07-31T15:43:09+00:00"),
            ("2024-07-31T12:43:09+05:30", "2024-07-31T07:13:09+00:00"),
            ("2024-07-31T12:43:09.000Z", "2024-07-31T12:43:09+00:00"),
            ("2024-07-31T12:43:09", "2024-07-31T12:43:09+00:00"),
            (1780272000, "2026-06-01T00:00:00+00:00"),
            ("1780272000", "2026-06-01T00:00:00+00:00"),
            (99999999999, "5138-11-16T09:46:39+00:00"),
            (100000000000, "1973-03-03T09:46:40+00:00"),
        ],
        ids=[
            "epoch_int", "epoch_float", "epoch_digits", "epoch_digits_padded", "offset_-03:00", "offset_+05:30", "z", "naive_is_utc",
            "epoch_seconds", "epoch_seconds_digits", "largest_seconds", "smallest_milliseconds",
        ],
    )
    def test_given_readable_value_when_parsed_then_aware_utc(self, value: Any, expected: str) -> None:
        moment = cursor_moment(value)

        assert moment is not None and moment.utcoffset() == timedelta(0)
        assert moment.isoformat() == expected

    @pytest.mark.parametrize(
        "value", [None, True, False, "", "yesterday", "2024-13-01T00:00:00Z", {"ms": 1}, [1], "99999999999999999", 99999999999999999, 1e300, float("nan")]
    )
    def test_given_unreadable_value_when_parsed_then_none(self, value: Any) -> None:
        assert cursor_moment(value) is None


class TestParseUtc:
    @pytest.mark.parametrize(
        "value, expected",
        [
            ("2026-06-01T00:00:00.000000Z", datetime(2026, 6, 1, tzinfo=UTC)),
            ("2026-06-01T05:30:00+05:30", datetime(2026, 6, 1, tzinfo=UTC)),
            ("2026-06-01T00:00:00", datetime(2026, 6, 1, tzinfo=UTC)),
            (datetime(2026, 6, 1), datetime(2026, 6, 1, tzinfo=UTC)),
            (datetime(2026, 5, 31, 21, tzinfo=timezone(timedelta(hours=-3))), datetime(2026, 6, 1, tzinfo=UTC)),
        ],
        ids=["z", "offset", "naive_string", "naive_datetime", "aware_datetime"],
    )
    def test_given_value_when_parsed_then_same_instant_in_utc(self, value: Any, expected: datetime) -> None:
        moment = parse_utc(value)

        assert moment == expected and moment.tzinfo == UTC

    def test_given_unreadable_value_when_parsed_then_value_error(self) -> None:
        with pytest.raises(ValueError):
            parse_utc("not a date")


class TestParsedBody:
    def test_given_a_response_read_twice_when_parsed_then_parsed_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loads = Mock(side_effect=page_json.loads)
        monkeypatch.setattr(page_body.page_json, "loads", loads)
        response = _response({"records": [{"uuid": "a"}]})

        first, second = parsed_body(response), parsed_body(response)

        assert first is second and first == {"records": [{"uuid": "a"}]}
        assert loads.call_count == 1

    def test_given_body_not_json_when_parsed_twice_then_parsed_once_and_marked_not_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loads = Mock(side_effect=page_json.loads)
        monkeypatch.setattr(page_body.page_json, "loads", loads)
        response = _response("<html>Bad Gateway</html>")

        assert parsed_body(response) is parsed_body(response) is page_body.NOT_JSON
        assert loads.call_count == 1


class TestJsonPageExtractor:
    def test_given_records_field_when_extracted_then_its_list(self) -> None:
        extractor = JsonPageExtractor(parameters={}, field="records")

        assert list(extractor.extract_records(_response({"records": [{"uuid": "a"}], "total": 1}))) == [{"uuid": "a"}]

    def test_given_no_field_and_a_list_body_when_extracted_then_the_list(self) -> None:
        extractor = JsonPageExtractor(parameters={})

        assert list(extractor.extract_records(_response([{"id": 1}, {"id": 2}]))) == [{"id": 1}, {"id": 2}]

    def test_given_a_page_when_extracted_then_the_paginator_still_reads_it(self) -> None:
        response = _response({"data": [{"callId": 1}, {"callId": 2}], "meta": {"scrollId": "next"}})

        records = list(JsonPageExtractor(parameters={}, field="data").extract_records(response))

        assert records == [{"callId": 1}, {"callId": 2}]
        assert ScrollIdPagination(config={}, parameters={}, page_size=2).next_page_token(response, 0, None, None) == "next"

    @pytest.mark.parametrize("body", ["<html></html>", {"total": 0}], ids=["not_json", "field_missing"])
    def test_given_no_records_list_when_extracted_then_nothing(self, body: Any) -> None:
        assert list(JsonPageExtractor(parameters={}, field="records").extract_records(_response(body))) == []


# ---------------------------------------------------------------------------------------------------------------------
# PageCheckingErrorHandler
# ---------------------------------------------------------------------------------------------------------------------

_GOOD_PAGE = {"records": [{"uuid": "a"}], "search_token": None}


class TestPageCheckingErrorHandler:
    @pytest.fixture(autouse=True)
    def _pauses(self, monkeypatch: pytest.MonkeyPatch) -> List[float]:
        self.pauses: List[float] = []
        monkeypatch.setattr(errors.time, "sleep", self.pauses.append)
        return self.pauses

    def _handler(self, status_resolution: Optional[ErrorResolution] = None, max_restarts: int = 3) -> PageCheckingErrorHandler:
        # Three restarts make the counting visible; the connector runs with the default (one, as the CDK allows).
        status_rules = Mock(spec=ErrorHandler)
        status_rules.interpret_response.return_value = status_resolution or ErrorResolution(response_action=ResponseAction.SUCCESS)
        status_rules.max_retries, status_rules.max_time = 4, 600
        return PageCheckingErrorHandler(
            status_rules=status_rules, records_field="records", api_name="The API", parameters={}, max_restarts=max_restarts
        )

    def test_given_default_bound_when_second_malformed_page_in_a_row_then_transient_failure(self) -> None:
        status_rules = Mock(spec=ErrorHandler)
        handler = PageCheckingErrorHandler(status_rules=status_rules, records_field="records", api_name="The API", parameters={})

        first, second = (handler.interpret_response(_response("<html>")) for _ in range(2))

        assert first.response_action == ResponseAction.RESET_PAGINATION
        assert second.response_action == ResponseAction.FAIL and second.failure_type == FailureType.transient_error

    def test_given_2xx_page_of_records_when_interpreted_then_success_without_asking_status_rules(self) -> None:
        handler = self._handler()

        assert handler.interpret_response(_response(_GOOD_PAGE)).response_action == ResponseAction.SUCCESS
        assert handler.interpret_response(_response({"records": []}, 204)).response_action == ResponseAction.SUCCESS
        handler.status_rules.interpret_response.assert_not_called()

    @pytest.mark.parametrize(
        "body, problem",
        [
            ("<!DOCTYPE html><html></html>", "not JSON"),
            ('{"records": [{"uuid": "a"}', "not JSON"),
            ({"total": 0, "page": 1}, "without a `records` list"),
            ({"records": None}, "without a `records` list"),
            ([{"uuid": "a"}], "JSON list instead of an object"),
            ({"records": [{"uuid": "a"}, "b"]}, "not objects"),
            ({"records": [{"uuid": "a"}, None, 3]}, "not objects"),
        ],
        ids=["html", "truncated_json", "no_records", "null_records", "list_body", "non_object_entry", "null_and_number_entries"],
    )
    def test_given_2xx_that_is_not_a_page_when_interpreted_then_restart_naming_the_problem(self, body: Any, problem: str) -> None:
        resolution = self._handler().interpret_response(_response(body))

        assert resolution.response_action == ResponseAction.RESET_PAGINATION
        assert problem in resolution.error_message and resolution.error_message.startswith("The API answered")

    def test_given_null_entries_in_a_page_when_interpreted_then_success_and_they_are_dropped_with_a_warning(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        response = _response({"records": [None, {"uuid": "a"}, None], "search_token": None})

        assert self._handler().interpret_response(response).response_action == ResponseAction.SUCCESS

        assert parsed_body(response)["records"] == [{"uuid": "a"}]
        assert "The API sent a page with null entries among its records; they were skipped." in caplog.text

    def _list_handler(self) -> PageCheckingErrorHandler:
        status_rules = Mock(spec=ErrorHandler)
        return PageCheckingErrorHandler(status_rules=status_rules, records_field="", api_name="The API", parameters={}, sliced=False, single_object_is_record=True)

    def test_given_a_single_object_for_a_list_when_interpreted_then_success(self) -> None:
        response = _response({"id": 5915, "name": "Dayshift"}, url="https://cc.test/api/v2/cdr/teams")

        assert self._list_handler().interpret_response(response).response_action == ResponseAction.SUCCESS
        assert list(JsonPageExtractor(parameters={}).extract_records(response)) == [{"id": 5915, "name": "Dayshift"}]

    def test_given_a_stream_without_slices_when_failing_then_no_word_of_slices_or_state(self, caplog: pytest.LogCaptureFixture) -> None:
        handler = self._list_handler()

        first, second = (handler.interpret_response(_response({}, url="https://cc.test/api/v2/cdr/teams")) for _ in range(2))

        assert first.response_action == ResponseAction.RESET_PAGINATION
        assert second.error_message == (
            "The API answered an empty JSON object instead of a list, 2 times in a row; the stream was not read, and the next sync asks for it again."
        )
        assert "asking for it again (restart 1 of 1)" in caplog.text
        assert "slice" not in second.error_message + caplog.text and "state" not in second.error_message + caplog.text

    @pytest.mark.parametrize("status_code", [400, 401, 403, 404, 429, 500])
    def test_given_non_2xx_when_interpreted_then_status_rules_decide(self, status_code: int) -> None:
        decision = ErrorResolution(response_action=ResponseAction.FAIL, failure_type=FailureType.config_error, error_message="rule")
        handler = self._handler(decision)
        response = _response({"error": "x"}, status_code)

        assert handler.interpret_response(response) is decision
        handler.status_rules.interpret_response.assert_called_once_with(response)

    def test_given_an_exception_when_interpreted_then_status_rules_decide(self) -> None:
        decision = ErrorResolution(response_action=ResponseAction.RETRY, failure_type=FailureType.transient_error)
        handler = self._handler(decision)
        error = requests.ConnectionError("reset by peer")

        assert handler.interpret_response(error) is decision
        handler.status_rules.interpret_response.assert_called_once_with(error)

    def test_given_malformed_pages_in_a_row_when_interpreted_then_three_restarts_then_transient_failure(self) -> None:
        handler = self._handler()

        actions = [handler.interpret_response(_response("<html>")).response_action for _ in range(4)]
        failure = handler.interpret_response(_response("<html>"))

        assert actions[:3] == [ResponseAction.RESET_PAGINATION] * 3
        assert actions[3] == ResponseAction.FAIL
        assert failure.response_action == ResponseAction.RESET_PAGINATION  # the count starts again after a failure
        assert self.pauses == [1.0, 2.0, 3.0, 1.0]

    def test_given_fourth_restart_when_interpreted_then_failure_is_transient_and_says_state_kept(self) -> None:
        handler = self._handler()
        for _ in range(3):
            handler.interpret_response(_response("<html>"))

        failure = handler.interpret_response(_response("<html>"))

        assert failure.failure_type == FailureType.transient_error
        assert "4 times while reading one slice" in failure.error_message and "state was not advanced" in failure.error_message

    def test_given_a_good_page_between_malformed_ones_of_one_slice_when_interpreted_then_still_counted(self) -> None:
        # The CDK counts every reset of a slice, not only consecutive ones.
        handler = self._handler()
        for _ in range(3):
            handler.interpret_response(_response("<html>"))
        handler.interpret_response(_response(_GOOD_PAGE))

        assert handler.interpret_response(_response("<html>")).response_action == ResponseAction.FAIL

    def test_given_next_page_of_the_same_slice_when_interpreted_then_counted_with_its_slice(self) -> None:
        handler = self._handler(max_restarts=1)
        handler.interpret_response(_response("<html>"))

        next_page = _response("<html>", url="https://api.test/v2/call-records?startTime=day-1&scrollId=abc")

        assert handler.interpret_response(next_page).response_action == ResponseAction.FAIL

    def test_given_another_slice_when_interpreted_then_count_starts_again(self) -> None:
        handler = self._handler(max_restarts=1)
        handler.interpret_response(_response("<html>"))

        other_slice = _response("<html>", url="https://api.test/v2/call-records?startTime=day-2")

        assert handler.interpret_response(other_slice).response_action == ResponseAction.RESET_PAGINATION

    def test_given_status_rules_ask_for_restart_when_interpreted_then_counted_like_malformed_pages(self) -> None:
        expired = ErrorResolution(response_action=ResponseAction.RESET_PAGINATION, error_message="search_token expired")
        handler = self._handler(expired)
        response = _response({"error": "Invalid search_token"}, 400)

        resolutions = [handler.interpret_response(response) for _ in range(4)]

        assert [resolution.response_action for resolution in resolutions] == [ResponseAction.RESET_PAGINATION] * 3 + [ResponseAction.FAIL]
        assert resolutions[0].error_message == "search_token expired"
        assert resolutions[3].failure_type == FailureType.transient_error

    def test_given_restarts_on_another_thread_when_interpreted_then_not_counted_here(self) -> None:
        handler = self._handler()
        for _ in range(3):
            handler.interpret_response(_response("<html>"))
        other_thread: List[ResponseAction] = []
        worker = threading.Thread(target=lambda: other_thread.append(handler.interpret_response(_response("<html>")).response_action))
        worker.start()
        worker.join()

        assert other_thread == [ResponseAction.RESET_PAGINATION]
        assert handler.interpret_response(_response("<html>")).response_action == ResponseAction.FAIL

    def test_given_status_rules_when_asked_for_retry_limits_then_theirs(self) -> None:
        handler = self._handler()

        assert (handler.max_retries, handler.max_time) == (4, 600)


# ---------------------------------------------------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------------------------------------------------

# Unique to these tests: registered secrets stay registered for the whole process.
_SECRET = 'unit "test"/secret+key=1 \\ é'


class TestSecretForms:
    def test_given_a_value_when_forms_then_raw_percent_encoded_and_json_escaped(self) -> None:
        forms = set(secrets.secret_forms(_SECRET))

        assert {_SECRET, quote(_SECRET, safe=""), quote(_SECRET), quote_plus(_SECRET), json.dumps(_SECRET)[1:-1]} <= forms

    def test_given_a_value_when_forms_then_url_inside_a_url_included(self) -> None:
        assert quote(quote_plus(_SECRET), safe="") in secrets.secret_forms(_SECRET)

    def test_given_a_value_when_forms_then_longest_first(self) -> None:
        forms = list(secrets.secret_forms(_SECRET))

        assert [len(form) for form in forms] == sorted((len(form) for form in forms), reverse=True)


class TestRegisterSecret:
    def test_given_registered_secret_when_filtering_any_form_then_masked(self) -> None:
        secrets.register_secret(_SECRET)
        text = " | ".join(
            [
                f"raw {_SECRET}",
                f"https://host/api?key={quote_plus(_SECRET)}&page=1",
                f"path /{quote(_SECRET)}/",
                f"encoded {quote(_SECRET, safe='')}",
                json.dumps({"message": f"key was {_SECRET}"}),
            ]
        )

        masked = filter_secrets(text)

        for form in (_SECRET, quote_plus(_SECRET), quote(_SECRET), quote(_SECRET, safe=""), json.dumps(_SECRET)[1:-1]):
            assert form not in masked
        assert "https://host/api?key=" in masked and "&page=1" in masked

    def test_given_same_secret_twice_when_registered_then_added_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        added: List[str] = []
        monkeypatch.setattr(secrets, "add_to_secrets", added.append)
        value = "twice/registered+secret"

        secrets.register_secret(value)
        secrets.register_secret(value)

        assert sorted(added) == sorted(secrets.secret_forms(value))

    @pytest.mark.parametrize("value", [None, "", "x", 12345, ["a-list"]], ids=["none", "empty", "one_char", "int", "list"])
    def test_given_nothing_worth_masking_when_registered_then_ignored(self, value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        added: List[str] = []
        monkeypatch.setattr(secrets, "add_to_secrets", added.append)

        secrets.register_secret(value)

        assert added == []

    def test_given_config_when_registered_then_keys_and_password_registered_not_username(self, monkeypatch: pytest.MonkeyPatch) -> None:
        added: List[str] = []
        monkeypatch.setattr(secrets, "add_to_secrets", added.append)
        config = {
            "work_analytics": {"api_key": "wa-key-1", "username": "analyst@example.com", "password": "wa-pass-1"},
            "contact_center": {"api_key": "cc-key-1", "base_url": "https://cc.example.com"},
        }

        secrets.register_config_secrets(config)

        assert {"wa-key-1", "wa-pass-1", "cc-key-1"} <= set(added)
        assert not any("analyst" in form or "cc.example.com" in form for form in added)
