"""Saved state: `state.py` reads every accepted form into the connector's own, and refuses the rest."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional

import pytest
from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer
from freezegun import freeze_time

from source_8x8_cdr.config import ConfigError
from source_8x8_cdr.state import usable_state

_NOW = "2026-06-05T12:00:00Z"
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
        ],
        ids=["no_fraction", "offset", "date", "no_offset_is_utc", "wa_epoch_ms", "cdr_epoch_ms", "cdr_epoch_ms_digits", "own_form"],
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
            (_stream("call_records", {"startTimeUTC": 1780272000}), "epoch seconds"),
            (_stream("call_records", {"startTimeUTC": "20260601"}), "epoch seconds"),
            (_stream("call_records", {"startTimeUTC": 10**20}), "not a date"),
            (_stream("call_records", {"startTimeUTC": True}), "not a date"),
            (_stream("contact_center_cdrs", {"state_type": "date-range", "slices": [{"start": "x", "end": "2026-06-01"}]}), "`start`"),
            (_stream("call_records", {"timestamp": _IN_STATE_FORM}), "no `startTimeUTC`"),
            ({"type": "GLOBAL", "global": {"shared_state": {"lsn": 1}, "stream_states": [
                {"stream_descriptor": {"name": "call_legs"}, "stream_state": {}}]}}, "call_legs"),
            ({"type": "LEGACY", "data": {"startTimeUTC": _IN_STATE_FORM}}, "LEGACY"),
            ({"type": "LEGACY", "data": {"call_records": "2026-06-01"}}, "LEGACY"),
        ],
        ids=["epoch_seconds", "compact_date", "past_year_9999", "boolean", "bad_slice", "other_cursor", "global_shared_state",
             "legacy_flat", "legacy_not_objects"],
    )
    def test_given_a_state_of_another_form_when_read_then_a_config_error_names_it(self, raw: Mapping[str, Any], named: str) -> None:
        with pytest.raises(ConfigError, match="saved") as refused:
            usable_state(_messages(raw))

        assert named in str(refused.value)
