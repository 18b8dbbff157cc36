"""Network failures (a refused connection, a timeout, a reset) retried and reported in one sentence.

Why not the manifest's error handler or a backoff strategy: the CDK retries a failed connection through the
same path as a rate limit, and writes its own words there (`airbyte_cdk/sources/streams/http/rate_limiting.py`
logs "Rate limit exceeded. Retrying in 5.0 seconds." for any wait a backoff strategy returns, and
`http_client.py` logs the traceback once the attempts are spent, then fails with "Exhausted available request
attempts ... HTTPConnectionPool(host=..., port=...): Max retries exceeded with url: /api/v2/cdr?key=****&...").
An error handler only chooses the action and a backoff strategy only the wait; neither can change these
words. So a network failure is retried below the CDK, inside the requester's session
(`retry_network_errors`, installed by `components.NetworkRetryingRequester`): the CDK then sees either an
answer, judged by the manifest's rules as before, or `HostUnreachable`, an `AirbyteTracedException` that it
reports as the stream's error unchanged. The Work Analytics login, which is not a manifest requester, uses
the same `NetworkRetries`.

Retries follow `max_retries` and `retry_backoff_seconds` (waits of 2, 4, 8 ... s by default), like those of
429 and 5xx. During `check` a user waits for the answer: a connection that cannot be made (refused, unknown
host, TLS, connect timeout) and a timed-out answer are not tried again; a dropped connection is, within
`check`'s own cap of 2 retries. Once no connection could be made on any attempt of a request, the same
requester's later requests (the stream's other slices) fail at once with the same sentence, rather than
waiting through the retries again, slice after slice.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import AirbyteMessage, FailureType, StreamDescriptor
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import NameResolutionError, ProtocolError, ReadTimeoutError

logger = logging.getLogger("airbyte")

NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

# Set in the config of `check`'s probe (`source.py`): connection failures are reported at once.
CHECKING_CONNECTION = "__checking_connection"


class HostUnreachable(AirbyteTracedException):
    """A network failure after every attempt: a transient error whose message is the whole story.

    Its trace carries no stack trace (a known failure, not a bug); `run.py` logs it without a traceback too.
    """

    def as_airbyte_message(self, stream_descriptor: Optional[StreamDescriptor] = None) -> AirbyteMessage:
        message = super().as_airbyte_message(stream_descriptor)
        message.trace.error.stack_trace = None  # type: ignore[union-attr]
        return message


def host_of(url: str) -> str:
    """`host:port` of a URL, without credentials, path or query (which may hold the key)."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps (`requests` wraps urllib3, which wraps the socket error)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [each for each in (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
                    if isinstance(each, BaseException)]


def what_failed(error: BaseException, read_timeout: Optional[float] = None) -> tuple[str, bool]:
    """What happened, in words (`connection refused`), and whether no connection could be made at all."""
    causes = list(_causes(error))

    def found(*types: type) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    if found(ConnectionRefusedError):
        return "connection refused", True
    if found(NameResolutionError, socket.gaierror):
        return "host name not found", True
    if found(requests.exceptions.SSLError, ssl.SSLError):
        return "TLS handshake failed", True
    if found(requests.exceptions.ConnectTimeout):
        return "connection timed out", True
    if found(requests.exceptions.ReadTimeout, ReadTimeoutError, socket.timeout):
        return (f"no answer within {read_timeout:g} s" if read_timeout else "no answer in time"), False
    if found(ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return "connection reset", False
    if found(http.client.RemoteDisconnected):
        return "connection closed without an answer", False
    if found(requests.exceptions.ChunkedEncodingError, ProtocolError, http.client.IncompleteRead):
        return "connection broken off during the answer", False
    return f"network error ({type(error).__name__})", False


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60} s"


class NetworkRetries:
    """How one API's requests are retried after a network failure, and the sentence once they are not.

    `api` names the host's service for people ("the contact-center API", "the Work Analytics login"),
    `field` the config field that sets its URL.
    """

    def __init__(self, api: str, field: str, max_retries: int, backoff_seconds: float, checking: bool = False) -> None:
        self.api, self.field = api, field
        self.attempts = max_retries + 1
        self.backoff_seconds = backoff_seconds
        self.checking = checking
        self._unreachable: Optional[HostUnreachable] = None

    def send(self, url: str, call: Callable[[], requests.Response], read_timeout: Optional[float] = None) -> requests.Response:
        """`call()`'s answer, tried again after a network failure; `HostUnreachable` after the last attempt."""
        self.raise_if_unreachable()
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                return call()
            except NETWORK_ERRORS as error:
                time.sleep(self.pause_after(error, url, attempt, started, read_timeout))
                attempt += 1

    def raise_if_unreachable(self) -> None:
        if self._unreachable is not None:
            raise HostUnreachable(message=self._unreachable.message, internal_message=self._unreachable.internal_message,
                                  failure_type=FailureType.transient_error)

    def pause_after(self, error: BaseException, url: str, attempt: int, started: float, read_timeout: Optional[float] = None) -> float:
        """How long to wait before attempt `attempt + 1` (logged), or `HostUnreachable` when there is none."""
        host = host_of(url)
        what, no_connection = what_failed(error, read_timeout)
        timed_out = what.startswith("no answer")
        if attempt >= self.attempts or (self.checking and (no_connection or timed_out)):
            tried = "tried once" if attempt == 1 else f"tried {attempt} times over {_duration(time.monotonic() - started)}"
            sentence = f"Could not reach {self.api} at {host} ({what}; {tried}). Check {self.field} and the network."
            failure = HostUnreachable(message=sentence, internal_message=f"{what} at {host}; {tried}",
                                      failure_type=FailureType.transient_error)
            if no_connection:
                self._unreachable = failure
            raise failure from None
        pause = self.backoff_seconds * 2 ** (attempt - 1)
        logger.warning(f"{self.api[0].upper()}{self.api[1:]} at {host}: {what} (attempt {attempt} of {self.attempts}); "
                       f"trying again in {pause:g} s.")
        return pause


def retry_network_errors(session: requests.Session, retries: NetworkRetries) -> None:
    """Every request `session` sends goes through `retries.send` (the CDK sends with `session.send`)."""
    send = session.send

    def send_with_retries(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        timeout = kwargs.get("timeout")
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        return retries.send(request.url or "", lambda: send(request, **kwargs), read_timeout)

    session.send = send_with_retries  # type: ignore[method-assign]
