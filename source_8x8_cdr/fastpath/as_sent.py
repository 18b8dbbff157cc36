"""Pages whose records are already in their schema's types travel as the API sent them.

Parsing every field of every record into Python objects, converting them (`conversion.py`) and writing them
back as JSON is most of what the connector spends per record (`benchmark/README.md`). Most pages need none of
it: their values already have the declared types. `AsSentReader` finds that out for a whole page in C and then
writes each record's own bytes into its RECORD message.

The check runs in one of two forms, which decide alike and which the tests run side by side:
* `record_scan.c`, built at install where a C compiler is found (setup.py): one pass over each record's bytes
  checks each declared value by its first bytes, rewrites the values below in place once every record has
  passed, and makes Python objects of the cursor and the key only: a quarter of the time of the form below on
  a page of CDRs (`benchmark/README.md`). Reading member by member, it also takes what the
  page-wide search below cannot place (a space around the colon, the member in an object the schema does not
  declare or outside the records), and leaves a few more forms to the converting path (an escaped member name,
  a declared member twice, an exponent of three digits, an escaped cursor or key).
* msgspec and numpy, where it was not built, as follows.

* The page's records arrive as sent (`page_body.SentRecords`: the bytes of each, checked to be objects).
  They hand over the API's body that holds them, to be rewritten: the only copy of the page is the one being
  rewritten, and what each rewrite changed (`rewrites.Undo`: the rewritten values as sent) is enough to give the
  records their bytes as sent back when the page must take the converting path.
* msgspec decodes the page into a struct per record compiled from the stream's schema (`checking_type`),
  `page_body.PIECE_BYTES` of records at a time: each declared field in its declared type or null, members the schema
  does not declare skipped (they travel as sent). The decode refuses any other type: then the page takes the
  converting path (`PagedPartition`), which converts and reports as `TypedValues` does.
* Two kinds of values are rewritten in the page's bytes first, as the conversion writes them, each over the whole
  page at once and at the width it was sent in (`rewrites.py`):
  * a `date-time` at the top level with a UTC offset becomes the same instant in UTC (`"...T12:43:09.000-03:00"`
    becomes `"...T15:43:09.000Z"` and five spaces);
  * a declared integer the API has sent as text (`callLegCount: "1"`) becomes the integer (` 1 `), once that field
    has been met as text (`StreamTypes.integers_met_as_text`: by the conversion, or in a page refused without the
    rewrite, which is then read again with it): only those fields are rewritten.

  The member is found by its exact text (`"timestamp":`) in the whole body. The decode then proves the rewrite:
  the rewritten members must hold UTC text and integers, and each must occur once per record that has it (a member
  spelled with spaces around its colon, or the same member in a nested object or outside the records, sends the
  page to the converting path, as does a time without an offset, text that is not an instant or an integer, a
  page with a line break (a RECORD message is one line), or a `null` entry).
* The records' bytes (`msgspec.Raw` each, read when the page was parsed: `SentRecords.entries_of`) are where the
  rewrites left them, as each value kept its width; the slice filter keeps records by their cursors and keys
  (`ExactlyOnceSliceFilter.owned`), and the kept bytes are joined into the page's RECORD lines as they are
  written, in pieces of `PIECE_BYTES` (`SentLines`).

A page is never copied whole: the body is read into a `bytearray` (`memory.read_whole_body`) that the rewrites
change in place, and its records' bytes wait there until they are written. A fresh buffer of several MB is mapped
for itself and costs a page fault every 4 KiB (about 2 µs each on the benchmark's machine), where the other
buffers, of `PIECE_BYTES` at most, come from memory already in use.

What differs from the converting path: nothing a JSON reader sees. The bytes keep the API's member order and
spelling (`1.50` stays `1.50`, escapes stay escaped), and a rewritten value the spaces that keep its width; a
member the API sent twice stays twice (JSON readers take the last one, as the converting path does).

Why not the manifest: this is how the fast path moves a page (`pages.py`), not a declarative step; the CDK's
record path needs each record as a Python mapping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import msgspec
import orjson

from source_8x8_cdr.components.conversion import StreamTypes, declared_type
from source_8x8_cdr.components.filtering import seen_form
from source_8x8_cdr.components.page_body import PIECE_BYTES, SentRecords, json_lists, records_per
from source_8x8_cdr.components.page_json import record_message_ends

try:  # built where a C compiler was found at install (setup.py); else the check below in msgspec and numpy
    from source_8x8_cdr.fastpath import record_scan
except ImportError:  # pragma: no cover - a build without a compiler
    record_scan = None

if TYPE_CHECKING:
    from source_8x8_cdr.fastpath.rewrites import Page, Rewritten, Undo

_SCALARS = {"string": str, "integer": int, "number": float, "boolean": bool}
# The kinds of declared values in `record_scan`'s plan (record_scan.c).
_SCAN_KINDS = {"string": 1, "integer": 2, "number": 3, "boolean": 4, "object": 5, "array": 6}
_SCAN_INSTANT, _SCAN_UTC_TEXT, _SCAN_INTEGER_TEXT = 7, 8, 9
_UTC_TEXT = Annotated[str, msgspec.Meta(pattern="Z$")]  # a nested instant, which is not rewritten


def _kind_of(node: Mapping[str, Any], top: bool) -> str:
    """A declared member's kind for the checks: its JSON type, or `instant` for a `date-time` at the top level
    (rewritten in UTC) and `utc_text` for a nested one (which must be UTC text already)."""
    kind = declared_type(node)
    if kind == "string" and node.get("format") == "date-time":
        return "instant" if top else "utc_text"
    return kind


def checking_type(
    properties: Mapping[str, Mapping[str, Any]], name: str, rewritten: frozenset = frozenset(), top: bool = True
) -> type:
    """The msgspec struct that decodes a record only when its declared fields hold their declared types (or null).

    A nested `date-time` must be UTC text (`...Z`); the top-level ones have been rewritten. A member in `rewritten`
    reads as `msgspec.UNSET` when absent (and None when null), so that its occurrences can be counted. A `number`
    may be any JSON number (msgspec reads an integer as a float here; the bytes are what travel).
    """
    fields = []
    for position, (field, node) in enumerate(properties.items()):
        kind = _kind_of(node, top)
        if kind == "object":
            value: Any = checking_type(node.get("properties") or {}, f"{name}_{position}", top=False)
        elif kind == "array":
            item = node.get("items") or {}
            value = List[Optional[_SCALARS[declared_type(item)]]]  # type: ignore[misc]  # `conversion` has only lists of scalars
        elif kind == "utc_text":
            value = _UTC_TEXT
        else:
            value = _SCALARS["string" if kind == "instant" else kind]
        if top and field in rewritten:
            fields.append((f"f{position}", Union[value, None, msgspec.UnsetType], msgspec.field(default=msgspec.UNSET, name=field)))
        else:
            fields.append((f"f{position}", Optional[value], msgspec.field(default=None, name=field)))
    return msgspec.defstruct(name, fields, gc=False)  # decoded values form no reference cycles: untracked


def scan_members(properties: Mapping[str, Mapping[str, Any]], integers_as_text: frozenset = frozenset(), top: bool = True) -> tuple:
    """What `record_scan.plan` takes: each declared member's name as sent, its kind, and the nested members of
    an object or the item kind of an array; the same types as `checking_type`, and the same rewrites as
    `AsSentReader._reading_for` (the instants at the top level, the integers met as text)."""
    members = []
    for field, node in properties.items():
        kind = _kind_of(node, top)
        detail: Any = None
        if kind == "object":
            code, detail = _SCAN_KINDS[kind], scan_members(node.get("properties") or {}, top=False)
        elif kind == "array":
            code, detail = _SCAN_KINDS[kind], _SCAN_KINDS[declared_type(node.get("items") or {})]
        elif kind in ("instant", "utc_text"):
            code = _SCAN_INSTANT if kind == "instant" else _SCAN_UTC_TEXT
        elif top and field in integers_as_text:
            code = _SCAN_INTEGER_TEXT
        else:
            code = _SCAN_KINDS[kind]
        members.append((field.encode(), code, detail))
    return tuple(members)


@dataclass(frozen=True)
class _Rewrite:
    attribute: str  # of the checking struct
    member: bytes  # `"timestamp":`
    rewrite: Callable[[Page, bytes], "Rewritten"]  # `rewrites.in_utc` or `rewrites.as_integers`


_Done = Tuple[_Rewrite, "Undo", int]  # a rewrite made, what it changed, and how often its member occurs


def _rewritten(records: SentRecords, rewrites: Tuple[_Rewrite, ...], done: List[_Done]) -> Optional[Page]:
    """The bytes of the page's records (handed over by `records`) with `rewrites` made, each noted in `done`; None,
    the records holding their bytes as sent again, when the page has a line break or a value cannot be rewritten.

    The rewrites change the page in place (a body read as `bytes`, not by the fast path's adapter, is copied once
    first): what they changed is enough to give the page back as sent, so no copy of it is kept beside."""
    page: Page = records.hand_over()  # the whole body: a member outside the records is counted too
    if b"\n" in page or b"\r" in page:
        records.give_back(page)
        return None
    for rewrite in rewrites:
        made = rewrite.rewrite(page, rewrite.member)
        if made is None:
            records.give_back(_as_sent(page, done))
            return None
        page, count, undo = made
        done.append((rewrite, undo, count))
    return page


def _as_sent(page: Page, done: List[_Done]) -> Page:
    """The page as the API sent it, from `page` with the rewrites `done`."""
    for _, undo, _ in reversed(done):
        undo.undo(page)  # type: ignore[arg-type]  # a page rewritten in place is a `bytearray`
    return page


@dataclass(frozen=True)
class _Reading:
    """What reads a page, for the integers met as text so far."""

    # The check in C (`record_scan`'s plan), where it was built; else the checking structs' decoder and the
    # rewrites in numpy.
    scan_plan: Any
    decoder: Optional[msgspec.json.Decoder]
    rewrites: Tuple[_Rewrite, ...]
    integers_as_text: frozenset
    # The other declared integers (checking struct attribute -> field), and a decoder of only them, any type each
    # (None when there are none): what a refused page is probed for (`AsSentReader._notes_integers_as_text`).
    unlearned: Dict[str, str]
    integers_probe: Optional[msgspec.json.Decoder]


@dataclass
class AsSentPage:
    """A page's records as they will be written (`msgspec.Raw` each), with their cursors (UTC) and keys (in the
    form the slice filter keeps them, `filtering.seen_form`)."""

    records: List[Any]
    cursors: List[Any]
    keys: List[Any]


class AsSentReader:
    """Reads a stream's pages of records as sent, where their values allow it (see the module docstring)."""

    def __init__(self, types: StreamTypes, cursor_field: str, primary_key: str) -> None:
        self._types = types
        self._properties: Dict[str, Mapping[str, Any]] = types.schema.get("properties") or {}
        names = list(self._properties)
        self._cursor_at, self._key_at = names.index(cursor_field), names.index(primary_key)
        self._cursor = attrgetter(f"f{self._cursor_at}")
        self._key = attrgetter(f"f{self._key_at}")
        self._reading = self._reading_for(frozenset())

    @classmethod
    def of(cls, types: Optional[StreamTypes], cursor_field: str, primary_key: str) -> Optional["AsSentReader"]:
        """The reader for a stream whose schema declares its cursor and key, else None."""
        properties = (types.schema.get("properties") or {}) if types is not None else {}
        if types is None or cursor_field not in properties or primary_key not in properties:
            return None
        return cls(types, cursor_field, primary_key)

    def read(self, records: SentRecords) -> Optional[AsSentPage]:
        """The page as sent, with its rewrites; None when it must take the converting path (the records then
        hold their bytes as the API sent them again)."""
        if records.has_nulls:
            return None
        read = self._read(records, self._current_reading())
        if read is None and self._notes_integers_as_text(records):
            read = self._read(records, self._current_reading())
        return read

    def _read(self, records: SentRecords, reading: _Reading) -> Optional[AsSentPage]:
        if reading.scan_plan is not None:
            return self._scanned(records, reading.scan_plan)
        done: List[_Done] = []
        page = _rewritten(records, reading.rewrites, done)
        if page is None:
            return None
        occurrences = [(rewrite.attribute, count) for rewrite, _, count in done]
        read = self._checked(records, page, reading.decoder, occurrences)  # type: ignore[arg-type]  # no plan: a decoder
        if read is None:
            records.give_back(_as_sent(page, done))
        return read

    def _scanned(self, records: SentRecords, plan: Any) -> Optional[AsSentPage]:
        """`_read` in C: one pass over each record checks its values and rewrites them in place (record_scan.c)."""
        page = records.hand_over()
        if type(page) is not bytearray:  # a body not read by the fast path's adapter: copied once, to be rewritten
            page = bytearray(page)
        entries = records.entries_of(page)
        scanned = record_scan.scan(page, entries, plan)
        if scanned is None:  # the page is as it was sent: nothing is written unless every record passes
            records.give_back(page)
            return None
        cursors, keys = scanned
        return AsSentPage(entries, cursors, keys)

    def _notes_integers_as_text(self, records: SentRecords) -> bool:
        """Whether a refused page (its records as sent) holds declared integers as text that its reading did not
        rewrite. They are noted in the stream's types, as the conversion notes those it meets, so that this page
        and the next are read with them rewritten. Otherwise the first pages of a read, which arrive together
        before any conversion has met them, would all take the converting path."""
        reading = self._reading
        if reading.integers_probe is None:
            return False
        as_text = set()
        try:
            for piece in records.pieces():
                found = reading.integers_probe.decode(piece)
                as_text.update(field for name, field in reading.unlearned.items() if str in set(map(type, map(attrgetter(name), found))))
        except msgspec.DecodeError:
            return False
        if as_text:
            self._types.note_integers_as_text(frozenset(as_text))
        return bool(as_text)

    def _checked(
        self, records: SentRecords, page: Page, decoder: msgspec.json.Decoder, occurrences: List[Tuple[str, int]]
    ) -> Optional[AsSentPage]:
        """The records of the rewritten page with their cursors and keys, when each has its declared types and
        the rewritten members occur once per record that has them. Checked a piece at a time (`json_lists`): the
        checking structs hold every declared value (about twice the record's bytes), so a whole page of them would
        outweigh the page itself."""
        try:
            entries = records.entries_of(page)
        except msgspec.DecodeError:  # not JSON after a rewrite: the member was not where it seemed
            return None
        cursors: List[Any] = []
        keys: List[Any] = []
        for piece in json_lists(entries, len(page)):
            try:
                checked = decoder.decode(piece)
            except msgspec.DecodeError:  # a value of another type than declared (msgspec's ValidationError)
                return None
            for position, (attribute, count) in enumerate(occurrences):
                values = list(map(attrgetter(attribute), checked))
                occurrences[position] = (attribute, count - len(values) + values.count(msgspec.UNSET))
            cursors += map(self._cursor, checked)
            keys += map(self._key, checked)
            del checked
        if any(count for _, count in occurrences):
            return None  # a rewritten member also occurs elsewhere, or is spelled otherwise in some record
        return AsSentPage(entries, _absent_as_none(cursors), list(map(seen_form, _absent_as_none(keys))))

    def _current_reading(self) -> _Reading:
        learned = self._types.integers_met_as_text
        reading = self._reading
        if learned != reading.integers_as_text:
            self._reading = reading = self._reading_for(learned)
        return reading

    def _reading_for(self, integers_as_text: frozenset) -> _Reading:
        unlearned = {
            f"f{position}": field
            for position, (field, node) in enumerate(self._properties.items())
            if declared_type(node) == "integer" and field not in integers_as_text
        }
        probe = None
        if unlearned:
            fields = [(name, Any, msgspec.field(default=None, name=field)) for name, field in unlearned.items()]
            probe = msgspec.json.Decoder(List[msgspec.defstruct("Integers", fields, gc=False)])  # type: ignore[misc]
        plan = self._scan_plan(integers_as_text)
        if plan is not None:
            return _Reading(plan, None, (), integers_as_text, unlearned, probe)
        rewrites, rewritten = [], set()
        for position, (field, node) in enumerate(self._properties.items()):
            is_instant = _kind_of(node, top=True) == "instant"
            if field in integers_as_text or is_instant:
                # numpy (12 MB, 0.13 s at import) only for the streams with values to rewrite
                from source_8x8_cdr.fastpath.rewrites import as_integers, in_utc

                rewrites.append(_Rewrite(f"f{position}", orjson.dumps(field) + b":", in_utc if is_instant else as_integers))
                rewritten.add(field)
        record = checking_type(self._properties, "Checked", frozenset(rewritten))
        return _Reading(None, msgspec.json.Decoder(List[record]), tuple(rewrites), integers_as_text, unlearned, probe)

    def _scan_plan(self, integers_as_text: frozenset) -> Any:
        """The plan of the check in C (`record_scan`), None where it was not built or does not take the schema
        (more than 256 members, a member name JSON escapes)."""
        if record_scan is None:
            return None
        try:
            return record_scan.plan(scan_members(self._properties, integers_as_text), self._cursor_at, self._key_at)
        except ValueError:
            return None


def _absent_as_none(values: List[Any]) -> List[Any]:
    """A rewritten member that a record lacks reads as `msgspec.UNSET` (to be counted): None, as any absent value."""
    return [None if value is msgspec.UNSET else value for value in values] if msgspec.UNSET in values else values


class SentLines:
    """A page's RECORD messages as JSON lines (UTF-8, no final newline) around each record's bytes, made in pieces
    of about `PIECE_BYTES` as they are written (`__iter__`, once per page: to stdout, or to disk).

    Made when written, not when read: until then the page holds only its records' bytes (the page's buffer), not
    those and a copy of them in its lines. Each record's `emitted_at` is the time its page was read."""

    __slots__ = ("_records", "_start", "_end")

    def __init__(self, records: List[Any], stream: str) -> None:
        self._records = records
        self._start, self._end = record_message_ends(stream, time.time_ns() // 1_000_000)

    def __iter__(self) -> Iterator[bytes]:
        records, start, end = self._records, self._start, self._end
        between = end + b"\n" + start
        at_once = records_per(PIECE_BYTES, records, sum(map(len, records)))
        yield start
        for first in range(0, len(records), at_once):
            if first:
                yield between
            yield between.join(records[first : first + at_once])
        yield end
