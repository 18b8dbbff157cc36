"""Saved state and how far a sync moves it: `state.py` (reading it), `fastpath/checkpoint.py` (bounding it), and the
slice filter's side of both (cursors without an offset, records stamped after the sync)."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional
from unittest import TestCase
from zoneinfo import ZoneInfo

import pytest
from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, SyncMode
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from source_8x8_cdr.components.filtering import ExactlyOnceSliceFilter
from source_8x8_cdr.components.timeutil import cursor_epoch_ms, parse_utc
from source_8x8_cdr.config import ConfigError
from source_8x8_cdr.source import SourceEightByEightCdr
from source_8x8_cdr.state import usable_state
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.contact_center import CDRS_STREAM, CdrPageBuilder, ContactCenterRequestBuilder, cdr_record, empty_cdr_page

_NOW = "2026-06-05T12:00:00Z"
NEW_YORK = ZoneInfo("America/New_York")
_IN_STATE_FORM = "2026-06-01T00:00:00.000000Z"


def _messages(*raw: Mapping[str, Any]) -> List[AirbyteStateMessage]:
    return [AirbyteStateMessageSerializer.load(message) for message in raw]


def _stream(name: str, state: Any) -> Mapping[str, Any]:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}


def _states(messages: Optional[List[AirbyteStateMessage]]) -> dict:
    return {m.stream.stream_descriptor.name: AirbyteStateMessageSerializer.dump(m)["stream"]["stream_state"] for m in messages or []}


@freeze_time(_NOW)
class TestUsableState:
    @pytest.mark.parametrize(
        "stream, value",
        [
            ("call_records", "2026-06-01T00:00:00Z"),
            ("call_records", "2026-06-01T02:00:00+02:00"),
            ("call_records", "2026-06-01"),
            ("call_records", "2026-06-01T00:00:00"),
            ("call_records", 1780272000000),
            ("contact_center_cdrs", 1780272000000),
            ("contact_center_cdrs", "1780272000000"),
            ("contact_center_cdrs", _IN_STATE_FORM),
            ("call_records", 1780272000),
            ("contact_center_cdrs", "1780272000"),
        ],
        ids=["no_fraction", "offset", "date", "no_offset_is_utc", "wa_epoch_ms", "cdr_epoch_ms", "cdr_epoch_ms_digits", "own_form",
             "epoch_seconds", "epoch_seconds_digits"],
    )
    def test_given_an_accepted_cursor_when_read_then_written_in_the_connectors_own_form(self, stream: str, value: Any) -> None:
        cursor = "timestamp" if stream == "contact_center_cdrs" else "startTimeUTC"

        state = usable_state(_messages(_stream(stream, {cursor: value})))

        assert _states(state) == {stream: {cursor: _IN_STATE_FORM}}

    def test_given_the_cdks_slices_when_read_then_every_bound_written_in_the_connectors_own_form(self) -> None:
        raw = {"state_type": "date-range", "slices": [{"start": "2026-05-01", "end": "2026-06-01T00:00:00Z", "most_recent_cursor_value": 1780272000000}]}

        state = usable_state(_messages(_stream("call_records", raw)))

        assert _states(state) == {"call_records": {"state_type": "date-range", "slices": [
            {"start": "2026-05-01T00:00:00.000000Z", "end": _IN_STATE_FORM, "most_recent_cursor_value": _IN_STATE_FORM}]}}

    def test_given_the_cdks_slices_empty_when_read_then_no_state(self) -> None:
        assert _states(usable_state(_messages(_stream("call_records", {"state_type": "date-range", "slices": []})))) == {"call_records": {}}

    def test_given_global_and_legacy_messages_when_read_then_stream_messages(self) -> None:
        raw_global = {"type": "GLOBAL", "global": {"stream_states": [
            {"stream_descriptor": {"name": "call_records"}, "stream_state": {"startTimeUTC": "2026-06-01"}}]}}
        raw_legacy = {"type": "LEGACY", "data": {"contact_center_cdrs": {"timestamp": "2026-06-01"}}}

        state = usable_state(_messages(raw_global) + _messages(raw_legacy))

        assert {message.type.value for message in state} == {"STREAM"}
        assert _states(state) == {"call_records": {"startTimeUTC": _IN_STATE_FORM}, "contact_center_cdrs": {"timestamp": _IN_STATE_FORM}}

    def test_given_a_full_refresh_streams_state_when_read_then_kept_as_it_is(self) -> None:
        assert _states(usable_state(_messages(_stream("contact_center_agents", {"__ab_no_cursor_state_message": True})))) == {
            "contact_center_agents": {"__ab_no_cursor_state_message": True}}

    @pytest.mark.parametrize(
        "raw, named",
        [
            (_stream("call_records", {"startTimeUTC": "20260601"}), "neither epoch seconds nor milliseconds"),
            (_stream("call_records", {"startTimeUTC": 10**20}), "not a date"),
            (_stream("call_records", {"startTimeUTC": True}), "not a date"),
            (_stream("contact_center_cdrs", {"state_type": "date-range", "slices": [{"start": "x", "end": "2026-06-01"}]}), "`start`"),
            (_stream("call_records", {"timestamp": _IN_STATE_FORM}), "no `startTimeUTC`"),
            ({"type": "GLOBAL", "global": {"shared_state": {"lsn": 1}, "stream_states": [
                {"stream_descriptor": {"name": "call_legs"}, "stream_state": {}}]}}, "call_legs"),
            ({"type": "LEGACY", "data": {"startTimeUTC": _IN_STATE_FORM}}, "LEGACY"),
            ({"type": "LEGACY", "data": {"call_records": "2026-06-01"}}, "LEGACY"),
        ],
        ids=["compact_date", "past_year_9999", "boolean", "bad_slice", "other_cursor", "global_shared_state",
             "legacy_flat", "legacy_not_objects"],
    )
    def test_given_a_state_of_another_form_when_read_then_a_config_error_names_it(self, raw: Mapping[str, Any], named: str) -> None:
        with pytest.raises(ConfigError, match="saved") as refused:
            usable_state(_messages(raw))

        assert named in str(refused.value)


# ---------------------------------------------------------------------------------------------------------------------
# The slice filter: cursors without an offset, records stamped after the sync
# ---------------------------------------------------------------------------------------------------------------------

_DAY_ONE = {"start_time": "2026-06-01T00:00:00.000000Z", "end_time": "2026-06-01T23:59:59.999000Z"}


def _kept(record_filter: ExactlyOnceSliceFilter, timestamps: List[str]) -> List[str]:
    records = [{"uuid": value, "timestamp": value} for value in timestamps]
    return [record["uuid"] for record in record_filter.filter_records(records, stream_state={}, stream_slice=StreamSlice(partition={}, cursor_slice=_DAY_ONE))]


class TestSliceFilterCursors:
    def test_given_timestamps_without_offset_in_new_york_when_filtered_then_read_as_new_york_times(self) -> None:
        record_filter = ExactlyOnceSliceFilter(config={}, parameters={}, cursor_field="timestamp", primary_key="uuid", time_zone="America/New_York")

        # The UTC day 2026-06-01 is 20:00 the day before to 19:59:59.999 on the New York wall clock (-04:00).
        kept = _kept(record_filter, ["2026-05-31T19:59:59.999", "2026-05-31T20:00:00.000", "2026-06-01T19:59:59.999", "2026-06-01T20:00:00.000"])

        assert kept == ["2026-05-31T20:00:00.000", "2026-06-01T19:59:59.999"]

    @pytest.mark.parametrize(
        "wall_clock, utc",
        [("2026-03-08T01:59:59.999", "2026-03-08T06:59:59.999Z"), ("2026-03-08T02:30:00.000", "2026-03-08T07:30:00.000Z"),
         ("2026-11-01T01:30:00.000", "2026-11-01T05:30:00.000Z"), ("2026-11-01T02:00:00.000", "2026-11-01T07:00:00.000Z")],
        ids=["before_spring_forward", "in_the_skipped_hour", "in_the_repeated_hour_first_reading", "after_fall_back"],
    )
    def test_given_a_new_york_wall_clock_time_around_a_dst_change_when_read_then_the_same_instant_as_parse_utc(self, wall_clock: str, utc: str) -> None:
        assert cursor_epoch_ms(wall_clock, NEW_YORK) == cursor_epoch_ms(utc) == cursor_epoch_ms(parse_utc(wall_clock, NEW_YORK).isoformat())

    def test_given_the_slice_ending_at_the_sync_when_filtered_then_it_keeps_records_stamped_after_it(self) -> None:
        after = ["2026-06-02T00:00:00.000Z", "2026-06-09T10:00:00.000+05:30", "1781000000000"]
        last_slice, other_slice = (ExactlyOnceSliceFilter(config={}, parameters={}, cursor_field="timestamp", primary_key="uuid") for _ in range(2))
        other_slice.owns_records_after("2026-06-02T23:59:59.999000Z")

        last_slice.owns_records_after(_DAY_ONE["end_time"])

        assert _kept(last_slice, after + ["2026-05-31T23:59:59.999Z"]) == after
        assert _kept(other_slice, after) == []


# ---------------------------------------------------------------------------------------------------------------------
# How far a sync moves the state
# ---------------------------------------------------------------------------------------------------------------------


def _read(config: Mapping[str, Any]) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(CDRS_STREAM, SyncMode.incremental).build()
    return read(SourceEightByEightCdr(catalog=catalog, config=config, state=None), config, catalog, None)


@freeze_time(_NOW)
class TestStateBoundedBySync(TestCase):
    @HttpMocker()
    def test_given_an_end_date_in_the_future_and_a_record_stamped_days_ahead_when_read_then_emitted_and_state_stops_at_now(
            self, http_mocker: HttpMocker) -> None:
        config = ConfigBuilder().with_contact_center().with_start_date("2026-06-05T00:00:00Z").with_end_date("2026-06-09T00:00:00Z").build()
        http_mocker.get(
            ContactCenterRequestBuilder.cdrs().with_per_page(10_000).with_window("2026-06-04T23:00:00", "2026-06-05T12:00:01").build(),
            CdrPageBuilder()
            .with_record(cdr_record().with_id("today").with_cursor("2026-06-05T08:00:00.000-03:00"))
            .with_record(cdr_record().with_id("wrong-clock").with_cursor("2026-06-07T08:00:00.000-03:00"))
            .build(),
        )
        http_mocker.get(  # the empty page that ends the search
            ContactCenterRequestBuilder.cdrs().with_per_page(10_000).with_window("2026-06-04T23:00:00", "2026-06-05T12:00:01").with_page(2).build(),
            empty_cdr_page(),
        )

        output = _read(config)

        assert [message.record.data["uuid"] for message in output.records] == ["today", "wrong-clock"]
        assert output.most_recent_state.stream_state.__dict__ == {"timestamp": "2026-06-05T12:00:00.000000Z"}
