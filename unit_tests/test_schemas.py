"""The stream schemas: one JSON type per field (plus null), as typed destinations need, and the docs list them.

That the records of real reads validate against them is checked in the integration suite
(`integration_tests/conftest.py`, `assert_valid_records`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import jsonschema
import pytest

import source_8x8_cdr
from source_8x8_cdr.components.conversion import StreamTypes
from source_8x8_cdr.source import STREAMS_BY_API

SCHEMAS = Path(source_8x8_cdr.__file__).parent / "schemas"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "8x8-cdr.md"
STREAMS = [name for names in STREAMS_BY_API.values() for name in names]

# A call record as the vendor's own example shows it (Work Analytics "Call Records Response").
VENDOR_CALL_RECORD = {
    "dnis": "12025555720", "aaDestination": None, "callId": "1635571048351", "startTimeUTC": 1643898447493,
    "startTime": "2022-02-03T09:27:27.493-0500", "connectTimeUTC": 0, "connectTime": "0", "disconnectedTimeUTC": 1643898472253,
    "disconnectedTime": "2022-02-03T09:27:52.253-0500", "talkTimeMS": 0, "talkTime": "00:00:00", "caller": "+15555551220",
    "callerName": "MARK SMITH", "callee": "120088", "calleeName": "Jane Li", "direction": "Incoming",
    "callerId": "MARK SMITH,+15555551220", "missed": "Missed", "abandoned": "-", "answered": "-", "answeredTime": 0,
    "calleeDisconnectOnHold": "", "callerDisconnectOnHold": "", "pbxId": "acmecorppbx", "sipCallId": "170437510_134011744@",
    "lastLegDisposition": "Voicemail", "callLegCount": "1", "callTime": 24760, "ringDuration": 39, "abandonedTime": 0,
    "calleeHoldDurationMS": 0, "calleeHoldDuration": "00:00:00", "waitTimeMS": 0, "waitTime": "00:00:00",
    "departments": ["Sales Engineering"], "branches": [],
}
# A chat CDR as the vendor's sample response shows it.
VENDOR_CDR = {
    "agent": None, "from": "Guest", "disposition": "archived", "duration": "00:00:00", "to": "Olek's test",
    "timestamp": "2024-07-24T06:15:40.407-03:00", "uuid": "7a221595-6dcd-483a-b37f-65e12317756d", "wrapup_code": None,
    "type": "chat", "agent_id": None, "cpc": 0.0,
    "sla": {"time_to_first_response": "00:01:45", "time_to_resolution": "48:16:27", "time_to_reply": "00:00:23"}, "queue": None,
}


def schema(stream: str) -> dict:
    return json.loads((SCHEMAS / f"{stream}.json").read_text())


def nodes(node: dict, path: str) -> Iterator[tuple[str, dict]]:
    """Every field of a schema, nested ones included, with its path."""
    for name, child in (node.get("properties") or {}).items():
        yield f"{path}.{name}", child
        yield from nodes(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield f"{path}[]", node["items"]
        yield from nodes(node["items"], f"{path}[]")


def non_null_types(node: dict) -> list[str]:
    kinds = node.get("type")
    return [kind for kind in ([kinds] if isinstance(kinds, str) else kinds or []) if kind != "null"]


@pytest.mark.parametrize("stream", STREAMS)
def test_given_a_stream_schema_then_it_is_valid_draft_7_and_every_field_has_exactly_one_type_besides_null(stream: str) -> None:
    jsonschema.Draft7Validator.check_schema(schema(stream))
    unions = {path: node.get("type") for path, node in nodes(schema(stream), stream) if len(non_null_types(node)) != 1}

    assert not unions, f"fields without exactly one non-null type: {unions}"


@pytest.mark.parametrize("stream", STREAMS)
def test_given_a_stream_schema_then_unknown_fields_pass_and_every_field_is_described(stream: str) -> None:
    assert schema(stream)["additionalProperties"] is True
    assert [path for path, node in nodes(schema(stream), stream) if "[]" not in path and not node.get("description")] == []


def test_given_a_union_of_two_types_when_checked_then_the_check_fails() -> None:
    bad = {"type": "object", "properties": {"callLegCount": {"type": ["null", "integer", "string"]}}}

    assert [path for path, node in nodes(bad, "s") if len(non_null_types(node)) != 1] == ["s.callLegCount"]


def test_given_the_cdr_timestamp_then_it_is_an_instant_with_a_time_zone() -> None:
    timestamp = schema("contact_center_cdrs")["properties"]["timestamp"]

    assert (non_null_types(timestamp), timestamp["format"], timestamp["airbyte_type"]) == (["string"], "date-time", "timestamp_with_timezone")


@pytest.mark.parametrize("stream, record", [("call_records", VENDOR_CALL_RECORD), ("contact_center_cdrs", VENDOR_CDR)])
def test_given_the_vendors_example_record_when_converted_then_it_validates_and_only_its_sent_forms_changed(stream: str, record: dict) -> None:
    converted = json.loads(json.dumps(record))

    assert StreamTypes.of_stream(stream).convert(converted) == []

    assert list(jsonschema.Draft7Validator(schema(stream)).iter_errors(converted)) == []
    assert {name for name in record if record[name] != converted[name] or type(record[name]) is not type(converted[name])} == (
        {"callLegCount"} if stream == "call_records" else {"timestamp"}
    )
    if stream == "contact_center_cdrs":  # the same instant, in UTC
        assert (record["timestamp"], converted["timestamp"]) == ("2024-07-24T06:15:40.407-03:00", "2024-07-24T09:15:40.407Z")


def test_given_the_vendors_example_call_record_as_sent_then_the_schema_refuses_its_text_leg_count() -> None:
    errors = list(jsonschema.Draft7Validator(schema("call_records")).iter_errors(VENDOR_CALL_RECORD))

    assert [(list(error.path), error.validator) for error in errors] == [(["callLegCount"], "type")]


# ---------------------------------------------------------------------------------------------------------------------
# The docs' "Field types" section
# ---------------------------------------------------------------------------------------------------------------------


def type_name(node: dict) -> str:
    kind = non_null_types(node)[0]
    if kind == "string" and node.get("format") == "date-time":
        return "timestamp with time zone"
    if kind == "array":
        return f"array of {type_name(node['items'])}s"
    if kind == "object" and node.get("properties"):
        return "object (" + ", ".join(f"`{name}` {type_name(child)}" for name, child in node["properties"].items()) + ")"
    return kind


def field_types_section() -> str:
    lines = []
    for stream in STREAMS:
        fields = ", ".join(f"`{name}` {type_name(node)}" for name, node in schema(stream)["properties"].items())
        lines.append(f"- **{stream}**: {fields}.")
    return "\n".join(lines) + "\n"


def test_given_the_docs_then_the_field_types_section_lists_every_field_of_every_schema_with_its_type() -> None:
    text = DOCS.read_text()
    start = text.index("<!-- field types: generated from the schemas by unit_tests/test_schemas.py -->\n")
    listed = text[start:].split("\n", 1)[1]
    listed = listed[: listed.index("\n\n") + 1]

    assert listed == field_types_section(), "replace the list in docs/8x8-cdr.md with:\n" + field_types_section()
