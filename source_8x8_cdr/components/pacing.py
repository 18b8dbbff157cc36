"""Pacing: when an API answers HTTP 429, every request to that API slows down, and the sync still finishes.

Neither vendor publishes a rate limit (another 8x8 analytics API allows 10 requests per 60 s). Left to the
CDK, each worker meets a 429 on its own: it backs off alone (`Retry-After`, or its exponential backoff),
the other fifteen keep knocking, and the retries come back in lockstep; every retry counts against
`max_retries`, so a request that loses the race that many times fails the sync with "API rate limit
exceeded" (issue: a month of Work Analytics at 10 requests per 60 s failed after 4.5 minutes, 97 of 169
requests refused).

Here all requests to one API share one `Pacer`, below the CDK's retries (`PacedAdapter`, mounted on the
requesters' sessions and on the Work Analytics login's, see below):

* Until the first 429 nothing waits for a time: a request costs a lock and a clock read. But an API has not
  shown its limit yet, so it starts slowly (as TCP does): four requests in flight at once at first, and a
  quarter of a request more with each admitted answer (4, 5, 6, 8, 10, 12, 15... a round trip), so that fewer
  requests are already on their way when the first 429 comes. Past a few round trips the concurrency is the
  only bound. A request is in flight until its answer's headers arrive: one whose page then waits for a place
  in memory is not at the API any more (`PacedAdapter`).
* A 429 holds every request to that API: for `Retry-After` when the answer has one, else for a probe wait
  (the current pace's interval, or 1 s before there is a pace, doubling while the API still refuses). When the hold ends, one request (the probe) goes alone;
  the others wait for its answer, so the workers do not come back in lockstep.
* When the API answers again, the pacer measures what the API allowed over the last cycle (the requests
  it admitted since the previous slowdown, over the time until this probe) and from then on starts at
  most one request per that interval, for every worker. Without `Retry-After` the limit passed somewhere
  between the last refused probe and this one: this one's time is taken, never a guess inside that gap (the
  middle was too fast about as often as not, and each time cost a 429 and a refused probe more). With each
  admitted request the interval shrinks by 3% of a cycle's requests (a quarter of a percent after a
  `Retry-After`: the wait the API told measures its limit within a second, so a faster recovery only crosses
  the limit again, and each crossing costs a 429 and a hold; 3% did within a cycle or two, 1% within one to
  five), so the rate recovers slowly, a pace found too slow by probes catches up, and a limit that was lifted
  is found again (after a `Retry-After`, the pace doubles over about 280 cycles).
* A 429 is retried here, not by the CDK: it is the API asking to slow down, not a failure, so it does not
  use up `max_retries`. It is bounded by time instead: a request that has been refused for
  `PATIENCE_SECONDS` (an hour, below the platform's two hours without a message), or whose `Retry-After`
  reaches past that, goes back to the CDK with its 429, which retries it `max_retries` times more and then
  fails the stream. A `check` waits 10 s (`CHECK_PATIENCE_SECONDS`).

What it costs (simulated in `unit_tests/test_pacing.py`; measured through the emulator by the benchmark,
`benchmark/README.md`): the first 429 finds the other requests already on their way, and they are refused too:
whatever the slow start had in flight when the limit was crossed, a saw-tooth over the limit (simulated, a limit
of 10: three; 14: six; without the slow start, 16 sent at once against 10: six). At most it is the four of the
slow start and a quarter of each answer admitted before the first 429 is answered: seven against a limit of 10;
more when the 429 waits longer for a thread (a busy machine). Over limits of 4 to 40 a window, a read of 61
requests has 5.5 refused on average, 8.6 without the slow start, which costs a sync without a limit three round
trips once (about 0.6 s at 200 ms an answer). Finding the limit without `Retry-After` costs about log2(window in
seconds) refused probes, and the pace then starts up to twice too slow (probes double their wait: a 6 s window
is found at 7 s; a 10 s window at 15 s, 1.3x the least time over 100 requests) and catches up at 3% a cycle;
after that, about one 429 every few windows. With `Retry-After` the pace starts a little slow (the told wait is
in whole seconds), and its quarter of a percent a cycle seldom passes the limit: over 200 simulated reads of a
month at 10 requests per 6 s, with answers taking 2-30 ms, 4.3 requests refused on average and more than a tenth
of the read in 11% of reads, at 1.015x the least time (a recovery of 1%: 5.0, 33%, 1.053x: each crossing also
holds every request until the window frees). The first wait without `Retry-After` is a guess, not a measure: the
slow start fills a window in a fraction of a second, which says nothing of how long the window is.
`requests_per_minute` (the CDK's `HTTPAPIBudget`, see `manifest.yaml`) avoids all of them when the limit is
known.

Measured and not kept: half a request more with each answer (x1.5 a round trip, version 1.2.0) is a round trip
faster without a limit, but 7.0 are refused on average over limits of 4 to 40 and up to nine in the first burst
against a limit of 10; a slow start that doubles each round trip (TCP's, one more request per answer) only moves
which limits are unlucky (8.0 refused on average, for the same cost as x1.5); spacing the first requests out in
time makes the burst larger (by the time the limit is crossed, every worker has a request in flight); a first
probe wait of 2 s (probes at 2, 6, 14 s) refuses one probe fewer for windows past 2 s, but finds a 6 s window
exactly, so the recovery crosses the limit once more (the same count), and finds a 15 s window at 30 s (1.7x the
least time over 300 requests). A slow start of three requests and a fifth of a request more per answer,
simulated with answers of 2-30 ms: 5.3 refused at 10 per 6 s without `Retry-After` instead of 5.9, and over a
tenth of the read in 14% of reads instead of 28%, but a read without a limit takes a round trip more (1.81
against 1.60 s for 60 requests at 200 ms), which the latency run of the benchmark (30 slices at 200 ms, 4x
faster than one at a time) cannot spare.

Why not the manifest: the CDK's retries (`HttpClient._send_with_retry`) count every retry, sleep per
thread with an extra second on top of each wait, and have no action that retries without counting; a
backoff strategy only sees its own request. The transport below them is the one place every request of an
API passes before the CDK sees its answer.

Where it applies: the Work Analytics login mounts the pacer on its own session (`login_session`). The
requesters' sessions belong to the CDK, so `source_8x8_cdr.fastpath` mounts it there (`pace`), next to the
network retries. On the CDK's stock path (`SOURCE_8X8_CDR_STOCK_PATH=1`, or a CDK release the fast path does
not know) only the login is paced; the data requests get the CDK's own 429 handling: `Retry-After` or
exponential backoff per request, counted against `max_retries`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, List, Optional

import requests
from airbyte_cdk.sources.streams.call_rate import APIBudget, LimiterSession
from requests.adapters import BaseAdapter

logger = logging.getLogger("airbyte")

SLOW_START_REQUESTS = 4  # before the first 429: requests in flight at once at first,
SLOW_START_GROWTH = 0.25  # and how many more with each admitted answer (x1.25 per round trip)
FIRST_PROBE_SECONDS = 1.0  # without Retry-After: the first wait after a 429, doubled while probes are refused
RECOVERY_PER_CYCLE = 0.03  # how much faster the pace gets over as many admitted requests as the last cycle held
TOLD_RECOVERY_PER_CYCLE = 0.0025  # the same for a pace measured with Retry-After: the API told the wait
PATIENCE_SECONDS = 3600.0  # how long one request keeps being retried on 429 before the CDK's retries take it
CHECK_PATIENCE_SECONDS = 10.0  # the same in `check`, which must answer in seconds


@dataclass(frozen=True)
class Ticket:
    """A request's turn: when it may start, and what the pacer knew then."""

    start: float
    generation: int  # the pacer's holds so far: a later hold voids a turn taken before it
    episode: int  # the slowdowns so far: an answer to a request sent before the latest one is old news
    probe: bool  # the one request that tests whether the API answers again
    in_flight: bool = False  # counted among the slow start's requests in flight


class Pacer:
    """The shared pace of all requests to one API (see the module docstring).

    The decisions (`plan`, `current`, `on_refused`, `on_admitted`) never wait and are given the time where it
    matters, so that a test can play them against a simulated API; `turn`, `answered` and `unanswered` are
    what the threads that send requests call.
    """

    def __init__(
        self, name: str, patience_seconds: float = PATIENCE_SECONDS, slow_start: Optional[float] = SLOW_START_REQUESTS
    ) -> None:
        self.name = name
        self.patience_seconds = patience_seconds  # how long a request is retried on 429 here (see `PacedAdapter`)
        self._changed = threading.Condition()
        self.interval = 0.0  # seconds between request starts; 0 until the API first refuses one
        self._next_start = 0.0
        self._hold_until = 0.0
        self._generation = 0
        self._episodes = 0
        self._slowed = False  # between a 429 and the probe the API admits
        self._probe_out = False
        self._probe_wait = 0.0
        self._told_wait = False  # whether the last hold's length came from Retry-After
        self._recovery = RECOVERY_PER_CYCLE
        self._cycle_start: Optional[float] = None  # start of the first request admitted since the last slowdown
        self._cycle_admitted = 0
        self._cycle_size = 0  # requests admitted in the last measured cycle: the pace recovers per that many
        self._in_flight = 0  # the slow start's requests sent and not yet answered
        self._in_flight_cap = slow_start  # how many may be; None from the first 429 on (or without a slow start)

    # -- threads ------------------------------------------------------------------------------------------------

    def turn(self) -> tuple[Ticket, float]:
        """Waits for this request's turn; returns it and how long it waited."""
        waited = 0.0
        while True:
            with self._changed:
                now = time.monotonic()
                ticket = self.plan(now)
                while ticket is None:  # a probe is out: its answer decides
                    self._changed.wait(timeout=1.0)
                    now = time.monotonic()
                    ticket = self.plan(now)
            pause = ticket.start - now
            if pause > 0:
                time.sleep(pause)
                waited += pause
            with self._changed:
                if self.current(ticket):
                    return ticket, waited

    def answered(self, ticket: Ticket, refused: bool, retry_after: Optional[float] = None) -> None:
        with self._changed:
            now = time.monotonic()
            news = self.on_refused(ticket, now, retry_after) if refused else self.on_admitted(ticket)
            self._changed.notify_all()
        if news:  # logged outside the lock: a log line waits for stdout, which a slow destination holds
            logger.log(*news)

    def unanswered(self, ticket: Ticket) -> None:
        """The request failed without an answer (network): it tells nothing, but a probe must be let go."""
        with self._changed:
            self._release(ticket)
            self._changed.notify_all()

    # -- decisions ------------------------------------------------------------------------------------------------

    def plan(self, now: float) -> Optional[Ticket]:
        """The next request's turn, or None while a probe is out (wait for its answer) or the slow start has as
        many requests in flight as it allows (wait for one of theirs)."""
        if self._slowed:
            if self._probe_out:
                return None
            self._probe_out = True
            return Ticket(max(now, self._hold_until), self._generation, self._episodes, probe=True)
        in_flight = self._in_flight_cap is not None
        if in_flight:
            if self._in_flight >= self._in_flight_cap:
                return None
            self._in_flight += 1
        start = max(now, self._next_start, self._hold_until)
        self._next_start = start + self.interval
        return Ticket(start, self._generation, self._episodes, probe=False, in_flight=in_flight)

    def current(self, ticket: Ticket) -> bool:
        """Whether a turn still holds once its time has come: not when a hold began or grew meanwhile (a probe's
        turn is then given back)."""
        if ticket.generation == self._generation:
            return True
        self._release(ticket)
        return False

    def _release(self, ticket: Ticket) -> None:
        """A turn has ended: a probe lets the next one go, a request of the slow start gives back its place."""
        if ticket.probe:
            self._probe_out = False
        if ticket.in_flight and self._in_flight_cap is not None:
            self._in_flight -= 1

    def on_refused(self, ticket: Ticket, now: float, retry_after: Optional[float]) -> Optional[tuple[int, str]]:
        """Takes in a 429; returns a log line when it starts a slowdown."""
        self._release(ticket)
        self._in_flight_cap = None  # the slow start ends: the hold, the probe and the pace take over
        if not self._slowed and ticket.episode == self._episodes:  # a new slowdown
            self._slowed, self._episodes = True, self._episodes + 1
            self._probe_wait = self.interval or FIRST_PROBE_SECONDS
            self._told_wait = retry_after is not None
            self._hold(now + (self._probe_wait if retry_after is None else retry_after))
            wait = f"{retry_after:g} s (Retry-After)" if retry_after is not None else f"{self._probe_wait:g} s"
            return logging.WARNING, f"{self.name} answered HTTP 429 (rate limit): all its requests wait {wait}, then one goes alone until it is answered."
        if ticket.probe:
            self._told_wait = retry_after is not None
            if retry_after is None:
                self._probe_wait *= 2
            self._hold(now + (self._probe_wait if retry_after is None else retry_after))
        elif retry_after is not None and now + retry_after > self._hold_until:
            self._hold(now + retry_after)  # sent before the hold: its own Retry-After may reach further
        return None

    def _hold(self, until: float) -> None:
        self._hold_until = until
        self._generation += 1  # turns taken before wait again

    def on_admitted(self, ticket: Ticket) -> Optional[tuple[int, str]]:
        """Takes in an answer other than 429; returns a log line when it ends a slowdown."""
        if self._in_flight_cap is not None:
            self._release(ticket)
            self._in_flight_cap += SLOW_START_GROWTH
        if self._slowed and ticket.probe:
            return self._resume(ticket)
        if self._cycle_start is None:
            self._cycle_start = ticket.start
        self._cycle_admitted += 1
        if self.interval and not self._slowed:
            self.interval *= 1 - self._recovery / max(self._cycle_size, 1)
        return None

    def _resume(self, probe: Ticket) -> tuple[int, str]:
        """The API admits again: the pace is what it allowed over the last cycle (see the module docstring)."""
        if self._cycle_start is not None:
            # Without Retry-After the limit passed between the last refused probe and this one: this one's time
            # is taken (the middle was too fast as often as not, which cost a 429 and a refused probe more), and
            # the pace recovers faster than after a wait the API told, which measures the limit within a second.
            self._cycle_size = max(self._cycle_admitted, 1)
            self.interval = (probe.start - self._cycle_start) / self._cycle_size
            self._recovery = TOLD_RECOVERY_PER_CYCLE if self._told_wait else RECOVERY_PER_CYCLE
        self._slowed, self._probe_out = False, False
        self._cycle_start, self._cycle_admitted = probe.start, 1
        self._next_start = probe.start + self.interval
        if not self.interval:
            return logging.INFO, f"{self.name} answers again."
        return logging.INFO, (
            f"{self.name} answers again: its requests now start at most once every {self.interval:.2f} s "
            f"({60 / self.interval:.0f} a minute), a little faster with each answer."
        )


class Pacers:
    """One `Pacer` per API, shared by every requester (and login) of that API in this process.

    Pacers are looked up by the API's base URL. `forget` drops them: each build of the streams (a read, each
    API's check) starts from an API that has refused nothing yet. New pacers get `patience_seconds`.
    """

    def __init__(self) -> None:
        self._by_url: dict[str, Pacer] = {}
        self._lock = threading.Lock()
        self.patience_seconds = PATIENCE_SECONDS

    def for_api(self, base_url: str, name: str) -> Pacer:
        key = base_url.rstrip("/")
        with self._lock:
            if key not in self._by_url:
                self._by_url[key] = Pacer(name, self.patience_seconds)
            return self._by_url[key]

    def forget(self) -> None:
        with self._lock:
            self._by_url = {}


PACERS = Pacers()


class PacedAdapter(BaseAdapter):
    """Sends each request at its API's pace, and retries it on 429 for up to its pacer's `patience_seconds`.

    It wraps the adapter that was mounted (the fast path's `PlaceFirstAdapter`, or `requests`' own), so a
    429 never takes a place for a page. A request that fails without an answer raises as
    before, for the CDK's retries.

    The pacer hears of an answer as soon as its headers arrive. An adapter that waits after them, before reading
    the body (`PlaceFirstAdapter` waits for a place for its page), says so with `calls_on_headers` and calls
    `on_headers` with the answer first. A request waiting for a place is no longer in flight at the API. Counted
    as in flight, the requests parked there would hold every place of the slow start: the workers of the slices
    already begun could not ask for their next pages, so the parked pages would get the places and begin slices of
    their own, each keeping its keys until it ends (`ExactlyOnceSliceFilter`): 7-8 slices begun at once at the
    start of a read of a month, against two (`benchmark/README.md`).
    """

    def __init__(self, pacer: Pacer, inner: BaseAdapter) -> None:
        super().__init__()
        self.pacer, self.inner = pacer, inner
        self._hears_headers = bool(getattr(inner, "calls_on_headers", False))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        first_refused: Optional[float] = None
        waited = 0.0
        while True:
            ticket, pause = self.pacer.turn()
            if first_refused is not None:
                waited += pause
            heard: List[Optional[float]] = []  # the answer's Retry-After, once the pacer has heard of it

            def on_headers(answer: requests.Response, ticket: Ticket = ticket, heard: list = heard) -> None:
                refused = answer.status_code == 429
                heard.append(retry_after_seconds(answer) if refused else None)
                self.pacer.answered(ticket, refused=refused, retry_after=heard[0])

            try:
                response = self.inner.send(request, **kwargs, **({"on_headers": on_headers} if self._hears_headers else {}))
            except BaseException:
                if not heard:
                    self.pacer.unanswered(ticket)
                raise
            if not heard:
                on_headers(response)
            if response.status_code != 429:
                return response
            retry_after = heard[0]
            now = time.monotonic()
            first_refused = now if first_refused is None else first_refused
            spent = max(now - first_refused, waited)
            if spent + (retry_after or 0) >= self.pacer.patience_seconds:
                logger.warning(
                    f"{self.pacer.name} has refused a request for {spent:.0f} s (HTTP 429); "
                    f"it goes back to the usual retries (max_retries)."
                )
                return response
            response.content  # read the short 429 body, so that the connection can be used again
            response.close()

    def close(self) -> None:
        self.inner.close()


def retry_after_seconds(response: requests.Response) -> Optional[float]:
    """`Retry-After` in seconds (a number, or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def pace(session: requests.Session, pacer: Pacer) -> None:
    """Sends `session`'s requests through `pacer`, around the adapters already mounted."""
    for prefix in ("https://", "http://"):
        session.mount(prefix, PacedAdapter(pacer, session.get_adapter(prefix)))


def login_session(base_url: str, name: str, api_budget: Optional[APIBudget]) -> requests.Session:
    """A session for a login at `base_url`: paced with the API's data requests, and counted in the CDK's
    API budget when `requests_per_minute` declares one (a custom component's requests are not otherwise)."""
    session = LimiterSession(api_budget=api_budget) if api_budget is not None else requests.Session()
    pace(session, PACERS.for_api(base_url, name))
    return session
