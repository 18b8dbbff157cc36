"""Unit tests of `source_8x8_cdr.components.page_json`: pages msgspec cannot read, and records orjson cannot write."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from source_8x8_cdr.components import page_json
from source_8x8_cdr.components.page_json import RecordWithChanges, loads, record_message_json, without_lone_surrogates

WIDE = 123456789012345678901234567890


class TestLoads:
    def test_given_a_plain_page_when_loaded_then_read_and_no_odd_strings(self) -> None:
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

    def test_given_long_digit_strings_and_18_digit_numbers_when_loaded_then_exact(self) -> None:
        content = b'{"sip": "12345678901234567890123", "a": 123456789012345678, "b": -123456789012345678, "c": 0.1234567890123456789}'

        assert loads(content) == (json.loads(content), False)

    def test_given_numbers_in_every_form_when_loaded_then_the_standard_librarys_values_and_types(self) -> None:
        """msgspec reads the page: each number as the standard library reads it (floats to the last bit, `-0`,
        exponents, integers at the edges of 64 bits and beyond)."""
        generator = random.Random(16)
        numbers = [repr(generator.uniform(-1e6, 1e6)) for _ in range(2000)]
        numbers += [repr(generator.random() * 10 ** generator.randint(-300, 300)) for _ in range(2000)]
        numbers += [f"{generator.randint(0, 10**17)}.{generator.randint(0, 10**25)}e{generator.randint(-30, 30)}" for _ in range(500)]
        numbers += ["-0", "-0.0", "1.0", "1e2", "1E+2", "5e-324", "1.7976931348623157e308", "2.2250738585072014e-308", "0.1",
                    str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64), str(-(2**63)), str(-(2**63) - 1), "1" * 60]
        content = ("[" + ",".join(numbers) + "]").encode()

        value, odd = loads(content)

        expected = json.loads(content)
        assert [repr(each) for each in value] == [repr(each) for each in expected] and not odd

    def test_given_strings_escapes_nesting_and_duplicate_keys_when_loaded_then_as_the_standard_library_reads_them(self) -> None:
        content = (
            b'{"records": [\n  {"text": "Caf\\u00e9 \\"quoted\\" a\\/b \\\\ \\n \\ud83d\\ude00 \xc3\xa9", "uuid": "a", "uuid": "b",\r\n'
            b'   "sla": {"reply": "00:01:00", "reply": null}, "tags": [[], {}, [1, [2.5, {"x": true}]], false, null],\t"n": -0}\n ],'
            b' "total": 1 , "search_token" :null}'
        )

        value, odd = loads(content)

        assert value == json.loads(content) and not odd
        assert value["records"][0]["uuid"] == "b" and list(value["records"][0]) == list(json.loads(content)["records"][0])

    @pytest.mark.parametrize("content", [b"[1e400]", b"[NaN]", b"\xef\xbb\xbf[1]"])
    def test_given_what_msgspec_refuses_but_python_reads_when_loaded_then_read_as_python_reads_it(self, content: bytes) -> None:
        assert repr(loads(content)[0]) == repr(json.loads(content))

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
