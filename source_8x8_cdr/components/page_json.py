"""Pages that orjson cannot read exactly are read with Python's own JSON decoder.

orjson parses every page (`components.parsed_body`: one parse, four times faster than the standard library),
but two kinds of valid JSON it does not read as they are:

* a string holding an escaped lone UTF-16 surrogate (`"\\ud83d"`, half an emoji: what JavaScript's
  `JSON.stringify` and UTF-16 back ends write when a text is cut between the two halves, e.g. SMS segments).
  orjson refuses the whole page, which would then never pass: the same page comes back every sync.
* an integer beyond 64 bits (`123456789012345678901234567890`), which orjson reads as a float: a silent
  change of value.

Such a page is read by the standard library, so integers stay exact Python ints. A lone surrogate cannot be
written as UTF-8 (nor read by most destinations), so in the records that hold one it is replaced by U+FFFD,
and the record says so in its `meta.changes` (`RecordWithChanges`): the protocol's way to report a value the
source had to alter. Records are written out by `record_message_json` when orjson cannot write them.
"""

from __future__ import annotations

import json
import re
from typing import Any, List, Mapping, Optional, Tuple

import orjson

# Bytes to look at before orjson: digits become "0"; what may come right before a number in JSON (":", ",", "[",
# whitespace, a minus sign) becomes ":"; everything else "x". A number of 19 digits or more then shows as ":"
# followed by 19 "0" (orjson is exact up to 18 digits; 19 may pass the signed 64-bit range).
_SHAPES = bytes(
    ord("0") if byte in b"0123456789" else ord(":") if byte in b":,[ \t\r\n-" else ord("x") for byte in range(256)
)
_WIDE_NUMBER = b":" + b"0" * 19
_CHUNK = 1 << 20  # looked at a mebibyte at a time, so that the check holds no second copy of a large page
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def loads(content: bytes) -> Tuple[Any, bool]:
    """The JSON value of a body, and whether its strings may hold lone surrogates (`without_lone_surrogates`).

    Raises `ValueError` when the body is not JSON (orjson's and the standard library's errors both are).
    """
    if not _may_hold_wide_integers(content):
        try:
            return orjson.loads(content), False
        except orjson.JSONDecodeError:
            pass  # not JSON, or JSON that orjson refuses (a lone surrogate): the standard library decides
    value = json.loads(content)
    return value, _ESCAPED_SURROGATE.search(content) is not None


def _may_hold_wide_integers(content: bytes) -> bool:
    """Whether the body has a run of 19 or more digits where a JSON number may start (a string such as
    `"a 1234567890123456789"` also counts: it only costs a slower, still exact, parse)."""
    for start in range(0, len(content), _CHUNK):
        if _WIDE_NUMBER in content[start : start + _CHUNK + len(_WIDE_NUMBER)].translate(_SHAPES):
            return True
    return False


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
