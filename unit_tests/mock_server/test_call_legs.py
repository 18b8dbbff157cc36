"""`call_legs`: `GET /v2/call-legs`, one row per leg of a call (primary key `legId`), incremental on `startTimeUTC`.

It is `work_analytics_stream` of the manifest, as `call_records` is: the cases both share (window, paging,
duplicates, state, 401/403/429/500, an expired scrollId) are written once in `work_analytics_cases.py` and run
here for this stream. The cases below are the legs' own: several legs of one call, and each stream reading its
own path.
"""

from __future__ import annotations

from typing import List
from unittest import TestCase

import pytest
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from unit_tests.mock_server.helpers import read_streams, record_values
from unit_tests.mock_server.work_analytics import (
    CALL_LEGS,
    CALL_RECORDS,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_leg,
    a_call_record,
    logged_in,
    work_analytics_config,
)
from unit_tests.mock_server.work_analytics_cases import (
    A_START_MS,
    NOW,
    WorkAnalyticsErrorCases,
    WorkAnalyticsFullRefreshCases,
    WorkAnalyticsIncrementalCases,
)

# Retries and slice restarts ask to wait; the waits are skipped (see unit_tests/conftest.py).
pytestmark = pytest.mark.usefixtures("instant_sleep")


def _leg_ids(output: EntrypointOutput) -> List[str]:
    return record_values(output, "legId")


@freeze_time(NOW)
class FullRefreshTest(WorkAnalyticsFullRefreshCases, TestCase):
    stream = CALL_LEGS

    @HttpMocker()
    def test_given_several_legs_of_one_call_when_read_then_emit_every_leg(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(
            WorkAnalyticsRequestBuilder.call_legs().build(),
            WorkAnalyticsPage.of(
                [
                    a_call_leg("leg-1", A_START_MS, call_id="call-1"),
                    a_call_leg("leg-2", A_START_MS, call_id="call-1"),
                    a_call_leg("leg-3", A_START_MS + 20_000, call_id="call-1"),
                ]
            ).last().build(),
        )

        output = read_streams([CALL_LEGS], work_analytics_config())

        assert _leg_ids(output) == ["leg-1", "leg-2", "leg-3"]

    @HttpMocker()
    def test_given_both_work_analytics_streams_when_read_then_each_reads_its_own_path(self, http_mocker: HttpMocker) -> None:
        logged_in(http_mocker)
        http_mocker.get(WorkAnalyticsRequestBuilder.call_legs().build(), WorkAnalyticsPage.of([a_call_leg("leg-1", A_START_MS)]).last().build())
        http_mocker.get(
            WorkAnalyticsRequestBuilder.call_records().build(), WorkAnalyticsPage.of([a_call_record("call-1", A_START_MS)]).last().build()
        )

        output = read_streams([CALL_RECORDS, CALL_LEGS], work_analytics_config())

        assert sorted((message.record.stream, message.record.data.get("legId", "-")) for message in output.records) == [
            (CALL_LEGS, "leg-1"),
            (CALL_RECORDS, "-"),
        ]


@freeze_time(NOW)
class IncrementalTest(WorkAnalyticsIncrementalCases, TestCase):
    stream = CALL_LEGS


@freeze_time(NOW)
class ErrorTest(WorkAnalyticsErrorCases, TestCase):
    stream = CALL_LEGS
