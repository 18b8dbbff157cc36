"""Unit tests of `source_8x8_cdr.components.page_json`: pages orjson cannot read exactly, and records it cannot write."""

from __future__ import annotations

import json

import orjson
import pytest

from source_8x8_cdr.components import page_json
from source_8x8_cdr.components.page_json import RecordWithChanges, loads, record_message_json, without_lone_surrogates

WIDE = 123456789012345678901234567890


class TestLoads:
    def test_given_a_plain_page_when_loaded_then_orjson_reads_it_and_no_odd_strings(self) -> None:
        assert loads(b'{"data": [{"callId": "1", "startTimeUTC": 1780272000000}]}') == (
            {"data": [{"callId": "1", "startTimeUTC": 1780272000000}]},
            False,
        )

    def test_given_an_escaped_lone_surrogate_when_loaded_then_read_as_it_is_and_flagged(self) -> None:
        content = b'{"records": [{"text": "Ol\\u00e1 \\ud83d"}]}'
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(content)  # precondition: orjson refuses the whole page

        assert loads(content) == ({"records": [{"text": "Olá \ud83d"}]}, True)

    @pytest.mark.parametrize(
        "number",
        [WIDE, -WIDE, 2**64, -(2**63) - 1, 10**19],
        ids=["30_digits", "negative_30_digits", "2**64", "below_int64", "20_digits"],
    )
    def test_given_an_integer_beyond_64_bits_when_loaded_then_exact(self, number: int) -> None:
        for content in (json.dumps({"a": number}), json.dumps([number]), json.dumps({"a": [1, number]}, indent=2)):
            value, _ = loads(content.encode())

            assert value == json.loads(content)  # a float would differ: 1.2345678901234568e+29 != 123456789012345678901234567890

    def test_given_a_wide_integer_across_the_chunks_looked_at_when_loaded_then_exact(self) -> None:
        padding = " " * (page_json._CHUNK - 10)
        content = f'{{"pad": "{padding}", "a": {WIDE}}}'.encode()

        assert loads(content)[0]["a"] == WIDE

    def test_given_long_digit_strings_and_18_digit_numbers_when_loaded_then_orjson_reads_them(self) -> None:
        content = b'{"sip": "12345678901234567890123", "a": 123456789012345678, "b": -123456789012345678, "c": 0.1234567890123456789}'

        assert not page_json._may_hold_wide_integers(content)
        assert loads(content)[0]["a"] == 123456789012345678

    @pytest.mark.parametrize("content", [b"<html>Bad Gateway</html>", b'{"records": [{"uuid": "a"}', b"", b"\xff\xfe"])
    def test_given_a_body_that_is_not_json_when_loaded_then_value_error(self, content: bytes) -> None:
        with pytest.raises(ValueError):
            loads(content)


class TestWithoutLoneSurrogates:
    def test_given_lone_surrogates_in_values_and_nested_fields_when_repaired_then_replaced_and_each_field_reported(self) -> None:
        record = {"uuid": "a", "text": "cut \ud83d", "sla": {"note": "\ude00 end"}, "parts": ["ok", "x\udbff"], "n": 1}

        repaired = without_lone_surrogates(record)

        assert isinstance(repaired, RecordWithChanges)
        assert repaired == {"uuid": "a", "text": "cut \ufffd", "sla": {"note": "\ufffd end"}, "parts": ["ok", "x\ufffd"], "n": 1}
        assert repaired.changes == [
            {"field": field, "change": "TRUNCATED", "reason": "SOURCE_SERIALIZATION_ERROR"} for field in ("text", "sla.note", "parts.1")
        ]

    def test_given_whole_emoji_and_no_surrogates_when_repaired_then_the_same_record(self) -> None:
        record = {"uuid": "a", "text": "Olá \U0001f600"}

        assert without_lone_surrogates(record) is record

    @pytest.mark.parametrize("entry", [None, "text", 3])
    def test_given_an_entry_that_is_no_record_when_repaired_then_unchanged(self, entry: object) -> None:
        assert without_lone_surrogates(entry) is entry


class TestRecordMessageJson:
    def test_given_a_record_with_changes_and_a_wide_integer_when_written_then_meta_and_the_exact_integer(self) -> None:
        changes = [{"field": "text", "change": "TRUNCATED", "reason": "SOURCE_SERIALIZATION_ERROR"}]
        record = RecordWithChanges({"uuid": "a", "text": "\ufffd", "big": WIDE}, changes)

        line = record_message_json(record, "contact_center_cdrs", 1)

        assert json.loads(line) == {
            "type": "RECORD",
            "record": {"stream": "contact_center_cdrs", "data": {"uuid": "a", "text": "\ufffd", "big": WIDE}, "emitted_at": 1, "meta": {"changes": changes}},
        }

    def test_given_a_plain_record_when_written_then_the_cdks_message_without_meta(self) -> None:
        assert record_message_json({"uuid": "a"}, "s", 1) == b'{"type":"RECORD","record":{"stream":"s","data":{"uuid":"a"},"emitted_at":1}}'
