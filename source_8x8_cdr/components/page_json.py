"""Pages that msgspec cannot read are read with Python's own JSON decoder.

msgspec parses every page (`components.parsed_body`: one parse, five times faster than the standard library,
faster than orjson). Unlike orjson, it reads an integer beyond 64 bits (`123456789012345678901234567890`) as the
exact Python int the standard library would, not as a float, so no page needs looking at beforehand. One kind of
valid JSON it does not read:

* a string holding an escaped lone UTF-16 surrogate (`"\\ud83d"`, half an emoji: what JavaScript's
  `JSON.stringify` and UTF-16 back ends write when a text is cut between the two halves, e.g. SMS segments).
  msgspec refuses the whole page, which would then never pass: the same page comes back every sync.

Such a page (and any other msgspec refuses: a number beyond a double, `1e400`) is read by the standard library,
as it reads it. A lone surrogate cannot be written as UTF-8 (nor read by most destinations), so in the records
that hold one it is replaced by U+FFFD, and the record says so in its `meta.changes` (`RecordWithChanges`): the
protocol's way to report a value the source had to alter. Records are written out by `record_message_json`
when orjson cannot write them (an integer beyond 64 bits).
"""

from __future__ import annotations

import json
import re
from typing import Any, List, Mapping, Optional, Tuple

import msgspec
import orjson

_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
_DECODE = msgspec.json.Decoder().decode  # untyped: dicts, lists, str, int (any size), float, bool, None


def loads(content: bytes) -> Tuple[Any, bool]:
    """The JSON value of a body, and whether its strings may hold lone surrogates (`without_lone_surrogates`).

    Raises `ValueError` when the body is not JSON (the standard library's errors are).
    """
    try:
        return _DECODE(content), False
    except msgspec.DecodeError:
        pass  # not JSON, or JSON that msgspec refuses (a lone surrogate, a number beyond a double): the standard library decides
    value = json.loads(content)
    return value, _ESCAPED_SURROGATE.search(content) is not None


class RecordWithChanges(dict):
    """A record the connector had to alter, with the protocol's `meta.changes` entries saying where and why.

    A `dict` like any record (orjson and the record filter read it as one); `record_message_json` writes
    its changes into the RECORD message's `meta`.
    """

    __slots__ = ("changes",)

    def __init__(self, data: Mapping[str, Any], changes: List[Mapping[str, str]]) -> None:
        super().__init__(data)
        self.changes = changes


def without_lone_surrogates(record: Any) -> Any:
    """The record with every lone surrogate in its strings (keys too) replaced by U+FFFD: itself when it held
    none, else a `RecordWithChanges` with one `TRUNCATED` / `SOURCE_SERIALIZATION_ERROR` change per altered
    field (the protocol has no "replaced"; half a character was lost)."""
    if not isinstance(record, dict):
        return record
    altered: List[str] = []
    repaired = _repaired(record, "", altered)
    if not altered:
        return record
    changes = [{"field": field, "change": "TRUNCATED", "reason": "SOURCE_SERIALIZATION_ERROR"} for field in altered]
    return RecordWithChanges(repaired, changes)


def _repaired(value: Any, path: str, altered: List[str]) -> Any:
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            altered.append(path)
            return _LONE_SURROGATE.sub(REPLACEMENT, value)
        return value
    if isinstance(value, dict):
        return {
            _repaired(key, _joined(path, key), altered): _repaired(item, _joined(path, key), altered) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_repaired(item, _joined(path, str(index)), altered) for index, item in enumerate(value)]
    return value


def _joined(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def refuse_all(value: Any) -> Any:
    """orjson's `default` for a page written in one piece: any record that is not a plain dict (a
    `RecordWithChanges`) sends the page to `record_message_json`."""
    raise TypeError(f"{type(value).__name__} is written one record at a time")


def record_message_ends(stream: str, emitted_at: int) -> Tuple[bytes, bytes]:
    """What a RECORD message's JSON line holds before and after its record's data, as the CDK writes it."""
    return b'{"type":"RECORD","record":{"stream":%s,"data":' % orjson.dumps(stream), b',"emitted_at":%d}}' % emitted_at


def record_message_json(record: Mapping[str, Any], stream: str, emitted_at: int, changes: Optional[List[Mapping[str, str]]] = None) -> bytes:
    """One RECORD message as a JSON line, with `meta.changes` for a `RecordWithChanges` and the `changes` given
    (the type conversions'), and integers beyond 64 bits written exactly (by the standard library, as orjson
    cannot write them)."""
    message: dict = {"stream": stream, "data": record, "emitted_at": emitted_at}
    changes = [*getattr(record, "changes", ()), *(changes or ())]
    if changes:
        message["meta"] = {"changes": changes}
    envelope = {"type": "RECORD", "record": message}
    try:
        return orjson.dumps(envelope)
    except TypeError:
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
