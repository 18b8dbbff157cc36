"""The cases `call_records` and `call_legs` share, written once and run for each stream.

Both streams are `work_analytics_stream` in the manifest, differing only in `path` and `primary_key`: the same
`work_analytics_requester` (WallClockWindowRequester, WorkAnalyticsAuthenticator, the status rules),
`ScrollIdPagination`, `ExactlyOnceSliceFilter` and `cursor_base`. The 429/500 cases, which the contact-center
streams share too, come from `fault_cases.py`. A test module mixes these classes into
`unittest.TestCase`s and names its stream:

    @freeze_time(NOW)
    class FullRefreshTest(WorkAnalyticsFullRefreshCases, TestCase):
        stream = CALL_LEGS

The classes are not collected on their own (no `Test` prefix, not a `TestCase`). What only one stream shows
stays in its module; the shared pieces' rarer branches (malformed pages, repeating servers, unusual values) are
covered through `call_records` alone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Optional, Union

from airbyte_cdk.models import AirbyteStateMessage, FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import RecordBuilder
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.fault_cases import RetriedFaultCases
from unit_tests.mock_server.helpers import emitted_states, http_mocked, read_streams, record_values, stream_error
from unit_tests.mock_server.work_analytics import (
    CALL_LEGS,
    CALL_RECORDS,
    PRIMARY_KEYS,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_leg,
    a_call_record,
    access_denied_response,
    epoch_ms,
    expired_scroll_id_response,
    invalid_token_response,
    logged_in,
    login_request,
    rate_limited_response,
    server_error_response,
    token_response,
    work_analytics_config,
)

NOW = datetime(2026, 6, 10, 12, 0, 0, tzinfo=timezone.utc)
A_START_MS = epoch_ms("2026-06-01T10:00:00.000")
TWO_DAYS = "2026-06-03T00:00:00Z"  # end date for two daily slices


class WorkAnalyticsStreamCase:
    """What a case needs to know of its stream (set `stream` in the test class)."""

    stream: str = CALL_RECORDS

    def a_record(self, record_id: str, start_ms: Union[int, str, None]) -> RecordBuilder:
        return {CALL_RECORDS: a_call_record, CALL_LEGS: a_call_leg}[self.stream](record_id, start_ms)

    def request(self) -> WorkAnalyticsRequestBuilder:
        return WorkAnalyticsRequestBuilder(self.stream)

    def read(
        self,
        config: ConfigBuilder,
        sync_mode: SyncMode = SyncMode.full_refresh,
        state: Optional[List[AirbyteStateMessage]] = None,
        expecting_exception: bool = False,
    ) -> EntrypointOutput:
        return read_streams([self.stream], config, sync_mode, state, expecting_exception)

    def ids(self, output: EntrypointOutput) -> List[str]:
        return record_values(output, PRIMARY_KEYS[self.stream])

    def state(self, cursor: str) -> List[AirbyteStateMessage]:
        return StateBuilder().with_stream_state(self.stream, {"startTimeUTC": cursor}).build()

    def one_record_and_done(self) -> HttpResponse:
        return WorkAnalyticsPage.of([self.a_record("r1", A_START_MS)]).last().build()


class WorkAnalyticsFullRefreshCases(WorkAnalyticsStreamCase):
    @http_mocked
    def test_given_one_page_when_read_then_log_in_once_and_ask_the_streams_path_for_the_window_in_utc(self, http_mocker: HttpMocker) -> None:
        login = login_request()
        http_mocker.post(login, token_response())
        http_mocker.get(self.request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:01").build(), self.one_record_and_done())

        output = self.read(work_analytics_config())

        assert self.ids(output) == ["r1"]
        assert output.records[0].record.stream == self.stream
        assert output.records[0].record.data["startTimeUTC"] == A_START_MS
        http_mocker.assert_number_of_calls(login, 1)

    @http_mocked
    def test_given_scroll_ids_when_read_then_follow_them_until_no_data(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(self.request().build(), WorkAnalyticsPage.of([self.a_record("r1", A_START_MS)]).with_scroll_id("page-2").build())
        http_mocker.get(
            self.request().with_scroll_id("page-2").build(),
            WorkAnalyticsPage.of([self.a_record("r2", A_START_MS + 1)]).with_scroll_id("page-3").build(),
        )
        http_mocker.get(self.request().with_scroll_id("page-3").build(), WorkAnalyticsPage.empty().build())

        output = self.read(work_analytics_config())

        assert self.ids(output) == ["r1", "r2"]

    @http_mocked
    def test_given_same_record_on_two_pages_of_a_slice_when_read_then_emit_it_once(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(self.request().build(), WorkAnalyticsPage.of([self.a_record("r1", A_START_MS)]).with_scroll_id("page-2").build())
        http_mocker.get(
            self.request().with_scroll_id("page-2").build(),
            WorkAnalyticsPage.of([self.a_record("r1", A_START_MS), self.a_record("r2", A_START_MS)]).with_scroll_id("page-3").build(),
        )
        http_mocker.get(self.request().with_scroll_id("page-3").build(), WorkAnalyticsPage.empty().build())

        output = self.read(work_analytics_config())

        assert self.ids(output) == ["r1", "r2"]

    @http_mocked
    def test_given_records_near_a_day_boundary_returned_by_both_windows_when_read_then_emit_each_once(self, http_mocker: HttpMocker) -> None:
        # The windows overlap (each asks a lookback further than its slice), so both return these records.
        near_midnight = WorkAnalyticsPage.of(
            [
                self.a_record("last-ms-of-day-1", epoch_ms("2026-06-01T23:59:59.999")),
                self.a_record("midnight", epoch_ms("2026-06-02T00:00:00.000")),
                self.a_record("half-past-midnight", epoch_ms("2026-06-02T00:30:00.000")),
            ]
        ).last()
        logged_in(http_mocker)
        http_mocker.get(self.request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:00").build(), near_midnight.build())
        http_mocker.get(self.request().with_window("2026-06-02 00:00:00", "2026-06-03 01:00:01").build(), near_midnight.build())

        output = self.read(work_analytics_config().with_end_date(TWO_DAYS))

        assert sorted(self.ids(output)) == ["half-past-midnight", "last-ms-of-day-1", "midnight"]

    @http_mocked
    def test_given_start_time_as_digit_string_when_read_then_the_record_carries_it_as_an_integer(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(self.request().build(), WorkAnalyticsPage.of([self.a_record("r1", str(A_START_MS))]).last().build())

        output = self.read(work_analytics_config())

        assert self.ids(output) == ["r1"]
        assert output.records[0].record.data["startTimeUTC"] == A_START_MS
        assert output.records[0].record.meta is None


class WorkAnalyticsIncrementalCases(WorkAnalyticsStreamCase):
    @http_mocked
    def test_given_no_state_when_read_then_state_is_the_newest_start(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            self.request().build(),
            WorkAnalyticsPage.of(
                [self.a_record("r1", epoch_ms("2026-06-01T23:30:00.123")), self.a_record("r2", epoch_ms("2026-06-01T23:10:00.000"))]
            ).last().build(),
        )

        output = self.read(work_analytics_config(), SyncMode.incremental)

        assert self.ids(output) == ["r1", "r2"]
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-01T23:30:00.123000Z"}

    @http_mocked
    def test_given_state_when_read_then_start_one_default_lookback_hour_before_it(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            self.request().with_window("2026-06-10 09:00:00", "2026-06-10 13:00:01").build(),
            WorkAnalyticsPage.of([self.a_record("ended-late", epoch_ms("2026-06-10T09:30:00.000"))]).last().build(),
        )

        output = self.read(work_analytics_config().with_end_date(None), SyncMode.incremental, self.state("2026-06-10T10:00:00.000000Z"))

        assert self.ids(output) == ["ended-late"]
        # No record after the state: it moves to one lookback before the end of the sync (12:00).
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-10T11:00:00.000000Z"}

    @http_mocked
    def test_given_state_and_a_newer_record_when_read_then_state_is_that_records_start(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            self.request().with_window("2026-06-10 09:00:00", "2026-06-10 13:00:01").build(),
            WorkAnalyticsPage.of([self.a_record("r1", epoch_ms("2026-06-10T11:30:00.000"))]).last().build(),
        )

        output = self.read(work_analytics_config().with_end_date(None), SyncMode.incremental, self.state("2026-06-10T10:00:00.000000Z"))

        assert self.ids(output) == ["r1"]
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-10T11:30:00.000000Z"}


class WorkAnalyticsErrorCases(RetriedFaultCases, WorkAnalyticsStreamCase):
    """Also the 429/500 cases both APIs share (`fault_cases.py`)."""

    def fault_config(self) -> ConfigBuilder:
        return work_analytics_config()

    def mock_data_call(self, http_mocker: HttpMocker, responses: List[HttpResponse]) -> None:
        logged_in(http_mocker)
        http_mocker.get(self.request().build(), responses)

    def a_good_answer(self) -> HttpResponse:
        return self.one_record_and_done()

    def rate_limited_response(self, retry_after_seconds: int) -> HttpResponse:
        return rate_limited_response(retry_after_seconds)

    def server_error_response(self) -> HttpResponse:
        return server_error_response()

    @http_mocked
    def test_given_401_when_read_then_log_in_again_once_and_retry_with_the_new_token(self, http_mocker: HttpMocker) -> None:
        login = login_request()
        http_mocker.post(login, [token_response("token-1"), token_response("token-2")])
        http_mocker.get(self.request().with_token("token-1").build(), invalid_token_response())
        http_mocker.get(self.request().with_token("token-2").build(), self.one_record_and_done())

        output = self.read(work_analytics_config())

        assert self.ids(output) == ["r1"]
        assert not output.errors
        http_mocker.assert_number_of_calls(login, 2)

    @http_mocked
    def test_given_403_for_one_of_two_pbxes_when_read_then_config_error_naming_that_pbx(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(self.request().with_pbx_id("acmecorp,secretpbx").build(), access_denied_response(pbx_id="secretpbx"))

        output = self.read(work_analytics_config(pbx_ids=["acmecorp", "secretpbx"]), expecting_exception=True)

        error = stream_error(output, self.stream)
        assert error.failure_type == FailureType.config_error
        assert "pbxId(secretpbx)" in error.message

    @http_mocked
    def test_given_expired_scroll_id_when_read_then_restart_the_slice_without_duplicates(self, http_mocker: HttpMocker) -> None:
        first_page = WorkAnalyticsPage.of([self.a_record("r1", A_START_MS)])
        logged_in(http_mocker)
        http_mocker.get(
            self.request().build(), [first_page.with_scroll_id("page-2").build(), first_page.with_scroll_id("page-2-again").build()]
        )
        http_mocker.get(self.request().with_scroll_id("page-2").build(), expired_scroll_id_response())
        http_mocker.get(
            self.request().with_scroll_id("page-2-again").build(),
            WorkAnalyticsPage.of([self.a_record("r2", A_START_MS + 1)]).last().build(),
        )

        output = self.read(work_analytics_config())

        assert self.ids(output) == ["r1", "r2"]
        assert not output.errors
