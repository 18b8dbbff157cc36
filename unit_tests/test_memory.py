"""What bounds a read's memory (`source_8x8_cdr/fastpath/memory.py`): the places for pages, the order they are given in,
and the adapter that leaves an answer's body in its socket until its page has a place.

The peak memory itself is measured by the benchmark (`python -m benchmark`), not here.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
import requests

from source_8x8_cdr.components.pacing import PacedAdapter, Pacer
from source_8x8_cdr.fastpath.memory import PAGES_IN_MEMORY, PagesInMemory, PlaceFirstAdapter

PAGE = b'{"data": [{"callId": "1"}], "meta": {"scrollId": "No Data"}}'
BIG_PAGE = b'{"data": [' + b",".join(b'{"callId": "%d"}' % number for number in range(30_000)) + b'], "meta": {}}'  # many read pieces


def in_thread(action) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


class TestPagesInMemory:
    def test_given_the_limit_taken_when_a_worker_parses_another_page_then_it_waits_until_the_main_thread_releases_one(self) -> None:
        pages = PagesInMemory(limit=2)
        passed_on = []

        def worker() -> None:
            with pages.reading_pages():
                pages.take()
                passed_on.append(pages.pass_on())

        with pages.reading():
            for _ in range(2):
                in_thread(worker).join(timeout=5)
            third = in_thread(worker)
            third.join(timeout=0.3)
            assert third.is_alive(), "a third page was parsed while two were held"
            pages.release()
            third.join(timeout=5)
            assert not third.is_alive()
        assert passed_on == [True, True, True]

    def test_given_a_rejected_page_when_given_back_then_its_place_is_free(self) -> None:
        pages = PagesInMemory(limit=1)
        with pages.reading(), pages.reading_pages():
            pages.take()
            pages.give_back()
            done = in_thread(lambda: (pages.reading_pages().__enter__(), pages.take()))
            done.join(timeout=5)
            assert not done.is_alive()

    def test_given_no_concurrent_read_when_pages_are_parsed_then_nothing_waits_or_holds_a_place(self) -> None:
        pages = PagesInMemory(limit=1)
        with pages.reading_pages():
            for _ in range(3):
                pages.take()
                assert pages.pass_on() is False

    def test_given_a_thread_not_reading_pages_when_it_parses_then_it_takes_no_place(self) -> None:
        pages = PagesInMemory(limit=1)
        with pages.reading():
            pages.take()  # a login, say
            assert pages.pass_on() is False

    def test_given_a_worker_waiting_when_the_read_ends_then_it_is_let_go(self) -> None:
        pages = PagesInMemory(limit=1)

        def worker() -> None:
            with pages.reading_pages():
                pages.take()
                pages.pass_on()  # the page, with its place, goes to the main thread

        with pages.reading():
            in_thread(worker).join(timeout=5)
            waiting = in_thread(worker)
            waiting.join(timeout=0.3)
            assert waiting.is_alive()
        waiting.join(timeout=5)
        assert not waiting.is_alive()

    def test_given_a_begun_slice_and_a_new_one_waiting_when_a_place_frees_then_the_begun_slice_gets_it(self) -> None:
        pages = PagesInMemory(limit=1)
        order: list[str] = []
        holder_ready, begun_ready = threading.Event(), threading.Event()

        def holder() -> None:
            with pages.reading_pages():
                pages.take()
                pages.pass_on()  # its place goes with the page to the main thread
                holder_ready.set()

        def new_slice() -> None:
            with pages.reading_pages():
                pages.take()
                order.append("new")
                pages.give_back()

        def begun_slice() -> None:
            with pages.reading_pages():
                pages._worker.begun = True  # as after its first page was passed on
                begun_ready.set()
                pages.take()
                order.append("begun")
                pages.give_back()

        with pages.reading():
            in_thread(holder).join(timeout=5)
            assert holder_ready.is_set()
            first = in_thread(new_slice)
            first.join(timeout=0.2)
            second = in_thread(begun_slice)
            begun_ready.wait(timeout=5)
            second.join(timeout=0.2)
            assert first.is_alive() and second.is_alive(), "both wait while the only place is held"
            pages.release()
            first.join(timeout=5)
            second.join(timeout=5)
        assert order == ["begun", "new"]

    def test_given_a_timeout_when_no_place_frees_then_the_worker_goes_on_without_one(self) -> None:
        pages = PagesInMemory(limit=1)

        def holder() -> None:
            with pages.reading_pages():
                pages.take()
                pages.pass_on()

        with pages.reading():
            in_thread(holder).join(timeout=5)
            with pages.reading_pages():
                pages.take(timeout=0.05)
                assert pages.pass_on() is False


class _Answers(BaseHTTPRequestHandler):
    """`/page`: a page; `/cut`: a body shorter than its Content-Length, then the connection closes; `/error`: a 500."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path in ("/big", "/big-gzip"):
            gzipped = self.path == "/big-gzip"
            body = gzip.compress(BIG_PAGE) if gzipped else BIG_PAGE
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/error":
            self._answer(500, b'{"message": "boom"}')
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAGE) + 100))
            self.end_headers()
            self.wfile.write(PAGE)
            self.close_connection = True
        else:
            self._answer(200, PAGE)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    in_thread(httpd.serve_forever)
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def session() -> requests.Session:
    session = requests.Session()
    adapter = PlaceFirstAdapter()
    session.mount("http://", adapter)
    return session


def page_waiting_for_a_place(session: requests.Session, url: str, got: list) -> threading.Thread:
    """A worker whose page, asked for at `url` while every place is held, waits for one (its body unread)."""

    def worker() -> None:
        with PAGES_IN_MEMORY.reading_pages():
            got.append(session.get(url, timeout=5).content)

    hold_every_place()
    waiting = in_thread(worker)
    waiting.join(timeout=0.3)
    assert waiting.is_alive() and got == []
    return waiting


def hold_every_place() -> None:
    """Pages passed on to a main thread that has not written them yet."""
    for _ in range(PAGES_IN_MEMORY.limit):
        def worker() -> None:
            with PAGES_IN_MEMORY.reading_pages():
                PAGES_IN_MEMORY.take()
                PAGES_IN_MEMORY.pass_on()

        in_thread(worker).join(timeout=5)


class TestPlaceFirstAdapter:
    def test_given_a_page_when_sent_by_a_worker_then_the_body_is_read_whole_and_the_worker_holds_a_place(self, server: str, session: requests.Session) -> None:
        with PAGES_IN_MEMORY.reading(), PAGES_IN_MEMORY.reading_pages():
            response = session.get(f"{server}/page", timeout=5)

            assert response.status_code == 200 and response.content == PAGE and response.json()["data"] == [{"callId": "1"}]
            assert PAGES_IN_MEMORY.pass_on() is True

    @pytest.mark.parametrize("path", ["/big", "/big-gzip"])
    def test_given_a_page_of_many_pieces_when_read_then_one_bytearray_holds_the_whole_body_decoded(self, path: str, server: str, session: requests.Session) -> None:
        with PAGES_IN_MEMORY.reading(), PAGES_IN_MEMORY.reading_pages():
            content = session.get(f"{server}{path}", timeout=5).content

        assert type(content) is bytearray and content == BIG_PAGE  # rewritten in place by the pages read as sent

    def test_given_every_place_held_when_a_page_arrives_then_its_body_waits_until_one_is_released(self, server: str, session: requests.Session) -> None:
        got: list[bytes] = []

        with PAGES_IN_MEMORY.reading():
            waiting = page_waiting_for_a_place(session, f"{server}/page", got)
            PAGES_IN_MEMORY.release()
            waiting.join(timeout=5)
        assert got == [PAGE]

    def test_given_a_paced_page_waiting_for_a_place_when_another_request_is_sent_then_the_pacer_has_heard_the_answer_and_lets_it_go(
        self, server: str
    ) -> None:
        session = requests.Session()
        pacer = Pacer("API", slow_start=1)  # one request in flight at a time
        session.mount("http://", PacedAdapter(pacer, PlaceFirstAdapter()))
        got: list[bytes] = []

        with PAGES_IN_MEMORY.reading():
            parked = page_waiting_for_a_place(session, f"{server}/page", got)  # its answer is in, its body waits
            other = in_thread(lambda: got.append(session.get(f"{server}/error", timeout=5).content))
            other.join(timeout=2)
            assert not other.is_alive() and got == [b'{"message": "boom"}']  # not held by the parked request
            PAGES_IN_MEMORY.release()
            parked.join(timeout=5)
        assert got == [b'{"message": "boom"}', PAGE]

    def test_given_every_place_held_too_long_when_a_page_arrives_then_its_body_is_read_anyway(
        self, server: str, session: requests.Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(PlaceFirstAdapter, "wait_seconds", 0.05)
        with PAGES_IN_MEMORY.reading():
            hold_every_place()
            with PAGES_IN_MEMORY.reading_pages():
                assert session.get(f"{server}/page", timeout=5).content == PAGE
                assert PAGES_IN_MEMORY.pass_on() is False  # the error handler takes the place before parsing

    def test_given_a_body_cut_off_when_read_then_requests_own_error_is_raised_and_the_place_given_back(self, server: str, session: requests.Session) -> None:
        with pytest.raises(requests.exceptions.ChunkedEncodingError) as without_adapter:
            requests.get(f"{server}/cut", timeout=5)

        with PAGES_IN_MEMORY.reading(), PAGES_IN_MEMORY.reading_pages():
            with pytest.raises(type(without_adapter.value)) as raised:
                session.get(f"{server}/cut", timeout=5)

            assert raised.value.request is not None and raised.value.request.url == f"{server}/cut"
            assert PAGES_IN_MEMORY.pass_on() is False

    def test_given_an_error_status_when_sent_then_no_place_is_taken_and_the_body_is_read(self, server: str, session: requests.Session) -> None:
        with PAGES_IN_MEMORY.reading(), PAGES_IN_MEMORY.reading_pages():
            response = session.get(f"{server}/error", timeout=5)

            assert response.status_code == 500 and response.json() == {"message": "boom"}
            assert PAGES_IN_MEMORY.pass_on() is False

    def test_given_a_streaming_caller_when_sent_then_the_body_is_left_to_it(self, server: str, session: requests.Session) -> None:
        with PAGES_IN_MEMORY.reading(), PAGES_IN_MEMORY.reading_pages():
            with session.get(f"{server}/page", timeout=5, stream=True) as response:
                assert PAGES_IN_MEMORY.pass_on() is False
                assert response.raw.read() == PAGE
