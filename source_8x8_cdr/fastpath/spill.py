"""Pages that wait on disk while stdout is slow, so that no scroll expires behind a slow destination.

A Work Analytics `scrollId` lives server-side only for a while after its last use. The connector holds at
most two pages between the API and stdout (`memory.py`), so when the destination stops reading (a flush,
a full platform buffer) the workers stop too, with their scrolls open: a pause longer than a scroll lives
made the slice restart, and the same pause in the restarted slice failed the stream (issue: scrolls kept
10 s after their last use, a reader pausing 15 s every 4 MB). While stdout is slow, a worker that has waited
for a place writes its page's RECORD lines to a file instead, and reads on; the main thread reads the file
back when the page's turn comes, and removes it. Memory stays bounded (one page being written to disk, one
read back); the disk holds at most `SPILL_LIMIT_BYTES` at once, after which the workers wait as before.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Union

logger = logging.getLogger("airbyte")

SPILL_LIMIT_BYTES = 1 << 30  # 1 GiB of pages on disk at once


@dataclass(frozen=True)
class SpilledPage:
    path: Path
    size: int


class PageSpill:
    """Files of pages in one temporary directory (created at the first page, removed by `close`).

    It logs only from the main thread (`take_back`, `close`): a worker that logs while stdout is blocked waits
    for the same lock as the blocked write, and its scroll would expire.
    """

    def __init__(self, limit: int = SPILL_LIMIT_BYTES) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._directory: Optional[Path] = None
        self._on_disk = 0  # bytes of the pages not yet read back
        self._pages = 0  # pages kept during this read
        self._bytes = 0
        self._announced = False
        self._refused: Optional[str] = None  # why the disk refused a page

    def has_room(self) -> bool:
        return self._on_disk < self.limit

    def keep(self, pieces: Iterable[Union[bytes, memoryview]]) -> Optional[SpilledPage]:
        """Writes a page's lines (pieces of UTF-8) to a file of their own; None when the disk refuses (the
        page then stays in memory, and no other page goes to disk during this read)."""
        try:
            with self._lock:
                if self._directory is None:
                    self._directory = Path(tempfile.mkdtemp(prefix="source-8x8-cdr-pages-"))
                self._pages += 1
                path = self._directory / f"{self._pages}.jsonl"
            with open(path, "wb") as file:
                for piece in pieces:
                    file.write(piece)
                size = file.tell()
        except OSError as error:
            self.limit, self._refused = 0, f"{type(error).__name__}: {error.strerror}"
            return None
        with self._lock:
            self._on_disk += size
            self._bytes += size
        return SpilledPage(path, size)

    def take_back(self, page: SpilledPage) -> bytes:
        """The page's lines, read back for stdout; its file is removed."""
        if not self._announced:
            self._announced = True
            logger.info(
                "The destination is taking records slowly: the pages read meanwhile wait on disk (up to "
                f"{self.limit >> 20} MB at once), so that open scrolls go on being read and do not expire."
            )
        lines = page.path.read_bytes()
        page.path.unlink()
        with self._lock:
            self._on_disk -= page.size
        return lines

    def close(self) -> None:
        """Removes the directory (with the pages of a read that failed before writing them)."""
        with self._lock:
            directory, pages, total, refused = self._directory, self._pages, self._bytes, self._refused
            self._directory, self._on_disk, self._pages, self._bytes = None, 0, 0, 0
            self.limit, self._announced, self._refused = SPILL_LIMIT_BYTES, False, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
            logger.info(f"{pages} pages ({total / 1e6:.1f} MB of records) waited on disk while the destination was slow.")
        if refused:
            logger.warning(f"Pages could not wait on disk ({refused}); they waited in memory.")
