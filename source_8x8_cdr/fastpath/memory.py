"""Memory of a read: a bound on the pages held between the API and stdout, and allocator settings that
give freed pages back.

Why not the manifest: the CDK bounds the slices read at once (`concurrency_level`), not what each of them
holds. Each worker would hold a whole page (up to 10 MB of JSON, about three times that parsed) from the
moment its answer arrives until the main thread has written it, so peak memory followed the concurrency:
140 MB with one worker and 230-300 MB with ten, at the same throughput (`benchmark/README.md`).
"""

from __future__ import annotations

import ctypes
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ContentDecodingError
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import SSLError as RequestsSSLError
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from source_8x8_cdr.fastpath.spill import PageSpill, SpilledPage


class PagesInMemory:
    """At most `limit` pages of records in memory at once during a read: being received, parsed, or
    written as JSON and waiting for stdout.

    A parsed page takes about three times the memory of its JSON, and with ten workers all of them could
    hold one at the same moment, then wait with it for the main thread: peak memory would follow the
    concurrency, the timing and the destination's speed. Receiving a page on localhost, parsing it and
    writing it as JSON is CPU work under the GIL, which gains nothing from more than a page or two at once;
    only the requests, which do not count here, need the concurrency.

    A worker takes a place once an answer's headers have arrived and before its body is read
    (`PlaceFirstAdapter`; the error handler takes it too when another transport was used); the page keeps
    it until the main thread has written it (`pages.py`), and a rejected or empty page gives it back at
    once. Places are only taken by workers reading pages (`PagedPartition`) during a concurrent read
    (`reading`), the only time there is a main thread that gives them back.

    While stdout is slow (the destination has been taking one message for `SLOW_STDOUT_SECONDS`, or took
    that long for the last one), a worker that has waited `SPILL_AFTER_SECONDS` for a place takes the spill place
    instead: its page goes to disk (`spill.py`) and it reads on, so that its scroll does not expire. One page
    at a time is written to disk, and the main thread reads one back when its turn comes: with a slow
    destination, at most two more pages are in memory. A worker that waits because others are parsing (the
    CPU, not stdout, is what holds the places) does not spill.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._taken = 0
        self._reading = False
        self._slices_waiting = 0  # workers waiting for a place for a slice they have begun
        self._changed = threading.Condition()
        self._worker = threading.local()
        self.spill = PageSpill()
        self._spilling = False  # the spill place is taken
        self._stdout_since: Optional[float] = None  # when stdout began taking the message it is taking
        self._last_write = 0.0  # seconds stdout took for the last message

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            self._reading, self._taken, self._slices_waiting = True, 0, 0
            self._spilling, self._stdout_since, self._last_write = False, None, 0.0
        try:
            yield
        finally:
            with self._changed:
                self._reading = False  # a worker still waiting (the read failed) is let go
                self._changed.notify_all()
            self.spill.close()

    @contextmanager
    def reading_pages(self) -> Iterator[None]:
        """The calling thread reads the pages of one slice: `take` applies to it."""
        worker = self._worker
        worker.reading_pages, worker.begun = True, False
        try:
            yield
        finally:
            worker.reading_pages = worker.begun = False
            self.give_back()

    def take(self, timeout: Optional[float] = None) -> None:
        """A place for the page this thread is about to receive, once one is free (at most one a thread), or
        the spill place while stdout is slow; after `timeout` seconds, none.

        A slice whose pages have begun to be passed on goes first: slices then end sooner, so the state
        advances during the read, and fewer are half read at once (each keeps the keys it has emitted).
        """
        worker = self._worker
        if not getattr(worker, "reading_pages", False) or getattr(worker, "holds", False) or self.spills():
            return
        begun = worker.begun
        with self._changed:
            if begun:
                self._slices_waiting += 1
            try:
                since = time.monotonic()
                while self._reading:
                    if self._taken < self.limit and (begun or not self._slices_waiting):
                        self._taken += 1
                        worker.holds = True
                        return
                    now = time.monotonic()
                    if now - since >= SPILL_AFTER_SECONDS and self._may_spill(now):
                        self._spilling = worker.spills = True
                        return
                    left = None if timeout is None else timeout - (now - since)
                    if left is not None and left <= 0:
                        return
                    self._changed.wait(_POLL_SECONDS if left is None else min(left, _POLL_SECONDS))
            finally:
                if begun:
                    self._slices_waiting -= 1

    def _may_spill(self, now: float) -> bool:
        stdout_slow = self._last_write >= SLOW_STDOUT_SECONDS or (
            self._stdout_since is not None and now - self._stdout_since >= SLOW_STDOUT_SECONDS
        )
        return stdout_slow and not self._spilling and self.spill.has_room()

    def spills(self) -> bool:
        """Whether this thread's page is to wait on disk (it holds the spill place)."""
        return getattr(self._worker, "spills", False)

    def keep_on_disk(self, pieces: Any) -> Optional[SpilledPage]:
        """Writes the page of this thread (which holds the spill place) to disk (None if the disk refused it)."""
        return self.spill.keep(pieces)

    def back_from_disk(self, page: SpilledPage) -> bytes:
        """The lines of a page that waited on disk, for the main thread to write (the file is removed)."""
        return self.spill.take_back(page)

    def stdout_takes(self) -> None:
        """The main thread hands a message to stdout (which blocks while the destination does not read)."""
        self._stdout_since = time.monotonic()

    def stdout_took(self) -> None:
        since, self._stdout_since = self._stdout_since, None
        if since is not None:
            self._last_write = time.monotonic() - since

    def pass_on(self) -> bool:
        """The page parsed by this thread leaves it (to the main thread) with its place, if it had one; a page
        that went to disk has none, and frees the spill place."""
        worker = self._worker
        holds = getattr(worker, "holds", False)
        worker.holds = False
        worker.begun = True
        self._free_spill_place()
        return holds

    def give_back(self) -> None:
        """The page parsed by this thread is dropped: its place (or the spill place) is free."""
        worker = self._worker
        holds = getattr(worker, "holds", False)
        worker.holds = False
        if holds:
            self.release()
        self._free_spill_place()

    def _free_spill_place(self) -> None:
        if self.spills():
            self._worker.spills = False
            with self._changed:
                self._spilling = False
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            if self._taken:
                self._taken -= 1
                self._changed.notify_all()


# Pages received, parsed or written and not yet passed to stdout, across the workers (each up to 10,000
# records): one being received, parsed or written while another waits to be written.
PAGES_IN_MEMORY = PagesInMemory(2)
# While stdout is slow, how long a worker waits for a place before its page goes to disk: well below the
# life of a scroll (not published; 10 s is the shortest seen), well above a page's share of the CPU.
SPILL_AFTER_SECONDS = 2.0
# How long stdout takes for one message before the destination, not the CPU, counts as what holds the places
# (a page of 10,000 records is written in milliseconds when the reader keeps up).
SLOW_STDOUT_SECONDS = 1.0
_POLL_SECONDS = 0.25  # how often a waiting worker looks again whether it may spill


class PlaceFirstAdapter(HTTPAdapter):
    """Reads a successful answer's body only once its page has a place (`PAGES_IN_MEMORY`), in one piece.

    Why: `requests` reads every body as soon as its headers arrive, in 10 kB pieces that it then joins, so
    each worker would download its page (two copies of it for a moment) and then wait with it for a place:
    the pages received but not yet parsed followed the concurrency. Here the body waits in the socket until
    the worker has a place, then is read into one buffer. Requests still run concurrently up to their
    headers, which is where an API's latency is. A failure while reading the body raises what `requests`
    raises for it, so the CDK's retries treat it as before. Other answers (errors, the login) and callers
    that stream are left to `requests`.

    A server closes a connection whose answer is not read for long (often after 60 s), which would cost a
    retry, so a worker waits at most `wait_seconds` (when the destination holds the pages back) and then
    reads the body anyway; it takes its place before parsing the page, as without this adapter.
    """

    wait_seconds = 20.0
    calls_on_headers = True  # `on_headers(answer)` once the headers are in, before any wait (`PacedAdapter`)

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        on_headers: Optional[Callable[[requests.Response], None]] = None,
        **kwargs: Any,
    ) -> requests.Response:
        response = super().send(request, stream=stream, **kwargs)
        if on_headers is not None:
            on_headers(response)
        if stream or not 200 <= response.status_code < 300:
            return response
        PAGES_IN_MEMORY.take(timeout=self.wait_seconds)
        try:
            response._content = read_whole_body(response.raw)
        except requests.RequestException as error:
            PAGES_IN_MEMORY.give_back()
            error.request, error.response = request, response
            raise
        response._content_consumed = True
        return response


def read_whole_body(raw: Any) -> bytearray:
    """The rest of a urllib3 response body as one `bytearray`, with the errors `requests` raises while reading one.

    A `bytearray`, so that the values a page rewrites (`fastpath/rewrites.py`) are rewritten in it, without a copy
    of the page beside it (several MB, and a page fault every 4 KiB). Read in pieces below glibc's mmap threshold
    (`tune_memory_allocator`), which come from memory already in use; the body grows in place. A body sent without
    a content encoding is read as it is, past urllib3's buffer of decoded pieces. Reading in pieces costs about
    0.2 ms of CPU a MB more than one `read()`, half of it won back by the copy it saves (emulator pages)."""
    body = bytearray()
    decode = raw.headers.get("content-encoding", "").strip().lower() not in ("", "identity")
    try:
        while True:
            piece = raw.read(_BODY_PIECE_BYTES, decode_content=decode)
            if not piece:
                return body
            body += piece
    except ProtocolError as error:
        raise ChunkedEncodingError(error)
    except DecodeError as error:
        raise ContentDecodingError(error)
    except ReadTimeoutError as error:
        raise RequestsConnectionError(error)
    except SSLError as error:
        raise RequestsSSLError(error)


_BODY_PIECE_BYTES = 120 * 1024  # below the mmap threshold of `tune_memory_allocator`


def place_pages_first(session: requests.Session, pool_size: int) -> None:
    """Mounts `PlaceFirstAdapter` on `session` for both schemes, with connection pools as large as the CDK's."""
    adapter = PlaceFirstAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def tune_memory_allocator() -> None:
    """Memory freed during a read goes back to the system, so the peak follows what is alive.

    With glibc's defaults each worker thread gets a heap of its own, and buffers of a page (a body being
    received, a page's JSON) come from those heaps once the adaptive mmap threshold has risen, where they
    stay reserved after being freed: the process grew with every coincidence of large pages in different
    threads. Two heaps, and buffers above 128 KiB always mapped and unmapped, keep it flat. What is smaller
    stays in the heaps once freed, for the next page to reuse: returning it after each page as well
    (`malloc_trim`) cost 0.2-0.3 s of CPU over a million CDRs, mostly system time (page faults when the next
    page took the memory back), for no lower peak (`benchmark/README.md`). Elsewhere than glibc, nothing
    changes.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    m_arena_max, m_mmap_threshold = -8, -3
    mallopt(m_arena_max, 2)
    mallopt(m_mmap_threshold, 128 * 1024)
