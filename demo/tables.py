"""Aligned plain-text tables: they read the same in a terminal, a CI log and a pasted issue."""

from __future__ import annotations

import re
from typing import Sequence

Cell = object
NUMBER = re.compile(r"-?[\d,]+([.:]\d+)?%?")  # 1,200  0.1864  12.5%  10:17


def _text(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(value: Cell) -> bool:
    """Numbers, percentages, durations (m:ss) and blanks line up on the right."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and bool(NUMBER.fullmatch(value))


def render(headers: Sequence[str], rows: Sequence[Sequence[Cell]], gap: int = 2) -> list[str]:
    """Lines of a table: a header, a rule, then the rows. Numbers are right-aligned, the rest left.

    >>> render(["stream", "records"], [["call_records", 1200]])
    ['stream        records', '------------  -------', 'call_records    1,200']
    """
    texts = [[_text(cell) for cell in row] for row in rows]
    numeric = [
        any(row[i] is not None for row in rows) and all(_numeric(row[i]) for row in rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(row[i]) for row in texts]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return (" " * gap).join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(row) for row in texts)]
