"""`ExactlyOnceSliceFilter` (`components/filtering.py`): each record once, in the one slice that owns it."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, List, Mapping, Optional

import pytest
from airbyte_cdk.sources.types import Record, StreamSlice

from source_8x8_cdr.components.filtering import ExactlyOnceSliceFilter, seen_form


_DAY_ONE = StreamSlice(partition={}, cursor_slice={"start_time": "2026-06-01T00:00:00.000000Z", "end_time": "2026-06-01T23:59:59.999000Z"})
_DAY_TWO = StreamSlice(partition={}, cursor_slice={"start_time": "2026-06-02T00:00:00.000000Z", "end_time": "2026-06-02T23:59:59.999000Z"})


def _cdr(uuid: Any, timestamp: Any) -> dict:
    return {"uuid": uuid, "timestamp": timestamp}


def _slice_filter() -> ExactlyOnceSliceFilter:
    return ExactlyOnceSliceFilter(config={}, parameters={}, cursor_field="timestamp", primary_key="uuid")


def _kept(record_filter: ExactlyOnceSliceFilter, records: Iterable[Mapping[str, Any]], stream_slice: Optional[StreamSlice] = _DAY_ONE) -> List[Any]:
    return [record["uuid"] for record in record_filter.filter_records(records, stream_state={}, stream_slice=stream_slice)]


class TestExactlyOnceSliceFilter:
    @pytest.mark.parametrize(
        "timestamp",
        [
            "2026-06-01T00:00:00.000Z",
            "2026-06-01T12:00:00.000Z",
            "2026-06-01T23:59:59.999Z",
            "2026-06-01T20:59:59.999-03:00",
            "2026-06-02T05:29:59.999+05:30",
            "2026-05-31T21:00:00.000-03:00",
        ],
        ids=["start", "inside", "end", "end_with_-03:00", "end_with_+05:30", "start_with_-03:00"],
    )
    def test_given_cursor_inside_or_on_a_bound_when_filtered_then_kept(self, timestamp: str) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == ["a"]

    @pytest.mark.parametrize(
        "timestamp",
        ["2026-05-31T23:59:59.999Z", "2026-06-02T00:00:00.000Z", "2026-06-01T21:00:00.000-03:00", "2026-06-01T05:29:59.999+05:30"],
        ids=["ms_before_start", "ms_after_end", "after_end_with_-03:00", "before_start_with_+05:30"],
    )
    def test_given_cursor_outside_the_slice_when_filtered_then_dropped(self, timestamp: str) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == []

    def test_given_same_key_twice_in_a_slice_when_filtered_then_kept_once(self) -> None:
        record_filter = _slice_filter()
        records = [_cdr("a", "2026-06-01T10:00:00.000Z"), _cdr("b", "2026-06-01T11:00:00.000Z"), _cdr("a", "2026-06-01T10:00:00.000Z")]

        assert _kept(record_filter, records) == ["a", "b"]

    def test_given_key_seen_on_an_earlier_page_of_the_slice_when_filtered_then_dropped(self) -> None:
        record_filter = _slice_filter()
        _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")])

        assert _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z"), _cdr("b", "2026-06-01T10:00:01.000Z")]) == ["b"]

    def test_given_a_new_slice_when_filtered_then_keys_of_the_previous_slice_forgotten(self) -> None:
        record_filter = _slice_filter()
        _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")])
        _kept(record_filter, [_cdr("b", "2026-06-02T10:00:00.000Z")], _DAY_TWO)

        assert _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")]) == ["a"]

    def test_given_a_finished_slice_when_forgotten_then_its_keys_are_released(self) -> None:
        record_filter = _slice_filter()
        _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")])

        record_filter.forget_slice()

        assert record_filter._current.slice is None
        assert _kept(record_filter, [_cdr("a", "2026-06-01T10:00:00.000Z")]) == ["a"]

    def test_given_two_threads_on_two_slices_when_interleaved_then_each_keeps_its_own_keys(self) -> None:
        record_filter = _slice_filter()
        day_one_reader, day_two_reader = ThreadPoolExecutor(max_workers=1), ThreadPoolExecutor(max_workers=1)

        def on(reader: ThreadPoolExecutor, records: List[dict], stream_slice: StreamSlice) -> List[Any]:
            return reader.submit(_kept, record_filter, records, stream_slice).result()

        with day_one_reader, day_two_reader:
            first_page = on(day_one_reader, [_cdr("a", "2026-06-01T10:00:00.000Z")], _DAY_ONE)
            other_slice = on(day_two_reader, [_cdr("a", "2026-06-02T10:00:00.000Z")], _DAY_TWO)
            second_page = on(day_one_reader, [_cdr("a", "2026-06-01T10:00:00.000Z")], _DAY_ONE)

        assert (first_page, other_slice, second_page) == (["a"], ["a"], [])

    @pytest.mark.parametrize("timestamp", [None, "not a date", True, {"at": 1}, ""], ids=["null", "garbage", "bool", "object", "empty"])
    def test_given_unreadable_cursor_when_filtered_then_kept_with_a_warning(self, timestamp: Any, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="airbyte"):
            kept = _kept(_slice_filter(), [_cdr("a", timestamp)])

        assert kept == ["a"]
        assert "unreadable timestamp" in caplog.text

    def test_given_offsets_alternating_in_a_page_when_kept_then_each_compared_at_its_own_offset_and_the_latest_across_them(self) -> None:
        records = [
            _cdr("a", "2026-06-01T20:00:00.000-03:00"),  # 23:00 UTC
            _cdr("b", "2026-06-01T22:00:00.000Z"),
            _cdr("c", "2026-06-01T21:00:00.000-03:00"),  # 00:00 UTC the next day: dropped
            _cdr("d", "2026-06-01T23:30:00.000Z"),
            _cdr("e", "2026-06-01T20:59:59.999-03:00"),  # 23:59:59.999 UTC: the latest
            _cdr("f", "2026-06-01T00:00:00.000Z"),
        ]

        kept, latest = _slice_filter().keep(records, _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a", "b", "d", "e", "f"]
        assert latest["uuid"] == "e"

    @pytest.mark.parametrize("timestamp", ["2026-06-01T25:00:00.000Z", "2026-13-01T10:00:00.000-03:00", "2026-06-01T1O:00:00.000Z"])
    def test_given_a_fixed_width_cursor_that_is_no_date_when_kept_then_kept_as_unreadable(self, timestamp: str) -> None:
        kept, latest = _slice_filter().keep([_cdr("a", timestamp), _cdr("b", "2026-06-01T10:00:00.000Z")], _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a", "b"] and latest["uuid"] == "b"

    @pytest.mark.parametrize(
        "timestamp, kept",
        [("1780272000000", ["a"]), (1780272000000, ["a"]), ("1780271999999", []), (1780358400000, [])],
        ids=["digit_string_at_start", "int_at_start", "digit_string_ms_before", "int_next_day"],
    )
    def test_given_epoch_milliseconds_when_filtered_then_compared_as_instants(self, timestamp: Any, kept: List[str]) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == kept

    def test_given_airbyte_records_when_filtered_then_read_from_their_data(self) -> None:
        record = Record(data=_cdr("a", "2026-06-01T10:00:00.000Z"), stream_name="contact_center_cdrs", associated_slice=_DAY_ONE)

        assert list(_slice_filter().filter_records([record, record], stream_state={}, stream_slice=_DAY_ONE)) == [record]

    @pytest.mark.parametrize("stream_slice", [None, StreamSlice(partition={}, cursor_slice={})], ids=["no_slice", "no_bounds"])
    def test_given_no_slice_bounds_when_filtered_then_everything_kept(self, stream_slice: Optional[StreamSlice]) -> None:
        records = [_cdr("a", "1999-01-01T00:00:00Z"), _cdr("a", "1999-01-01T00:00:00Z")]

        assert _kept(_slice_filter(), records, stream_slice) == ["a", "a"]

    def test_given_interpolated_fields_when_built_then_resolved_from_parameters(self) -> None:
        record_filter = ExactlyOnceSliceFilter(
            config={}, parameters={"primary_key": "callId"}, cursor_field="startTimeUTC", primary_key="{{ parameters['primary_key'] }}"
        )
        records = [{"callId": 1, "startTimeUTC": 1780272000000}, {"callId": 1, "startTimeUTC": 1780272000000}]

        assert len(list(record_filter.filter_records(records, stream_state={}, stream_slice=_DAY_ONE))) == 1

    def test_given_a_page_when_kept_then_the_latest_is_the_kept_record_with_the_greatest_instant(self) -> None:
        records = [
            _cdr("a", "2026-06-01T10:00:00.000Z"),
            _cdr("b", "2026-06-01T20:30:00.000-03:00"),  # 23:30 UTC: the latest
            _cdr("c", "2026-06-02T01:00:00.000Z"),  # next day: dropped, not the latest
            _cdr("d", "2026-06-01T22:00:00.000Z"),
            _cdr("e", None),  # unreadable: kept, never the latest
        ]

        kept, latest = _slice_filter().keep(records, _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a", "b", "d", "e"]
        assert latest["uuid"] == "b"

    @pytest.mark.parametrize(
        "timestamp, kept",
        [
            ("2026-06-01 23:59:59.999Z", ["a"]),
            ("2026-06-02 00:00:00.000Z", []),
            ("2026-06-01T23:59:59.999+00:00", ["a"]),
            ("2026-06-02T05:29:59.999+05:30", ["a"]),
            ("2026-06-02T05:30:00.000+05:30", []),
            ("2026-06-01T23:59:59.9991Z", ["a"]),
            ("2026-06-01T20:59:59-03:00", ["a"]),
        ],
        ids=["space_separator", "space_separator_next_day", "plus_zero", "half_hour_offset_end", "half_hour_offset_after",
             "microseconds", "no_milliseconds"],
    )
    def test_given_other_iso_shapes_when_filtered_then_compared_as_instants(self, timestamp: str, kept: List[str]) -> None:
        assert _kept(_slice_filter(), [_cdr("a", timestamp)]) == kept

    def test_given_only_unreadable_cursors_when_kept_then_no_latest(self) -> None:
        kept, latest = _slice_filter().keep([_cdr("a", "garbage")], _DAY_ONE)

        assert [record["uuid"] for record in kept] == ["a"] and latest is None

    def test_given_two_distinct_records_without_a_key_when_filtered_then_both_kept(self) -> None:
        records = [{"timestamp": "2026-06-01T10:00:00.000Z", "from": "1"}, {"timestamp": "2026-06-01T11:00:00.000Z", "from": "2"}]

        assert len(list(_slice_filter().filter_records(records, stream_state={}, stream_slice=_DAY_ONE))) == 2


class TestOwnedChecked:
    """`owned_checked` answers what `owned` answers, for cursors that are all epoch milliseconds or fixed-width UTC
    instants (or None): its shortcut (a page all in the slice, no key twice) must never decide otherwise."""

    _IN = ["2026-06-01T00:00:00.000Z", "2026-06-01T12:00:00.000Z", "2026-06-01T23:59:59.999Z"]
    _OUT = ["2026-05-31T23:59:59.999Z", "2026-06-02T00:00:00.000Z"]

    @pytest.mark.parametrize(
        "cursors, keys",
        [
            pytest.param(_IN, ["a", "b", "c"], id="all_in_the_slice"),
            pytest.param(_IN + _OUT, ["a", "b", "c", "d", "e"], id="some_outside"),
            pytest.param(_OUT + _IN + _OUT, ["d", "a", "b", "c", "d"], id="some_outside_with_a_key_of_both"),
            pytest.param(_OUT + [_IN[2], _IN[2]], ["d", "e", "a", "b"], id="some_outside_and_the_greatest_twice"),
            pytest.param(_OUT, ["d", "e"], id="all_outside"),
            pytest.param([1780271999999, 1780272000000, 1780358400000], ["a", "b", "c"], id="epoch_milliseconds_some_outside"),
            pytest.param(_IN, ["a", "b", "a"], id="a_key_twice"),
            pytest.param(_IN, ["a", None, "c"], id="a_record_without_key"),
            pytest.param([_IN[0], None, _IN[2]], ["a", "b", "c"], id="a_record_without_cursor"),
            pytest.param(["2026-06-01T12:00:00.000Z", "2026-06-01T12:00:00.000Z"], ["a", "b"], id="the_greatest_twice"),
            pytest.param([1780272000000, 1780358399999, 1780315200000], ["a", "b", "c"], id="epoch_milliseconds"),
            pytest.param([1780272000000, 1780358400000], ["a", "b"], id="epoch_milliseconds_past_the_end"),
            pytest.param([1780272000, 1780272001], ["a", "b"], id="epoch_seconds"),
            pytest.param([], [], id="no_records"),
        ],
    )
    def test_given_checked_cursors_when_owned_then_the_same_records_and_latest_as_the_record_loop(self, cursors: List[Any], keys: List[Any]) -> None:
        checked, looped = _slice_filter(), _slice_filter()
        for record_filter in (checked, looped):
            record_filter.owned(["2026-06-01T06:00:00.000Z"], ["seen"], _DAY_ONE)  # a key the slice has emitted already

        assert checked.owned_checked(list(cursors), list(keys), _DAY_ONE) == looped.owned(list(cursors), list(keys), _DAY_ONE)
        assert checked.owned_checked(list(cursors), ["seen"] * len(keys), _DAY_ONE) == looped.owned(list(cursors), ["seen"] * len(keys), _DAY_ONE)
        # the same page again: both have kept the same keys as emitted (none twice, none forgotten)
        assert checked.owned_checked(list(cursors), list(keys), _DAY_ONE) == looped.owned(list(cursors), list(keys), _DAY_ONE)


class TestKeysKept:
    """A slice keeps each emitted key in its `seen_form`: call IDs (decimal text) as integers, at half the memory."""

    @pytest.mark.parametrize(
        "key, kept_as",
        [
            ("1707280000000", 1707280000000),
            ("0", 0),
            ("999999999999999999", 999999999999999999),  # 18 digits
            ("1999999999999999999", "1999999999999999999"),  # 19: as it is
            ("007", "007"),  # a leading zero: "7" is another key
            ("-1", "-1"),
            ("1.0", "1.0"),
            ("", ""),
            ("\u0661\u0662", "\u0661\u0662"),  # digits, but not ASCII ones: int() would read 12
            ("f01c9bd0-7a2b", "f01c9bd0-7a2b"),
            (12, 12),
            (None, None),
        ],
    )
    def test_given_a_key_when_kept_then_decimal_text_in_its_canonical_form_is_the_integer(self, key: Any, kept_as: Any) -> None:
        assert seen_form(key) == kept_as and type(seen_form(key)) is type(kept_as)

    def test_given_a_call_id_emitted_from_a_page_as_sent_when_a_converted_page_repeats_it_then_it_is_dropped(self) -> None:
        record_filter = ExactlyOnceSliceFilter(config={}, parameters={}, cursor_field="startTimeUTC", primary_key="callId")
        in_day_one = 1780300000000

        first, _ = record_filter.owned_checked([in_day_one, in_day_one], [seen_form("1707280000000"), seen_form("007")], _DAY_ONE)
        again = record_filter.keep([{"callId": "1707280000000", "startTimeUTC": in_day_one}, {"callId": "7", "startTimeUTC": in_day_one}, {"callId": "007", "startTimeUTC": in_day_one}], _DAY_ONE)[0]

        assert first == [0, 1]
        assert again == [{"callId": "7", "startTimeUTC": in_day_one}]  # "7" is not "007"; both others were emitted
