"""A member's values rewritten over a whole page at once, in place, each at the width it was sent in.

Two kinds of values travel as sent only once rewritten as the conversion (`conversion.py`) writes them:
* `in_utc`: an instant at a UTC offset (the CDRs' `"timestamp":"2024-07-31T12:43:09.000-03:00"`) becomes the
  same instant in UTC (`"2024-07-31T15:43:09.000Z"`), as every instant is written;
* `as_integers`: a declared integer sent as text (`"callLegCount":"01"`) becomes the integer (`1`).

Done per record in Python, each cost about as much as parsing the record (1.7 µs a CDR for the instants, with a
dict per hour and offset; 3.7 µs a call record for one integer, splitting and joining the page). Here the values
of a page are gathered into one array of rows (the bytes from each occurrence of the member), checked, rewritten
and written back in a few numpy operations.

A rewritten value keeps its width: what it no longer needs becomes spaces, whitespace between JSON tokens that
no JSON reader sees (`"2024-07-31T15:43:09.000Z"` and five spaces; ` 1 ` and a space for `"01"`). So the page is
rewritten in place, and given back as sent by writing its rows back (`Undo`).

Each rewrite takes only the forms the APIs send, and answers None for any other (the page is then left as it was
and takes the converting path, which handles every form):
* instants: with milliseconds, at fixed width, at an offset of less than a day; UTC text of the same width
  (`...000Z`) and `null` stay as they are. Not: no offset, microseconds, an escape, a year before 1000 or after
  9999, a date or time that does not exist.
* integers: text of up to `_LONGEST_INTEGER` digits; integers and `null` stay as they are. Not: a sign, a
  fraction, anything but digits, a space after the colon.

Why numpy: it comes with the CDK (through pandas), parses and validates ISO dates in C, and does the rest in
array operations over the page, which the standard library cannot. It is imported only by streams with values
to rewrite (12 MB and 0.13 s of start-up).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Tuple, Union

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no linear algebra here: no thread per core started at import

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

Page = Union[bytes, bytearray]
Rewritten = Optional[Tuple[Page, int, "Undo"]]  # the page, how often the member occurs, how to undo it

_QUOTE, _COLON, _PLUS, _MINUS, _Z, _SPACE, _ZERO = b'"'[0], b":"[0], b"+"[0], b"-"[0], b"Z"[0], b" "[0], b"0"[0]
_NULL = np.frombuffer(b"null", np.uint8)

# An instant's row (its opening quote at 0): the instant with milliseconds, its separators at their places and
# digits elsewhere; at an offset, then a sign, two digits, `:`, two digits and the closing quote.
_INSTANT_WIDTH = 31  # `"2024-07-31T12:43:09.000-03:00"`
_INSTANT = slice(1, 24)
_DIGITS = [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 23]
_SEPARATORS = [0, 5, 8, 11, 14, 17, 20]
_SEPARATOR_BYTES = np.frombuffer(b'"--T::.', np.uint8)
_SIGN, _OFFSET_HOURS, _OFFSET_MINUTES, _OFFSET_SEPARATORS = 24, [25, 26], [28, 29], [27, 30]
# Where the UTC text's two-digit numbers go: century, year of the century, month, day, hour, minute.
_TWO_DIGIT_NUMBERS = [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16]
_TWO_DIGITS = np.array([list(b"%02d" % number) for number in range(100)], np.uint8)  # `07` for 7
_FIRST, _END = np.datetime64("1000-01-01", "ms"), np.datetime64("10000-01-01", "ms")  # the years of four digits

_SEARCH_BYTES = 256 * 1024  # of a page whose words are compared at once: an answer of 64 KiB per alignment

_LONGEST_INTEGER = 40  # digits: an integer's row is its text with both quotes
_INTEGER_WIDTH = _LONGEST_INTEGER + 2


@dataclass(frozen=True)
class Undo:
    """What a rewrite changed: the rows it rewrote (at `positions` in the page), as they were sent."""

    positions: np.ndarray
    rows: np.ndarray

    def undo(self, page: bytearray) -> None:
        """Writes the rows back: the page is as it was before the rewrite."""
        _put(np.frombuffer(page, np.uint8), self.positions, self.rows)


def in_utc(page: Page, member: bytes) -> Rewritten:
    """The page with each value of `member` (`b'"timestamp":'`, which it must directly precede) at an offset
    written in UTC; None when a value is not one of the forms this rewrite takes (see the module docstring)."""
    positions, rows = _values(page, member, _INSTANT_WIDTH)
    nulls = (rows[:, :4] == _NULL).all(axis=1)
    at_offset = (rows[:, _SIGN] == _PLUS) | (rows[:, _SIGN] == _MINUS)
    if not (nulls | at_offset | ((rows[:, _SIGN] == _Z) & (rows[:, _SIGN + 1] == _QUOTE))).all():
        return None
    instants = _instants(rows[~nulls])
    if instants is None:
        return None
    utc = _in_utc(rows[at_offset], instants[at_offset[~nulls]])
    return None if utc is None else _written(page, positions, at_offset, rows, utc)


def as_integers(page: Page, member: bytes) -> Rewritten:
    """The page with each value of `member` (`b'"callLegCount":'`) that is text of digits written as the integer;
    None when a value is not one of the forms this rewrite takes (see the module docstring)."""
    positions, rows = _values(page, member, _INTEGER_WIDTH)
    as_text = rows[:, 0] == _QUOTE
    if not (as_text | (rows[:, 0] - _ZERO <= 9) | (rows[:, :4] == _NULL).all(axis=1)).all():
        return None
    texts = rows[as_text]
    quotes = texts[:, 1:] == _QUOTE
    ends = quotes.argmax(axis=1) + 1  # each text's closing quote
    columns = np.arange(_INTEGER_WIDTH)
    inside = (columns >= 1) & (columns < ends[:, None])
    if not (quotes.any(axis=1).all() and (ends > 1).all() and ((texts - _ZERO <= 9) | ~inside).all()):
        return None
    integers = texts.copy()
    # the leading zeros (all but the last digit) and both quotes become spaces: `"007"` -> `   7 `
    leading = np.logical_and.accumulate((texts[:, 1:] == _ZERO) & (columns[1:] < ends[:, None] - 1), axis=1)
    integers[:, 1:][leading] = _SPACE
    integers[:, 0] = integers[np.arange(len(integers)), ends] = _SPACE
    return _written(page, positions, as_text, rows, integers)


def _values(page: Page, member: bytes, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Where each value of `member` begins in the page, and its row: the `width` bytes from there (zeros past the
    page's end)."""
    sent = np.frombuffer(page, np.uint8)
    positions = _member_ends(sent, member)
    if len(sent) < width:
        sent = np.concatenate((sent, np.zeros(width, np.uint8)))
    last = len(sent) - width
    rows = _rows_of(sent, width)[np.minimum(positions, last)]
    for row in np.flatnonzero(positions > last):  # the page's last value or two: its end within the row
        tail = sent[positions[row] :]
        rows[row] = np.concatenate((tail, np.zeros(width - len(tail), np.uint8)))
    return positions, rows


def _member_ends(page: np.ndarray, member: bytes) -> np.ndarray:
    """Where each occurrence of `member` ends, in order: its last four bytes found as one 32-bit word at each of
    the four alignments, then the whole member checked.

    The words are compared `_SEARCH_BYTES` of the page at a time: each comparison's answer (a byte a word) then
    stays below glibc's mmap threshold (`memory.tune_memory_allocator`), in memory already in use, where an
    answer for the whole page would be a fresh buffer for each alignment, with a page fault every 4 KiB (a
    quarter of a CDR read's page faults)."""
    if len(page) < len(member) + 4:
        return np.empty(0, np.int64)
    word = np.frombuffer(member[-4:], np.uint32)[0]
    found = []
    for block in range(0, len(page) - 3, _SEARCH_BYTES):
        for start in range(block, block + 4):
            words = min(_SEARCH_BYTES, len(page) - start) // 4  # those of this alignment that begin in this block
            found.append(np.flatnonzero(np.frombuffer(page, np.uint32, count=words, offset=start) == word) * 4 + (start + 4))
    ends = np.sort(np.concatenate(found))
    ends = ends[ends >= len(member)]
    whole = sliding_window_view(page, len(member))[ends - len(member)] == np.frombuffer(member, np.uint8)
    return ends[whole.all(axis=1)]


def _rows_of(page: np.ndarray, width: int) -> np.ndarray:
    return sliding_window_view(page, width, writeable=page.flags.writeable)


def _written(page: Page, positions: np.ndarray, rewritten: np.ndarray, rows: np.ndarray, new_rows: np.ndarray) -> Rewritten:
    """The page with the `rewritten` rows (a mask of `rows`) replaced by `new_rows` (a `bytes` page is copied
    first; a `bytearray` is rewritten in place)."""
    at = positions[rewritten]
    if len(at):
        page = bytearray(page) if isinstance(page, bytes) else page
        _put(np.frombuffer(page, np.uint8), at, new_rows)
    return page, len(positions), Undo(at, rows[rewritten])


def _put(page: np.ndarray, positions: np.ndarray, rows: np.ndarray) -> None:
    """Writes each row at its position in the page (a row past the page's end: only what lies within it)."""
    width = rows.shape[1]
    within = positions <= len(page) - width
    if within.any():
        _rows_of(page, width)[positions[within]] = rows[within]
    for position, row in zip(positions[~within], rows[~within]):  # the page's last value or two
        page[position:] = row[: len(page) - position]


def _instants(rows: np.ndarray) -> Optional[np.ndarray]:
    """The instant each row's text writes (as written, without its offset); None unless each row holds an instant
    that exists, with milliseconds, from the year 1000, followed by `Z"` or by an offset of less than a day."""
    if not ((rows[:, _DIGITS] - _ZERO <= 9).all() and (rows[:, _SEPARATORS] == _SEPARATOR_BYTES).all()):
        return None  # (as bytes, anything but a digit minus `0` is above 9)
    offsets = rows[rows[:, _SIGN] != _Z]
    if not ((offsets[:, _OFFSET_HOURS + _OFFSET_MINUTES] - _ZERO <= 9).all() and (offsets[:, _OFFSET_SEPARATORS] == (_COLON, _QUOTE)).all()):
        return None
    if not ((_two_digits(offsets, _OFFSET_HOURS) <= 23).all() and (_two_digits(offsets, _OFFSET_MINUTES) <= 59).all()):
        return None
    try:
        instants = np.ascontiguousarray(rows[:, _INSTANT]).view("S23").ravel().astype("M8[ms]")
    except ValueError:  # numpy's ISO parser refuses a month, day, hour, minute or second out of range
        return None
    return instants if (instants >= _FIRST).all() else None


def _in_utc(rows: np.ndarray, instants: np.ndarray) -> Optional[np.ndarray]:
    """The rows (instants at an offset, `instants` as written) as UTC text: `"...T15:43:09.000Z"` and five spaces;
    None when one falls outside the years of four digits. The seconds and milliseconds stay as they are."""
    east = np.where(rows[:, _SIGN] == _PLUS, 1, -1)
    utc = instants - (east * (_two_digits(rows, _OFFSET_HOURS) * 60 + _two_digits(rows, _OFFSET_MINUTES))).astype("m8[m]")
    if not ((utc >= _FIRST) & (utc < _END)).all():
        return None
    days, month_starts = utc.astype("M8[D]"), utc.astype("M8[M]")
    months = month_starts.astype(np.int64)  # since 1970-01
    years = months // 12 + 1970
    minutes = (utc - days).astype("m8[m]").astype(np.int64)
    numbers = np.stack((years // 100, years % 100, months % 12 + 1, (days - month_starts).astype(np.int64) + 1, minutes // 60, minutes % 60), axis=1)
    text = rows.copy()
    text[:, _TWO_DIGIT_NUMBERS] = _TWO_DIGITS[numbers].reshape(len(rows), len(_TWO_DIGIT_NUMBERS))
    text[:, _SIGN], text[:, _SIGN + 1], text[:, _SIGN + 2 :] = _Z, _QUOTE, _SPACE
    return text


def _two_digits(rows: np.ndarray, columns: list) -> np.ndarray:
    """The two-digit number written at `columns` of each row."""
    return (rows[:, columns[0]].astype(np.int64) - _ZERO) * 10 + rows[:, columns[1]] - _ZERO
