"""`contact_center_cdrs`: `GET {base_url}/api/v2/cdr`, read through mocked HTTP.

Manifest settings under test (`definitions.contact_center_cdrs`): `WallClockWindowRequester`
(`start_datetime`/`end_datetime` in `contact_center.time_zone`, `per_page`, `page`, `search_token`),
`SearchTokenPagination`, `ExactlyOnceSliceFilter` on `timestamp`/`uuid`, `PageCheckingErrorHandler` over
`contact_center_status_rules`, and `cursor_base` (daily slices, UTC state, 60-minute lookback).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from datetime import timedelta
from typing import Any, List, Optional
from unittest import TestCase
from urllib.parse import quote, quote_plus

import pytest
import requests_mock
from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import AirbyteMessageSerializer, AirbyteStateBlob, AirbyteStateMessage, FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import CC_API_KEY, CC_BASE_URL, ConfigBuilder
from unit_tests.mock_server.fault_cases import RetriedFaultCases
from unit_tests.mock_server.helpers import read_streams, stream_error
from unit_tests.mock_server.contact_center import (
    CDRS_STREAM,
    KOLKATA,
    CdrApiSelectingByStartTime,
    SEARCH_CAP,
    CdrPageBuilder,
    ContactCenterRequestBuilder,
    bad_request_response,
    cdr_record,
    cdr_timestamp,
    empty_cdr_page,
    generate_cdrs,
    html_response,
    invalid_key_response,
    invalid_search_token_response,
    page_without_records_response,
    rate_limited_response,
    server_error_response,
    truncated_json_response,
    utc,
)

_NOW = "2026-06-05T00:00:00Z"
# With the default config (end_date 2026-06-03), `_one_day_config` reads one slice: 2026-06-01 UTC.
_ONE_DAY_END = "2026-06-02T00:00:00Z"
# The window sent for that slice: start a lookback window (60 minutes) earlier, floored to the second (the API may
# select by an interaction's start, the cursor is its end); end = slice end + 1 s, floored.
_ONE_DAY_WINDOW = ("2026-05-31T23:00:00", "2026-06-02T00:00:01")
_FIRST_DAY_WINDOW = ("2026-05-31T23:00:00", "2026-06-02T00:00:00")
_SECOND_DAY_WINDOW = ("2026-06-01T23:00:00", "2026-06-03T00:00:01")
_IN_DAY_ONE = utc("2026-06-01T08:00:00.000")

# Retries and slice restarts ask to wait; the waits are skipped and listed in `self.waits` (see unit_tests/conftest.py).
pytestmark = pytest.mark.usefixtures("instant_sleep")


def _config(per_page: Optional[int] = None, time_zone: Optional[str] = None) -> ConfigBuilder:
    return ConfigBuilder().with_contact_center(per_page=per_page, time_zone=time_zone)


def _one_day_config(per_page: Optional[int] = None) -> ConfigBuilder:
    return _config(per_page=per_page).with_end_date(_ONE_DAY_END)


def _read(
    config_builder: ConfigBuilder,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
    debug: bool = False,
) -> EntrypointOutput:
    return read_streams([CDRS_STREAM], config_builder, sync_mode, state, expecting_exception, debug)


def _cdrs_request(window: tuple = _ONE_DAY_WINDOW, per_page: int = 10_000) -> ContactCenterRequestBuilder:
    return ContactCenterRequestBuilder.cdrs().with_per_page(per_page).with_window(*window)


def _records_as_the_source_yields_them(config_builder: ConfigBuilder) -> List[Any]:
    """The RECORD messages as the source yields them. (`read` checks what the entrypoint prints by parsing it with
    orjson, which turns integers beyond 64 bits into floats: the test harness's doing, not the output's.)"""
    config = config_builder.build()
    catalog = CatalogBuilder().with_stream(CDRS_STREAM, SyncMode.full_refresh).build()
    source = SourceEightByEightCdr(catalog=catalog, config=config, state=None)
    return [message.record for message in source.read(logging.getLogger("airbyte"), config, catalog, None) if message.record]


def _mock_end_of_search(
    http_mocker: HttpMocker, window: tuple = _ONE_DAY_WINDOW, page: int = 2, per_page: int = 10_000, search_token: Optional[str] = None
) -> None:
    """The empty page that ends a search: the connector asks for the next page after every page with records,
    as a server may serve fewer records per page than asked."""
    request = _cdrs_request(window, per_page).with_page(page)
    if search_token:
        request = request.with_search_token(search_token)
    http_mocker.get(request.build(), empty_cdr_page())


def _uuids(output: EntrypointOutput) -> List[str]:
    return [message.record.data["uuid"] for message in output.records]


def _without_nulls(record: dict) -> dict:
    return {key: value for key, value in record.items() if value is not None}


def _stream_error(output: EntrypointOutput) -> Any:
    return stream_error(output, CDRS_STREAM)


@freeze_time(_NOW)
class FullRefreshTest(TestCase):
    @HttpMocker()
    def test_given_one_page_when_read_then_records_emitted_and_window_sent_in_utc(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            _cdrs_request().build(),
            CdrPageBuilder()
            .with_record(cdr_record().with_id("a").with_cursor(cdr_timestamp(utc("2026-06-01T00:00:00.000"))))
            .with_record(cdr_record().with_id("b").with_cursor(cdr_timestamp(utc("2026-06-01T23:59:59.999"))))
            .build(),
        )
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config())

        assert _uuids(output) == ["a", "b"]
        assert not output.errors

    @HttpMocker()
    def test_given_unknown_type_disposition_and_fields_when_read_then_record_emitted_unchanged_but_its_instant_in_utc(self, http_mocker: HttpMocker) -> None:
        record = (
            cdr_record()
            .with_id("odd")
            .with_cursor(cdr_timestamp(_IN_DAY_ONE))
            .with_field(FieldPath("type"), "carrier_pigeon")
            .with_field(FieldPath("disposition"), "lost_in_flight")
            .with_field(FieldPath("brand_new_field"), {"nested": [1, 2]})
            .with_field(FieldPath("sla"), {"time_to_first_response": "00:01:45", "time_to_resolution": "48:16:27"})
        )
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_record(record).build())
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config())

        # The CDK's message serializer leaves out fields whose value is null (`queue` here); the timestamp is the
        # same instant, written in UTC.
        sent = record.build()
        assert sent["timestamp"] == "2026-06-01T05:00:00.000-03:00"
        assert [message.record.data for message in output.records] == [{**_without_nulls(sent), "timestamp": "2026-06-01T08:00:00.000Z"}]

    @HttpMocker()
    def test_given_two_days_when_read_then_one_request_per_daily_slice(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            _cdrs_request(_FIRST_DAY_WINDOW).build(),
            CdrPageBuilder().with_record(cdr_record().with_id("day-1").with_cursor(cdr_timestamp(_IN_DAY_ONE))).build(),
        )
        http_mocker.get(
            _cdrs_request(_SECOND_DAY_WINDOW).build(),
            CdrPageBuilder().with_record(cdr_record().with_id("day-2").with_cursor(cdr_timestamp(utc("2026-06-02T08:00:00.000")))).build(),
        )
        for window in (_FIRST_DAY_WINDOW, _SECOND_DAY_WINDOW):
            _mock_end_of_search(http_mocker, window)

        output = _read(_config())

        assert sorted(_uuids(output)) == ["day-1", "day-2"]

    @HttpMocker()
    def test_given_sao_paulo_time_zone_when_read_then_window_sent_in_sao_paulo_wall_clock(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            _cdrs_request(("2026-05-31T20:00:00", "2026-06-01T21:00:01")).build(),
            CdrPageBuilder().with_record(cdr_record().with_id("a").with_cursor("2026-06-01T12:43:09.000-03:00")).build(),
        )
        _mock_end_of_search(http_mocker, ("2026-05-31T20:00:00", "2026-06-01T21:00:01"))

        output = _read(_config(time_zone="America/Sao_Paulo").with_end_date(_ONE_DAY_END))

        assert _uuids(output) == ["a"]

    @HttpMocker()
    def test_given_new_york_dst_fold_when_read_then_window_widened_to_cover_both_readings(self, http_mocker: HttpMocker) -> None:
        # 2026-11-01 01:00-02:00 happens twice in New York (EDT, then EST). The slice 05:30Z-06:30Z is
        # 01:30 EDT to 01:30 EST: each bound is widened by the hour of the fold (no lookback, so the start is the slice's).
        http_mocker.get(
            _cdrs_request(("2026-11-01T00:30:00", "2026-11-01T02:30:01")).build(),
            CdrPageBuilder()
            .with_record(cdr_record().with_id("edt").with_cursor("2026-11-01T01:45:00.000-04:00"))
            .with_record(cdr_record().with_id("est").with_cursor("2026-11-01T01:15:00.000-05:00"))
            .with_record(cdr_record().with_id("before").with_cursor("2026-11-01T01:15:00.000-04:00"))
            .with_record(cdr_record().with_id("after").with_cursor("2026-11-01T01:45:00.000-05:00"))
            .build(),
        )
        _mock_end_of_search(http_mocker, ("2026-11-01T00:30:00", "2026-11-01T02:30:01"))
        config = (
            _config(time_zone="America/New_York")
            .with_field("lookback_window_minutes", 0)
            .with_start_date("2026-11-01T05:30:00Z")
            .with_end_date("2026-11-01T06:30:00Z")
        )

        with freeze_time("2026-11-05T00:00:00Z"):
            output = _read(config)

        assert sorted(_uuids(output)) == ["edt", "est"]

    @HttpMocker()
    def test_given_records_around_slice_boundary_when_both_windows_return_them_then_each_emitted_once(
        self, http_mocker: HttpMocker
    ) -> None:
        # Both windows include the second 2026-06-02T00:00:00; each record belongs to exactly one slice.
        last_ms_of_day_one = cdr_record().with_id("last-ms-day-1").with_cursor(cdr_timestamp(utc("2026-06-01T23:59:59.999")))
        first_ms_of_day_two = cdr_record().with_id("first-ms-day-2").with_cursor(cdr_timestamp(utc("2026-06-02T00:00:00.000")))
        for window in (_FIRST_DAY_WINDOW, _SECOND_DAY_WINDOW):
            http_mocker.get(
                _cdrs_request(window).build(),
                CdrPageBuilder().with_record(last_ms_of_day_one).with_record(first_ms_of_day_two).build(),
            )
            _mock_end_of_search(http_mocker, window)

        output = _read(_config())

        assert sorted(_uuids(output)) == ["first-ms-day-2", "last-ms-day-1"]

    @HttpMocker()
    def test_given_records_outside_the_sync_range_when_read_then_dropped(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            _cdrs_request().build(),
            CdrPageBuilder()
            .with_record(cdr_record().with_id("before-start").with_cursor(cdr_timestamp(utc("2026-05-31T23:59:59.999"))))
            .with_record(cdr_record().with_id("inside").with_cursor(cdr_timestamp(_IN_DAY_ONE)))
            .with_record(cdr_record().with_id("after-end").with_cursor(cdr_timestamp(utc("2026-06-02T00:00:00.001"))))
            .build(),
        )
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config())

        assert _uuids(output) == ["inside"]

    @HttpMocker()
    def test_given_same_uuid_twice_in_a_slice_when_read_then_emitted_once(self, http_mocker: HttpMocker) -> None:
        record = cdr_record().with_id("twice").with_cursor(cdr_timestamp(_IN_DAY_ONE))
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_record(record).with_record(record).build())
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config())

        assert _uuids(output) == ["twice"]

    @HttpMocker()
    def test_given_both_apis_configured_when_read_cdrs_then_no_work_analytics_request(self, http_mocker: HttpMocker) -> None:
        # HttpMocker fails on any request that was not mocked, such as a Work Analytics login.
        http_mocker.get(
            _cdrs_request().build(),
            CdrPageBuilder().with_record(cdr_record().with_id("a").with_cursor(cdr_timestamp(_IN_DAY_ONE))).build(),
        )
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config().with_work_analytics())

        assert _uuids(output) == ["a"]
        assert not output.errors


@freeze_time(_NOW)
class DiscoverTest(TestCase):
    def test_given_config_when_discover_then_incremental_on_timestamp_keyed_by_uuid(self) -> None:
        config = _config().build()

        output = discover(SourceEightByEightCdr(config=config), config)

        stream = next(stream for stream in output.catalog.catalog.streams if stream.name == CDRS_STREAM)
        assert stream.source_defined_primary_key == [["uuid"]]
        assert stream.default_cursor_field == ["timestamp"]
        assert set(stream.supported_sync_modes) == {SyncMode.full_refresh, SyncMode.incremental}


@freeze_time(_NOW)
class PaginationTest(TestCase):
    """`SearchTokenPagination`: `page`/`per_page` within a search until an empty page, then `search_token`."""

    @HttpMocker()
    def test_given_no_records_when_read_then_one_request_and_no_records(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), empty_cdr_page())

        output = _read(_one_day_config())

        assert output.records == []
        assert not output.errors

    @HttpMocker()
    def test_given_full_page_then_short_page_when_read_then_next_page_until_an_empty_one(self, http_mocker: HttpMocker) -> None:
        records = generate_cdrs(3, _IN_DAY_ONE)
        http_mocker.get(_cdrs_request(per_page=2).build(), CdrPageBuilder().with_records(records[:2]).build())
        http_mocker.get(
            _cdrs_request(per_page=2).with_page(2).build(),
            CdrPageBuilder().with_records(records[2:]).with_page(2).build(),
        )
        _mock_end_of_search(http_mocker, page=3, per_page=2)

        output = _read(_one_day_config(per_page=2))

        assert _uuids(output) == ["cdr-0", "cdr-1", "cdr-2"]

    @HttpMocker()
    def test_given_server_serving_fewer_records_per_page_than_asked_when_read_then_every_page_read(self, http_mocker: HttpMocker) -> None:
        # Asked for 5 a page, the server serves 2: each short page is followed by the next one.
        records = generate_cdrs(5, _IN_DAY_ONE)
        for page, start in enumerate(range(0, 5, 2), start=1):
            http_mocker.get(
                _cdrs_request(per_page=5).with_page(page).build(),
                CdrPageBuilder().with_records(records[start : start + 2]).with_page(page).build(),
            )
        _mock_end_of_search(http_mocker, page=4, per_page=5)

        output = _read(_one_day_config(per_page=5))

        assert _uuids(output) == ["cdr-0", "cdr-1", "cdr-2", "cdr-3", "cdr-4"]

    @HttpMocker()
    def test_given_full_last_page_below_cap_when_read_then_empty_next_page_ends(self, http_mocker: HttpMocker) -> None:
        records = generate_cdrs(2, _IN_DAY_ONE)
        http_mocker.get(_cdrs_request(per_page=2).build(), CdrPageBuilder().with_records(records).build())
        http_mocker.get(_cdrs_request(per_page=2).with_page(2).build(), empty_cdr_page())

        output = _read(_one_day_config(per_page=2))

        assert _uuids(output) == ["cdr-0", "cdr-1"]

    @HttpMocker()
    def test_given_a_token_shown_on_the_first_page_when_read_then_the_search_is_read_to_its_empty_page_before_the_token(
        self, http_mocker: HttpMocker
    ) -> None:
        records = generate_cdrs(4, _IN_DAY_ONE)
        http_mocker.get(
            _cdrs_request(per_page=2).build(),
            CdrPageBuilder().with_records(records[:2]).with_search_token("token-1").build(),
        )
        http_mocker.get(
            _cdrs_request(per_page=2).with_page(2).build(),
            CdrPageBuilder().with_records(records[2:3]).with_page(2).build(),
        )
        _mock_end_of_search(http_mocker, page=3, per_page=2)
        http_mocker.get(
            _cdrs_request(per_page=2).with_search_token("token-1").build(),
            CdrPageBuilder().with_records(records[3:]).build(),
        )
        _mock_end_of_search(http_mocker, per_page=2, search_token="token-1")

        output = _read(_one_day_config(per_page=2))

        assert _uuids(output) == ["cdr-0", "cdr-1", "cdr-2", "cdr-3"]

    @HttpMocker()
    def test_given_short_page_with_search_token_when_read_then_its_empty_next_page_and_then_the_next_search(
        self, http_mocker: HttpMocker
    ) -> None:
        records = generate_cdrs(2, _IN_DAY_ONE)
        http_mocker.get(
            _cdrs_request(per_page=2).build(),
            CdrPageBuilder().with_records(records[:1]).with_search_token("token-1").build(),
        )
        _mock_end_of_search(http_mocker, per_page=2)
        http_mocker.get(
            _cdrs_request(per_page=2).with_search_token("token-1").build(),
            CdrPageBuilder().with_records(records[1:]).build(),
        )
        _mock_end_of_search(http_mocker, per_page=2, search_token="token-1")

        output = _read(_one_day_config(per_page=2))

        assert _uuids(output) == ["cdr-0", "cdr-1"]

    @HttpMocker()
    def test_given_exactly_10000_records_without_token_when_read_then_one_page_and_its_empty_next_page(self, http_mocker: HttpMocker) -> None:
        records = generate_cdrs(10_000, _IN_DAY_ONE, timedelta(seconds=1))
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_records(records).build())
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config(per_page=10_000))

        assert len(output.records) == 10_000
        assert set(_uuids(output)) == {record["uuid"] for record in records}

    @HttpMocker()
    def test_given_10001_records_in_pages_of_10000_when_read_then_10001st_read_with_search_token(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=10_001, per_page=10_000, placement="cap_page")

    @HttpMocker()
    def test_given_10001_records_and_token_on_every_page_when_read_then_10001st_read_with_search_token(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=10_001, per_page=5_000, placement="every_page")

    @HttpMocker()
    def test_given_10001_records_and_token_only_on_cap_page_when_read_then_10001st_read_with_search_token(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=10_001, per_page=5_000, placement="cap_page")

    @HttpMocker()
    def test_given_25000_records_in_pages_of_10000_when_read_then_three_searches(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=25_000, per_page=10_000, placement="cap_page")

    # A server that serves fewer records per page than asked (the vendor's maximum is not a contract): the
    # 10,000-record cap then falls in the middle of a server page (3,000 a page) or on a page boundary (2,500).

    @HttpMocker()
    def test_given_server_pages_of_3000_and_token_on_every_page_when_read_then_no_record_lost_or_twice(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=12_345, per_page=10_000, placement="every_page", server_page=3_000)

    @HttpMocker()
    def test_given_server_pages_of_3000_and_token_on_cap_page_when_read_then_no_record_lost_or_twice(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=12_345, per_page=10_000, placement="cap_page", server_page=3_000)

    @HttpMocker()
    def test_given_server_pages_of_2500_and_token_on_every_page_when_read_then_no_record_lost_or_twice(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=12_345, per_page=10_000, placement="every_page", server_page=2_500)

    @HttpMocker()
    def test_given_server_pages_of_2500_and_token_on_cap_page_when_read_then_no_record_lost_or_twice(self, http_mocker: HttpMocker) -> None:
        self._assert_reads_all(http_mocker, total=12_345, per_page=10_000, placement="cap_page", server_page=2_500)

    def _assert_reads_all(self, http_mocker: HttpMocker, total: int, per_page: int, placement: str, server_page: Optional[int] = None) -> None:
        records = generate_cdrs(total, _IN_DAY_ONE, timedelta(seconds=2))
        searches = [records[start : start + SEARCH_CAP] for start in range(0, total, SEARCH_CAP)]
        _mock_searches(http_mocker, searches, per_page, placement, server_page or per_page)

        output = _read(_one_day_config(per_page=per_page))

        assert len(output.records) == total
        assert set(_uuids(output)) == {record["uuid"] for record in records}


def _mock_searches(http_mocker: HttpMocker, searches: List[List[dict]], per_page: int, placement: str, server_page: int) -> None:
    """Mock one capped search after another, the way the API pages them, `server_page` records a page (at most
    `per_page`, what the connector asks for).

    Search `n` (n >= 1) is requested with `search_token=token-n`. Each search ends with an empty page. With
    `placement="every_page"` every page of a capped search carries the token of the next search; with
    `"cap_page"` only the page that reaches the cap does.
    """
    for number, records in enumerate(searches):
        next_token = f"token-{number + 1}" if number + 1 < len(searches) else None
        pages = [records[start : start + server_page] for start in range(0, len(records), server_page)] + [[]]
        for index, page_records in enumerate(pages):
            request = _cdrs_request(per_page=per_page).with_page(index + 1)
            if number:
                request = request.with_search_token(f"token-{number}")
            reaches_cap = index == len(pages) - 2
            token = next_token if placement == "every_page" or reaches_cap else None
            http_mocker.get(request.build(), CdrPageBuilder().with_records(page_records).with_page(index + 1).with_search_token(token).build())


@freeze_time(_NOW)
class StartTimeSelectionTest(TestCase):
    """Which time `start_datetime`/`end_datetime` select on is not published; the cursor `timestamp` is when an
    interaction ended. Windows start a lookback window before their slice, so an API that selects by the start
    also returns, in the slice that owns it, an interaction that started in the slice before."""

    def test_given_an_api_selecting_by_start_time_and_hourly_slices_when_read_then_every_call_crossing_an_hour_is_kept(self) -> None:
        self._assert_every_call_read_once(slice_hours=1)

    def test_given_an_api_selecting_by_start_time_and_daily_slices_when_read_then_every_call_crossing_midnight_is_kept(self) -> None:
        self._assert_every_call_read_once(slice_hours=24)

    def _assert_every_call_read_once(self, slice_hours: int) -> None:
        # 48 calls of 20 minutes, each ending 5 minutes past an hour: every one starts in the hour before its slice's.
        calls = [{**call, "duration": "00:20:00"} for call in generate_cdrs(48, utc("2026-06-01T00:05:00.000"), timedelta(hours=1))]
        with requests_mock.Mocker() as api:
            api.get(f"{CC_BASE_URL}/api/v2/cdr", json=CdrApiSelectingByStartTime(calls).answer)

            output = _read(_config().with_field("slice_hours", slice_hours))

        assert sorted(_uuids(output)) == sorted(call["uuid"] for call in calls)


@freeze_time(_NOW)
class UnusualValuesTest(TestCase):
    """One unusual value never changes data or blocks the stream."""

    @HttpMocker()
    def test_given_a_text_holding_half_an_emoji_when_read_then_the_record_is_emitted_with_the_half_replaced_and_reported(
        self, http_mocker: HttpMocker
    ) -> None:
        # "\ud83d" is the first half of an emoji: JSON.stringify writes it as this escape when a text is cut between
        # the halves. orjson refuses such a page, Python's JSON decoder reads it.
        cut = cdr_record().with_id("cut").with_cursor(cdr_timestamp(_IN_DAY_ONE)).with_field(FieldPath("message"), "Olá \ud83d")
        whole = cdr_record().with_id("whole").with_cursor(cdr_timestamp(_IN_DAY_ONE)).with_field(FieldPath("message"), "Olá \U0001f600")
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_record(cut).with_record(whole).build())
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config())

        assert not output.errors
        emitted = {message.record.data["uuid"]: message.record for message in output.records}
        assert emitted["cut"].data["message"] == "Olá \ufffd"
        assert [(change.field, change.change.value, change.reason.value) for change in emitted["cut"].meta.changes] == [
            ("message", "TRUNCATED", "SOURCE_SERIALIZATION_ERROR")
        ]
        assert emitted["whole"].data["message"] == "Olá \U0001f600" and emitted["whole"].meta is None

    @HttpMocker()
    def test_given_an_integer_beyond_64_bits_when_read_then_it_is_emitted_exactly(self, http_mocker: HttpMocker) -> None:
        wide = cdr_record().with_id("wide").with_cursor(cdr_timestamp(_IN_DAY_ONE)).with_field(
            FieldPath("dialer_session"), 123456789012345678901234567890
        )
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_record(wide).build())
        _mock_end_of_search(http_mocker)

        records = _records_as_the_source_yields_them(_one_day_config())

        assert [record.data["dialer_session"] for record in records] == [123456789012345678901234567890]
        assert type(records[0].data["dialer_session"]) is int

    @HttpMocker()
    def test_given_a_null_entry_in_a_page_when_read_then_it_is_skipped_with_a_warning_and_the_records_emitted(
        self, http_mocker: HttpMocker
    ) -> None:
        records = generate_cdrs(2, _IN_DAY_ONE)
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_records([records[0], None, records[1]]).build())
        _mock_end_of_search(http_mocker)

        with self.assertLogs("airbyte", level="WARNING") as logs:
            output = _read(_one_day_config(), SyncMode.incremental)

        assert not output.errors
        assert _uuids(output) == ["cdr-0", "cdr-1"]
        assert any("The contact-center API sent a page with null entries among its records; they were skipped." in line for line in logs.output)
        # No CDR after 08:00:03: the state moves to one lookback before the end date (nothing can still appear there).
        assert output.most_recent_state.stream_state.__dict__ == {"timestamp": "2026-06-01T23:00:00.000000Z"}


@freeze_time(_NOW)
class IncrementalTest(TestCase):
    @HttpMocker()
    def test_given_records_with_offsets_when_read_then_state_is_latest_timestamp_in_utc(self, http_mocker: HttpMocker) -> None:
        # The +05:30 record reads later on the wall clock (04:59 the next day) but happened earlier (23:29Z).
        for window in (_FIRST_DAY_WINDOW, _SECOND_DAY_WINDOW):
            http_mocker.get(
                _cdrs_request(window).build(),
                CdrPageBuilder()
                .with_record(cdr_record().with_id("sao-paulo").with_cursor("2026-06-02T20:43:09.000-03:00"))
                .with_record(cdr_record().with_id("kolkata").with_cursor("2026-06-03T04:59:00.000+05:30"))
                .with_record(cdr_record().with_id("day-1").with_cursor(cdr_timestamp(_IN_DAY_ONE, KOLKATA)))
                .build(),
            )
            _mock_end_of_search(http_mocker, window)

        output = _read(_config(), SyncMode.incremental)

        assert sorted(_uuids(output)) == ["day-1", "kolkata", "sao-paulo"]
        assert output.most_recent_state.stream_state == AirbyteStateBlob(timestamp="2026-06-02T23:43:09.000000Z")

    @HttpMocker()
    def test_given_state_when_read_then_window_starts_lookback_before_state(self, http_mocker: HttpMocker) -> None:
        state = StateBuilder().with_stream_state(CDRS_STREAM, {"timestamp": "2026-06-02T15:43:09.000000Z"}).build()
        http_mocker.get(
            _cdrs_request(("2026-06-02T13:43:09", "2026-06-03T00:00:01")).build(),
            CdrPageBuilder()
            .with_record(cdr_record().with_id("before-lookback").with_cursor(cdr_timestamp(utc("2026-06-02T14:43:08.999"))))
            .with_record(cdr_record().with_id("in-lookback").with_cursor(cdr_timestamp(utc("2026-06-02T14:43:09.000"))))
            .with_record(cdr_record().with_id("new").with_cursor(cdr_timestamp(utc("2026-06-02T23:30:00.000"))))
            .build(),
        )
        _mock_end_of_search(http_mocker, ("2026-06-02T13:43:09", "2026-06-03T00:00:01"))

        output = _read(_config(), SyncMode.incremental, state=state)

        assert _uuids(output) == ["in-lookback", "new"]
        assert output.most_recent_state.stream_state == AirbyteStateBlob(timestamp="2026-06-02T23:30:00.000000Z")

    @HttpMocker()
    def test_given_state_and_zero_lookback_when_read_then_window_starts_at_state(self, http_mocker: HttpMocker) -> None:
        state = StateBuilder().with_stream_state(CDRS_STREAM, {"timestamp": "2026-06-02T15:43:09.000000Z"}).build()
        http_mocker.get(_cdrs_request(("2026-06-02T15:43:09", "2026-06-03T00:00:01")).build(), empty_cdr_page())

        output = _read(_config().with_field("lookback_window_minutes", 0), SyncMode.incremental, state=state)

        assert output.records == []
        assert not output.errors

    @HttpMocker()
    def test_given_sao_paulo_zone_and_state_when_read_then_state_stays_utc(self, http_mocker: HttpMocker) -> None:
        state = StateBuilder().with_stream_state(CDRS_STREAM, {"timestamp": "2026-06-02T15:43:09.000000Z"}).build()
        http_mocker.get(
            _cdrs_request(("2026-06-02T10:43:09", "2026-06-02T21:00:01")).build(),
            CdrPageBuilder().with_record(cdr_record().with_id("late").with_cursor("2026-06-02T20:59:59.999-03:00")).build(),
        )
        _mock_end_of_search(http_mocker, ("2026-06-02T10:43:09", "2026-06-02T21:00:01"))

        output = _read(_config(time_zone="America/Sao_Paulo"), SyncMode.incremental, state=state)

        assert _uuids(output) == ["late"]
        assert output.most_recent_state.stream_state == AirbyteStateBlob(timestamp="2026-06-02T23:59:59.999000Z")


@freeze_time(_NOW)
class ErrorTest(RetriedFaultCases, TestCase):
    """With the 429/500 cases both APIs share (`fault_cases.py`)."""

    stream = CDRS_STREAM

    def fault_config(self) -> ConfigBuilder:
        return _one_day_config()

    def mock_data_call(self, http_mocker: HttpMocker, responses: List[HttpResponse]) -> None:
        http_mocker.get(_cdrs_request().build(), responses)

    def a_good_answer(self) -> HttpResponse:
        return CdrPageBuilder().with_record(cdr_record().with_id("a").with_cursor(cdr_timestamp(_IN_DAY_ONE))).build()

    def mock_what_follows_a_good_answer(self, http_mocker: HttpMocker) -> None:
        _mock_end_of_search(http_mocker)

    def rate_limited_response(self, retry_after_seconds: int) -> HttpResponse:
        return rate_limited_response(retry_after_seconds)

    def server_error_response(self) -> HttpResponse:
        return server_error_response()

    @HttpMocker()
    def test_given_invalid_user_api_key_with_401_when_read_then_config_error_naming_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), invalid_key_response(401))

        output = _read(_one_day_config(), expecting_exception=True)

        _assert_config_error(output, "contact_center.api_key")

    @HttpMocker()
    def test_given_invalid_user_api_key_with_403_when_read_then_config_error_naming_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), invalid_key_response(403))

        output = _read(_one_day_config(), expecting_exception=True)

        _assert_config_error(output, "contact_center.api_key")

    @HttpMocker()
    def test_given_404_html_page_when_read_then_config_error_naming_base_url(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), html_response(404))

        output = _read(_one_day_config(), expecting_exception=True)

        _assert_config_error(output, "contact_center.base_url")

    @HttpMocker()
    def test_given_405_html_page_when_read_then_config_error_naming_base_url(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), html_response(405))

        output = _read(_one_day_config(), expecting_exception=True)

        _assert_config_error(output, "contact_center.base_url")

    @HttpMocker()
    def test_given_400_not_about_search_token_when_read_then_config_error_with_the_api_message(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), bad_request_response())

        output = _read(_one_day_config(), expecting_exception=True)

        _assert_config_error(output, "Invalid start_datetime format")

    @HttpMocker()
    def test_given_html_page_with_200_once_when_read_then_slice_restarts_and_records_emitted_once(self, http_mocker: HttpMocker) -> None:
        self._assert_restarts_after(http_mocker, html_response(200))

    @HttpMocker()
    def test_given_truncated_json_once_when_read_then_slice_restarts_and_records_emitted_once(self, http_mocker: HttpMocker) -> None:
        self._assert_restarts_after(http_mocker, truncated_json_response())

    @HttpMocker()
    def test_given_200_without_records_once_when_read_then_slice_restarts_and_records_emitted_once(self, http_mocker: HttpMocker) -> None:
        self._assert_restarts_after(http_mocker, page_without_records_response())

    def _assert_restarts_after(self, http_mocker: HttpMocker, bad_page: HttpResponse) -> None:
        # The second search is bad once: the slice is read again from its first search, and the first
        # search's record is not emitted twice.
        records = generate_cdrs(2, _IN_DAY_ONE)
        first_search = CdrPageBuilder().with_records(records[:1]).with_search_token("token-1").build()
        http_mocker.get(_cdrs_request().build(), [first_search, first_search])
        http_mocker.get(
            _cdrs_request().with_search_token("token-1").build(),
            [bad_page, CdrPageBuilder().with_records(records[1:]).build()],
        )
        _mock_end_of_search(http_mocker)
        _mock_end_of_search(http_mocker, search_token="token-1")

        output = _read(_one_day_config())

        assert _uuids(output) == ["cdr-0", "cdr-1"]
        assert not output.errors

    @HttpMocker()
    def test_given_400_about_search_token_when_read_then_slice_restarts_from_first_search(self, http_mocker: HttpMocker) -> None:
        records = generate_cdrs(2, _IN_DAY_ONE)
        first_search = CdrPageBuilder().with_records(records[:1]).with_search_token("token-1").build()
        http_mocker.get(_cdrs_request().build(), [first_search, first_search])
        http_mocker.get(
            _cdrs_request().with_search_token("token-1").build(),
            [invalid_search_token_response(), CdrPageBuilder().with_records(records[1:]).build()],
        )
        _mock_end_of_search(http_mocker)
        _mock_end_of_search(http_mocker, search_token="token-1")

        output = _read(_one_day_config())

        assert _uuids(output) == ["cdr-0", "cdr-1"]
        assert not output.errors

    @HttpMocker()
    def test_given_malformed_200_once_when_read_then_restarts_and_records(self, http_mocker: HttpMocker) -> None:
        record = cdr_record().with_id("a").with_cursor(cdr_timestamp(_IN_DAY_ONE))
        http_mocker.get(_cdrs_request().build(), [html_response(200), CdrPageBuilder().with_record(record).build()])
        _mock_end_of_search(http_mocker)

        output = _read(_one_day_config())

        assert not output.errors
        assert _uuids(output) == ["a"]

    @HttpMocker()
    def test_given_malformed_200_twice_in_a_row_when_read_then_transient_error_naming_the_body(self, http_mocker: HttpMocker) -> None:
        # The CDK reads a slice at most twice: the second malformed page fails the stream, state not advanced.
        http_mocker.get(_cdrs_request().build(), [html_response(200)] * 2)

        output = _read(_one_day_config(), expecting_exception=True)

        error = _stream_error(output)
        assert error.failure_type == FailureType.transient_error
        assert "not JSON" in error.message
        assert output.records == []
        states = [message.state.stream.stream_state.__dict__.get("timestamp") for message in output.state_messages]
        assert all(state is None or state <= "2026-06-01T00:00:00.000000Z" for state in states)  # never past the failed slice


@freeze_time(_NOW)
class RepeatingServerTest(TestCase):
    """A server that repeats itself instead of paging on (`PagingLoopGuard`): the slice fails with one transient
    error naming the API and the slice, after a bounded number of requests; no record twice, state not advanced."""

    @HttpMocker()
    def test_given_a_search_that_gives_its_own_search_token_again_when_read_then_transient_error_and_no_loop(
        self, http_mocker: HttpMocker
    ) -> None:
        records = generate_cdrs(2, _IN_DAY_ONE)
        http_mocker.get(_cdrs_request().build(), CdrPageBuilder().with_records(records[:1]).with_search_token("token-1").build())
        _mock_end_of_search(http_mocker)
        # The continued search names itself as the next one: following it would read it again, forever.
        http_mocker.get(
            _cdrs_request().with_search_token("token-1").build(),
            CdrPageBuilder().with_records(records[1:]).with_search_token("token-1").build(),
        )
        http_mocker.get(_cdrs_request().with_page(2).with_search_token("token-1").build(), CdrPageBuilder().with_search_token("token-1").build())

        output = _read(_one_day_config(), SyncMode.incremental, expecting_exception=True)

        _assert_slice_failed_once(output, "search_token that was already followed")
        assert _uuids(output) == ["cdr-0", "cdr-1"]

    @HttpMocker()
    def test_given_a_server_answering_every_page_number_with_the_same_page_when_read_then_transient_error_and_no_loop(
        self, http_mocker: HttpMocker
    ) -> None:
        same_page = CdrPageBuilder().with_records(generate_cdrs(2, _IN_DAY_ONE)).build()
        http_mocker.get(_cdrs_request(per_page=2).build(), same_page)
        http_mocker.get(_cdrs_request(per_page=2).with_page(2).build(), same_page)

        output = _read(_one_day_config(per_page=2), SyncMode.incremental, expecting_exception=True)

        _assert_slice_failed_once(output, "page of records it had already sent")
        assert _uuids(output) == ["cdr-0", "cdr-1"]

    @HttpMocker()
    def test_given_every_continued_search_empty_with_a_new_token_when_read_then_transient_error_after_three(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            _cdrs_request().build(), CdrPageBuilder().with_records(generate_cdrs(1, _IN_DAY_ONE)).with_search_token("token-1").build()
        )
        _mock_end_of_search(http_mocker)
        for number in range(1, 5):  # token-5 is never asked for: three empty continued searches are allowed
            http_mocker.get(
                _cdrs_request().with_search_token(f"token-{number}").build(),
                CdrPageBuilder().with_search_token(f"token-{number + 1}").build(),
            )

        output = _read(_one_day_config(), SyncMode.incremental, expecting_exception=True)

        _assert_slice_failed_once(output, "4 continued searches with no records and a new search_token each")
        assert _uuids(output) == ["cdr-0"]


def _assert_slice_failed_once(output: EntrypointOutput, what: str) -> None:
    error = _stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert error.message.startswith("The contact-center API ") and what in error.message, error.message
    assert "in the slice 2026-06-01T00:00:00.000000Z to 2026-06-02T00:00:00.000000Z" in error.message
    assert "state was not advanced" in error.message
    states = [message.state.stream.stream_state.__dict__.get("timestamp") for message in output.state_messages]
    assert all(state is None or state <= "2026-06-01T00:00:00.000000Z" for state in states)


@freeze_time(_NOW)
class SecretTest(TestCase):
    """The API key travels in the query string: no output of a failed read may contain it, in any form."""

    _KEY_FORMS = sorted({CC_API_KEY, quote(CC_API_KEY), quote(CC_API_KEY, safe=""), quote_plus(CC_API_KEY), json.dumps(CC_API_KEY)[1:-1]})

    @HttpMocker()
    def test_given_401_when_read_with_debug_then_key_in_no_output(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), invalid_key_response(401))

        self._assert_key_in_no_output()

    @HttpMocker()
    def test_given_500_on_every_try_when_read_with_debug_then_key_in_no_output(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_cdrs_request().build(), [server_error_response()] * 3)

        self._assert_key_in_no_output()

    def _assert_key_in_no_output(self) -> None:
        # Debug logs are formatted (and so filtered) by the CDK's formatter, as on the platform.
        debug_logs, handler = io.StringIO(), None
        handler = logging.StreamHandler(debug_logs)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(AirbyteLogFormatter())
        logging.getLogger().addHandler(handler)
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                output = _read(_one_day_config(), expecting_exception=True, debug=True)
        finally:
            logging.getLogger().removeHandler(handler)

        assert output.errors
        messages = [json.dumps(AirbyteMessageSerializer.dump(message)) for message in output._messages]
        for text in messages + [debug_logs.getvalue(), stdout.getvalue(), stderr.getvalue()]:
            for form in self._KEY_FORMS:
                assert form not in text, f"the API key leaked as {form!r} in: {text[:500]}"


def _assert_config_error(output: EntrypointOutput, field: str) -> None:
    error = _stream_error(output)
    assert error.failure_type == FailureType.config_error, error
    assert field in error.message
    assert output.records == []
