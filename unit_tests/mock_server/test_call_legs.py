"""`call_legs`: `GET /v2/call-legs`, one row per leg of a call (primary key `legId`), incremental on `startTimeUTC`.

It shares the requester, paginator, slice filter, cursor and error handler of `call_records` (see
test_call_records.py for the full set of cases); these tests cover what differs: the path, the primary key
(several legs of one call), and that the shared pieces are wired to this stream too.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Optional
from unittest import TestCase

import pytest
from airbyte_cdk.models import AirbyteStateMessage, FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.work_analytics import (
    CALL_LEGS,
    CALL_RECORDS,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_leg,
    a_call_record,
    access_denied_response,
    emitted_states,
    epoch_ms,
    expired_scroll_id_response,
    invalid_token_response,
    login_request,
    rate_limited_response,
    read_streams,
    server_error_response,
    stream_error,
    token_response,
    work_analytics_config,
)

_NOW = datetime(2026, 6, 10, 12, 0, 0, tzinfo=timezone.utc)
_A_LEG_MS = epoch_ms("2026-06-01T10:00:00.000")

# Retries and slice restarts ask to wait; the waits are skipped (see unit_tests/conftest.py).
pytestmark = pytest.mark.usefixtures("instant_sleep")


def _read(
    config: ConfigBuilder,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    return read_streams([CALL_LEGS], config, sync_mode, state, expecting_exception)


def _request() -> WorkAnalyticsRequestBuilder:
    return WorkAnalyticsRequestBuilder.call_legs()


def _leg_ids(output: EntrypointOutput) -> List[str]:
    return [message.record.data["legId"] for message in output.records]


def _one_leg_and_done() -> HttpResponse:
    return WorkAnalyticsPage.of([a_call_leg("leg-1", _A_LEG_MS)]).last().build()


def _logged_in(http_mocker: HttpMocker) -> None:
    http_mocker.post(login_request(), token_response())


@freeze_time(_NOW)
class FullRefreshTest(TestCase):
    @HttpMocker()
    def test_given_one_page_when_read_then_ask_call_legs_for_the_window(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:01").build(), _one_leg_and_done())

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1"]
        assert output.records[0].record.stream == CALL_LEGS

    @HttpMocker()
    def test_given_several_legs_of_one_call_when_read_then_emit_every_leg(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of(
                [
                    a_call_leg("leg-1", _A_LEG_MS, call_id="call-1"),
                    a_call_leg("leg-2", _A_LEG_MS, call_id="call-1"),
                    a_call_leg("leg-3", _A_LEG_MS + 20_000, call_id="call-1"),
                ]
            ).last().build(),
        )

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1", "leg-2", "leg-3"]

    @HttpMocker()
    def test_given_scroll_id_when_read_then_follow_it_and_drop_a_leg_seen_on_an_earlier_page(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().build(), WorkAnalyticsPage.of([a_call_leg("leg-1", _A_LEG_MS)]).with_scroll_id("page-2").build())
        http_mocker.get(
            _request().with_scroll_id("page-2").build(),
            WorkAnalyticsPage.of([a_call_leg("leg-1", _A_LEG_MS), a_call_leg("leg-2", _A_LEG_MS)]).with_scroll_id("page-3").build(),
        )
        http_mocker.get(_request().with_scroll_id("page-3").build(), WorkAnalyticsPage.empty().build())

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1", "leg-2"]

    @HttpMocker()
    def test_given_leg_in_last_millisecond_of_a_day_returned_by_both_windows_when_read_then_emit_it_once(
        self, http_mocker: HttpMocker
    ) -> None:
        boundary = WorkAnalyticsPage.of([a_call_leg("leg-at-23:59:59.999", epoch_ms("2026-06-01T23:59:59.999"))]).last()
        _logged_in(http_mocker)
        http_mocker.get(_request().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:00").build(), boundary.build())
        http_mocker.get(_request().with_window("2026-06-02 00:00:00", "2026-06-03 01:00:01").build(), boundary.build())

        output = _read(work_analytics_config().with_end_date("2026-06-03T00:00:00Z"))

        assert _leg_ids(output) == ["leg-at-23:59:59.999"]

    @HttpMocker()
    def test_given_start_time_as_digit_string_when_read_then_keep_the_leg(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().build(), WorkAnalyticsPage.of([a_call_leg("leg-1", str(_A_LEG_MS))]).last().build())

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1"]

    @HttpMocker()
    def test_given_both_work_analytics_streams_when_read_then_each_reads_its_own_path(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().build(), _one_leg_and_done())
        http_mocker.get(
            WorkAnalyticsRequestBuilder.call_records().build(), WorkAnalyticsPage.of([a_call_record("call-1", _A_LEG_MS)]).last().build()
        )

        output = read_streams([CALL_RECORDS, CALL_LEGS], work_analytics_config())

        assert sorted((message.record.stream, message.record.data.get("legId", "-")) for message in output.records) == [
            (CALL_LEGS, "leg-1"),
            (CALL_RECORDS, "-"),
        ]


@freeze_time(_NOW)
class IncrementalTest(TestCase):
    @HttpMocker()
    def test_given_no_state_when_read_then_state_is_the_newest_leg_start(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(
            _request().build(),
            WorkAnalyticsPage.of(
                [a_call_leg("leg-1", epoch_ms("2026-06-01T23:30:00.000")), a_call_leg("leg-2", epoch_ms("2026-06-01T23:30:05.250"))]
            ).last().build(),
        )

        output = _read(work_analytics_config(), SyncMode.incremental)

        assert _leg_ids(output) == ["leg-1", "leg-2"]
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-01T23:30:05.250000Z"}

    @HttpMocker()
    def test_given_state_when_read_then_start_one_lookback_hour_before_it(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(
            _request().with_window("2026-06-10 09:00:00", "2026-06-10 13:00:01").build(),
            WorkAnalyticsPage.of([a_call_leg("leg-1", epoch_ms("2026-06-10T11:30:00.000"))]).last().build(),
        )
        state = StateBuilder().with_stream_state(CALL_LEGS, {"startTimeUTC": "2026-06-10T10:00:00.000000Z"}).build()

        output = _read(work_analytics_config().with_end_date(None), SyncMode.incremental, state)

        assert _leg_ids(output) == ["leg-1"]
        assert emitted_states(output)[-1] == {"startTimeUTC": "2026-06-10T11:30:00.000000Z"}


@freeze_time(_NOW)
class ErrorTest(TestCase):
    @HttpMocker()
    def test_given_401_when_read_then_log_in_again_once_and_retry(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), [token_response("token-1"), token_response("token-2")])
        http_mocker.get(_request().with_token("token-1").build(), invalid_token_response())
        http_mocker.get(_request().with_token("token-2").build(), _one_leg_and_done())

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1"]
        assert not output.errors

    @HttpMocker()
    def test_given_403_when_read_then_config_error_naming_the_pbx(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().with_pbx_id("acmecorp,secretpbx").build(), access_denied_response(pbx_id="secretpbx"))

        output = _read(work_analytics_config(pbx_ids=["acmecorp", "secretpbx"]), expecting_exception=True)

        error = stream_error(output, CALL_LEGS)
        assert error.failure_type == FailureType.config_error
        assert "secretpbx" in error.message

    @HttpMocker()
    def test_given_429_then_200_when_read_then_return_legs(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().build(), [rate_limited_response(retry_after_seconds=1), _one_leg_and_done()])

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1"]

    @HttpMocker()
    def test_given_500_once_then_200_when_read_then_return_legs(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().build(), [server_error_response(), _one_leg_and_done()])

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1"]

    @HttpMocker()
    def test_given_500_and_no_retries_when_read_then_transient_error(self, http_mocker: HttpMocker) -> None:
        _logged_in(http_mocker)
        http_mocker.get(_request().build(), server_error_response())

        output = _read(work_analytics_config().with_field("max_retries", 0), expecting_exception=True)

        assert output.records == []
        assert stream_error(output, CALL_LEGS).failure_type == FailureType.transient_error

    @HttpMocker()
    def test_given_expired_scroll_id_when_read_then_restart_the_slice_without_duplicates(self, http_mocker: HttpMocker) -> None:
        first_page = WorkAnalyticsPage.of([a_call_leg("leg-1", _A_LEG_MS)])
        _logged_in(http_mocker)
        http_mocker.get(
            _request().build(), [first_page.with_scroll_id("page-2").build(), first_page.with_scroll_id("page-2-again").build()]
        )
        http_mocker.get(_request().with_scroll_id("page-2").build(), expired_scroll_id_response())
        http_mocker.get(
            _request().with_scroll_id("page-2-again").build(),
            WorkAnalyticsPage.of([a_call_leg("leg-2", _A_LEG_MS)]).last().build(),
        )

        output = _read(work_analytics_config())

        assert _leg_ids(output) == ["leg-1", "leg-2"]
        assert not output.errors
