"""The page-at-a-time record path (`source_8x8_cdr/fastpath/pages.py`): what it writes, what it bounds, when it applies.

End to end (records, state counts, stream statuses through the real command) it is covered by
`integration_tests/test_reads_emulator.py`; the mock-server tests read through `record_messages`.
"""

from __future__ import annotations

import time

import orjson
import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import Type
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.transformations import AddFields
from airbyte_cdk.sources.utils.record_helper import stream_data_to_airbyte_message

from source_8x8_cdr.components.summaries import DAILY_SUMMARY_STREAMS, PBX_STREAM
from source_8x8_cdr.fastpath.pages import RecordPage, RecordPageMessage, can_read_by_page, record_messages, records_to_json
from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder

NOW_NS = 1_732_406_400_123_456_789
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

    def test_given_no_records_when_written_then_nothing(self) -> None:
        assert records_to_json([], "call_records") == ()

    def test_given_a_page_when_read_through_record_messages_then_the_cdk_messages_come_out(self, frozen_clock: None) -> None:
        page = RecordPage(RECORDS, RECORDS[-1], "contact_center_cdrs", stream_slice=None)

        messages = list(record_messages(RecordPageMessage(type=Type.RECORD, page=page)))

        assert [m.record.data for m in messages] == RECORDS
        assert {(m.type, m.record.stream, m.record.emitted_at) for m in messages} == {(Type.RECORD, "contact_center_cdrs", NOW_NS // 1_000_000)}
        assert page.count == 3 and page.data == RECORDS[-1]


class TestWhichStreamsReadByPage:
    @pytest.fixture
    def source(self) -> SourceEightByEightCdr:
        return SourceEightByEightCdr(config=ConfigBuilder().with_work_analytics().with_contact_center().build())

    def test_given_the_manifest_when_streams_are_built_then_every_stream_but_the_small_reports_reads_by_page(self, source: SourceEightByEightCdr) -> None:
        streams = source.streams(source._config)
        by_page = {s.name for s in streams if type(s._stream_partition_generator._partition_factory).__name__ == "PagedPartitionFactory"}
        # The PBX directory (records under `_embedded`) and the daily summaries (`day` and `timeZone` added by the
        # manifest) hold a few rows a request: they keep the CDK's record path.
        assert by_page == {s.name for s in streams} - {PBX_STREAM, *DAILY_SUMMARY_STREAMS}

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
