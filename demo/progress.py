"""What the demo shows while PyAirbyte syncs: a status line, and a line per stream as it completes.

PyAirbyte's own progress is a Rich live view (a Markdown panel redrawn in place) in a terminal, and
nothing at all otherwise: a CI log would show no progress until the sync ended. `SyncProgress` is
PyAirbyte's tracker with the display replaced; the counting is PyAirbyte's. On a terminal the status
line is redrawn in place; elsewhere (a pipe, a CI log, `TERM=dumb`) it is printed every few seconds.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any, Callable, Optional, TextIO

from airbyte.progress import ProgressStyle, ProgressTracker


def is_live(stream: TextIO) -> bool:
    """True when `stream` is a terminal that can redraw a line (not a CI log, not `TERM=dumb`)."""
    interactive = hasattr(stream, "isatty") and stream.isatty()
    return interactive and os.environ.get("TERM", "") != "dumb" and not os.environ.get("CI")


class StatusLine:
    """One status line: redrawn in place (at most 5 times a second) when live, else printed every `period` s."""

    def __init__(self, stream: TextIO, redact: Callable[[str], str], live: bool, period: float = 5.0) -> None:
        self._stream, self._redact, self._live, self._period = stream, redact, live, period
        self._last_shown: Optional[float] = None
        self._last_text = ""
        self._drawn = False

    def show(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        interval = 0.2 if self._live else self._period
        if not force and self._last_shown is not None and now - self._last_shown < interval:
            return
        if text == self._last_text and not self._live:
            return  # a log gains nothing from the same line twice
        self._last_shown, self._last_text = now, text
        if self._live:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self._write("\r\x1b[K" + self._redact(text)[:width])
            self._drawn = True
        else:
            self._write(self._redact(text) + "\n")

    def event(self, text: str) -> None:
        """A permanent line (a stream finished); the status line is redrawn below it later."""
        self.clear()
        self._write(self._redact(text) + "\n")
        self._last_text = ""

    def clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[K")
            self._drawn = False

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


class SyncProgress(ProgressTracker):
    """PyAirbyte's `ProgressTracker`, shown through a `StatusLine` instead of Rich.

    Overrides the two display hooks only: `_update_display` (called as records arrive and as streams
    are written to DuckDB) and `_log_stream_read_end` (a stream's COMPLETE status).
    """

    def __init__(self, *args: Any, status: StatusLine, expected_streams_count: int, **kwargs: Any) -> None:
        self._status = status
        self._expected = expected_streams_count
        kwargs["style"] = ProgressStyle.NONE
        super().__init__(*args, **kwargs)

    # -- the display ---------------------------------------------------------------------------------------

    def _update_display(self, *, force_refresh: bool = False) -> None:
        self._status.show(self.status_text())
        self._last_update_time = time.time()

    def _log_stream_read_end(self, stream_name: str) -> None:
        super()._log_stream_read_end(stream_name)
        seconds = self.stream_read_end_times[stream_name] - self.read_start_time
        count = self.stream_read_counts.get(stream_name, 0)
        self._status.event(f"  {stream_name:<30} {count:>9,} records, complete after {seconds:5.1f} s")

    def status_text(self) -> str:
        done = len(self.stream_read_end_times)
        if self.finalize_start_time is not None:
            written = len(self.finalized_stream_names)
            return f"  ... writing to DuckDB: {written} of {self._expected} streams stored"
        if not self.total_records_read:
            return "  ... starting the connector"
        seconds = self.elapsed_read_seconds
        rate = f" ({self.total_records_read / seconds:,.0f}/s)" if seconds >= 1 else ""
        records = f"{self.total_records_read:,} record" + ("s" if self.total_records_read != 1 else "")
        return f"  ... reading: {records}{rate}, {done} of {self._expected} streams complete"

    # -- timings for the report -------------------------------------------------------------------------------

    @property
    def reading_seconds(self) -> float:
        end = self.finalize_start_time or self.read_end_time or time.time()
        return end - self.read_start_time

    @property
    def writing_seconds(self) -> float:
        return self.elapsed_finalization_seconds

    def finish(self) -> None:
        self._status.clear()


class TrackerFactory:
    """Builds the tracker PyAirbyte asks for, and keeps it so its counts can be read afterwards."""

    def __init__(self, status: StatusLine, expected_streams_count: int) -> None:
        self._status, self._expected = status, expected_streams_count
        self.tracker: Optional[SyncProgress] = None

    def __call__(self, *args: Any, **kwargs: Any) -> SyncProgress:
        self.tracker = SyncProgress(*args, status=self._status, expected_streams_count=self._expected, **kwargs)
        return self.tracker
