"""A member's values rewritten over a whole page (`source_8x8_cdr/fastpath/rewrites.py`).

The contract: a rewritten page is JSON of the same length whose values are what the conversion writes (the instant
in UTC with `Z`, the integer), the other bytes untouched; a value of any other form leaves the page as it was (None),
for the converting path; and the undo gives back the page as sent, byte for byte.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import List

import numpy as np
import orjson
import pytest

from source_8x8_cdr.components.conversion import StreamTypes
from source_8x8_cdr.fastpath import rewrites
from source_8x8_cdr.fastpath.rewrites import as_integers, in_utc

_TIMESTAMP = b'"timestamp":'
_COUNT = b'"callLegCount":'


def _page(member: str, values: List[object]) -> bytes:
    return orjson.dumps({"records": [{"uuid": f"r{index}", member: value, "to": "1"} for index, value in enumerate(values)]})


def _values(page: bytes, member: str) -> List[object]:
    return [record[member] for record in json.loads(page)["records"]]  # integers of any size, exactly


def _in_utc_by_python(text: str) -> str:
    """The definition: the same instant in UTC, with milliseconds and `Z`, as the conversion writes it."""
    return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _random_instants(count: int, seed: int) -> List[str]:
    chance, first = random.Random(seed), datetime(1001, 1, 2)
    span_ms = (datetime(9998, 12, 30) - first) // timedelta(milliseconds=1)
    texts = []
    for _ in range(count):
        moment = first + timedelta(milliseconds=chance.randrange(span_ms))
        minutes = chance.randrange(-(23 * 60 + 59), 23 * 60 + 60)
        sign = "+" if minutes >= 0 else "-"
        texts.append(moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
    return texts


class TestInstantsInUtc:
    def test_given_instants_at_every_offset_over_nine_centuries_when_rewritten_then_each_is_the_instant_in_utc(self) -> None:
        texts = _random_instants(20_000, seed=7) + [
            "2024-02-29T23:30:00.000-01:00",  # a leap day into March
            "2023-12-31T23:59:59.999-00:01",  # into the next year
            "2024-01-01T00:00:00.000+00:01",  # into the year before
            "2100-03-01T00:30:00.000+01:00",  # 2100 has no 29 February
            "2000-03-01T00:30:00.000+01:00",  # 2000 has
            "2026-10-02T21:43:09.120-03:00",
            "2026-10-02T21:43:09.120+05:45",
        ]
        page = _page("timestamp", texts)

        rewritten = in_utc(page, _TIMESTAMP)

        assert rewritten is not None
        written, count, _ = rewritten
        assert count == len(texts) and len(written) == len(page)
        assert _values(bytes(written), "timestamp") == [_in_utc_by_python(text) for text in texts]

    def test_given_a_page_when_rewritten_then_the_value_keeps_its_width_and_nothing_else_changes(self) -> None:
        page = b'{"records":[{"timestamp":"2026-10-02T21:43:09.120-03:00","to":"1"}]}'

        written, _, _ = in_utc(page, _TIMESTAMP)  # type: ignore[misc]

        assert bytes(written) == b'{"records":[{"timestamp":"2026-10-03T00:43:09.120Z"     ,"to":"1"}]}'

    def test_given_utc_text_and_nulls_when_rewritten_then_they_stay_as_sent(self) -> None:
        page = _page("timestamp", ["2026-10-02T21:43:09.120Z", None, "2026-10-02T21:43:09.120+01:00"])

        written, count, _ = in_utc(page, _TIMESTAMP)  # type: ignore[misc]

        assert count == 3
        assert _values(bytes(written), "timestamp") == ["2026-10-02T21:43:09.120Z", None, "2026-10-02T20:43:09.120Z"]

    def test_given_the_same_instants_as_the_conversion_when_rewritten_then_the_records_are_what_it_writes(self) -> None:
        texts = _random_instants(500, seed=11)
        page = _page("timestamp", texts)
        converted = orjson.loads(page)["records"]
        StreamTypes.of_stream("contact_center_cdrs").convert_page(converted)

        written, _, _ = in_utc(page, _TIMESTAMP)  # type: ignore[misc]

        assert orjson.loads(bytes(written))["records"] == converted

    @pytest.mark.parametrize(
        "value",
        [
            "2026-10-02T24:00:00.000-03:00",
            "2026-10-02T23:60:00.000-03:00",
            "2026-10-02T23:59:60.000-03:00",
            "2025-02-29T00:00:00.000+01:00",
            "2026-04-31T00:00:00.000+01:00",
            "2026-13-01T00:00:00.000+01:00",
            "2026-10-00T00:00:00.000+01:00",
            "2026-10-02T21:43:09.120+24:00",
            "2026-10-02T21:43:09.120+05:60",
            "2026-10-02T21:43:09.120",
            "2026-10-02T21:43:09-03:00",
            "2026-10-02T21:43:09.123456-03:00",
            "2026-10-02 21:43:09.120-03:00",
            "2026-10-02T21:43:09.120-0300",
            "2026-10-02T21:43:09Z",
            "2026-10-02T25:43:09.120Z",
            "0999-10-02T21:43:09.120Z",
            "1000-01-01T00:30:00.000+01:00",  # before the year 1000 in UTC
            "9999-12-31T23:30:00.000-01:00",  # after 9999 in UTC
            "２026-10-02T21:43:09.120-03:00",
            "yesterday",
            "",
            1790899200000,
            True,
        ],
    )
    def test_given_a_value_of_another_form_when_rewritten_then_the_page_is_left_for_the_converting_path(self, value: object) -> None:
        page = _page("timestamp", ["2026-10-02T21:43:09.120-03:00", value])

        assert in_utc(page, _TIMESTAMP) is None

    @pytest.mark.parametrize(
        "page",
        [
            pytest.param(b'{"records":[{"timestamp": "2026-10-02T21:43:09.120-03:00"}]}', id="space_after_colon"),
            pytest.param(b'{"records":[{"timestamp":"2026-10-02T21:43:09.120\\u002d03:00"}]}', id="escape"),
            pytest.param(b'{"timestamp":"2026-10-02T21:43', id="cut_off_at_the_end"),
        ],
    )
    def test_given_a_value_spelled_otherwise_when_rewritten_then_the_page_is_left_for_the_converting_path(self, page: bytes) -> None:
        assert in_utc(page, _TIMESTAMP) is None

    def test_given_a_value_at_the_very_end_of_a_short_page_when_rewritten_then_it_is_read_to_its_end(self) -> None:
        assert in_utc(b'{"timestamp":null}', _TIMESTAMP)[1:2] == (1,)  # type: ignore[index]
        assert in_utc(b'{"timestamp":"2026-10-02T21:43:09.120Z"}', _TIMESTAMP)[1:2] == (1,)  # type: ignore[index]

    def test_given_no_member_when_rewritten_then_the_page_is_the_same_object(self) -> None:
        page = b'{"records":[{"uuid":"a"}]}'

        written, count, _ = in_utc(page, _TIMESTAMP)  # type: ignore[misc]

        assert written is page and count == 0

    def test_given_a_rewritten_page_when_undone_then_it_is_the_page_as_sent(self) -> None:
        page = _page("timestamp", _random_instants(300, seed=3) + [None, "2026-10-02T21:43:09.120Z"])

        written, _, undo = in_utc(page, _TIMESTAMP)  # type: ignore[misc]
        undo.undo(written)  # type: ignore[arg-type]

        assert bytes(written) == page

    def test_given_a_page_already_copied_when_rewritten_then_in_place(self) -> None:
        page = bytearray(_page("timestamp", ["2026-10-02T21:43:09.120+01:00"]))

        written, _, _ = in_utc(page, _TIMESTAMP)  # type: ignore[misc]

        assert written is page and _values(bytes(page), "timestamp") == ["2026-10-02T20:43:09.120Z"]


class TestMemberSearch:
    @pytest.mark.parametrize("block", [16, 20, 64])
    def test_given_a_page_searched_in_small_blocks_when_the_member_lies_across_each_block_edge_then_every_one_is_found(
        self, block: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(rewrites, "_SEARCH_BYTES", block)
        for padding in range(2 * block):  # the member begins at every offset of two blocks
            page = np.frombuffer(b"x" * padding + _TIMESTAMP + b"1," + _TIMESTAMP + b"2" + b"x" * (padding % 7), np.uint8)
            expected = [padding + len(_TIMESTAMP), padding + 2 * len(_TIMESTAMP) + 2]

            assert rewrites._member_ends(page, _TIMESTAMP).tolist() == expected, padding


class TestIntegersAsText:
    @pytest.mark.parametrize(
        "text, integer",
        [("0", 0), ("7", 7), ("007", 7), ("000", 0), ("1234567890123456789012", 1234567890123456789012), ("9" * 40, int("9" * 40))],
    )
    def test_given_digits_as_text_when_rewritten_then_the_integer_at_the_same_width(self, text: str, integer: int) -> None:
        page = _page("callLegCount", [text, 5, None])

        written, count, _ = as_integers(page, _COUNT)  # type: ignore[misc]

        assert count == 3 and len(written) == len(page)
        assert _values(bytes(written), "callLegCount") == [integer, 5, None]

    def test_given_leading_zeros_when_rewritten_then_spaces_where_the_quotes_and_zeros_were(self) -> None:
        written, _, _ = as_integers(b'[{"callLegCount":"007","x":1}]', _COUNT)  # type: ignore[misc]

        assert bytes(written) == b'[{"callLegCount":   7 ,"x":1}]'

    @pytest.mark.parametrize("value", ["", "-1", "+1", "1.0", " 1", "1 ", "1e3", "n/a", "٣", "9" * 41, -1, "null"])
    def test_given_a_value_of_another_form_when_rewritten_then_the_page_is_left_for_the_converting_path(self, value: object) -> None:
        assert as_integers(_page("callLegCount", ["1", value]), _COUNT) is None

    def test_given_a_rewritten_page_when_undone_then_it_is_the_page_as_sent(self) -> None:
        page = _page("callLegCount", [str(number).zfill(number % 5) for number in range(500)])

        written, _, undo = as_integers(page, _COUNT)  # type: ignore[misc]
        undo.undo(written)  # type: ignore[arg-type]

        assert bytes(written) == page

