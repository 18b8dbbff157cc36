"""The four daily summaries of Work Analytics, incremental on `day`:

* `work_analytics_extension_daily`: `GET /v2/extsum`, key `PbxId`, `Extension`, `day`;
* `work_analytics_ring_group_daily`: `GET /v2/rgsum-groups`, key `pbxId`, `extension`, `day`;
* `work_analytics_ring_group_member_daily`: `GET /v2/rgsum-members`, key `pbxId`, `extension`, `memberExtension`, `day`;
* `work_analytics_company_daily`: `GET /v1/compsum`, key `day`.

They share every manifest setting (`work_analytics_daily_summary`, `summary_day_cursor`,
`work_analytics_report_requester`, `SummaryErrorHandler`), so what they do is tested for each of the four streams
(`_EACH_STREAM`): one request per calendar day, `00:00:00` to `23:59:59` in `work_analytics.report_time_zone`, across
a DST change; today read with its figures so far; `summary_lookback_days`; the state; trailing commas; and the
errors 400, 401, 403, 429, 500 and malformed bodies. Variations of a setting that no endpoint changes (other zones,
end dates, state forms) are tested for one stream (`_ONE_STREAM`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from airbyte_cdk.models import AirbyteStateMessage, FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.helpers import emitted_states, read_streams, stream_error
from unit_tests.mock_server.work_analytics import (
    logged_in,
    access_denied_response,
    html_response,
    invalid_api_key_response,
    invalid_token_response,
    login_request,
    rate_limited_response,
    server_error_response,
    token_response,
)
from unit_tests.mock_server.work_analytics_reports import (
    COMPANY_DAILY,
    DAILY_SUMMARIES,
    EXTENSION_DAILY,
    RING_GROUP_DAILY,
    RING_GROUP_MEMBER_DAILY,
    ROW_KEYS,
    SummaryRequestBuilder,
    a_summary_row,
    summary_config,
    summary_response,
)

_NOW = "2026-06-10T12:00:00Z"
# New York starts daylight time on 2026-03-08 (a 23-hour day) and ends it on 2026-11-01 (a 25-hour day).
_NEW_YORK = "America/New_York"

pytestmark = pytest.mark.usefixtures("instant_sleep")
# Every behaviour of the shared manifest pieces, for each stream; a setting that no endpoint changes, for one.
_EACH_STREAM = pytest.mark.parametrize("stream", DAILY_SUMMARIES)
_ONE_STREAM = pytest.mark.parametrize("stream", [EXTENSION_DAILY])


def _read(
    stream: str,
    config: ConfigBuilder,
    sync_mode: SyncMode = SyncMode.incremental,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    return read_streams([stream], config, sync_mode, state, expecting_exception)


def _state(stream: str, day: str) -> List[AirbyteStateMessage]:
    return StateBuilder().with_stream_state(stream, {"day": day}).build()


def _row(stream: str, name: str) -> Dict[str, Any]:
    """A row of the summary told apart from others by `name` in each of its key fields (the company summary has none)."""
    return a_summary_row(stream, **{field: f"{name}-{field}" for field in ROW_KEYS[stream]})


def _answer_days(http_mocker: HttpMocker, stream: str, days: List[str], zone: str = "UTC") -> None:
    for day in days:
        http_mocker.get(SummaryRequestBuilder(stream).for_day(day).in_zone(zone).build(), summary_response([_row(stream, day)]))


def _days(output: EntrypointOutput) -> List[str]:
    return sorted(message.record.data["day"] for message in output.records)


# ---------------------------------------------------------------------------------------------------------------------
# Day slicing
# ---------------------------------------------------------------------------------------------------------------------


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_one_day_when_read_then_ask_for_the_whole_day_in_utc_and_emit_the_rows_with_day_and_time_zone(stream: str) -> None:
    rows = [_row(stream, "a")] if stream == COMPANY_DAILY else [_row(stream, "a"), _row(stream, "b")]
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).for_day("2026-06-01").build(), summary_response(rows))

        output = _read(stream, summary_config())

    assert [message.record.data for message in output.records] == [{**row, "day": "2026-06-01", "timeZone": "UTC"} for row in rows]
    assert {message.record.stream for message in output.records} == {stream}


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_new_york_and_days_across_the_start_of_daylight_time_when_read_then_ask_each_local_day_once(stream: str) -> None:
    days = ["2026-03-07", "2026-03-08", "2026-03-09"]
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, days, _NEW_YORK)  # each 00:00:00 to 23:59:59, timeZone=America/New_York

        config = summary_config(time_zone=_NEW_YORK).with_start_date("2026-03-07T00:00:00Z").with_end_date("2026-03-10T00:00:00Z")
        output = _read(stream, config)

    assert _days(output) == days
    assert {message.record.data["timeZone"] for message in output.records} == {_NEW_YORK}


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_new_york_and_the_end_of_daylight_time_when_read_then_the_25_hour_day_is_one_request(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-11-01"], _NEW_YORK)

        config = summary_config(time_zone=_NEW_YORK).with_start_date("2026-11-01T00:00:00Z").with_end_date("2026-11-02T00:00:00Z")
        with freeze_time("2026-11-05T00:00:00Z"):
            output = _read(stream, config)

    assert _days(output) == ["2026-11-01"]


@freeze_time("2026-06-10T03:00:00Z")
@_EACH_STREAM
def test_given_no_end_date_and_a_zone_still_on_yesterday_when_read_then_the_last_day_asked_is_its_today(stream: str) -> None:
    # 03:00 UTC is 20:00 on 2026-06-09 in Los Angeles: its "today", read with its figures so far.
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-08", "2026-06-09"], "America/Los_Angeles")

        config = summary_config(time_zone="America/Los_Angeles").with_start_date("2026-06-08T00:00:00Z").with_end_date(None)
        output = _read(stream, config)

    assert _days(output) == ["2026-06-08", "2026-06-09"]


@freeze_time("2026-06-10T03:00:00Z")
@_ONE_STREAM
def test_given_no_end_date_and_a_zone_already_on_tomorrow_when_read_then_its_today_is_asked_too(stream: str) -> None:
    # 03:00 UTC is 12:00 on 2026-06-10 in Tokyo.
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-09", "2026-06-10"], "Asia/Tokyo")

        config = summary_config(time_zone="Asia/Tokyo").with_start_date("2026-06-09T00:00:00Z").with_end_date(None)
        output = _read(stream, config)

    assert _days(output) == ["2026-06-09", "2026-06-10"]


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_end_date_within_a_day_when_read_then_that_day_is_asked_too(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-01", "2026-06-02"])

        output = _read(stream, summary_config().with_end_date("2026-06-02T06:00:00Z"))

    assert _days(output) == ["2026-06-01", "2026-06-02"]


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_pbx_ids_when_read_then_ask_for_those_pbxes(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(
            SummaryRequestBuilder(stream).with_pbx_id("acmecorp,acmesales").build(), summary_response([_row(stream, "a")])
        )

        output = _read(stream, summary_config(pbx_ids=["acmecorp", "acmesales"]))

    assert len(output.records) == 1


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_objects_with_trailing_commas_like_the_reference_example_when_read_then_emit_the_rows(stream: str) -> None:
    rows = [_row(stream, "a")]
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), summary_response(rows, trailing_commas=True))

        output = _read(stream, summary_config())

    assert [message.record.data for message in output.records] == [{**rows[0], "day": "2026-06-01", "timeZone": "UTC"}]
    assert not output.errors


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_discover_then_incremental_on_day_with_the_stream_key(stream: str) -> None:
    config = summary_config().build()

    catalog = {entry.name: entry for entry in discover(SourceEightByEightCdr(None, config, None), config).catalog.catalog.streams}

    assert catalog[stream].default_cursor_field == ["day"]
    assert catalog[stream].source_defined_primary_key == [[field] for field in ROW_KEYS[stream]] + [["day"]]
    assert catalog[stream].json_schema["properties"]["day"] == {
        "type": ["null", "string"],
        "format": "date",
        "description": catalog[stream].json_schema["properties"]["day"]["description"],
    }


# ---------------------------------------------------------------------------------------------------------------------
# Incremental: the state and the lookback
# ---------------------------------------------------------------------------------------------------------------------


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_no_state_when_read_then_final_state_is_the_newest_day(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-01", "2026-06-02"])

        output = _read(stream, summary_config().with_end_date("2026-06-03T00:00:00Z"))

    assert emitted_states(output)[-1] == {"day": "2026-06-02T00:00:00"}


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_state_when_read_then_read_again_from_two_days_before_it_up_to_today(stream: str) -> None:
    days = ["2026-06-06", "2026-06-07", "2026-06-08", "2026-06-09", "2026-06-10"]
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, days)

        output = _read(stream, summary_config().with_end_date(None), state=_state(stream, "2026-06-08T00:00:00"))

    assert _days(output) == days
    assert emitted_states(output)[-1] == {"day": "2026-06-10T00:00:00"}


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_state_and_lookback_of_0_days_when_read_then_read_again_from_the_saved_day(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-09", "2026-06-10"])

        output = _read(stream, summary_config(lookback_days=0).with_end_date(None), state=_state(stream, "2026-06-09T00:00:00"))

    assert _days(output) == ["2026-06-09", "2026-06-10"]


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_state_saved_as_a_bare_date_when_read_then_use_it(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-10"])

        output = _read(stream, summary_config(lookback_days=0).with_end_date(None), state=_state(stream, "2026-06-10"))

    assert _days(output) == ["2026-06-10"]


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_state_near_start_date_when_read_then_never_ask_before_start_date(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-01"])

        output = _read(stream, summary_config(lookback_days=7), state=_state(stream, "2026-06-01T00:00:00"))

    assert _days(output) == ["2026-06-01"]


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_a_day_without_rows_when_read_then_state_is_the_newest_day_with_rows(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        _answer_days(http_mocker, stream, ["2026-06-01"])
        http_mocker.get(SummaryRequestBuilder(stream).for_day("2026-06-02").build(), summary_response([]))

        output = _read(stream, summary_config().with_end_date("2026-06-03T00:00:00Z"))

    assert _days(output) == ["2026-06-01"]
    assert emitted_states(output)[-1] == {"day": "2026-06-01T00:00:00"}


# ---------------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------------


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_400_sha001_when_read_then_config_error_naming_the_api_key(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), invalid_api_key_response())

        output = _read(stream, summary_config(), expecting_exception=True)

    error = stream_error(output, stream)
    assert error.failure_type == FailureType.config_error
    assert "work_analytics.api_key" in error.message


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_400_for_the_time_zone_when_read_then_config_error_quoting_the_api(stream: str) -> None:
    answer = HttpResponse('{"status": 400, "error": "Bad Request", "message": "Invalid timeZone: Mars/Olympus"}', 400)
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), answer)

        output = _read(stream, summary_config(), expecting_exception=True)

    error = stream_error(output, stream)
    assert error.failure_type == FailureType.config_error
    assert "Invalid timeZone: Mars/Olympus" in error.message


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_401_when_read_then_log_in_again_once_and_retry(stream: str) -> None:
    login = login_request()
    with HttpMocker() as http_mocker:
        http_mocker.post(login, [token_response("token-1"), token_response("token-2")])
        http_mocker.get(SummaryRequestBuilder(stream).with_token("token-1").build(), invalid_token_response())
        http_mocker.get(SummaryRequestBuilder(stream).with_token("token-2").build(), summary_response([_row(stream, "a")]))

        output = _read(stream, summary_config())
        http_mocker.assert_number_of_calls(login, 2)

    assert _days(output) == ["2026-06-01"]


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_403_when_read_then_config_error_naming_the_pbx(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).with_pbx_id("secretpbx").build(), access_denied_response(pbx_id="secretpbx"))

        output = _read(stream, summary_config(pbx_ids=["secretpbx"]), expecting_exception=True)

    error = stream_error(output, stream)
    assert error.failure_type == FailureType.config_error
    assert "pbxId(secretpbx)" in error.message


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_429_with_retry_after_then_200_when_read_then_wait_and_return_the_rows(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), [rate_limited_response(retry_after_seconds=7), summary_response([_row(stream, "a")])])

        output = _read(stream, summary_config())

    assert _days(output) == ["2026-06-01"]
    assert output.is_in_logs("Retrying in 8.0 seconds")  # Retry-After plus the CDK's extra second


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_500_once_then_200_when_read_then_return_the_rows(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), [server_error_response(), summary_response([_row(stream, "a")])])

        output = _read(stream, summary_config())

    assert _days(output) == ["2026-06-01"]


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_500_on_every_try_when_read_then_transient_error(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), server_error_response())

        output = _read(stream, summary_config().with_field("max_retries", 1), expecting_exception=True)

    assert output.records == []
    assert stream_error(output, stream).failure_type == FailureType.transient_error


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_html_page_once_when_read_then_read_the_day_again(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), [html_response(), summary_response([_row(stream, "a")])])

        output = _read(stream, summary_config())

    assert _days(output) == ["2026-06-01"]
    assert not output.errors


@freeze_time(_NOW)
@_EACH_STREAM
def test_given_a_malformed_body_twice_for_the_first_day_when_read_then_fail_it_and_keep_the_state_before_it(stream: str) -> None:
    # The next day answers, but the state never passes the day that failed: the next sync reads it again.
    cut_off = HttpResponse('[{"pbxId": "acmecorp", "totalCalls": 4', 200)
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).for_day("2026-06-01").build(), [cut_off, cut_off])
        _answer_days(http_mocker, stream, ["2026-06-02"])

        output = _read(stream, summary_config().with_end_date("2026-06-03T00:00:00Z"), expecting_exception=True)

    error = stream_error(output, stream)
    assert error.failure_type == FailureType.transient_error
    assert "Work Analytics answered a body that is not JSON" in error.message
    assert "state was not advanced past it" in error.message
    assert _days(output) == ["2026-06-02"]
    assert all(state == {"day": "2026-06-01T00:00:00"} for state in emitted_states(output))


@freeze_time(_NOW)
@_ONE_STREAM
def test_given_an_object_instead_of_a_list_twice_when_read_then_transient_error(stream: str) -> None:
    with HttpMocker() as http_mocker:
        logged_in(http_mocker)
        http_mocker.get(SummaryRequestBuilder(stream).build(), HttpResponse('{"error": "report is being generated"}', 200))

        output = _read(stream, summary_config(), expecting_exception=True)

    assert output.records == []
    assert "a JSON dict instead of a list" in stream_error(output, stream).message
