"""`call_records`: `GET /v2/call-records`, one row per call, incremental on `startTimeUTC` (epoch ms).

The cases it shares with `call_legs` are in `work_analytics_cases.py` (mixed into the classes below); the shared
manifest pieces' other branches are tested here, through this stream.

Manifest settings under test: `work_analytics_requester` (WallClockWindowRequester: `startTime`/`endTime`, `pbxId`,
`timeZone`, `pageSize`; WorkAnalyticsAuthenticator), `ScrollIdPagination`, `ExactlyOnceSliceFilter`, `cursor_base`
(`slice_hours`, `lookback_window_minutes`, PT0.001S granularity) and `PageCheckingErrorHandler` over `retry_rules`
and the response filters.
"""

from __future__ import annotations

import json
from typing import List, Optional
from unittest import TestCase

import pytest
from airbyte_cdk.models import AirbyteStateMessage, FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.helpers import emitted_states, read_streams, record_values, stream_error
from unit_tests.mock_server.work_analytics import (
    CALL_RECORDS,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_record,
    epoch_ms,
    expired_scroll_id_response,
    html_response,
    invalid_api_key_response,
    invalid_grant_response,
    invalid_token_response,
    logged_in,
    login_request,
    page_without_data_response,
    token_response,
    truncated_page_response,
    work_analytics_config,
)
from unit_tests.mock_server.work_analytics_cases import (
    A_START_MS,
    NOW,
    TWO_DAYS,
    WorkAnalyticsErrorCases,
    WorkAnalyticsFullRefreshCases,
    WorkAnalyticsIncrementalCases,
)

# Retries and slice restarts ask to wait; the waits are skipped (see unit_tests/conftest.py).
pytestmark = pytest.mark.usefixtures("instant_sleep")


def _read(
    config: ConfigBuilder,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    return read_streams([CALL_RECORDS], config, sync_mode, state, expecting_exception)


def _request() -> WorkAnalyticsRequestBuilder:
    return WorkAnalyticsRequestBuilder.call_records()


def _state(cursor: str) -> List[AirbyteStateMessage]:
    return StateBuilder().with_stream_state(CALL_RECORDS, {"startTimeUTC": cursor}).build()


def _call_ids(output: EntrypointOutput) -> List[str]:
    return record_values(output, "callId")


def _one_call_and_done() -> HttpResponse:
    return WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).last().build()


@freeze_time(NOW)
class FullRefreshTest(WorkAnalyticsFullRefreshCases, TestCase):
    stream = CALL_RECORDS

    @HttpMocker()
    def test_given_pbx_ids_and_page_size_when_read_then_send_them(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().with_pbx_id("acmecorp,acmecorp2").with_page_size(50).build(), _one_call_and_done())

        output = _read(work_analytics_config(pbx_ids=["acmecorp", "acmecorp2"], page_size=50))

        assert _call_ids(output) == ["c1"]

    @HttpMocker()
    def test_given_short_page_with_real_scroll_id_when_read_then_ask_for_the_next_page(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_page_size(3).build(),
            WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id("page-2").build(),
        )
        http_mocker.get(
            _request().with_page_size(3).with_scroll_id("page-2").build(),
            WorkAnalyticsPage.of([a_call_record("c2", A_START_MS + 1)]).last().build(),
        )

        output = _read(work_analytics_config(page_size=3))

        assert _call_ids(output) == ["c1", "c2"]

    # Each stop test mocks only the first page: a request for another page would match no mock and fail the read.

    @HttpMocker()
    def test_given_scroll_id_no_data_in_capitals_when_read_then_stop(self, http_mocker: HttpMocker) -> None:
        self._assert_read_stops_after(http_mocker, WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id("NO DATA"))

    @HttpMocker()
    def test_given_blank_scroll_id_when_read_then_stop(self, http_mocker: HttpMocker) -> None:
        self._assert_read_stops_after(http_mocker, WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id(" "))

    @HttpMocker()
    def test_given_null_scroll_id_when_read_then_stop(self, http_mocker: HttpMocker) -> None:
        self._assert_read_stops_after(http_mocker, WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id(None))

    @HttpMocker()
    def test_given_no_scroll_id_when_read_then_stop(self, http_mocker: HttpMocker) -> None:
        self._assert_read_stops_after(http_mocker, WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).without_scroll_id())

    @HttpMocker()
    def test_given_empty_data_with_real_scroll_id_when_read_then_stop(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().build(), WorkAnalyticsPage.of([]).with_scroll_id("page-2").build())

        output = _read(work_analytics_config())

        assert output.records == []
        assert not output.errors

    def _assert_read_stops_after(self, http_mocker: HttpMocker, page: WorkAnalyticsPage) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().build(), page.build())

        output = _read(work_analytics_config())

        assert _call_ids(output) == ["c1"]
        assert not output.errors

    @HttpMocker()
    def test_given_two_daily_slices_when_read_then_each_window_ends_a_lookback_and_a_second_after_its_slice(
        self, http_mocker: HttpMocker
    ) -> None:
        # Slices [06-01 00:00:00.000, 06-01 23:59:59.999] and [06-02 00:00:00.000, 06-03 00:00:00.000], each asked
        # until its end + 60 minutes (the default lookback) + 1 second, floored to the second.
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:00").build(),
            WorkAnalyticsPage.of([a_call_record("day-1", epoch_ms("2026-06-01T12:00:00.000"))]).last().build(),
        )
        http_mocker.get(
            _request().with_window("2026-06-02 00:00:00", "2026-06-03 01:00:01").build(),
            WorkAnalyticsPage.of([a_call_record("day-2", epoch_ms("2026-06-02T12:00:00.000"))]).last().build(),
        )

        output = _read(work_analytics_config().with_end_date(TWO_DAYS))

        assert sorted(_call_ids(output)) == ["day-1", "day-2"]

    @HttpMocker()
    def test_given_no_lookback_when_read_then_window_ends_one_second_after_the_slice(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-01 00:00:00", "2026-06-02 00:00:00").build(),
            WorkAnalyticsPage.of([a_call_record("day-1", epoch_ms("2026-06-01T23:59:59.999"))]).last().build(),
        )
        http_mocker.get(_request().with_window("2026-06-02 00:00:00", "2026-06-03 00:00:01").build(), WorkAnalyticsPage.empty().build())

        output = _read(work_analytics_config().with_end_date(TWO_DAYS).with_field("lookback_window_minutes", 0))

        assert _call_ids(output) == ["day-1"]

    @HttpMocker()
    def test_given_calls_outside_the_slice_when_read_then_drop_them(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of(
                [
                    a_call_record("before", epoch_ms("2026-05-31T23:59:59.999")),
                    a_call_record("inside", A_START_MS),
                    a_call_record("after", epoch_ms("2026-06-02T00:00:00.001")),
                ]
            ).last().build(),
        )

        output = _read(work_analytics_config())

        assert _call_ids(output) == ["inside"]

    @HttpMocker()
    def test_given_unreadable_start_time_when_read_then_emit_the_call_anyway(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of([a_call_record("no-start", None), a_call_record("bad-start", "yesterday")]).last().build(),
        )

        output = _read(work_analytics_config())

        assert _call_ids(output) == ["no-start", "bad-start"]
        bad = output.records[1].record
        assert bad.data.get("startTimeUTC") is None
        assert [(change.field, change.change.value, change.reason.value) for change in bad.meta.changes] == [
            ("startTimeUTC", "NULLED", "SOURCE_SERIALIZATION_ERROR")
        ]
        assert "call_records.startTimeUTC: 1 value could not be read as integer (sent as string) and was set to null" in " ".join(
            log.log.message for log in output.logs
        )

@freeze_time(NOW)
class IncrementalTest(WorkAnalyticsIncrementalCases, TestCase):
    stream = CALL_RECORDS

    @HttpMocker()
    def test_given_state_and_15_minute_lookback_when_read_then_start_15_minutes_before_it(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-10 09:45:00", "2026-06-10 12:15:01").build(),
            WorkAnalyticsPage.of([a_call_record("c1", epoch_ms("2026-06-10T11:00:00.000"))]).last().build(),
        )
        config = work_analytics_config().with_end_date(None).with_field("lookback_window_minutes", 15)

        output = _read(config, SyncMode.incremental, _state("2026-06-10T10:00:00.000000Z"))

        assert _call_ids(output) == ["c1"]
        # Read up to 12:00 without a call after c1: one lookback before the end of the sync.
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-10T11:45:00.000000Z"}

    @HttpMocker()
    def test_given_two_slices_when_read_then_final_state_is_the_newest_call_of_both(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:00").build(),
            WorkAnalyticsPage.of([a_call_record("day-1", epoch_ms("2026-06-01T12:00:00.000"))]).last().build(),
        )
        http_mocker.get(
            _request().with_window("2026-06-02 00:00:00", "2026-06-03 01:00:01").build(),
            WorkAnalyticsPage.of([a_call_record("day-2", epoch_ms("2026-06-02T23:30:00.000"))]).last().build(),
        )

        output = _read(work_analytics_config().with_end_date(TWO_DAYS), SyncMode.incremental)

        assert sorted(_call_ids(output)) == ["day-1", "day-2"]
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-02T23:30:00.000000Z"}


    @HttpMocker()
    def test_given_state_in_the_middle_of_a_day_when_read_then_slices_start_one_lookback_before_it(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-01 09:00:00", "2026-06-02 10:00:00").build(),
            WorkAnalyticsPage.of([a_call_record("c1", epoch_ms("2026-06-01T09:15:00.000"))]).last().build(),
        )
        http_mocker.get(
            _request().with_window("2026-06-02 09:00:00", "2026-06-03 01:00:01").build(),
            WorkAnalyticsPage.of([a_call_record("c2", epoch_ms("2026-06-02T18:00:00.000"))]).last().build(),
        )
        config = work_analytics_config().with_end_date(TWO_DAYS)

        output = _read(config, SyncMode.incremental, _state("2026-06-01T10:00:00.000000Z"))

        assert sorted(_call_ids(output)) == ["c1", "c2"]
        # No call after c2: one lookback before the end date.
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-02T23:00:00.000000Z"}

    @HttpMocker()
    def test_given_state_at_start_date_when_read_then_never_ask_before_start_date(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:01").build(), _one_call_and_done())

        output = _read(work_analytics_config(), SyncMode.incremental, _state("2026-06-01T00:00:00.000000Z"))

        assert _call_ids(output) == ["c1"]

    @HttpMocker()
    def test_given_no_calls_in_the_window_when_read_then_state_moves_to_one_lookback_before_the_end_of_the_sync(self, http_mocker: HttpMocker) -> None:
        # Calls that started before then have ended by the end of the sync (12:00): none can still appear there.
        logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-10 09:00:00", "2026-06-10 13:00:01").build(), WorkAnalyticsPage.empty().build()
        )

        output = _read(work_analytics_config().with_end_date(None), SyncMode.incremental, _state("2026-06-10T10:00:00.000000Z"))

        assert output.records == []
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-10T11:00:00.000000Z"}

    @HttpMocker()
    def test_given_start_time_as_digit_string_when_read_then_state_is_read_from_it(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of([a_call_record("c1", str(epoch_ms("2026-06-01T23:30:00.500")))]).last().build(),
        )

        output = _read(work_analytics_config(), SyncMode.incremental)

        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-01T23:30:00.500000Z"}

@freeze_time(NOW)
class ErrorTest(WorkAnalyticsErrorCases, TestCase):
    stream = CALL_RECORDS

    @HttpMocker()
    def test_given_401_after_a_fresh_login_when_read_then_config_error(self, http_mocker: HttpMocker) -> None:
        login = login_request()
        http_mocker.post(login, [token_response("token-1"), token_response("token-2")])
        http_mocker.get(_request().with_token("token-1").build(), invalid_token_response())
        http_mocker.get(_request().with_token("token-2").build(), invalid_token_response())

        output = _read(work_analytics_config(), expecting_exception=True)

        assert output.records == []
        assert stream_error(output, CALL_RECORDS).failure_type == FailureType.config_error
        http_mocker.assert_number_of_calls(login, 2)

    @HttpMocker()
    def test_given_401_and_password_changed_since_when_read_then_config_error_naming_the_credentials(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.post(login_request(), [token_response("token-1"), invalid_grant_response()])
        http_mocker.get(_request().with_token("token-1").build(), invalid_token_response())

        output = _read(work_analytics_config(), expecting_exception=True)

        error = stream_error(output, CALL_RECORDS)
        assert error.failure_type == FailureType.config_error
        assert "work_analytics.password" in error.message

    @HttpMocker()
    def test_given_sha001_on_data_call_when_read_then_config_error(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().build(), invalid_api_key_response())

        output = _read(work_analytics_config(), expecting_exception=True)

        assert stream_error(output, CALL_RECORDS).failure_type == FailureType.config_error

    @HttpMocker()
    def test_given_sha001_on_data_call_when_read_then_message_names_the_api_key_field(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().build(), invalid_api_key_response())

        output = _read(work_analytics_config(), expecting_exception=True)

        assert "work_analytics.api_key" in stream_error(output, CALL_RECORDS).message

    @HttpMocker()
    def test_given_html_page_with_status_200_when_read_then_restart_the_slice(self, http_mocker: HttpMocker) -> None:
        self._assert_slice_restarts_after(http_mocker, html_response())

    @HttpMocker()
    def test_given_truncated_json_when_read_then_restart_the_slice(self, http_mocker: HttpMocker) -> None:
        self._assert_slice_restarts_after(http_mocker, truncated_page_response([a_call_record("c1", A_START_MS)]))

    @HttpMocker()
    def test_given_json_without_data_list_when_read_then_restart_the_slice(self, http_mocker: HttpMocker) -> None:
        self._assert_slice_restarts_after(http_mocker, page_without_data_response())

    def _assert_slice_restarts_after(self, http_mocker: HttpMocker, malformed: HttpResponse) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().build(), [malformed, _one_call_and_done()])

        output = _read(work_analytics_config())

        assert _call_ids(output) == ["c1"]
        assert not output.errors

    @HttpMocker()
    def test_given_malformed_200_twice_in_a_row_when_read_then_transient_error_and_state_not_advanced(
        self, http_mocker: HttpMocker
    ) -> None:
        # The CDK reads a slice at most twice: one restart, then the stream fails and the next sync reads the slice.
        logged_in(http_mocker)
        http_mocker.get(_request().build(), [html_response(), html_response()])

        output = _read(work_analytics_config(), SyncMode.incremental, _state("2026-06-01T01:00:00.000000Z"), expecting_exception=True)

        assert output.records == []
        assert stream_error(output, CALL_RECORDS).failure_type == FailureType.transient_error
        assert all(state == {"startTimeUTC": "2026-06-01T01:00:00.000000Z"} for state in emitted_states(output))

    @HttpMocker()
    def test_given_scroll_id_expiring_twice_in_one_slice_when_read_then_transient_error(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            [
                WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id("page-2").build(),
                WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id("page-2-again").build(),
            ],
        )
        http_mocker.get(_request().with_scroll_id("page-2").build(), expired_scroll_id_response())
        http_mocker.get(
            _request().with_scroll_id("page-2-again").build(),
            WorkAnalyticsPage.of([a_call_record("c2", A_START_MS)]).with_scroll_id("page-3").build(),
        )
        http_mocker.get(_request().with_scroll_id("page-3").build(), expired_scroll_id_response())

        output = _read(work_analytics_config(), expecting_exception=True)

        assert stream_error(output, CALL_RECORDS).failure_type == FailureType.transient_error


@freeze_time(NOW)
class RepeatingServerTest(TestCase):
    """A server that repeats itself instead of paging on (`PagingLoopGuard`)."""

    @HttpMocker()
    def test_given_the_same_scroll_id_answering_the_same_page_again_when_read_then_transient_error_and_no_loop(
        self, http_mocker: HttpMocker
    ) -> None:
        logged_in(http_mocker)
        http_mocker.get(_request().build(), WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id("stuck").build())
        http_mocker.get(
            _request().with_scroll_id("stuck").build(),
            WorkAnalyticsPage.of([a_call_record("c2", A_START_MS + 1)]).with_scroll_id("stuck").build(),
        )

        output = _read(work_analytics_config(), SyncMode.incremental, _state("2026-06-01T01:00:00.000000Z"), expecting_exception=True)

        error = stream_error(output, CALL_RECORDS)
        assert error.failure_type == FailureType.transient_error
        assert error.message.startswith("Work Analytics answered a page of records it had already sent in the slice 2026-06-01T00:00:00.000000Z")
        assert "(the scrollId did not move on)" in error.message and "state was not advanced" in error.message
        assert _call_ids(output) == ["c1", "c2"]
        assert all(state == {"startTimeUTC": "2026-06-01T01:00:00.000000Z"} for state in emitted_states(output))

    @HttpMocker()
    def test_given_the_same_scroll_id_on_every_page_while_the_pages_move_on_when_read_then_every_call(self, http_mocker: HttpMocker) -> None:
        # An Elasticsearch-style scroll may keep one id for all its pages: only a repeated page is a loop.
        logged_in(http_mocker)
        http_mocker.get(_request().build(), WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).with_scroll_id("scroll").build())
        http_mocker.get(
            _request().with_scroll_id("scroll").build(),
            [
                WorkAnalyticsPage.of([a_call_record("c2", A_START_MS + 1)]).with_scroll_id("scroll").build(),
                WorkAnalyticsPage.of([a_call_record("c3", A_START_MS + 2)]).with_scroll_id("scroll").build(),
                WorkAnalyticsPage.empty().build(),
            ],
        )

        output = _read(work_analytics_config())

        assert _call_ids(output) == ["c1", "c2", "c3"]
        assert not output.errors


@freeze_time(NOW)
class UnusualValuesTest(TestCase):
    """One unusual value never changes data or blocks the stream."""

    @HttpMocker()
    def test_given_start_times_past_the_year_9999_when_read_then_the_calls_are_kept_and_logged(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of(
                [a_call_record("c1", epoch_ms("2026-06-01T23:30:00.000")), a_call_record("far-text", "99999999999999999"),
                 a_call_record("far-number", 99999999999999999)]
            ).last().build(),
        )

        with self.assertLogs("airbyte", level="WARNING") as logs:
            output = _read(work_analytics_config(), SyncMode.incremental)

        assert not output.errors
        assert _call_ids(output) == ["c1", "far-text", "far-number"]
        for call_id in ("far-text", "far-number"):
            assert any(f"Record callId='{call_id}' has an unreadable startTimeUTC" in line for line in logs.output), logs.output
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-01T23:30:00.000000Z"}

    @HttpMocker()
    def test_given_start_times_in_epoch_seconds_when_read_then_read_as_seconds(self, http_mocker: HttpMocker) -> None:
        # 1780356600 is 2026-06-01T23:30:00Z in seconds (as milliseconds: 1970-01-21, which no slice owns); after
        # 23:00 (one lookback before the end date), so that the state shows the cursor read.
        late_call_s = epoch_ms("2026-06-01T23:30:00.000") // 1000
        logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of([a_call_record("seconds", late_call_s), a_call_record("seconds-text", str(late_call_s + 1))]).last().build(),
        )

        output = _read(work_analytics_config(), SyncMode.incremental)

        assert _call_ids(output) == ["seconds", "seconds-text"]
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-01T23:30:01.000000Z"}

    @HttpMocker()
    def test_given_a_null_entry_in_a_page_when_read_then_it_is_skipped_with_a_warning(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        page = WorkAnalyticsPage.of([a_call_record("c1", A_START_MS)]).last().body()
        page["data"].append(None)
        http_mocker.get(_request().build(), HttpResponse(json.dumps(page), 200))

        with self.assertLogs("airbyte", level="WARNING") as logs:
            output = _read(work_analytics_config())

        assert not output.errors
        assert _call_ids(output) == ["c1"]
        assert any("Work Analytics sent a page with null entries among its records; they were skipped." in line for line in logs.output)
