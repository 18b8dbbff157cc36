"""The page-at-a-time record path (`source_8x8_cdr/fastpath/pages.py`): what it writes, what it bounds, when it applies.

End to end (records, state counts, stream statuses through the real command) it is covered by
`integration_tests/test_reads_emulator.py`; the mock-server tests read through `record_messages`.
"""

from __future__ import annotations

import json
import time

import orjson
import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import Type
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.transformations import AddFields
from airbyte_cdk.sources.utils.record_helper import stream_data_to_airbyte_message
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from freezegun import freeze_time

from source_8x8_cdr.components.page_json import RecordWithChanges
from source_8x8_cdr.fastpath import STOCK_PATH_VARIABLE
from source_8x8_cdr.components.summaries import DAILY_SUMMARY_STREAMS, PBX_STREAM
from source_8x8_cdr.components.page_body import page_records_as_they_are, records_as_sent, records_in_page
from source_8x8_cdr.fastpath.pages import _drop_parsed_page, RecordPage, RecordPageMessage, can_read_by_page, record_messages, records_to_json
from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.component_inputs import a_response
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.helpers import read_streams
from unit_tests.mock_server.work_analytics import (
    CALL_RECORDS,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_record,
    epoch_ms,
    login_request,
    token_response,
    work_analytics_config,
)

NOW_NS = 1_732_406_400_123_456_789
CALL_MS = epoch_ms("2026-06-01T10:00:00.000")
RECORDS = [
    {"callId": "a", "startTimeUTC": 1722430989000, "caller": "Zoë ☎", "tags": ["x", {"y": None}], "cost": 0.25},
    {"callId": "b", "startTimeUTC": 1722430990000, "note": 'quotes " and \\ and \n newline', "legs": []},
    {"callId": "c", "startTimeUTC": 1722430991000, "empty": {}, "big": 2**53},
]


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: NOW_NS)


def cdk_lines(records: list[dict], stream: str) -> list[bytes]:
    """What the CDK writes for these records, one message each."""
    return [AirbyteEntrypoint.airbyte_message_to_string(stream_data_to_airbyte_message(stream, record)).encode() for record in records]


class TestRecordsToJson:
    def test_given_records_when_written_as_a_page_then_the_bytes_equal_the_cdks_one_message_per_record(self, frozen_clock: None) -> None:
        assert b"".join(records_to_json(RECORDS, "call_records")).split(b"\n") == cdk_lines(RECORDS, "call_records")

    def test_given_one_record_when_written_then_one_line_without_a_newline(self, frozen_clock: None) -> None:
        assert b"".join(records_to_json(RECORDS[:1], "call_legs")) == cdk_lines(RECORDS[:1], "call_legs")[0]

    def test_given_a_record_holding_the_marker_between_records_when_written_then_it_is_not_cut(self, frozen_clock: None) -> None:
        forged = {"callId": "f", "list": ["a", "\x00page\x00", "b"], "text": ',"\x00page\x00",'}
        assert b',"\\u0000page\\u0000",' in orjson.dumps(forged)  # precondition: the marker's JSON inside a record
        records = [RECORDS[0], forged, RECORDS[1]]

        lines = b"".join(records_to_json(records, "call_records")).split(b"\n")

        assert lines == cdk_lines(records, "call_records")
        assert [orjson.loads(line)["record"]["data"] for line in lines] == records

    def test_given_an_integer_beyond_64_bits_when_written_then_each_record_on_its_own_and_the_integer_exact(self, frozen_clock: None) -> None:
        records = [RECORDS[0], {"callId": "wide", "startTimeUTC": 1722430992000, "big": 123456789012345678901234567890}]

        lines = b"".join(records_to_json(records, "call_records")).split(b"\n")

        assert [json.loads(line)["record"]["data"] for line in lines] == records
        assert lines[0] == cdk_lines(records[:1], "call_records")[0]

    def test_given_a_record_with_changes_when_written_then_its_message_carries_them_in_meta(self, frozen_clock: None) -> None:
        changes = [{"field": "text", "change": "TRUNCATED", "reason": "SOURCE_SERIALIZATION_ERROR"}]
        records = [RECORDS[0], RecordWithChanges({"callId": "cut", "text": "Olá \ufffd"}, changes)]

        lines = b"".join(records_to_json(records, "call_records")).split(b"\n")

        assert [orjson.loads(line)["record"].get("meta") for line in lines] == [None, {"changes": changes}]
        assert orjson.loads(lines[1])["record"]["data"] == {"callId": "cut", "text": "Olá \ufffd"}

    def test_given_such_records_when_read_through_record_messages_then_exact_and_with_their_changes(self, frozen_clock: None) -> None:
        changes = [{"field": "text", "change": "TRUNCATED", "reason": "SOURCE_SERIALIZATION_ERROR"}]
        records = [{"callId": "wide", "big": 2**70}, RecordWithChanges({"callId": "cut", "text": "\ufffd"}, changes)]
        page = RecordPage.of_records(records, records[-1], "call_records", stream_slice=None)

        messages = list(record_messages(RecordPageMessage(type=Type.RECORD, page=page)))

        assert [m.record.data for m in messages] == records and type(messages[0].record.data["big"]) is int
        assert messages[0].record.meta is None
        assert [(c.field, c.change.value, c.reason.value) for c in messages[1].record.meta.changes] == [
            ("text", "TRUNCATED", "SOURCE_SERIALIZATION_ERROR")
        ]

    def test_given_no_records_when_written_then_nothing(self) -> None:
        assert records_to_json([], "call_records") == ()

    def test_given_a_page_when_read_through_record_messages_then_the_cdk_messages_come_out(self, frozen_clock: None) -> None:
        page = RecordPage.of_records(RECORDS, RECORDS[-1], "contact_center_cdrs", stream_slice=None)

        messages = list(record_messages(RecordPageMessage(type=Type.RECORD, page=page)))

        assert [m.record.data for m in messages] == RECORDS
        assert {(m.type, m.record.stream, m.record.emitted_at) for m in messages} == {(Type.RECORD, "contact_center_cdrs", NOW_NS // 1_000_000)}
        assert page.count == 3 and page.data == RECORDS[-1]


class TestPageDropped:
    def test_given_a_page_kept_as_sent_when_its_records_are_taken_then_the_answer_holds_neither_its_body_nor_its_records(self) -> None:
        response = a_response(b'{"records":[{"uuid":"a"},{"uuid":"b"}],"total":2}')
        assert records_as_sent(response, "records") is not None and records_in_page(response, "records") == 2

        _drop_parsed_page(response, "records")

        assert records_as_sent(response, "records") is None, "the records kept as sent, which hold the body's bytes, are gone"
        assert page_records_as_they_are(response, "records") == [] and response.content == b""
        assert records_in_page(response, "records") == 2, "the paginators still read the page's size"


class TestWhichStreamsReadByPage:
    @pytest.fixture
    def source(self) -> SourceEightByEightCdr:
        return SourceEightByEightCdr(config=ConfigBuilder().with_work_analytics().with_contact_center().build())

    def test_given_the_manifest_when_streams_are_built_then_every_stream_but_the_summaries_reads_by_page(self, source: SourceEightByEightCdr) -> None:
        """The PBX directory's records sit in a HAL page (`PbxListExtractor`) and the daily summaries add fields to
        each record (a transformation): small streams, read on the CDK's record path."""
        factories = {s.name: type(s._stream_partition_generator._partition_factory).__name__ for s in source.streams(source._config)}
        per_record = {name for name, factory in factories.items() if factory != "PagedPartitionFactory"}
        assert per_record == {name for name in factories if name.startswith("work_analytics_")}
        assert {"call_records", "call_legs", "contact_center_cdrs", "contact_center_teams"} <= set(factories) - per_record

    def test_given_a_stream_with_a_transformation_when_checked_then_it_keeps_the_cdks_record_path(self, source: SourceEightByEightCdr) -> None:
        stream = next(s for s in super(SourceEightByEightCdr, source).streams(source._config) if s.name == "call_records")
        assert can_read_by_page(stream)

        selector = stream._stream_partition_generator._partition_factory._retriever.record_selector
        selector.transformations = [AddFields(fields=[], parameters={})]

        assert not can_read_by_page(stream)

    def test_given_a_stream_with_another_record_filter_when_checked_then_it_keeps_the_cdks_record_path(self, source: SourceEightByEightCdr) -> None:
        stream = next(s for s in super(SourceEightByEightCdr, source).streams(source._config) if s.name == "contact_center_cdrs")
        selector = stream._stream_partition_generator._partition_factory._retriever.record_selector
        assert can_read_by_page(stream)

        selector.record_filter = RecordFilter(config={}, condition="{{ record['uuid'] }}", parameters={})

        assert not can_read_by_page(stream)


class TestTypedValues:
    """The values converted to the schema's types and the unconvertible reported in `meta.changes`, on the page
    path and on the CDK's record-by-record path (which the source takes for a stream it cannot read by page)."""

    CHANGES = [{"field": "callTime", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"}]

    def test_given_records_with_changes_when_written_as_a_page_then_only_those_lines_carry_meta(self, frozen_clock: None) -> None:
        records = [{"callId": "a", "callTime": 1}, {"callId": "b", "callTime": None}, {"callId": "c"}, {"callId": "d", "callTime": None}]

        lines = b"".join(records_to_json(records, "call_records", {id(records[1]): self.CHANGES, id(records[3]): self.CHANGES})).split(b"\n")

        messages = [orjson.loads(line)["record"] for line in lines]
        assert [message["data"] for message in messages] == records
        assert [message.get("meta") for message in messages] == [None, {"changes": self.CHANGES}, None, {"changes": self.CHANGES}]
        assert lines[1] == (
            b'{"type":"RECORD","record":{"stream":"call_records","data":{"callId":"b","callTime":null},"emitted_at":%d,'
            b'"meta":{"changes":[{"field":"callTime","change":"NULLED","reason":"SOURCE_SERIALIZATION_ERROR"}]}}}' % (NOW_NS // 1_000_000)
        )

    def test_given_an_integer_beyond_64_bits_when_written_as_a_page_then_it_is_written_exactly(self, frozen_clock: None) -> None:
        records = [RECORDS[0], {"callId": "big", "answeredTime": 123456789012345678901234567890}]

        lines = b"".join(records_to_json(records, "call_records")).split(b"\n")

        assert b'"answeredTime":123456789012345678901234567890' in lines[1]
        page = RecordPage.of_records(records, records[-1], "call_records", stream_slice=None)
        assert [m.record.data for m in record_messages(RecordPageMessage(type=Type.RECORD, page=page))] == records

    def test_given_a_page_with_changes_when_read_through_record_messages_then_the_messages_carry_meta(self) -> None:
        records = [{"callId": "a"}, {"callId": "b", "callTime": None}]
        page = RecordPage.of_records(records, records[-1], "call_records", None, {id(records[1]): self.CHANGES})

        messages = list(record_messages(RecordPageMessage(type=Type.RECORD, page=page)))

        assert messages[0].record.meta is None
        assert [(c.field, c.change.value, c.reason.value) for c in messages[1].record.meta.changes] == [("callTime", "NULLED", "SOURCE_SERIALIZATION_ERROR")]

    @pytest.mark.parametrize("by_page", [True, False], ids=["page path", "CDK record path"])
    def test_given_a_record_with_values_in_other_forms_when_read_then_converted_and_the_unreadable_one_reported(
        self, by_page: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if not by_page:
            monkeypatch.setenv(STOCK_PATH_VARIABLE, "1")
        spoiled = a_call_record("7", str(CALL_MS)).with_field(FieldPath("callTime"), "n/a").with_field(FieldPath("departments"), "Sales")

        with freeze_time("2026-06-10T12:00:00Z"), HttpMocker() as http_mocker:
            http_mocker.post(login_request(), token_response())
            http_mocker.get(
                WorkAnalyticsRequestBuilder.call_records().build(),
                WorkAnalyticsPage.of([a_call_record("6", CALL_MS), spoiled]).last().build(),
            )
            output = read_streams([CALL_RECORDS], work_analytics_config())

        first, second = (message.record for message in output.records)
        assert (first.data["callLegCount"], first.meta) == (1, None)
        assert (second.data["startTimeUTC"], second.data["callLegCount"], second.data["departments"]) == (CALL_MS, 1, ["Sales"])
        assert second.data.get("callTime") is None and "_source_8x8_cdr_meta_changes" not in second.data
        assert [(c.field, c.change.value, c.reason.value) for c in second.meta.changes] == [("callTime", "NULLED", "SOURCE_SERIALIZATION_ERROR")]
        warnings = [log.log.message for log in output.logs if "could not be read" in log.log.message]
        assert warnings == [
            "call_records.callTime: 1 value could not be read as integer (sent as string) and was set to null; "
            "each record says so in its meta.changes."
        ]
        paged = type(SourceEightByEightCdr(config=work_analytics_config().build()).streams(work_analytics_config().build())[0]._stream_partition_generator._partition_factory)
        assert (paged.__name__ == "PagedPartitionFactory") is by_page
