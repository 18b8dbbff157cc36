"""Pages that wait on disk while stdout is slow (`source_8x8_cdr/fastpath/spill.py`, the spill place in `fastpath/memory.py`).

A worker that has waited for a place while the destination holds stdout writes its page to disk and reads
on; a worker that waits because other pages are being parsed does not. The read itself, with a real slow
reader and expiring scrolls, is `integration_tests/test_slow_destination_emulator.py`.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import orjson
import pytest

from airbyte_cdk.sources.types import StreamSlice

from source_8x8_cdr.fastpath import memory
from source_8x8_cdr.fastpath.memory import PagesInMemory
from source_8x8_cdr.fastpath.pages import RecordPage
from source_8x8_cdr.fastpath.spill import PageSpill


@pytest.fixture(autouse=True)
def quick_spill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Spilling decided in tenths of seconds, into the test's own directory."""
    monkeypatch.setattr(memory, "SPILL_AFTER_SECONDS", 0.2)
    monkeypatch.setattr(memory, "SLOW_STDOUT_SECONDS", 0.1)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def pages() -> Iterator[PagesInMemory]:
    """Places for one page, during a read, the one place already taken by a page waiting for stdout."""
    pages = PagesInMemory(limit=1)

    def holder() -> None:
        with pages.reading_pages():
            pages.take()
            pages.pass_on()  # its place goes with the page to the main thread, which is writing another

    with pages.reading():
        thread = threading.Thread(target=holder)
        thread.start()
        thread.join(timeout=5)
        yield pages


def _worker_result(pages: PagesInMemory, timeout: float = 3.0) -> list:
    """Runs a worker that asks for a place (at most `timeout` s) and tells what it got."""
    result: list = []

    def worker() -> None:
        with pages.reading_pages():
            pages.take(timeout=timeout)
            result.append("spill" if pages.spills() else "place" if pages.pass_on() else "nothing")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=10)
    return result


class TestSpillPlace:
    def test_given_stdout_stuck_on_a_page_when_a_worker_has_waited_for_a_place_then_its_page_goes_to_disk(self, pages: PagesInMemory) -> None:
        pages.stdout_takes()  # and the destination does not read
        started = time.monotonic()

        assert _worker_result(pages) == ["spill"]
        assert time.monotonic() - started >= 0.2  # it waited for a place first

    def test_given_stdout_keeping_up_when_a_worker_waits_for_a_place_then_it_goes_on_waiting(self, pages: PagesInMemory) -> None:
        pages.stdout_takes()
        pages.stdout_took()  # the last page was written at once: the CPU, not stdout, holds the place

        assert _worker_result(pages, timeout=0.6) == ["nothing"]

    def test_given_the_spill_full_when_stdout_is_stuck_then_the_worker_waits_for_a_place(self, pages: PagesInMemory) -> None:
        pages.spill.limit = 0
        pages.stdout_takes()

        assert _worker_result(pages, timeout=0.6) == ["nothing"]

    def test_given_one_worker_spilling_when_another_may_spill_then_it_waits_until_the_first_page_is_on_disk(self, pages: PagesInMemory) -> None:
        pages.stdout_takes()
        first_spills, release = threading.Event(), threading.Event()

        def first() -> None:
            with pages.reading_pages():
                pages.take()
                first_spills.set()
                release.wait(timeout=5)
                pages.pass_on()  # its page is on disk: the spill place is free

        thread = threading.Thread(target=first)
        thread.start()
        assert first_spills.wait(timeout=5)
        assert _worker_result(pages, timeout=0.6) == ["nothing"]
        release.set()
        thread.join(timeout=5)
        assert _worker_result(pages) == ["spill"]


class TestPageSpill:
    def test_given_a_page_kept_on_disk_when_taken_back_then_the_same_bytes_and_the_file_is_gone(self, tmp_path: Path) -> None:
        spill = PageSpill()

        kept = spill.keep([b'{"a":', memoryview(b'1}\n{"b"'), b":2}"])

        assert kept.path.read_bytes() == b'{"a":1}\n{"b":2}'
        assert spill.take_back(kept) == b'{"a":1}\n{"b":2}'
        assert not kept.path.exists()
        spill.close()
        assert not list(tmp_path.iterdir())

    def test_given_pages_never_taken_back_when_closed_then_their_files_are_removed(self, tmp_path: Path) -> None:
        spill = PageSpill()
        spill.keep([b"x" * 1000])
        spill.keep([b"y" * 1000])

        spill.close()

        assert not list(tmp_path.iterdir())

    def test_given_the_limit_reached_when_asked_then_no_room_until_a_page_is_taken_back(self, tmp_path: Path) -> None:
        spill = PageSpill(limit=1500)
        first = spill.keep([b"x" * 1000])
        assert spill.has_room()
        spill.keep([b"y" * 1000])

        assert not spill.has_room()
        spill.take_back(first)
        assert spill.has_room()
        spill.close()

    def test_given_a_disk_that_refuses_when_a_page_is_kept_then_none_and_no_more_room(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        not_a_directory = tmp_path / "file"
        not_a_directory.write_text("")
        monkeypatch.setattr(tempfile, "tempdir", str(not_a_directory))
        spill = PageSpill()

        assert spill.keep([b"x"]) is None
        assert not spill.has_room()


def test_given_a_worker_holding_the_spill_place_when_its_page_is_built_then_it_waits_on_disk_and_comes_back_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory.PAGES_IN_MEMORY, "spills", lambda: True)
    records = [{"callId": "1", "talkTimeMS": 5}, {"callId": "2", "talkTimeMS": None}]

    page = RecordPage.of_records(records, records[-1], "call_records", StreamSlice(partition={}, cursor_slice={}))

    assert page.lines == () and list(tmp_path.rglob("*.jsonl"))
    page.load()
    lines = b"".join(page.lines).split(b"\n")
    assert [orjson.loads(line)["record"]["data"] for line in lines] == records
    assert not list(tmp_path.rglob("*.jsonl"))
    memory.PAGES_IN_MEMORY.spill.close()
