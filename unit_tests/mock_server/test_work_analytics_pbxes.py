"""`work_analytics_pbxes`: `GET /v2/pbxes/`, the account's PBX directory (primary key `id`), full refresh.

Manifest settings under test: the `work_analytics_report_requester` (shared login and status rules), the
`DpathExtractor` at `_embedded.pbxList`, `PbxPagination` (`page` from 0, `size` 100, until a short or empty page,
whatever `_links` and `page` say) and `SummaryErrorHandler` with `embedded_list: pbxList`. Also `check`, which reads
the directory when `work_analytics.pbx_ids` is set.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import List
from unittest import TestCase

import pytest
from airbyte_cdk.models import FailureType, Status
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from freezegun import freeze_time

from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.helpers import read_streams, stream_error
from unit_tests.mock_server.work_analytics import (
    logged_in,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_record,
    access_denied_response,
    epoch_ms,
    html_response,
    invalid_api_key_response,
    invalid_token_response,
    login_request,
    rate_limited_response,
    server_error_response,
    token_response,
    work_analytics_config,
)
from unit_tests.mock_server.work_analytics_reports import PBXES, PbxPage, a_pbx, many_pbxes, pbx_request

_NOW = datetime(2026, 6, 10, 12, 0, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.usefixtures("instant_sleep")


def _read(config: ConfigBuilder, expecting_exception: bool = False) -> EntrypointOutput:
    return read_streams([PBXES], config, expecting_exception=expecting_exception)


def _names(output: EntrypointOutput) -> List[str]:
    return [message.record.data["name"] for message in output.records]


@freeze_time(_NOW)
class FullRefreshTest(TestCase):
    @HttpMocker()
    def test_given_one_short_page_when_read_then_emit_its_pbxes_as_sent(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of([a_pbx("acmecorp"), a_pbx("old-pbx", deleted=True)]).build())

        output = _read(work_analytics_config())

        assert [message.record.data for message in output.records] == [a_pbx("acmecorp"), a_pbx("old-pbx", deleted=True)]
        assert output.records[0].record.stream == PBXES

    @HttpMocker()
    def test_given_full_pages_then_a_short_one_when_read_then_ask_each_page_from_0(self, http_mocker: HttpMocker) -> None:
        pbxes = many_pbxes(205)
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of(pbxes[:100]).build())
        http_mocker.get(pbx_request(1), PbxPage.of(pbxes[100:200]).build())
        http_mocker.get(pbx_request(2), PbxPage.of(pbxes[200:]).build())

        output = _read(work_analytics_config())

        assert _names(output) == [pbx["name"] for pbx in pbxes]

    @HttpMocker()
    def test_given_exactly_one_full_page_when_read_then_stop_at_the_empty_page_without_embedded(self, http_mocker: HttpMocker) -> None:
        pbxes = many_pbxes(100)
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of(pbxes).build())
        http_mocker.get(pbx_request(1), PbxPage.of([]).build())

        output = _read(work_analytics_config())

        assert len(output.records) == 100
        assert not output.errors

    @HttpMocker()
    def test_given_short_page_whose_links_claim_more_pages_when_read_then_stop(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of([a_pbx("acmecorp")]).with_links_to_more_pages().build())

        output = _read(work_analytics_config())

        assert _names(output) == ["acmecorp"]

    @HttpMocker()
    def test_given_full_pages_without_links_or_page_info_when_read_then_page_until_the_short_page(self, http_mocker: HttpMocker) -> None:
        pbxes = many_pbxes(150)
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of(pbxes[:100]).without_links().build())
        http_mocker.get(pbx_request(1), PbxPage.of(pbxes[100:]).without_links().build())

        output = _read(work_analytics_config())

        assert len(output.records) == 150

    @HttpMocker()
    def test_given_api_that_ignores_page_when_read_then_stop_after_the_repeated_page(self, http_mocker: HttpMocker) -> None:
        same_page, second_request = PbxPage.of(many_pbxes(100)).build(), pbx_request(1)
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), same_page)
        http_mocker.get(second_request, same_page)

        output = _read(work_analytics_config())

        assert len(output.records) == 200  # as sent: the stream's primary key lets the destination deduplicate
        http_mocker.assert_number_of_calls(second_request, 1)

    @HttpMocker()
    def test_given_trailing_comma_in_the_body_when_read_then_emit_the_pbx(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            pbx_request(0), HttpResponse('{"_embedded": {"pbxList": [{"id": "p1", "name": "acmecorp", "deleted": false,},]},}', 200)
        )

        output = _read(work_analytics_config())

        assert [message.record.data for message in output.records] == [{"id": "p1", "name": "acmecorp", "deleted": False}]


@freeze_time(_NOW)
class ErrorTest(TestCase):
    @HttpMocker()
    def test_given_400_sha001_when_read_then_config_error_naming_the_api_key(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), invalid_api_key_response())

        output = _read(work_analytics_config(), expecting_exception=True)

        error = stream_error(output, PBXES)
        assert error.failure_type == FailureType.config_error
        assert "work_analytics.api_key" in error.message

    @HttpMocker()
    def test_given_401_when_read_then_log_in_again_once_and_retry(self, http_mocker: HttpMocker) -> None:
        login = login_request()
        http_mocker.post(login, [token_response("token-1"), token_response("token-2")])
        http_mocker.get(pbx_request(0, token="token-1"), invalid_token_response())
        http_mocker.get(pbx_request(0, token="token-2"), PbxPage.of([a_pbx("acmecorp")]).build())

        output = _read(work_analytics_config())

        assert _names(output) == ["acmecorp"]
        http_mocker.assert_number_of_calls(login, 2)

    @HttpMocker()
    def test_given_403_when_read_then_config_error(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), access_denied_response(pbx_id="acmecorp"))

        output = _read(work_analytics_config(), expecting_exception=True)

        error = stream_error(output, PBXES)
        assert error.failure_type == FailureType.config_error
        assert "pbxId(acmecorp)" in error.message

    @HttpMocker()
    def test_given_429_then_200_when_read_then_wait_and_return_the_pbxes(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), [rate_limited_response(retry_after_seconds=3), PbxPage.of([a_pbx("acmecorp")]).build()])

        output = _read(work_analytics_config())

        assert _names(output) == ["acmecorp"]

    @HttpMocker()
    def test_given_500_on_every_try_when_read_then_transient_error(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), server_error_response())

        output = _read(work_analytics_config().with_field("max_retries", 1), expecting_exception=True)

        assert output.records == []
        assert stream_error(output, PBXES).failure_type == FailureType.transient_error

    @HttpMocker()
    def test_given_html_page_twice_when_read_then_transient_error_saying_the_body_was_not_a_pbx_page(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), [html_response(), html_response()])

        output = _read(work_analytics_config(), expecting_exception=True)

        error = stream_error(output, PBXES)
        assert error.failure_type == FailureType.transient_error
        assert "_embedded.pbxList" in error.message


@freeze_time(_NOW)
class CheckTest(TestCase):
    def _check(self, config: ConfigBuilder):
        built = config.build()
        return SourceEightByEightCdr(None, built, None).check(logging.getLogger("airbyte"), built)

    def _call_records_answer(self, http_mocker: HttpMocker, pbx_id: str) -> None:
        http_mocker.get(
            WorkAnalyticsRequestBuilder.call_records().with_pbx_id(pbx_id).with_page_size(1).build(),
            WorkAnalyticsPage.of([a_call_record("c1", epoch_ms("2026-06-01T10:00:00.000"))]).last().build(),
        )

    @HttpMocker()
    def test_given_pbx_ids_not_in_the_directory_when_check_then_fail_naming_them_and_listing_the_pbxes(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of([a_pbx("acmecorp"), a_pbx("acmesales")]).build())

        status = self._check(work_analytics_config(pbx_ids=["acmecorp", "acme-corp2", "nosuchpbx"]))

        assert status.status == Status.FAILED
        assert status.message == (
            "Work Analytics: work_analytics.pbx_ids names 'acme-corp2', 'nosuchpbx', which are not PBXes of this account. "
            "The account's PBXes: acmecorp, acmesales."
        )

    @HttpMocker()
    def test_given_pbx_ids_all_in_the_directory_when_check_then_probe_the_call_records_and_succeed(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), PbxPage.of([a_pbx("acmecorp"), a_pbx("acmesales")]).build())
        self._call_records_answer(http_mocker, "acmesales")

        status = self._check(work_analytics_config(pbx_ids=["acmesales"]))

        assert status.status == Status.SUCCEEDED

    @HttpMocker()
    def test_given_no_pbx_ids_when_check_then_do_not_read_the_directory(self, http_mocker: HttpMocker) -> None:
        # HttpMocker fails a test that calls an unmocked URL: the directory must not be asked for.
        logged_in(http_mocker)
        self._call_records_answer(http_mocker, "allpbxes")

        status = self._check(work_analytics_config())

        assert status.status == Status.SUCCEEDED

    @HttpMocker()
    def test_given_directory_refuses_the_api_key_when_check_then_fail_with_that_reason(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(pbx_request(0), invalid_api_key_response())

        status = self._check(work_analytics_config(pbx_ids=["acmecorp"]))

        assert status.status == Status.FAILED
        assert "work_analytics.api_key" in status.message
