"""Network failures retried and told in one sentence (`network_errors.py`), against real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable, Iterator, List

import pytest
import requests
from airbyte_cdk.models import FailureType

from source_8x8_cdr.components.network_errors import HostUnreachable, NetworkRetries, what_failed

KEY = "s3cret+Key/1"


@pytest.fixture
def waits(instant_sleep: List[float]) -> List[float]:
    """The pauses asked for, without waiting (unit_tests/conftest.py)."""
    return instant_sleep


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server() -> Iterator[Callable[[str], int]]:
    """Starts a server on 127.0.0.1 that, for each connection, `silent`ly never answers or `reset`s it."""
    sockets: List[socket.socket] = []

    def start(behaviour: str) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sockets.append(listener)

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                sockets.append(connection)
                connection.recv(65536)
                if behaviour == "reset":
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    connection.close()

        threading.Thread(target=serve, daemon=True).start()
        return listener.getsockname()[1]

    yield start
    for each in sockets:
        each.close()


def _get(port: int, timeout: float = 5) -> BaseException:
    try:
        requests.get(f"http://127.0.0.1:{port}/api/v2/cdr?key={KEY}", timeout=(timeout, timeout))
    except requests.RequestException as error:
        return error
    raise AssertionError("the request succeeded")


class TestWhatFailed:
    def test_given_a_closed_port_when_requested_then_connection_refused_and_no_connection(self) -> None:
        assert what_failed(_get(_closed_port())) == ("connection refused", True)

    def test_given_a_server_that_never_answers_when_requested_then_no_answer_within_the_read_timeout(self, server: Callable[[str], int]) -> None:
        assert what_failed(_get(server("silent"), timeout=0.2), read_timeout=0.2) == ("no answer within 0.2 s", False)

    def test_given_a_server_that_resets_when_requested_then_connection_reset(self, server: Callable[[str], int]) -> None:
        assert what_failed(_get(server("reset"))) in (("connection reset", False), ("connection closed without an answer", False))

    def test_given_an_unknown_host_when_requested_then_host_name_not_found(self) -> None:
        try:
            requests.get("http://no-such-host.invalid/", timeout=5)
        except requests.RequestException as error:
            assert what_failed(error) == ("host name not found", True)


class TestNetworkRetries:
    def _retries(self, checking: bool = False) -> NetworkRetries:
        return NetworkRetries("the contact-center API", "contact_center.base_url", max_retries=3, backoff_seconds=2, checking=checking)

    def _failing(self, port: int, calls: List[int]) -> Callable[[], requests.Response]:
        def call() -> requests.Response:
            calls.append(1)
            raise _get(port)  # type: ignore[misc]

        return call

    def test_given_a_refused_host_when_sending_then_retried_with_backoff_then_one_sentence(self, waits: List[float]) -> None:
        port, calls = _closed_port(), []

        with pytest.raises(HostUnreachable) as failure:
            self._retries().send(f"http://127.0.0.1:{port}/api/v2/cdr?key={KEY}", self._failing(port, calls))

        assert (len(calls), waits) == (4, [2, 4, 8])
        message = failure.value.message
        assert message.startswith(f"Could not reach the contact-center API at 127.0.0.1:{port} (connection refused; tried 4 times over ")
        assert message.endswith("). Check contact_center.base_url and the network.")
        assert KEY not in message and "?" not in message and "/api" not in message
        assert failure.value.failure_type == FailureType.transient_error

    def test_given_a_refused_host_when_checking_then_not_retried(self, waits: List[float]) -> None:
        port, calls = _closed_port(), []

        with pytest.raises(HostUnreachable) as failure:
            self._retries(checking=True).send(f"http://127.0.0.1:{port}/", self._failing(port, calls))

        assert (len(calls), waits) == (1, [])
        assert "(connection refused; tried once)" in failure.value.message

    def test_given_dropped_connections_when_checking_then_retried(self, waits: List[float], server: Callable[[str], int]) -> None:
        port, calls = server("reset"), []

        with pytest.raises(HostUnreachable):
            self._retries(checking=True).send(f"http://127.0.0.1:{port}/", self._failing(port, calls))

        assert len(calls) == 4

    def test_given_a_host_that_refused_every_attempt_when_sending_again_then_failed_at_once_with_the_same_sentence(self, waits: List[float]) -> None:
        port, calls = _closed_port(), []
        retries = self._retries()
        with pytest.raises(HostUnreachable) as first:
            retries.send(f"http://127.0.0.1:{port}/", self._failing(port, calls))

        with pytest.raises(HostUnreachable) as second:
            retries.send(f"http://127.0.0.1:{port}/", self._failing(port, calls))

        assert len(calls) == 4 and second.value.message == first.value.message

    def test_given_a_failure_then_an_answer_when_sending_then_the_answer(self, waits: List[float]) -> None:
        port, answer = _closed_port(), requests.Response()
        outcomes: list = [_get(port), answer]

        def call() -> requests.Response:
            outcome = outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        assert self._retries().send(f"http://127.0.0.1:{port}/", call) is answer
        assert waits == [2]

    def test_given_a_failed_request_when_its_trace_is_built_then_no_stack_trace(self, waits: List[float]) -> None:
        port = _closed_port()
        with pytest.raises(HostUnreachable) as failure:
            self._retries().send(f"http://127.0.0.1:{port}/", self._failing(port, []))

        assert failure.value.as_airbyte_message().trace.error.stack_trace is None
