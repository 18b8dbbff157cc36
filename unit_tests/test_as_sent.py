"""Pages that travel as the API sent them (`source_8x8_cdr/fastpath/as_sent.py`).

The contract: a page the reader accepts yields, record for record, exactly what the converting path
(`StreamTypes.convert_page`) makes of it, with no change to report; any other page is left to the converting
path (the reader answers None). Every reader test runs twice: with the check in C (`record_scan.c`, as installed)
and with the same check in msgspec and numpy (where no C compiler was found). End to end, on the emulator's
pages, `integration_tests/test_reads_emulator.py`.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import sysconfig
from typing import Any, Iterator, List, Optional

import msgspec
import orjson
import pytest

from source_8x8_cdr.components.conversion import StreamTypes
from source_8x8_cdr.components.filtering import seen_form
from source_8x8_cdr.components.page_body import _UTF8_PIECE, NOT_JSON, PIECE_BYTES, SentRecords, describe_malformed_page, page_records, parsed_page, records_in_page
from source_8x8_cdr.fastpath import as_sent
from source_8x8_cdr.fastpath.as_sent import AsSentReader, SentLines
from unit_tests.component_inputs import a_response

IN_C, IN_MSGSPEC = "in_c", "in_msgspec_and_numpy"


@pytest.fixture(params=[IN_C, IN_MSGSPEC])
def check(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Which check reads the pages: the C scan (skipped where it was not built) or msgspec and numpy."""
    if request.param == IN_C and as_sent.record_scan is None:
        pytest.skip("record_scan was not built (no C compiler at install)")
    if request.param == IN_MSGSPEC:
        monkeypatch.setattr(as_sent, "record_scan", None)
    yield request.param


def _cdr(**fields: Any) -> dict:
    record = {
        "agent": "Jane Berg",
        "from": "15553444612",
        "disposition": "answered",
        "duration": "00:01:35",
        "queue": None,
        "to": "31208112458006",
        "timestamp": "2026-10-02T21:43:09.120-03:00",
        "uuid": "f01c9bd0",
        "wrapup_code": "0101",
        "type": "inbound",
        "agent_id": 52765,
        "cpc": 0.2033,
    }
    record.update(fields)
    return record


def _call(**fields: Any) -> dict:
    record = {"callId": "1707280000000", "startTimeUTC": 1790899200000, "callLegCount": "2", "departments": ["Sales"], "missed": "Missed"}
    record.update(fields)
    return record


# More CDRs than one check (and one piece of the written lines) takes.
_CDRS_AT_ONCE = PIECE_BYTES // len(orjson.dumps(_cdr()))


def _sent(body: bytes) -> SentRecords:
    response = a_response(b'{"records":' + body + b"}")
    records = parsed_page(response, "records")["records"]
    assert type(records) is SentRecords
    return records


def _joined(records: SentRecords) -> bytes:
    """The records' bytes as one JSON list."""
    return b"[%b]" % b",".join(records)


def _as_converted(stream: str, records: List[dict]) -> List[dict]:
    """What the converting path emits for these records (and that it reports no change)."""
    converted = copy.deepcopy(records)
    assert StreamTypes.of_stream(stream).convert_page(converted) == {}
    return converted


def _read(reader: AsSentReader, body: bytes) -> Optional[List[dict]]:
    page = reader.read(_sent(body))
    return None if page is None else [json.loads(bytes(record)) for record in page.records]  # exact integers at any size


def _refused(reader: AsSentReader, body: bytes) -> bool:
    """Whether the reader leaves the page to the converting path; it must then find the page's bytes as sent."""
    records = _sent(body)
    refused = reader.read(records) is None
    if refused:
        assert _joined(records) == body, "the records do not hold the page as sent"
    return refused


def _cdr_reader() -> AsSentReader:
    reader = AsSentReader.of(StreamTypes.of_stream("contact_center_cdrs"), "timestamp", "uuid")
    assert reader is not None
    return reader


def test_given_a_c_compiler_at_install_when_imported_then_the_check_in_c_was_built() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the check runs in msgspec and numpy")

    assert as_sent.record_scan is not None, "setup.py did not build source_8x8_cdr.fastpath.record_scan"


@pytest.mark.usefixtures("check")
class TestContactCenterPagesAsSent:
    @pytest.mark.parametrize(
        "timestamp, in_utc",
        [
            ("2026-10-02T21:43:09.120-03:00", "2026-10-03T00:43:09.120Z"),  # across midnight
            ("2026-10-02T21:43:09.120+05:30", "2026-10-02T16:13:09.120Z"),  # a half-hour offset
            ("2026-10-02T00:00:00.000+00:00", "2026-10-02T00:00:00.000Z"),
            ("2026-10-02T00:00:00.000Z", "2026-10-02T00:00:00.000Z"),
        ],
    )
    def test_given_timestamps_at_offsets_when_read_as_sent_then_each_is_the_instant_in_utc_as_the_conversion_writes_it(
        self, timestamp: str, in_utc: str
    ) -> None:
        records = [_cdr(uuid=f"r{index}", timestamp=timestamp) for index in range(3)]
        reader = _cdr_reader()

        first, again = _read(reader, orjson.dumps(records)), _read(reader, orjson.dumps(records))  # minutes met before

        assert first == again == _as_converted("contact_center_cdrs", records)
        assert {record["timestamp"] for record in first} == {in_utc}  # type: ignore[union-attr]

    def test_given_a_page_as_sent_when_read_then_its_cursors_are_utc_and_its_keys_in_order(self) -> None:
        page = _cdr_reader().read(_sent(orjson.dumps([_cdr(uuid="a"), _cdr(uuid="b", timestamp=None)])))

        assert page is not None
        assert page.keys == ["a", "b"]
        assert page.cursors == ["2026-10-03T00:43:09.120Z", None]

    def test_given_fields_the_schema_lacks_when_read_then_their_bytes_travel_as_sent(self) -> None:
        body = b'[{"uuid":"a","timestamp":"2026-10-02T21:43:09.120-03:00","cpc":1.50,"new":{"deep":[1,"\\u00e9"]}}]'

        page = _cdr_reader().read(_sent(body))

        assert page is not None
        # the instant in UTC keeps the width it was sent in: five spaces after it, which no JSON reader sees
        assert bytes(page.records[0]) == b'{"uuid":"a","timestamp":"2026-10-03T00:43:09.120Z"     ,"cpc":1.50,"new":{"deep":[1,"\\u00e9"]}}'

    def test_given_a_body_read_into_a_bytearray_when_read_as_sent_then_rewritten_in_it_and_given_back_as_sent_when_refused(self) -> None:
        body = bytearray(b'{"records":' + orjson.dumps([_cdr(uuid="a"), _cdr(uuid="b")]) + b"}")
        refused = bytearray(b'{"records":' + orjson.dumps([_cdr(uuid="a"), _cdr(uuid="b", cpc="0.2")]) + b"}")
        as_sent = bytes(refused)

        page = _cdr_reader().read(parsed_page(a_response(body), "records")["records"])
        records = parsed_page(a_response(refused), "records")["records"]

        assert page is not None and body.count(b'"timestamp":"2026-10-03T00:43:09.120Z"     ,') == 2  # no copy of the page
        assert _cdr_reader().read(records) is None and _joined(records) == as_sent[11:-1] and refused == as_sent

    def test_given_a_declared_integer_sent_as_text_when_read_then_written_as_the_integer(self) -> None:
        records = [_cdr(uuid="a", agent_id="52765"), _cdr(uuid="b")]

        assert _read(_cdr_reader(), orjson.dumps(records)) == _as_converted("contact_center_cdrs", records)

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(orjson.dumps([_cdr(cpc="0.2033")]), id="number_as_text"),
            pytest.param(orjson.dumps([_cdr(agent_id=3.0)]), id="integer_as_float"),
            pytest.param(orjson.dumps([_cdr(uuid=12)]), id="string_as_number"),
            pytest.param(orjson.dumps([_cdr(sla=[{"time_to_reply": "00:01:00"}])]), id="object_as_list"),
            pytest.param(orjson.dumps([_cdr(sla="")]), id="object_as_empty_text"),
            pytest.param(orjson.dumps([_cdr(timestamp="2026-10-02T21:43:09.120")]), id="wall_clock_timestamp"),
            pytest.param(orjson.dumps([_cdr(timestamp="2026-10-02T21:43:61.120-03:00")]), id="second_61"),
            pytest.param(orjson.dumps([_cdr(timestamp="yesterday")]), id="not_an_instant"),
            pytest.param(orjson.dumps([_cdr(timestamp="2026-10-02T21:43:09.123456-03:00")]), id="microseconds"),
            pytest.param(orjson.dumps([_cdr(timestamp="2026-10-02T25:43:09.120Z")]), id="utc_text_that_is_no_instant"),
            pytest.param(orjson.dumps([_cdr(timestamp="2026-10-02T21:43:09Z")]), id="utc_text_without_milliseconds"),
            pytest.param(orjson.dumps([_cdr(timestamp=1790899200000)]), id="epoch_milliseconds"),
            pytest.param(b'[{"uuid":"a","timestamp":"2026-10-02T21:43:09.120-03:00",\n"to":"1"}]', id="line_break"),
            pytest.param(b'[{"uuid":"a","timestamp":"2026-10-02T21:43:09.120\\u002d03:00"}]', id="escaped_character"),
            pytest.param(b'[{"uuid":"a","timestamp":"2026-10-02T21:43:09.120-03:00"},null]', id="null_entry"),
            pytest.param(b'[{"uuid":"a","timestamp":"2026-10-02T21:43:09.120-03:00","timestamp":null}]', id="member_twice"),
        ],
    )
    def test_given_a_value_the_conversion_must_handle_when_read_then_the_page_takes_the_converting_path(self, body: bytes) -> None:
        assert _refused(_cdr_reader(), body)

    def test_given_a_page_longer_than_one_check_when_read_then_every_record_is_checked_and_kept_in_order(self) -> None:
        records = [_cdr(uuid=f"u{number}") for number in range(2 * _CDRS_AT_ONCE + 7)]

        page = _cdr_reader().read(_sent(orjson.dumps(records)))

        assert page is not None
        assert page.keys == [f"u{number}" for number in range(len(records))]
        assert [json.loads(bytes(record)) for record in page.records] == _as_converted("contact_center_cdrs", records)

    def test_given_an_odd_record_past_the_first_check_when_read_then_the_page_takes_the_converting_path(self) -> None:
        records = [_cdr(uuid=f"u{number}") for number in range(2 * _CDRS_AT_ONCE)] + [_cdr(cpc="0.2033")]

        assert _refused(_cdr_reader(), orjson.dumps(records))

    @pytest.mark.parametrize(
        "records",
        [
            pytest.param([{**_cdr(), "x": {"timestamp": "2026-10-02T21:43:09.120-03:00"}}], id="member_also_nested"),
            pytest.param([_cdr(uuid=f"u{number}") for number in range(2 * _CDRS_AT_ONCE)] + [{**_cdr(), "x": {"timestamp": "2026-10-02T21:43:09.120-03:00"}}], id="member_also_nested_past_the_first_check"),
        ],
    )
    def test_given_the_rewritten_member_in_an_undeclared_object_when_read_then_as_converted_in_c_or_converting_path(
        self, check: str, records: List[dict]
    ) -> None:
        body = orjson.dumps(records)

        if check == IN_C:  # each record read member by member: the nested one is not the record's instant
            assert _read(_cdr_reader(), body) == _as_converted("contact_center_cdrs", records)
        else:  # found by its text in the whole page, counted once per record
            assert _refused(_cdr_reader(), body)

    def test_given_a_space_after_the_colon_when_read_then_rewritten_in_c_or_converting_path(self, check: str) -> None:
        body = b'[{"uuid":"a","timestamp": "2026-10-02T21:43:09.120-03:00"}]'

        if check == IN_C:
            assert _read(_cdr_reader(), body) == [{"uuid": "a", "timestamp": "2026-10-03T00:43:09.120Z"}]
        else:
            assert _refused(_cdr_reader(), body)

    def test_given_the_rewritten_member_outside_the_records_when_read_then_as_converted_in_c_or_converting_path_with_the_body_as_sent(
        self, check: str
    ) -> None:
        body = b'{"timestamp":"2026-10-02T21:43:09.120-03:00","records":' + orjson.dumps([_cdr()]) + b"}"
        records = parsed_page(a_response(body), "records")["records"]

        read = _cdr_reader().read(records)

        if check == IN_C:  # only the records are read: the page's own member is no record's
            assert read is not None and [json.loads(bytes(record)) for record in read.records] == _as_converted("contact_center_cdrs", [_cdr()])
        else:
            assert read is None
            assert records.hand_over() == body  # the body the records were read from, as sent

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b'[{"uuid":"a","time\\u0073tamp":"2026-10-02T21:43:09.120-03:00"}]', id="escaped_member_name"),
            pytest.param(b'[{"uuid":"\\u0061","timestamp":"2026-10-02T21:43:09.120Z"}]', id="escaped_key"),
            pytest.param(b'[{"uuid":"a","cpc":1e400}]', id="number_out_of_range"),
            pytest.param(b'[{"uuid":"a","cpc":1.5e100}]', id="exponent_of_three_digits"),
        ],
    )
    def test_given_a_form_the_c_check_leaves_to_the_conversion_when_read_then_converting_path_or_as_converted(self, check: str, body: bytes) -> None:
        records = _sent(body)
        read = _cdr_reader().read(records)

        if check == IN_C:
            assert read is None and _joined(records) == body
        elif read is not None:  # msgspec takes some of them: then exactly as converted
            assert [json.loads(bytes(record)) for record in read.records] == _as_converted("contact_center_cdrs", json.loads(body))

    def test_given_many_records_when_written_then_in_pieces_of_about_the_bytes_at_once_with_every_line(self) -> None:
        records = [orjson.dumps(_cdr(uuid=f"u{number}")) for number in range(3 * _CDRS_AT_ONCE)]

        pieces = list(SentLines(records, "s"))

        assert [orjson.loads(line)["record"]["data"] for line in b"".join(pieces).split(b"\n")] == [orjson.loads(record) for record in records]
        assert len(pieces) > 3 and max(map(len, pieces)) < 2 * PIECE_BYTES  # no buffer the size of the page

    def test_given_a_page_as_sent_when_written_then_one_record_message_per_line_with_the_bytes_as_data(self) -> None:
        lines = b"".join(SentLines([msgspec.Raw(b'{"a":1}'), b'{"b":2}'], "s")).split(b"\n")

        assert [orjson.loads(line)["record"]["data"] for line in lines] == [{"a": 1}, {"b": 2}]
        assert {orjson.loads(line)["record"]["stream"] for line in lines} == {"s"}


@pytest.mark.usefixtures("check")
class TestWorkAnalyticsPagesAsSent:
    def test_given_integers_sent_as_text_before_any_page_met_them_when_read_then_read_again_with_them_rewritten(self) -> None:
        types = StreamTypes.of_stream("call_records")
        reader = AsSentReader.of(types, "startTimeUTC", "callId")
        records = [_call(callId="1"), _call(callId="2", callLegCount=7)]

        read = _read(reader, orjson.dumps(records))  # type: ignore[arg-type]

        assert read == _as_converted("call_records", records)
        assert types.integers_met_as_text == {"callLegCount"}  # the next pages, of every slice, expect them

    def test_given_integers_sent_as_text_only_past_the_first_piece_when_read_then_read_again_with_them_rewritten(self) -> None:
        types = StreamTypes.of_stream("call_records")
        reader = AsSentReader.of(types, "startTimeUTC", "callId")
        records = [_call(callId=str(index), callLegCount=7) for index in range(3 * PIECE_BYTES // len(orjson.dumps(_call())))]
        records[-1]["callLegCount"] = "2"  # the page is probed a piece at a time: the text is in the last one

        read = _read(reader, orjson.dumps(records))  # type: ignore[arg-type]

        assert read == _as_converted("call_records", records)
        assert types.integers_met_as_text == {"callLegCount"}

    @pytest.mark.parametrize("count", ["n/a", "1.0"])
    def test_given_integer_text_that_is_not_digits_before_any_page_met_it_when_read_then_converting_path(self, count: str) -> None:
        reader = AsSentReader.of(StreamTypes.of_stream("call_records"), "startTimeUTC", "callId")

        assert reader is not None and _refused(reader, orjson.dumps([_call(callLegCount=count)]))

    @pytest.mark.parametrize("count, written", [("2", 2), ("02", 2), ("123456789012345678901234567890", 123456789012345678901234567890)])
    def test_given_an_integer_the_conversion_met_as_text_when_read_then_written_as_the_integer(self, count: str, written: int) -> None:
        types = StreamTypes.of_stream("call_records")
        types.convert_page([_call()])  # the converting path meets `callLegCount: "2"`
        reader = AsSentReader.of(types, "startTimeUTC", "callId")
        records = [_call(callId="1", callLegCount=count), _call(callId="2", callLegCount=7), _call(callId="3", callLegCount=None)]

        read = _read(reader, orjson.dumps(records))  # type: ignore[arg-type]

        assert read == [{**records[0], "callLegCount": written}, records[1], records[2]]
        assert types.integers_met_as_text == {"callLegCount"}

    @pytest.mark.parametrize(
        "odd",
        [
            pytest.param({"callLegCount": "02", "callId": 7}, id="refused_by_the_check_after_both_rewrites"),
            pytest.param({"callLegCount": "3", "talkTimeMS": "n/a"}, id="refused_by_the_second_rewrite"),
        ],
    )
    def test_given_two_members_rewritten_when_the_page_is_refused_then_its_records_hold_it_as_sent(self, odd: dict) -> None:
        types = StreamTypes.of_stream("call_records")
        types.convert_page([_call(talkTimeMS="12")])  # `callLegCount` and `talkTimeMS` met as text
        reader = AsSentReader.of(types, "startTimeUTC", "callId")
        records = [_call(callId="1", callLegCount="02", talkTimeMS="12"), _call(callId="2", talkTimeMS=None), _call(**odd)]

        assert types.integers_met_as_text == {"callLegCount", "talkTimeMS"}
        assert _refused(reader, orjson.dumps(records))  # type: ignore[arg-type]

    @pytest.mark.parametrize("count", ["n/a", "-1", "", "1.0"])
    def test_given_an_integer_text_that_is_not_digits_when_read_then_converting_path(self, count: str) -> None:
        types = StreamTypes.of_stream("call_records")
        types.convert_page([_call()])
        reader = AsSentReader.of(types, "startTimeUTC", "callId")

        assert _refused(reader, orjson.dumps([_call(callLegCount=count)]))  # type: ignore[arg-type]

    def test_given_a_list_of_text_with_a_number_when_read_then_converting_path(self) -> None:
        reader = AsSentReader.of(StreamTypes.of_stream("call_records"), "startTimeUTC", "callId")
        body = orjson.dumps([{"callId": "1", "startTimeUTC": 1790899200000, "departments": ["Sales", 7]}])

        assert _refused(reader, body)  # type: ignore[arg-type]


def _any_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any type, with text that needs escapes and numbers of every form."""
    choices = [None, True, False, 0, -7, 2**70, 1.5, -0.25, 1e-7, 3.0e20, "", "x", 'qu"ote', "back\\slash", "line\nbreak", "é☎", "\u2028"]
    if depth < 2:
        choices += [[rng.choice(choices) for _ in range(3)], {"deep": rng.choice(choices), "timestamp": "2026-10-02T21:43:09.120-03:00"}]
    return rng.choice(choices)


def _instant(rng: random.Random, odd: float) -> Any:
    """An instant in the APIs' form, at any offset; with probability `odd` one the conversion must handle."""
    date = rng.choice(["2026-10-02", "2024-02-29", "2023-12-31", "1000-01-01", "9999-12-31"])
    instant = f"{date}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}"
    instant += rng.choice(["Z", "+00:00", "-03:00", "+05:30", "+14:00", "-12:00", "+23:59"])
    if rng.random() < odd:  # no such day, a leap second, an offset of a day, no offset, no milliseconds
        instant = rng.choice(["2026-02-30T10:00:00.000Z", "2026-10-02T23:59:60.000Z", "2026-10-02T10:00:00.000-24:00", instant[:23], instant[:19] + "Z"])
    return None if rng.random() < 0.05 else instant


def _odd_cdr(rng: random.Random, number: int, odd: float) -> dict:
    """A CDR whose values have their declared types, but with probability `odd` each: of any other, or missing."""
    record = _cdr(uuid=f"u{number}", timestamp=_instant(rng, odd), agent_id=rng.choice([52765, None, "52765", "0042", 2**70]), cpc=rng.choice([0.2033, 7, None, 1e-7]))
    record["sla"] = rng.choice([None, {"time_to_reply": "00:01:00", "extra": _any_value(rng)}, {}])
    for field in list(record):
        if rng.random() < odd:
            record[field] = _any_value(rng)
        elif rng.random() < odd:
            del record[field]
    if rng.random() < 0.3:
        record[rng.choice(["new", "from_v2", "x"])] = _any_value(rng)
    return record


def _odd_call(rng: random.Random, number: int, odd: float) -> dict:
    """A call record like `_odd_cdr`: epoch-millisecond cursors, integers sent as text, lists of text."""
    record = _call(
        callId=str(number),
        startTimeUTC=rng.choice([1790899200000, "1790899200000", None]),
        callLegCount=rng.choice(["2", "007", 7, None, "0"]),
        talkTimeMS=rng.choice([0, 120000, "12", None]),
        departments=rng.choice([["Sales"], [], None, ["Sales", None, "Support"]]),
    )
    for field in list(record):
        if rng.random() < odd:
            record[field] = _any_value(rng)
        elif rng.random() < odd:
            del record[field]
    return record


def _assert_as_converted_or_as_sent(reader: AsSentReader, stream: str, cursor_and_key: tuple, records: List[dict], body: bytes) -> None:
    """The reader's page is exactly what the conversion makes of the records (values, cursors, keys in the form
    the slice filter keeps them), or it left the page to the converting path as it was sent."""
    sent = _sent(body)

    page = reader.read(sent)

    if page is None:
        assert _joined(sent) == body, "a refused page is left as sent"
        return
    converted = copy.deepcopy(records)
    assert StreamTypes.of_stream(stream).convert_page(converted) == {}
    assert [json.loads(bytes(record)) for record in page.records] == converted
    cursor_field, key_field = cursor_and_key
    assert page.cursors == [record.get(cursor_field) for record in converted]
    assert page.keys == [seen_form(record.get(key_field)) for record in converted]


@pytest.mark.usefixtures("check")
class TestAnyPage:
    @pytest.mark.parametrize("seed", range(60))
    def test_given_records_with_values_of_any_type_when_read_then_exactly_as_converted_or_left_as_sent(self, seed: int) -> None:
        rng = random.Random(seed)
        odd = rng.choice([0.0, 0.001, 0.01, 0.1])
        records = [_odd_cdr(rng, number, odd) for number in range(rng.choice([1, 5, 40]))]
        body = json.dumps(records, separators=(",", ":"), ensure_ascii=rng.random() < 0.5).encode()  # integers of any size
        reader = AsSentReader.of(StreamTypes.of_stream("contact_center_cdrs"), "timestamp", "uuid")

        _assert_as_converted_or_as_sent(reader, "contact_center_cdrs", ("timestamp", "uuid"), records, body)  # type: ignore[arg-type]

    @pytest.mark.parametrize("seed", range(40))
    def test_given_call_records_with_values_of_any_type_when_read_then_exactly_as_converted_or_left_as_sent(self, seed: int) -> None:
        rng = random.Random(seed)
        odd = rng.choice([0.0, 0.001, 0.01, 0.1])
        records = [_odd_call(rng, number, odd) for number in range(rng.choice([1, 5, 40]))]
        body = json.dumps(records, separators=(",", ":"), ensure_ascii=rng.random() < 0.5).encode()
        types = StreamTypes.of_stream("call_records")
        if rng.random() < 0.5:
            types.convert_page([_call(talkTimeMS="12")])  # `callLegCount` and `talkTimeMS` met as text before
        reader = AsSentReader.of(types, "startTimeUTC", "callId")

        _assert_as_converted_or_as_sent(reader, "call_records", ("startTimeUTC", "callId"), records, body)  # type: ignore[arg-type]

    @pytest.mark.parametrize("seed", range(20))
    def test_given_records_of_their_declared_types_when_read_then_both_checks_take_the_page(self, seed: int) -> None:
        rng = random.Random(seed)
        records = [_cdr(uuid=f"u{number}", timestamp=rng.choice(["2026-10-02T21:43:09.120-03:00", "2024-02-29T23:59:59.999+05:30", "2026-10-02T00:00:00.000Z", None]), sla=rng.choice([None, {"time_to_reply": "00:01:00"}])) for number in range(30)]

        assert _read(_cdr_reader(), orjson.dumps(records)) == _as_converted("contact_center_cdrs", records)


# A page whose text ends at the last byte of the UTF-8 check's first piece (`page_body._UTF8_PIECE`).
_LONG_TEXT = b'{"records":[{"uuid":"\xc3\xa9","text":"' + b"x" * (_UTF8_PIECE - 34)


class TestPageKeptAsSent:
    def test_given_a_page_of_objects_when_parsed_then_its_records_are_kept_as_sent_until_a_reader_asks(self) -> None:
        response = a_response(b'{"records":[{"uuid":"a"},{"uuid":"b"}],"search_token":"t"}')

        body = parsed_page(response, "records")

        assert type(body["records"]) is SentRecords and body["search_token"] == "t"
        assert records_in_page(response, "records") == 2 and describe_malformed_page(body, "records") is None
        assert page_records(response, "records") == [{"uuid": "a"}, {"uuid": "b"}]

    def test_given_a_page_of_several_pieces_when_its_records_are_parsed_then_each_record_in_order(self) -> None:
        records = [_cdr(uuid=str(index)) for index in range(3 * _CDRS_AT_ONCE)] + [None, _cdr(uuid="last")]
        response = a_response(orjson.dumps({"records": records}))

        sent = parsed_page(response, "records")["records"]

        assert type(sent) is SentRecords and len(list(sent.pieces())) >= 3
        assert page_records(response, "records") == records

    def test_given_other_values_beside_the_records_when_parsed_then_each_is_what_the_standard_parse_makes_of_it(self) -> None:
        content = (
            b'{"meta":{"scrollId":"s","ids":[1,2]},"records":[{"uuid":"a"}, {"uuid":"b"}],"tags":[1,"x",{"b":null},[2.5]],'
            b'"total":123456789012345678901234567890,"rate":-0.5,"done":false,"search_token":null,"empty":[]}'
        )

        body = parsed_page(a_response(content), "records")

        records = body.pop("records")
        assert body == {name: value for name, value in json.loads(content).items() if name != "records"}
        assert type(records) is SentRecords and _joined(records) == b'[{"uuid":"a"},{"uuid":"b"}]'

    @pytest.mark.parametrize(
        "content, problem",
        [
            (b'{"records":[{"uuid":"a"},7]}', "a list with entries that are not objects"),
            (b'{"records":[{"uuid":"a"},"null",["x"],true,-1]}', "a list with entries that are not objects"),
            (b'{"records":[{"uuid":"a"},nul]}', "a body that is not JSON (an HTML page or a cut-off answer)"),
            (b'{"records":{"uuid":"a"}}', "a JSON object without a `records` list"),
            (b'{"records":[{"uuid":"\xff"}]}', "a body that is not JSON (an HTML page or a cut-off answer)"),
            (_LONG_TEXT + b'\xc3"}]}', "a body that is not JSON (an HTML page or a cut-off answer)"),
            (_LONG_TEXT + b'xx\xff"}]}', "a body that is not JSON (an HTML page or a cut-off answer)"),
        ],
        ids=["a_number_among_records", "text_lists_and_literals_among_records", "null_cut_short", "an_object_instead_of_a_list", "not_utf8", "not_utf8_across_two_pieces", "not_utf8_in_the_second_piece"],
    )
    def test_given_a_page_that_is_not_a_list_of_objects_when_parsed_then_described_as_malformed(self, content: bytes, problem: str) -> None:
        response = a_response(content)

        assert describe_malformed_page(parsed_page(response, "records"), "records") == problem

    def test_given_a_character_across_two_pieces_of_the_utf8_check_when_parsed_then_its_records_are_kept_as_sent(self) -> None:
        content = _LONG_TEXT + "é".encode() + b'"}]}'  # its first byte ends one piece, its second starts the next

        body = parsed_page(a_response(content), "records")

        assert type(body["records"]) is SentRecords and body["records"].parsed()[0]["text"].endswith("xé")

    def test_given_a_lone_surrogate_when_parsed_then_parsed_whole_and_the_records_are_objects(self) -> None:
        response = a_response(b'{"records":[{"text":"\\ud83d"}]}')

        body = parsed_page(response, "records")

        assert body is not NOT_JSON and type(body["records"]) is list and body["records"][0]["text"] == "\ud83d"
