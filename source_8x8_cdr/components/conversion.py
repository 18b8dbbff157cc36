"""Record values in the types the stream schemas declare.

Every field of a schema has one JSON type (plus null), so that destinations build typed columns. The APIs do
not always send that type: `callLegCount` comes as the text "1", ids may come as numbers, `departments` as one
string, the contact-center `sla` (documented as an array) as an object or a list. `StreamTypes` converts such
values, in place, keeping the record's field order and every field the schema does not declare:

| declared | converted from |
|---|---|
| integer | a numeric string, exactly at any size (`"1"`, `" 12 "`, `"3.0"`, `"1e3"`), an integral float (`3.0`) |
| number | a numeric string (`"12.5"`; integral text becomes an exact integer) |
| string | a number (`1` -> `"1"`, `3.0` -> `"3"`), a boolean (`"true"`/`"false"`) |
| string, `date-time` | ISO 8601 with an offset -> the same instant in UTC (`...T12:43:09.000-03:00` -> `...T15:43:09.000Z`); epoch seconds, or milliseconds from 1e11 on -> ISO 8601 UTC (`2023-11-14T22:13:20.000Z`) |
| boolean | `"true"`/`"false"` (any case), `"1"`/`"0"`, `1`/`0` |
| array | a single value -> a one-element list (each item converted); `""` -> `[]` |
| object | a list of one object -> that object; `[]` -> null |

An empty string where a number, a boolean or an object is declared is read as null: it holds no value.
A value that cannot be converted (`"n/a"` for an integer, `12.5` for an integer, a list of two objects for
`sla`) becomes null and is reported the protocol's way, as a change in the record's `meta.changes`
(`NULLED`, `SOURCE_SERIALIZATION_ERROR`, naming the field: `sla.time_to_reply` and `departments[1]` inside
objects and lists); the stream counts these per field for one warning each at the end of the read
(`failures_report`). Integers keep their exact value at any size (Python int); strings are never touched
(wrap-up code `"0100"` stays `"0100"`).

The common case costs one look-up per record: its layout (its keys, and the types of its values, in order,
both read at C speed) among the layouts already met, each with the fields it needs converted, usually none.
Only those fields, and lists and objects (whose contents are checked too), are then looked at one by one.

Why not the CDK's `schema_normalization` (`TypeTransformer` with `DefaultSchemaNormalization`): it walks every
record with a jsonschema validator (tens of µs a record), converts some values wrongly (`int(3.7)` is 3, an
object becomes its Python repr as a string) and leaves a value it
cannot convert as it was, unreported.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from math import isfinite
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple

from airbyte_cdk.models.airbyte_protocol import AirbyteRecordMessageMeta, AirbyteRecordMessageMetaChange, Reason
from airbyte_cdk.models.airbyte_protocol import Change as ProtocolChange
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_8x8_cdr.components.interpolation import interpolate
from source_8x8_cdr.components.timeutil import utc_text

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

# A change as the protocol writes it (`AirbyteRecordMessageMetaChange`), inside the record's `meta.changes`.
Change = Dict[str, str]

# Where the stock record path (`TypedValues.transform`) leaves a record's changes for `take_changes`.
CHANGES_KEY = "_source_8x8_cdr_meta_changes"

_NONE = type(None)
_PYTHON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,), "object": (dict,)}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_EPOCH_MS_FROM = 100_000_000_000  # 1e11: as seconds the year 5138, as milliseconds 1973
_KNOWN_LAYOUTS = 4096  # bound on the layouts remembered per stream (optional and nullable fields combine)


class _Unreadable(Exception):
    """The value cannot be read as the declared type."""


def declared_type(node: Mapping[str, Any]) -> str:
    """The one non-null JSON type of a schema node (`["null", "integer"]` -> `integer`)."""
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    named = [kind for kind in kinds if kind != "null"]
    if len(named) != 1:
        raise ValueError(f"a schema field must declare one type besides null, not {kinds}")
    return named[0]


def _type_label(node: Mapping[str, Any]) -> str:
    kind = declared_type(node)
    return "date-time" if kind == "string" and node.get("format") == "date-time" else kind


# ---------------------------------------------------------------------------------------------------------------------
# One value
# ---------------------------------------------------------------------------------------------------------------------

# A converter takes a value (not None) and returns it in the declared type (the same object when it already
# is), or raises `_Unreadable`. Lists and objects convert their contents themselves: an unreadable item or
# property is nulled and added to `failures` with its path (`departments[1]`, `sla.time_to_reply`).
Converter = Callable[[Any, List["_Failure"], str], Any]


@dataclass(frozen=True)
class _Failure:
    path: str  # where in the record: `callTime`, `sla.time_to_reply`, `departments[1]`
    declared: str
    sent: str

    @property
    def field(self) -> str:
        """The path without list positions, for the count per field: `departments[]`."""
        return _POSITION.sub("[]", self.path)


_POSITION = re.compile(r"\[[0-9]+\]")
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _to_integer(value: Any, failures: List[_Failure], path: str) -> Any:
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        if value.isdigit() and value.isascii():
            return _exact_int(value)
        text = value.strip()
        if not text:
            return None
        if _INTEGER_TEXT.fullmatch(text):
            return _exact_int(text)
        number = _decimal(text)
        if number == number.to_integral_value():
            return _exact_int(number)
    elif kind is float and value.is_integer():
        return int(value)
    raise _Unreadable


def _to_number(value: Any, failures: List[_Failure], path: str) -> Any:
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        text = value.strip()
        if not text:
            return None
        if _INTEGER_TEXT.fullmatch(text):
            return _exact_int(text)
        _decimal(text)  # refuses what is not a plain number ("nan", "1,5")
        number = float(text)
        if isfinite(number):
            return number
    raise _Unreadable


def _exact_int(text: Any) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (4300)
        raise _Unreadable from None


def _decimal(text: str) -> Decimal:
    if not _NUMBER_TEXT.fullmatch(text):
        raise _Unreadable
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _Unreadable from None


def _to_text(value: Any, failures: List[_Failure], path: str) -> Any:
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        try:
            return str(value)
        except ValueError:  # more digits than Python writes (4300)
            raise _Unreadable from None
    if kind is float:
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        if isfinite(value):
            return repr(value)
    raise _Unreadable


def _to_datetime_text(value: Any, failures: List[_Failure], path: str) -> Any:
    kind = type(value)
    if kind is str:
        return _utc_text(value)
    if kind is int or kind is float:
        milliseconds = value if abs(value) >= _EPOCH_MS_FROM else value * 1000
        try:
            return utc_text(round(milliseconds))
        except (OverflowError, ValueError):  # past the year 9999, or not a number (NaN, infinity)
            raise _Unreadable from None
    raise _Unreadable


def _is_utc_text(value: str) -> bool:
    return value[-1:] == "Z"


# Fixed-width instants with an offset (`2024-07-31T12:43:09.000-03:00`): per (hour, offset) met, the UTC text of
# each of its minutes (`:43` -> `2024-07-31T15:43`); the seconds and milliseconds do not change. Seconds and
# milliseconds are checked on every text (ASCII digits, below 60), as `datetime.fromisoformat` would; the date, hour
# and offset when their minutes are first written (only valid ones are kept).
_UTC_MINUTES: Dict[str, Dict[str, str]] = {}
_UTC_HOURS_KEPT = 65_536
_SECOND = frozenset(f":{number:02d}" for number in range(60))  # `:09`
_MILLISECOND = frozenset(f".{number:03d}" for number in range(1000))  # `.000`
_MINUTES = tuple(f":{number:02d}" for number in range(60))
_HOUR = timedelta(hours=1)


def _utc_text(value: str) -> str:
    """An ISO 8601 instant as UTC text with `Z`, the same instant (`...T12:43:09.000-03:00` ->
    `...T15:43:09.000Z`); a date and time without an offset is returned as it is (the slice filter reads it in
    the account's zone), text that is no date and time is unreadable. (`_Fields._write_fix` inlines the first
    lines.)"""
    minutes = utc_minutes(value)
    if minutes is not None and value[16:19] in _SECOND and value[19:23] in _MILLISECOND:
        minute = minutes.get(value[13:16])
        if minute is not None:
            return minute + value[16:23] + "Z"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Unreadable from None
    if moment.tzinfo is None:
        return value
    utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds" if utc.microsecond % 1000 == 0 else "microseconds") + "Z"


def utc_minutes(value: str) -> Optional[Dict[str, str]]:
    """For a fixed-width instant with an offset (`2024-07-31T12:43:09.000+05:30`), the UTC text of each minute of
    its hour at its offset (`{":43": "2024-07-31T07:13"}`, as `_utc_text` writes them); None when it is no such
    instant."""
    if len(value) != 29 or value[10] != "T" or value[13] != ":" or value[23] not in "+-":
        return None
    return _UTC_MINUTES.get(value[:13] + value[23:]) or _utc_minutes(value)


def _utc_minutes(value: str) -> Optional[Dict[str, str]]:
    """The UTC text of every minute of `value`'s hour at its offset (`{":43": "2024-07-31T15:43"}`), kept for the
    hours to come; None when its date, hour or offset is not valid."""
    try:
        start = datetime.fromisoformat(value[:13] + ":00:00" + value[23:])
    except ValueError:
        return None
    if start.year < 1000 or start.tzinfo is None:
        return None
    start = start.astimezone(timezone.utc)
    if start.year < 1000:
        return None
    # The UTC hour changes at most once within a local hour (at minute `turn`): two hour texts, then the minutes.
    turn = 60 - start.minute
    try:
        hours = (start.strftime("%Y-%m-%dT%H"), (start + _HOUR).strftime("%Y-%m-%dT%H") if turn < 60 else "")
    except OverflowError:  # the last hour of the year 9999
        return None
    texts = dict(zip(_MINUTES, _prefixed(hours[0], _MINUTES[start.minute :]) + _prefixed(hours[1], _MINUTES[: start.minute])))
    if len(_UTC_MINUTES) < _UTC_HOURS_KEPT:
        _UTC_MINUTES[value[:13] + value[23:]] = texts
    return texts


def _prefixed(prefix: Any, names: Tuple[Any, ...]) -> List[Any]:
    """`[prefix + name for name in names]` (texts or bytes without line breaks), in three C calls."""
    if not names:
        return []
    newline = "\n" if isinstance(prefix, str) else b"\n"
    return (prefix + (newline + prefix).join(names)).split(newline)


def _to_boolean(value: Any, failures: List[_Failure], path: str) -> Any:
    kind = type(value)
    if kind is bool:
        return value
    if kind is str:
        text = value.strip().lower()
        if not text:
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
    elif kind is int and value in (0, 1):
        return bool(value)
    raise _Unreadable


def _array_of(item: "_Node") -> Converter:
    def to_array(value: Any, failures: List[_Failure], path: str) -> Any:
        if type(value) is not list:
            if type(value) is str and not value.strip():
                return []
            value = [value]
        for index, each in enumerate(value):
            if each is not None:
                converted = _convert(item, each, failures, f"{path}[{index}]")
                if converted is not each:
                    value[index] = converted
        return value

    return to_array


def _object_of(properties: "_Fields") -> Converter:
    def to_object(value: Any, failures: List[_Failure], path: str) -> Any:
        if type(value) is list:
            if not value:
                return None
            if len(value) != 1 or type(value[0]) is not dict:
                raise _Unreadable
            value = value[0]
        elif type(value) is str and not value.strip():
            return None
        elif type(value) is not dict:
            raise _Unreadable
        properties.convert(value, failures, path + ".")
        return value

    return to_object


def _convert(node: "_Node", value: Any, failures: List[_Failure], path: str) -> Any:
    try:
        return node.convert(value, failures, path)
    except _Unreadable:
        failures.append(_failure(path, node.label, value))
        return None


def _failure(path: str, declared: str, value: Any) -> _Failure:
    return _Failure(path, declared, _JSON_TYPES.get(type(value), type(value).__name__))


@dataclass(frozen=True)
class _Node:
    """A compiled schema node: how to convert a value and, for lists and objects, whether what is inside is
    already in its declared types (`clean`)."""

    label: str  # the declared type, as the warning names it
    allowed: frozenset  # the Python types of a value that needs no conversion (None included)
    convert: Converter
    clean: Optional[Callable[[Any], bool]] = None
    items_allowed: Optional[frozenset] = None  # for a list: the types of items that need no conversion


def _compile(node: Mapping[str, Any]) -> _Node:
    kind, label = declared_type(node), _type_label(node)
    allowed = frozenset(_PYTHON_TYPES[kind] + (_NONE,))
    if kind == "array":
        item = _compile(node["items"])
        if item.clean is not None:
            raise ValueError("lists of lists or of objects are not supported")
        clean = lambda value: all(map(item.allowed.__contains__, map(type, value)))  # noqa: E731
        return _Node(label, allowed, _array_of(item), clean, item.allowed)
    if kind == "object":
        properties = _Fields(node.get("properties") or {})
        return _Node(label, allowed, _object_of(properties), properties.clean)
    if kind == "string":
        if label == "date-time":  # a text is clean once it is UTC: an offset is applied (`_utc_text`)
            return _Node(label, allowed, _to_datetime_text, lambda value: type(value) is not str or _is_utc_text(value))
        return _Node(label, allowed, _to_text)
    return _Node(label, allowed, {"integer": _to_integer, "number": _to_number, "boolean": _to_boolean}[kind])


# ---------------------------------------------------------------------------------------------------------------------
# The fields of a record (or of an object within it)
# ---------------------------------------------------------------------------------------------------------------------


# Converts, in place, the values of one layout of a mapping that are not in their declared types.
Fix = Callable[[MutableMapping[str, Any], List[_Failure], str], None]
_UNKNOWN = object()
_TEXT_ITEMS = frozenset((str, _NONE))


class _Fields:
    """The declared fields of a mapping and, for each layout met (its keys, and the types of its values, in
    order), how to fix it: None for most layouts, which need nothing, else a function written for the layout
    that converts its fields of another type than declared and checks the contents of its lists and objects."""

    def __init__(self, properties: Mapping[str, Mapping[str, Any]]) -> None:
        self.nodes = {name: _compile(node) for name, node in properties.items()}
        self.layouts: Dict[tuple, Dict[tuple, Optional[Fix]]] = {}  # keys -> types of the values -> fix
        self._count = 0
        # Declared integers met as text so far (Work Analytics' `callLegCount: "1"`): whoever passes pages on as
        # sent can then expect them (`fastpath/as_sent.py`).
        self.integers_met_as_text: frozenset = frozenset()

    def fix_of(self, mapping: Mapping[str, Any]) -> Optional[Fix]:
        keys, types = tuple(mapping), tuple(map(type, mapping.values()))
        fix = self.layouts.get(keys, {}).get(types, _UNKNOWN)
        if fix is _UNKNOWN:
            fix = self._write_fix(keys, types)
            if self._count < _KNOWN_LAYOUTS:
                self._count += 1
                self.layouts.setdefault(keys, {})[types] = fix
        return fix  # type: ignore[return-value]

    def _write_fix(self, keys: tuple, types: tuple) -> Optional[Fix]:
        steps = [
            (name, node, kind)
            for name, kind in zip(keys, types)
            if kind is not _NONE and (node := self.nodes.get(name)) is not None and (kind not in node.allowed or node.clean is not None)
        ]
        if not steps:
            return None
        as_text = {name for name, node, kind in steps if node.label == "integer" and kind is str}
        if not as_text <= self.integers_met_as_text:
            self.integers_met_as_text |= as_text
        lines, names = ["def fix(r, failures, prefix):"], {"_Unreadable": _Unreadable, "_failure": _failure, "_join": "".join}
        for index, (name, node, kind) in enumerate(steps):
            names.update({f"N{index}": name, f"C{index}": node.convert, f"K{index}": node.clean, f"L{index}": node.label})
            convert = [
                "try:",
                f"    r[N{index}] = C{index}(v, failures, prefix + N{index})",
                "except _Unreadable:",
                f"    r[N{index}] = None",
                f"    failures.append(_failure(prefix + N{index}, L{index}, v))",
            ]
            lines.append(f"    v = r[N{index}]")
            if node.label == "date-time" and kind is str:  # a text: converted unless already UTC
                # `_utc_text`'s usual case inline: an hour and offset met before, valid seconds and milliseconds.
                names.update({"_utc_text": _utc_text, "_minutes": _UTC_MINUTES, "_s": _SECOND, "_ms": _MILLISECOND})
                lines += [
                    "    if v[-1:] != 'Z':",
                    "        m = _minutes.get(v[:13] + v[23:])",
                    "        m = m.get(v[13:16]) if m is not None and len(v) == 29 and v[16:19] in _s and v[19:23] in _ms else None",
                    "        if m is not None:",
                    f"            r[N{index}] = m + v[16:23] + 'Z'",
                    "        else:",
                    "            try:",
                    f"                r[N{index}] = _utc_text(v)",
                    "            except _Unreadable:",
                ]
                lines += [f"                {line}" for line in convert[3:]]
            elif kind in node.allowed and node.items_allowed == _TEXT_ITEMS:  # a list of texts, as declared: join it
                lines += ["    try:", "        _join(v)", "    except TypeError:"] + [f"        {line}" for line in convert]
            elif kind in node.allowed:  # a list or an object: converted only if something inside is not of its type
                lines += [f"    if not K{index}(v):"] + [f"        {line}" for line in convert]
            elif node.label == "integer" and kind is str:  # the usual case ("1"), without a call
                lines += ["    if v.isdigit() and v.isascii() and len(v) < 4000:", f"        r[N{index}] = int(v)", "    else:"]
                lines += [f"        {line}" for line in convert]
            else:
                lines += [f"    {line}" for line in convert]
        exec(compile("\n".join(lines), f"<fix of {', '.join(name for name, _, _ in steps)}>", "exec"), names)
        return names["fix"]

    def convert(self, mapping: MutableMapping[str, Any], failures: List[_Failure], prefix: str = "") -> None:
        """Converts, in place, the values of `mapping` that are not in their declared types."""
        fix = self.fix_of(mapping)
        if fix is not None:
            fix(mapping, failures, prefix)

    def clean(self, mapping: Mapping[str, Any]) -> bool:
        """Whether every declared field holds its declared type (lists and objects are looked into)."""
        return self.fix_of(mapping) is None or self._clean_inside(mapping)

    def _clean_inside(self, mapping: Mapping[str, Any]) -> bool:
        for name, value in mapping.items():
            node = self.nodes.get(name)
            if node is not None and value is not None and (type(value) not in node.allowed or (node.clean is not None and not node.clean(value))):
                return False
        return True


class StreamTypes:
    """The conversions of one stream, compiled once from its schema, and the count of values it could not read."""

    # Every instance that has counted a failure since it was last reported, so that the source can report them at
    # the end of a read (`failure_reports`) without reaching into the CDK's objects for the transformation that
    # holds it. A strong reference: the CDK may drop the streams of a read before the source reports.
    _with_failures: "set[StreamTypes]" = set()

    def __init__(self, stream: str, schema: Mapping[str, Any]) -> None:
        self.stream = stream
        self.schema = schema
        self._fields = _Fields(schema.get("properties") or {})
        self._lock = threading.Lock()
        self._failures: Dict[Tuple[str, str], List[Any]] = {}  # (field, declared type) -> [count, types sent]

    @property
    def integers_met_as_text(self) -> frozenset:
        """The declared integer fields of the stream's records that have been met as text (`"1"`) so far."""
        return self._fields.integers_met_as_text

    def note_integers_as_text(self, fields: frozenset) -> None:
        """Declared integer fields met as text elsewhere (in a page read as sent, `fastpath/as_sent.py`)."""
        self._fields.integers_met_as_text |= fields

    @classmethod
    def failure_reports(cls, streams: Iterable[str]) -> List[str]:
        """The `failures_report` sentences of these streams' conversions, which then start counting anew (a read
        calls it at its start too, to drop what was counted outside a read)."""
        wanted = set(streams)
        sentences: List[str] = []
        for types in list(cls._with_failures):
            if types.stream in wanted:
                sentences += types.failures_report()
                with types._lock:
                    types._failures.clear()
                cls._with_failures.discard(types)
        return sorted(set(sentences))

    @classmethod
    def of_stream(cls, stream: str) -> "StreamTypes":
        return cls(stream, json.loads((SCHEMAS / f"{stream}.json").read_text()))

    def convert(self, record: MutableMapping[str, Any]) -> List[Change]:
        """Converts one record in place; returns its changes (usually none)."""
        failures: List[_Failure] = []
        self._fields.convert(record, failures)
        return self._report(failures) if failures else []

    def convert_page(self, records: Iterable[MutableMapping[str, Any]]) -> Dict[int, List[Change]]:
        """Converts a page of records in place; returns the changes of each record that has some, by `id`."""
        fields = self._fields
        layouts, fix_of, kind, nothing = fields.layouts, fields.fix_of, type, {}
        changed: Dict[int, List[Change]] = {}
        failures: List[_Failure] = []
        for record in records:
            fix = layouts.get(tuple(record), nothing).get(tuple(map(kind, record.values())), _UNKNOWN)
            if fix is None:
                continue  # the common case: a layout known to need nothing
            if fix is _UNKNOWN:
                fix = fix_of(record)
                if fix is None:
                    continue
            fix(record, failures, "")
            if failures:
                changed[id(record)] = self._report(failures)
                failures = []
        return changed

    def _report(self, failures: List[_Failure]) -> List[Change]:
        StreamTypes._with_failures.add(self)
        with self._lock:
            for failure in failures:
                entry = self._failures.setdefault((failure.field, failure.declared), [0, set()])
                entry[0] += 1
                entry[1].add(failure.sent)
        return [{"field": failure.path, "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"} for failure in failures]

    def failures_report(self) -> List[str]:
        """One sentence per field with values that could not be converted, with their count."""
        with self._lock:
            failures = sorted(self._failures.items())
        return [
            f"{self.stream}.{field}: {count} value{'s' if count != 1 else ''} could not be read as {label} "
            f"(sent as {', '.join(sorted(sent))}) and {'were' if count != 1 else 'was'} set to null; "
            "each record says so in its meta.changes."
            for (field, label), (count, sent) in failures
        ]


# ---------------------------------------------------------------------------------------------------------------------
# The manifest's transformation
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class TypedValues(RecordTransformation):
    """Converts a record's values into the types its stream's schema declares (`StreamTypes`).

    Why not the manifest: the CDK's `schema_normalization` converts only some forms and drops a value it cannot
    convert without a trace, and no declarative transformation reports a change in `meta.changes`.

    On the fast path (`fastpath/pages.py`) the stream's pages are converted by `StreamTypes.convert_page` and
    each record's changes are written with it. On the CDK's record-by-record path this `transform` leaves the
    changes in the record under `CHANGES_KEY`, and the source moves them to the message's `meta`
    (`take_changes`).

    ```yaml
    transformations:
      - type: CustomTransformation
        class_name: source_8x8_cdr.components.conversion.TypedValues
        schema: "{{ parameters['name'] }}"
    ```
    """

    parameters: InitVar[Mapping[str, Any]]
    schema: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.types = StreamTypes.of_stream(str(interpolate(self.schema, {}, parameters)))

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        changes = self.types.convert(record)
        if changes:
            record[CHANGES_KEY] = changes


def meta_of(changes: List[Change]) -> AirbyteRecordMessageMeta:
    """Changes as the protocol's record `meta`."""
    return AirbyteRecordMessageMeta(
        changes=[
            AirbyteRecordMessageMetaChange(field=each["field"], change=ProtocolChange(each["change"]), reason=Reason(each["reason"]))
            for each in changes
        ]
    )


def take_changes(data: MutableMapping[str, Any]) -> Optional[List[Change]]:
    """The changes `TypedValues.transform` left in a record's data, removed from it."""
    return data.pop(CHANGES_KEY, None) if CHANGES_KEY in data else None
