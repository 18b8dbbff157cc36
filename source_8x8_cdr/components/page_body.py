"""One parse per page: the body of an answer parsed once, checked once, counted once.

Why not the CDK's `JsonDecoder`: the error handler (to check the page), the extractor (for the records) and
the paginator (for the next token and the page's size) all read the same page, and the decoder would parse it
once for each of them with the standard library. The parse is kept on the response object itself, so it lives
exactly as long as the answer does, whichever thread reads it.

A page of records (`parsed_page`) is parsed in one pass: everything but its records into Python objects, and the
records as the bytes the API sent for each (`SentRecords`), checked by their first byte to be objects; they are
parsed into Python objects only when a reader asks for them (`page_records`). The error handler and the paginators never
need more, and a reader that can pass the records on as sent (`fastpath/as_sent.py`) never parses them.
"""

from __future__ import annotations

import codecs
import logging
from functools import lru_cache
from operator import itemgetter
from typing import Any, Dict, Hashable, Iterator, List, Optional, Union

import msgspec
import requests

from source_8x8_cdr.components import page_json
from source_8x8_cdr.components.paging_guard import keep_fingerprint, keep_page_identity

logger = logging.getLogger("airbyte")

_PARSED = "_source_8x8_cdr_parsed_body"
_ODD_STRINGS = "_source_8x8_cdr_odd_strings"
_PAGE_SIZE = "_source_8x8_cdr_page_size"
NOT_JSON = object()
# Bytes of records joined into one JSON list when a page's records are read a piece at a time (`json_lists`): a
# buffer below glibc's mmap threshold (128 KiB, `memory.tune_memory_allocator`) comes from memory the process has
# already touched, where a page-sized one costs a page fault every 4 KiB (about 2 µs each here: a µs per call
# record, measured with `benchmark`).
PIECE_BYTES = 64 * 1024


def parsed_body(response: requests.Response) -> Any:
    """The response body parsed once with msgspec (or, where msgspec would not read it, the standard
    library: see `page_json`) and kept on the response; `NOT_JSON` for a body that is not JSON (an HTML error
    page, a cut-off answer)."""
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        try:
            cached, response.__dict__[_ODD_STRINGS] = page_json.loads(response.content)
        except ValueError:
            cached = NOT_JSON
        response.__dict__[_PARSED] = cached
    return cached


class SentRecords(list):
    """The records of a page as the API sent them: the bytes of each (`msgspec.Raw`, one entry per record) within
    the body that holds them, checked to be objects (and `null`s, `has_nulls`), parsed only when a reader asks for
    them (`parsed`)."""

    def __init__(self, entries: list, has_nulls: bool, body: Union[bytes, bytearray], records_field: str) -> None:
        super().__init__(entries)
        self.has_nulls = has_nulls
        self._body = body
        self._read_from = id(body)  # the body the entries are in (they keep it alive, so the id stays its own)
        self._entries = _entries_decoder(records_field)

    def pieces(self) -> Iterator[bytes]:
        """The records as JSON lists of about `PIECE_BYTES` each (`json_lists`), in order."""
        return json_lists(self, sum(map(len, self)))

    def parsed(self) -> list:
        """The records as Python objects (dicts, and None for `null` entries), parsed a piece at a time."""
        records: list = []
        for piece in self.pieces():
            records += _DECODE(piece)
        return records

    def hand_over(self) -> Union[bytes, bytearray]:
        """The body the records' bytes are part of, which these records hold no more until it is given back
        (`give_back`): a reader that rewrites their bytes in place (`fastpath/as_sent.py`) needs no copy of them
        beside the body (a page is several MB, and every fresh buffer of that size costs its page faults). Until
        then the entries are the bytes of the body as it is being rewritten."""
        body, self._body = self._body, None
        return body  # type: ignore[return-value]

    def give_back(self, body: Union[bytes, bytearray]) -> None:
        """The body as the API sent it, after `hand_over`: the entries are the records as sent again (a body
        rewritten in place has been written back; a copy leaves them as they were)."""
        self._body = body

    def entries_of(self, body: Union[bytes, bytearray]) -> List[msgspec.Raw]:
        """The bytes of each record of `body`: these entries when it is the body they were read from (rewritten
        in place, every record where it was), else read from it (`entries_in`)."""
        return list(self) if id(body) == self._read_from else self.entries_in(body)

    def entries_in(self, body: Union[bytes, bytearray]) -> List[msgspec.Raw]:
        """The bytes of each record of a body like the one handed over (rewritten, say). Raises
        `msgspec.DecodeError` when the body is not JSON or holds no list there."""
        return self._entries.decode(body).records

    def identity(self) -> Hashable:
        """What identifies the page (`paging_guard`): its size and the bytes of its first and last records (at
        most 2 KiB of each)."""
        if not self:
            return (0, b"", b"")
        return (len(self), memoryview(self[0])[:2048].tobytes(), memoryview(self[-1])[-2048:].tobytes())


def records_per(size: int, records: List[Any], total_bytes: int) -> int:
    """How many of `records` (`total_bytes` in all) take about `size` bytes (at least one)."""
    return max(1, size * len(records) // max(total_bytes, 1))


def json_lists(records: List[Any], total_bytes: int) -> Iterator[bytes]:
    """`records` (the bytes of each, `total_bytes` in all) as JSON lists of about `PIECE_BYTES` each, in order: a
    page read a piece at a time, never joined whole."""
    at_once = records_per(PIECE_BYTES, records, total_bytes)
    for first in range(0, len(records), at_once):
        yield b"[%b]" % b",".join(records[first : first + at_once])


@lru_cache(maxsize=None)
def _entries_decoder(records_field: str) -> msgspec.json.Decoder:
    """The decoder of each record's bytes in a body's list of records at `records_field`."""
    return msgspec.json.Decoder(msgspec.defstruct("Records", [("records", List[msgspec.Raw], msgspec.field(name=records_field))], gc=False))


# A body's top level in one pass: each list as the bytes of its entries (a page's records as sent), every other
# value as a Python object. msgspec reads each JSON type as the standard decoder does (`_DECODE`).
_TOP_LEVEL = msgspec.json.Decoder(Dict[str, Union[None, bool, int, float, str, List[msgspec.Raw], Dict[str, Any]]])
_FIRST_BYTE = itemgetter(0)
_OBJECT, _NULL = b"{n"  # the first byte of a JSON object, and of `null` (msgspec has checked each entry is JSON)
_DECODE = msgspec.json.Decoder().decode


def parsed_page(response: requests.Response, records_field: str) -> Any:
    """`parsed_body`, for an answer whose records are the list at `records_field` of an object: that list is a
    `SentRecords` when every entry is an object or null (the page's other values are parsed as usual). A body
    that is not such an object, or that msgspec cannot read this way (a lone surrogate, text that is not UTF-8),
    is parsed whole by `parsed_body`."""
    cached = response.__dict__.get(_PARSED)
    if cached is not None or not records_field:
        return cached if cached is not None else parsed_body(response)
    content = response.content
    try:
        if not content.isascii():
            _check_utf8(content)  # msgspec checks only the strings it parses
        body = _TOP_LEVEL.decode(content)
    except (UnicodeDecodeError, msgspec.DecodeError):  # a ValidationError too: not an object
        return parsed_body(response)
    entries = body.get(records_field)
    if type(entries) is not list:  # no records, or not a list: the page is parsed whole (and refused)
        return parsed_body(response)
    kinds = set(map(_FIRST_BYTE, map(memoryview, entries)))  # each entry an object or null, by its first byte
    if not kinds <= {_OBJECT, _NULL}:
        return parsed_body(response)
    for name, value in body.items():
        if type(value) is list and name != records_field:  # another list: as Python objects
            body[name] = _DECODE(b"[%b]" % b",".join(value))
    body[records_field] = SentRecords(entries, _NULL in kinds, content, records_field)
    response.__dict__[_ODD_STRINGS] = False
    response.__dict__[_PARSED] = body
    return body


def _check_utf8(content: bytes) -> None:
    """Raises `UnicodeDecodeError` unless `content` is UTF-8, as `content.decode("utf-8")` would, without making the
    text of the whole page: a fresh buffer of several MB costs a page fault every 4 KiB (decoding a CDR page whole
    took 0.42 µs a CDR, in pieces 0.12). The pieces are decoded in order, so a character may span two of them."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    whole = memoryview(content)
    for start in range(0, len(content), _UTF8_PIECE):
        decoder.decode(whole[start : start + _UTF8_PIECE])
    decoder.decode(b"", final=True)


_UTF8_PIECE = 16 * 1024  # bytes: as text at most 64 KiB, below glibc's mmap threshold (`memory.tune_memory_allocator`)


def page_records_as_they_are(response: requests.Response, records_field: str) -> Any:
    """What the page holds at `records_field` (the whole body when empty), as it is now: records kept as sent
    (`SentRecords`) stay so."""
    body = parsed_page(response, records_field)
    return body.get(records_field) if records_field and isinstance(body, dict) else body


def records_as_sent(response: requests.Response, records_field: str) -> Optional[SentRecords]:
    """The page's records as sent, if the page kept them so (`parsed_page`) and no reader has parsed them yet."""
    records = page_records_as_they_are(response, records_field)
    return records if type(records) is SentRecords else None


def has_odd_strings(response: requests.Response) -> bool:
    """Whether the page's strings may hold lone surrogates (`page_json`), to be replaced in its records."""
    return bool(response.__dict__.get(_ODD_STRINGS))


def keep_parsed_body(response: requests.Response, body: Any) -> None:
    """Keeps `body` as the parse of `response` (a body read by other rules than strict JSON's)."""
    response.__dict__[_PARSED] = body


def page_records(response: requests.Response, records_field: str) -> Any:
    """What the page holds at `records_field` (the whole body when empty): a list of records once the error
    handler has accepted the page (records kept as sent are parsed now, once)."""
    records = page_records_as_they_are(response, records_field)
    if type(records) is SentRecords:
        parsed_page(response, records_field)[records_field] = records = records.parsed()
    return records


def records_in_page(response: requests.Response, records_field: str) -> int:
    """How many records the page held when it arrived, counted once: the paginators need the page's own size,
    not the number of records the slice filter kept (the CDK's `last_page_size`), and a reader may drop the
    parsed records once it has them. Also notes the page's fingerprint for `PagingLoopGuard`."""
    known = response.__dict__.get(_PAGE_SIZE)
    if known is None:
        records = page_records_as_they_are(response, records_field)
        known = len(records) if isinstance(records, list) else 0
        response.__dict__[_PAGE_SIZE] = known
        if type(records) is SentRecords:
            if known:
                keep_page_identity(response, records.identity())
        else:
            keep_fingerprint(response, records)
    return known


def describe_malformed_page(body: Any, records_field: str, single_object_is_record: bool = False) -> Optional[str]:
    """Why `body` is not a page of records, or None when it is one.

    With a `records_field` the page is an object holding the list there (`data`, `records`); without one
    the body itself is the list (the contact-center reference lists), or, with `single_object_is_record`, a
    single object read as one record (an empty object is no record). `null` entries are no problem:
    `skip_null_entries` drops them.
    """
    if body is NOT_JSON:
        return "a body that is not JSON (an HTML page or a cut-off answer)"
    if records_field:
        if not isinstance(body, dict):
            return f"a JSON {type(body).__name__} instead of an object"
        records = body.get(records_field)
        if not isinstance(records, list):
            return f"a JSON object without a `{records_field}` list"
    else:
        records = body
        if single_object_is_record and isinstance(records, dict) and records:
            return None
        if not isinstance(records, list):
            return "an empty JSON object instead of a list" if single_object_is_record and isinstance(records, dict) else f"a JSON {type(body).__name__} instead of a list"
    if type(records) is not SentRecords and not set(map(type, records)) <= _RECORD_OR_NULL:  # SentRecords: checked by `parsed_page`
        return "a list with entries that are not objects"
    return None


_RECORD_OR_NULL = {dict, type(None)}


def skip_null_entries(body: Any, records_field: str, api_name: str) -> None:
    """Drops the `null` entries of a page of records, with a warning: a null is no record, and failing the
    page for it would fail the same slice on every sync."""
    records = body.get(records_field) if records_field else body
    if type(records) is SentRecords:
        if not records.has_nulls:
            return
        body[records_field] = records = records.parsed()
    if isinstance(records, list) and None in records:
        records[:] = [record for record in records if record is not None]
        logger.warning(f"{api_name} sent a page with null entries among its records; they were skipped.")
