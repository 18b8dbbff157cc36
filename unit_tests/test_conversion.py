"""Values in the schemas' types (`source_8x8_cdr/components/conversion.py`): each conversion, each failure, and the fast path.

The page path and the CDK's record path are covered in `test_pages.py`, end to end against the emulator in the
integration suite (`wrong_types` fault).
"""

from __future__ import annotations

from typing import Any

import pytest

from source_8x8_cdr.components.conversion import CHANGES_KEY, StreamTypes, TypedValues, take_changes

SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "count": {"type": ["null", "integer"]},
        "cost": {"type": ["null", "number"]},
        "id": {"type": ["null", "string"]},
        "flag": {"type": ["null", "boolean"]},
        "ended": {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "tags": {"type": ["null", "array"], "items": {"type": ["null", "string"]}},
        "sla": {"type": ["null", "object"], "properties": {"reply": {"type": ["null", "string"]}}},
    },
}


def nulled(*fields: str) -> list[dict]:
    return [{"field": field, "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"} for field in fields]


def converted(field: str, value: Any) -> tuple[Any, list[dict]]:
    record = {field: value}
    changes = StreamTypes("s", SCHEMA).convert(record)
    return record[field], changes


@pytest.mark.parametrize(
    "field, sent, expected",
    [
        ("count", "1", 1),
        ("count", " 12 ", 12),
        ("count", "-7", -7),
        ("count", "3.0", 3),
        ("count", "1e3", 1000),
        ("count", 3.0, 3),
        ("count", "", None),
        ("cost", "12.5", 12.5),
        ("cost", "0.3972", 0.3972),
        ("cost", "12", 12),
        ("cost", 7, 7),
        ("id", 1, "1"),
        ("id", 1635571048351, "1635571048351"),
        ("id", 1635571048351.0, "1635571048351"),
        ("id", 12.5, "12.5"),
        ("id", True, "true"),
        ("flag", "true", True),
        ("flag", "FALSE", False),
        ("flag", "1", True),
        ("flag", 0, False),
        ("flag", "", None),
        ("ended", 1_700_000_000_000, "2023-11-14T22:13:20.000Z"),
        ("ended", 1_700_000_000, "2023-11-14T22:13:20.000Z"),
        ("ended", 1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        ("tags", "Sales", ["Sales"]),
        ("tags", 5, ["5"]),
        ("tags", "", []),
        ("tags", ["a", 1], ["a", "1"]),
        ("sla", [{"reply": "00:00:23"}], {"reply": "00:00:23"}),
        ("sla", [{"reply": 23}], {"reply": "23"}),
        ("sla", [], None),
    ],
)
def test_given_a_value_in_another_form_when_converted_then_it_has_the_declared_type_and_no_change_is_reported(field: str, sent: Any, expected: Any) -> None:
    value, changes = converted(field, sent)

    assert value == expected and type(value) is type(expected)
    assert changes == []


@pytest.mark.parametrize(
    "field, sent",
    [
        ("count", "n/a"),
        ("count", 12.5),
        ("count", "12.5"),
        ("count", True),
        ("count", [1]),
        ("count", {"n": 1}),
        ("count", "1" * 5000),  # more digits than Python reads
        ("cost", "nan"),
        ("cost", "1,5"),
        ("cost", "1e999"),
        ("cost", False),
        ("id", ["a"]),
        ("id", {"a": 1}),
        ("flag", "maybe"),
        ("flag", 2),
        ("ended", [1]),
        ("ended", 10**30),
        ("sla", [{"reply": "a"}, {"reply": "b"}]),
        ("sla", ["00:00:23"]),
        ("sla", 5),
    ],
)
def test_given_a_value_that_cannot_be_converted_when_converted_then_it_is_nulled_and_reported(field: str, sent: Any) -> None:
    value, changes = converted(field, sent)

    assert value is None
    assert changes == nulled(field)


def test_given_unreadable_values_inside_a_list_and_an_object_when_converted_then_only_they_are_nulled_with_their_paths() -> None:
    record = {"tags": ["a", {"x": 1}, "c", [2]], "sla": {"reply": ["x"]}}

    changes = StreamTypes("s", SCHEMA).convert(record)

    assert record == {"tags": ["a", None, "c", None], "sla": {"reply": None}}
    assert changes == nulled("tags[1]", "tags[3]", "sla.reply")


def test_given_integers_beyond_64_bits_when_converted_then_they_stay_exact() -> None:
    big = 123456789012345678901234567890
    record = {"count": str(big), "cost": f"-{big}", "id": big}

    assert StreamTypes("s", SCHEMA).convert(record) == []

    assert record == {"count": big, "cost": -big, "id": str(big)}


def test_given_leading_zeros_in_strings_when_converted_then_they_are_kept() -> None:
    types = StreamTypes.of_stream("contact_center_wrapup_codes")
    record = {"description": "0100: Qualified Lead", "code": "0100"}

    assert types.convert(record) == []

    assert record == {"description": "0100: Qualified Lead", "code": "0100"}


def test_given_unknown_fields_when_converted_then_they_pass_through_and_the_field_order_is_kept() -> None:
    record = {"extra": ["x", 1], "count": "2", "nested": {"a": "1"}, "id": 3, "recording_url": 5}

    StreamTypes("s", SCHEMA).convert(record)

    assert list(record.items()) == [("extra", ["x", 1]), ("count", 2), ("nested", {"a": "1"}), ("id", "3"), ("recording_url", 5)]


class TestPage:
    def test_given_a_page_in_the_declared_types_when_converted_then_nothing_changes_and_nothing_is_reported(self) -> None:
        page = [{"count": 1, "cost": 0.5, "id": "a", "tags": ["x"], "sla": {"reply": "00:01:00"}}, {"count": None, "id": "b"}]
        before = [dict(record) for record in page]
        types = StreamTypes("s", SCHEMA)

        assert types.convert_page(page) == {}
        assert types.convert_page(page) == {}  # the second time from the layouts it has met

        assert page == before

    def test_given_a_page_with_one_unreadable_value_when_converted_then_only_that_record_has_changes(self) -> None:
        page = [{"count": "1", "id": 1}, {"count": "n/a", "id": 2}, {"count": "3", "id": 3}]

        changes = StreamTypes("s", SCHEMA).convert_page(page)

        assert page == [{"count": 1, "id": "1"}, {"count": None, "id": "2"}, {"count": 3, "id": "3"}]
        assert changes == {id(page[1]): nulled("count")}

    def test_given_the_same_layout_clean_then_wrong_when_converted_then_each_record_is_judged_on_its_own_values(self) -> None:
        types = StreamTypes("s", SCHEMA)
        types.convert_page([{"count": 1, "id": "a", "tags": ["x"]}])
        page = [{"count": 1, "id": "b", "tags": [5]}, {"count": 2, "id": "c", "sla": {"reply": 9}}]

        types.convert_page(page)

        assert page == [{"count": 1, "id": "b", "tags": ["5"]}, {"count": 2, "id": "c", "sla": {"reply": "9"}}]


class TestReport:
    def test_given_values_that_could_not_be_read_when_reported_then_one_sentence_per_field_with_the_count(self) -> None:
        types = StreamTypes("call_records", SCHEMA)
        types.convert_page([{"count": "n/a"}, {"count": [1]}, {"count": "x", "tags": ["a", {}]}, {"tags": [[]]}])

        assert types.failures_report() == [
            "call_records.count: 3 values could not be read as integer (sent as array, string) and were set to null; "
            "each record says so in its meta.changes.",
            "call_records.tags[]: 2 values could not be read as string (sent as array, object) and were set to null; "
            "each record says so in its meta.changes.",
        ]

    def test_given_nothing_unreadable_when_reported_then_nothing(self) -> None:
        types = StreamTypes("s", SCHEMA)
        types.convert_page([{"count": "1"}])

        assert types.failures_report() == []


class TestTransformation:
    def test_given_the_manifest_transformation_when_a_record_has_an_unreadable_value_then_its_changes_travel_in_the_record(self) -> None:
        transformation = TypedValues(schema="{{ parameters['name'] }}", parameters={"name": "call_records"})
        record = {"callId": 17, "callLegCount": "two"}

        transformation.transform(record)

        assert record == {"callId": "17", "callLegCount": None, CHANGES_KEY: nulled("callLegCount")}
        assert take_changes(record) == nulled("callLegCount")
        assert record == {"callId": "17", "callLegCount": None}

    def test_given_a_record_in_the_declared_types_when_transformed_then_it_carries_no_changes(self) -> None:
        record = {"callId": "17", "callLegCount": 2}

        TypedValues(schema="call_records", parameters={}).transform(record)

        assert record == {"callId": "17", "callLegCount": 2} and take_changes(record) is None


def test_given_a_failure_counted_by_a_conversion_the_cdk_has_dropped_when_the_read_ends_then_it_is_still_reported() -> None:
    """The CDK may drop a read's streams (and their `TypedValues`) before the source reports at the end of the
    read: the count must not go with them."""
    import gc

    StreamTypes.failure_reports(["call_records"])  # nothing left over from other tests
    types = StreamTypes.of_stream("call_records")
    types.convert({"callId": "1", "callTime": "n/a"})
    del types
    gc.collect()

    assert StreamTypes.failure_reports(["call_records"]) == [
        "call_records.callTime: 1 value could not be read as integer (sent as string) and was set to null; "
        "each record says so in its meta.changes."
    ]
    assert StreamTypes.failure_reports(["call_records"]) == []  # reported once, then counted anew


class TestDateTimeTexts:
    """`date-time` texts with an offset become UTC through the per-minute and per-hour caches: the same text as a
    plain `datetime` computation, whatever was met before, and the same refusals."""

    SENT = [
        "2024-07-31T12:43:09.000-03:00",
        "2024-07-31T12:59:59.999-03:00",  # the hour met, not the minute
        "2024-07-31T23:30:00.000-03:00",  # the next UTC day
        "2024-07-31T00:15:00.500+05:30",  # a half-hour offset: per minute
        "2024-07-31T00:15:01.000+05:45",
        "2024-12-31T23:59:59.999-00:00",
        "2024-03-01T00:00:00.000+14:00",  # the previous UTC day, across February 29
    ]

    @staticmethod
    def utc(sent: str) -> str:
        from datetime import datetime, timezone

        moment = datetime.fromisoformat(sent).astimezone(timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def test_given_texts_with_offsets_when_converted_in_any_order_then_each_is_its_instant_in_utc(self) -> None:
        for order in (self.SENT, self.SENT[::-1]):
            page = [{"ended": sent} for sent in order]

            assert StreamTypes("s", SCHEMA).convert_page(page) == {}

            assert [record["ended"] for record in page] == [self.utc(sent) for sent in order]

    @pytest.mark.parametrize("sent", ["2024-07-31T12:60:09.000-03:00", "2024-07-31T12:43:60.000-03:00", "2024-07-31T24:43:09.000-03:00",
                                      "2024-07-31T12:4٣:09.000-03:00", "2024-07-31T12:43:09.0٣0-03:00", "2024-02-30T12:43:09.000-03:00"])
    def test_given_a_text_out_of_range_after_its_hour_was_met_when_converted_then_it_is_nulled_and_reported(self, sent: str) -> None:
        types = StreamTypes("s", SCHEMA)
        types.convert_page([{"ended": "2024-07-31T12:00:00.000-03:00"}, {"ended": "2024-02-28T12:00:00.000-03:00"}])
        page = [{"ended": sent}]

        changes = types.convert_page(page)

        assert page == [{"ended": None}] and changes == {id(page[0]): nulled("ended")}
