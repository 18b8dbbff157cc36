"""Pacing (`source_8x8_cdr/components/pacing.py`): how a 429 slows every request to an API, how the pace is found and
recovers, and how a request refused with 429 is retried below the CDK's retries, bounded by time.

The pace is played against a simulated API (a sliding window of N requests per W seconds, fifteen workers,
simulated time), so that the speed and 429 targets are checked exactly and without waiting; the benchmark
measures them against the emulator (`python -m benchmark --rate-limit-only`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
import socket
import statistics
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, List, Optional

import pytest
import requests
from requests.adapters import BaseAdapter

from source_8x8_cdr import fastpath
from source_8x8_cdr.components import pacing
from source_8x8_cdr.components.network_errors import HostUnreachable
from source_8x8_cdr.components.pacing import PacedAdapter, Pacer, Pacers, retry_after_seconds
from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder

WORKERS = 15  # the default concurrency of 16, less the thread that plans the slices


@dataclass
class Outcome:
    seconds: float
    admitted: int
    refused: int

    @property
    def share_refused(self) -> float:
        return self.refused / (self.admitted + self.refused)

    def over_minimum(self, limit: int, window: float) -> float:
        """The time taken over the least the limit allows for the requests it admitted (batches of `limit`,
        one window apart)."""
        return self.seconds / ((math.ceil(self.admitted / limit) - 1) * window)


def simulate(
    limit: int, window: float, requests_: int, retry_after: bool, latency: float = 0.02, jitter: Optional[random.Random] = None
) -> Outcome:
    """`requests_` requests (and a login first) through one `Pacer`, by `WORKERS` workers that each send their
    next request when the last one is admitted, against an API admitting `limit` requests in any `window`
    seconds (429 beyond, with `Retry-After` in whole seconds or without). Time is simulated. With `jitter`, each
    answer takes a time drawn from it between 2 and 30 ms instead of `latency`, as answers do on a busy machine:
    which of the requests in flight cross the limit first then varies from read to read."""
    pacer = Pacer("API")
    admitted: deque = deque()
    events: list = []
    order = itertools.count()
    waiting_for_probe: List[int] = []
    left = requests_
    counts = {"admitted": 0, "refused": 0}
    last_answer = 0.0

    def plan(worker: int, now: float) -> None:
        ticket = pacer.plan(now)
        if ticket is None:
            waiting_for_probe.append(worker)
        else:
            heapq.heappush(events, (ticket.start, next(order), "send", worker, ticket))

    def admit(at: float) -> tuple[bool, Optional[float]]:
        while admitted and admitted[0] <= at - window:
            admitted.popleft()
        if len(admitted) < limit:
            admitted.append(at)
            return True, None
        return False, (max(1, math.ceil(admitted[0] + window - at)) if retry_after else None)

    plan(-1, 0.0)  # the login
    while events:
        now, _, kind, worker, item = heapq.heappop(events)
        if kind == "send":
            if pacer.current(item):
                answer_time = latency if jitter is None else jitter.uniform(0.002, 0.03)
                ok, wait = admit(now + answer_time / 2)
                heapq.heappush(events, (now + answer_time, next(order), "answer", worker, (item, ok, wait)))
            else:
                plan(worker, now)
        else:
            ticket, ok, wait = item
            last_answer = now
            if ok:
                pacer.on_admitted(ticket)
                counts["admitted"] += 1
                for each in range(WORKERS) if worker == -1 else [worker]:
                    if left:
                        left -= 1
                        plan(each, now)
            else:
                pacer.on_refused(ticket, now, wait)
                counts["refused"] += 1
                plan(worker, now)
        for each in [waiting_for_probe.pop() for _ in range(len(waiting_for_probe))]:
            plan(each, now)
    return Outcome(last_answer, counts["admitted"], counts["refused"])


class TestPaceAgainstASimulatedLimit:
    @pytest.mark.parametrize("retry_after", [True, False], ids=["with Retry-After", "without Retry-After"])
    @pytest.mark.parametrize("limit, window, requests_", [(10, 6, 200), (10, 60, 150), (20, 15, 300), (30, 60, 300)])
    def test_given_a_rate_limit_when_fifteen_workers_read_then_at_most_a_tenth_are_429_and_the_time_is_within_a_fifth_of_the_minimum(
        self, limit: int, window: float, requests_: int, retry_after: bool
    ) -> None:
        outcome = simulate(limit, window, requests_, retry_after)

        assert outcome.admitted == requests_ + 1  # every request done, the login included
        assert outcome.share_refused <= 0.10, outcome
        assert outcome.over_minimum(limit, window) <= 1.2, outcome

    def test_given_the_issue_s_limit_of_10_per_60_s_without_retry_after_when_a_month_is_read_then_it_finishes(self) -> None:
        # A month of Work Analytics with default settings: a page and the end-of-scroll page per day.
        outcome = simulate(10, 60, 60, retry_after=False)

        assert outcome.admitted == 61
        assert outcome.over_minimum(10, 60) <= 1.1, outcome
        # The first 429 finds the other fourteen requests already sent: those are most of the refusals.
        assert outcome.refused <= 16, outcome

    def test_given_the_benchmark_s_limit_of_10_per_6_s_without_retry_after_when_a_month_is_read_then_only_the_first_burst_and_two_probes_are_refused(
        self,
    ) -> None:
        # The benchmark's rate-limit run: 60 requests and the login. The login and fifteen requests leave at once
        # (six refused: the window admits ten), then probes at 1 and 3 s are refused and the one at 7 s is admitted.
        outcome = simulate(10, 6, 60, retry_after=False)

        assert outcome.admitted == 61
        assert outcome.refused <= 6 + 2, outcome
        assert outcome.over_minimum(10, 6) <= 1.2, outcome

    def test_given_limits_of_4_to_40_per_window_when_61_requests_are_read_then_the_slow_start_refuses_fewer_on_average(self) -> None:
        # The first burst refuses whatever is in flight when the limit is crossed: a saw-tooth over the limit that
        # the slow start makes smaller at first but cannot remove (16 workers at once: 8.6 refused on average; a
        # slow start growing by half a request an answer: 7.0).
        refused = [simulate(limit, 6, 60, retry_after=True).refused for limit in range(4, 41)]

        assert statistics.mean(refused) <= 5.5, refused

    def test_given_no_limit_when_60_requests_of_200_ms_are_read_then_the_slow_start_costs_at_most_three_round_trips(self) -> None:
        # Fifteen workers at once: the login, then four rounds of fifteen, 1.0 s. The slow start sends 5, 6, 7, 9,
        # 11, 14 requests in its first round trips (the login's answer counts).
        outcome = simulate(10**9, 6, 60, retry_after=True, latency=0.2)

        assert outcome.refused == 0
        assert outcome.seconds <= 1.0 + 3 * 0.2 + 0.001, outcome

    def test_given_retry_after_and_answers_of_varying_time_when_a_month_is_read_at_10_per_6_s_then_few_reads_pass_a_tenth_refused(
        self,
    ) -> None:
        # The benchmark's rate-limit run, 200 times, with answers of 2-30 ms: the first burst varies from read to
        # read (1-6 refused), and the pace the told wait gives seldom crosses the limit again. With a recovery of 1%
        # a cycle: 5.0 refused on average, over a tenth of the read in a third of the reads, 1.053x the least time.
        jitter = random.Random(1)
        outcomes = [simulate(10, 6, 60, retry_after=True, jitter=jitter) for _ in range(200)]

        assert all(outcome.admitted == 61 for outcome in outcomes)
        assert statistics.mean(outcome.refused for outcome in outcomes) <= 4.5
        assert sum(outcome.share_refused > 0.10 for outcome in outcomes) <= 0.15 * len(outcomes)
        assert statistics.mean(outcome.over_minimum(10, 6) for outcome in outcomes) <= 1.03

    def test_given_retry_after_when_150_requests_are_paced_at_10_per_60_s_then_at_most_three_429s_follow_the_first_burst(self) -> None:
        outcome = simulate(10, 60, 150, retry_after=True)

        assert outcome.admitted == 151
        assert outcome.refused - 2 <= 3, outcome  # two in the first burst (the slow start's second round of six)
        assert outcome.over_minimum(10, 60) <= 1.05, outcome


class TestPacer:
    def test_given_no_429_yet_when_requests_plan_then_four_go_at_once_and_each_admitted_answer_lets_one_and_a_quarter_more_go(self) -> None:
        pacer = Pacer("API")

        tickets = [pacer.plan(now=5.0) for _ in range(15)]

        assert [ticket is not None for ticket in tickets] == [True] * 4 + [False] * 11
        assert {ticket.start for ticket in tickets[:4]} == {5.0}  # none waits for a time
        assert not any(ticket.probe for ticket in tickets[:4])
        for ticket in tickets[:4]:
            pacer.on_admitted(ticket)
        assert sum(pacer.plan(now=5.2) is not None for _ in range(15)) == 5

    def test_given_ten_answers_admitted_before_a_429_is_known_when_requests_plan_then_at_most_seven_are_in_flight(self) -> None:
        # The worst first burst against a limit of 10: every request in flight when the first 429 is answered is
        # refused too, and the slow start has then grown by every answer admitted before it (at half a request an
        # answer: nine in flight).
        pacer = Pacer("API")
        for _ in range(10):
            pacer.on_admitted(pacer.plan(now=0.0))

        in_flight = [pacer.plan(now=0.1) for _ in range(15)]

        assert sum(ticket is not None for ticket in in_flight) == 7

    def test_given_a_request_of_the_slow_start_unanswered_when_another_plans_then_it_takes_its_place(self) -> None:
        pacer = Pacer("API")
        tickets = [pacer.plan(now=0.0) for _ in range(4)]
        assert pacer.plan(now=0.0) is None

        pacer.unanswered(tickets[0])

        assert pacer.plan(now=0.1) is not None
        assert pacer.plan(now=0.1) is None  # an answer that failed does not widen the slow start

    def test_given_the_first_429_when_requests_plan_then_the_slow_start_is_over_and_only_the_pace_limits_them(self) -> None:
        pacer = Pacer("API")
        sent = [pacer.plan(now=0.0) for _ in range(4)]
        for ticket in sent[:3]:
            pacer.on_admitted(ticket)
        pacer.on_refused(sent[3], now=0.1, retry_after=2)
        pacer.on_admitted(pacer.plan(now=0.1))  # the probe, at 2.1 s: three requests in 2.1 s

        following = [pacer.plan(now=2.2) for _ in range(12)]

        assert all(ticket is not None for ticket in following)
        assert following[-1].start == pytest.approx(2.1 + 12 * 0.7)  # one every 0.7 s after the probe

    def test_given_a_429_with_retry_after_when_the_others_plan_then_one_probe_goes_at_its_end_and_the_rest_wait_for_it(self) -> None:
        pacer = Pacer("API", slow_start=None)
        sent = [pacer.plan(now=0.0) for _ in range(3)]

        pacer.on_refused(sent[0], now=0.1, retry_after=5)

        assert not pacer.current(sent[1]), "a turn taken before the 429 must wait again"
        probe = pacer.plan(now=0.2)
        assert probe.probe and probe.start == pytest.approx(5.1)
        assert pacer.plan(now=0.3) is None

    def test_given_probes_refused_without_retry_after_when_planned_then_their_waits_double(self) -> None:
        pacer = Pacer("API")
        pacer.on_refused(pacer.plan(now=0.0), now=0.0, retry_after=None)
        starts = []
        for _ in range(3):
            probe = pacer.plan(now=starts[-1] if starts else 0.0)
            starts.append(probe.start)
            pacer.on_refused(probe, now=probe.start, retry_after=None)

        assert starts == pytest.approx([1.0, 3.0, 7.0])

    def test_given_the_probe_admitted_when_the_pace_is_set_then_it_is_what_the_api_allowed_in_the_last_cycle(self) -> None:
        pacer = _eleventh_refused(now=0.01, retry_after=6)
        probe = pacer.plan(now=0.02)

        pacer.on_admitted(probe)

        assert pacer.interval == pytest.approx(0.601, abs=0.001)  # ten requests in 6.01 s
        following = [pacer.plan(now=6.02) for _ in range(3)]
        assert [ticket.start for ticket in following] == pytest.approx([6.611, 7.212, 7.813], abs=0.001)

    def test_given_probes_refused_without_retry_after_when_one_is_admitted_then_the_pace_is_its_time_over_the_cycle_not_faster(self) -> None:
        pacer = _eleventh_refused(now=0.01, retry_after=None)
        for _ in range(2):  # at 1.01 and 3.01 s: the window (6 s) has not passed
            probe = pacer.plan(now=0.02)
            pacer.on_refused(probe, now=probe.start, retry_after=None)
        probe = pacer.plan(now=3.02)
        assert probe.start == pytest.approx(7.01)

        pacer.on_admitted(probe)

        # Ten requests in 7.01 s: the limit passed between 3.01 and 7.01 s, and the middle (5 s) would be too fast
        # for a 6 s window.
        assert pacer.interval == pytest.approx(0.701)

    def test_given_a_pace_found_by_probes_when_requests_are_admitted_then_it_speeds_up_by_3_percent_per_cycle_of_requests(self) -> None:
        pacer = _eleventh_refused(now=0.0, retry_after=None)
        pacer.on_admitted(pacer.plan(now=0.0))
        paced = pacer.interval

        for _ in range(10):
            pacer.on_admitted(pacer.plan(now=10.0))

        assert pacer.interval == pytest.approx(paced * (1 - 0.03 / 10) ** 10)

    def test_given_a_pace_measured_after_a_retry_after_when_requests_are_admitted_then_it_speeds_up_by_a_quarter_percent_per_cycle_of_requests(
        self,
    ) -> None:
        pacer = _eleventh_refused(now=0.0, retry_after=6)
        pacer.on_admitted(pacer.plan(now=0.0))
        paced = pacer.interval

        for _ in range(10):
            pacer.on_admitted(pacer.plan(now=10.0))

        # The wait the API told measures its limit within a second: speeding up as fast as after probes would
        # pass it again within a cycle or two, and 1% within one to five (a 429 and a hold for each).
        assert pacer.interval == pytest.approx(paced * (1 - 0.0025 / 10) ** 10)


def _eleventh_refused(now: float, retry_after: Optional[float]) -> Pacer:
    """A pacer without a slow start after eleven requests sent at once: ten admitted, the eleventh refused at `now`."""
    pacer = Pacer("API", slow_start=None)
    burst = [pacer.plan(now=0.0) for _ in range(11)]
    for ticket in burst[:10]:
        pacer.on_admitted(ticket)
    pacer.on_refused(burst[10], now=now, retry_after=retry_after)
    return pacer


class _Answers(BaseAdapter):
    """An adapter that answers from a list of (status, headers), or raises an exception in the list."""

    def __init__(self, answers: list) -> None:
        super().__init__()
        self.answers, self.sent = list(answers), 0

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:  # type: ignore[override]
        self.sent += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer
        response = requests.Response()
        response.status_code, response.headers, response._content, response.request = status, headers, b"{}", request
        return response

    def close(self) -> None:
        pass


class _HeadersFirst(_Answers):
    """`_Answers` from an adapter that tells of each answer at its headers (as `PlaceFirstAdapter` does)."""

    calls_on_headers = True

    def send(self, request: requests.PreparedRequest, on_headers: Any = None, **kwargs: object) -> requests.Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        on_headers(response)
        return response


def _session(pacer: Pacer, answers: list, inner_type: type = _Answers) -> tuple[requests.Session, _Answers]:
    inner = inner_type(answers)
    session = requests.Session()
    session.mount("http://", PacedAdapter(pacer, inner))
    return session, inner


@pytest.mark.usefixtures("instant_sleep")
class TestPacedAdapter:
    def test_given_429s_then_200_when_sent_then_retried_below_the_cdk_and_the_caller_gets_the_200(self, instant_sleep: List[float]) -> None:
        session, inner = _session(Pacer("API"), [(429, {"Retry-After": "2"})] * 7 + [(200, {})])

        response = session.get("http://api.test/v2/call-records")

        assert response.status_code == 200
        assert inner.sent == 8  # seven 429s, more than max_retries allows, and not one counted against it
        assert len([wait for wait in instant_sleep if wait >= 1.9]) == 7

    def test_given_an_adapter_that_tells_of_answers_at_their_headers_when_429s_then_200_then_the_pacer_hears_each_answer_once(
        self, instant_sleep: List[float], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pacer = Pacer("API")
        heard: list = []
        answered = pacer.answered
        monkeypatch.setattr(pacer, "answered", lambda ticket, refused, retry_after=None: (heard.append((refused, retry_after)), answered(ticket, refused, retry_after)))
        session, inner = _session(pacer, [(429, {"Retry-After": "2"})] * 2 + [(200, {})], _HeadersFirst)

        response = session.get("http://api.test/v2/call-records")

        assert response.status_code == 200 and inner.sent == 3
        assert heard == [(True, 2.0), (True, 2.0), (False, None)]
        assert len([wait for wait in instant_sleep if wait >= 1.9]) == 2

    def test_given_429s_for_longer_than_the_patience_when_sent_then_the_429_goes_back_to_the_cdk(self, instant_sleep: List[float]) -> None:
        session, inner = _session(Pacer("API"), [(429, {"Retry-After": "1000"})] * 10)

        response = session.get("http://api.test/v2/call-records")

        assert response.status_code == 429
        assert inner.sent == 4  # refused at 0, 1000, 2000 and 3000 s: the next wait reaches past an hour
        assert sum(instant_sleep) == pytest.approx(3000, abs=1)

    def test_given_a_retry_after_past_the_patience_when_sent_then_the_429_goes_back_at_once(self) -> None:
        session, inner = _session(Pacer("API"), [(429, {"Retry-After": str(int(pacing.PATIENCE_SECONDS) + 1)})])

        assert session.get("http://api.test/").status_code == 429
        assert inner.sent == 1

    def test_given_a_check_s_patience_when_429s_go_on_then_the_429_goes_back_after_10_s(self, instant_sleep: List[float]) -> None:
        session, inner = _session(Pacer("API", pacing.CHECK_PATIENCE_SECONDS), [(429, {"Retry-After": "3"})] * 10)

        assert session.get("http://api.test/").status_code == 429
        assert inner.sent == 4  # refused at 0, 3, 6 and 9 s: the next wait reaches past 10 s

    def test_given_a_connection_error_of_the_probe_when_sent_then_it_raises_and_the_next_request_can_probe(self) -> None:
        pacer = Pacer("API")
        session, _ = _session(pacer, [(429, {}), requests.ConnectionError("refused"), (200, {})])

        with pytest.raises(requests.ConnectionError):
            session.get("http://api.test/")

        assert session.get("http://api.test/").status_code == 200

    def test_given_other_statuses_when_sent_then_they_go_back_as_they_are(self) -> None:
        session, inner = _session(Pacer("API"), [(500, {}), (401, {})])

        assert [session.get("http://api.test/").status_code for _ in range(2)] == [500, 401]
        assert inner.sent == 2


class TestPacers:
    def test_given_one_api_when_looked_up_twice_then_the_same_pacer_and_another_api_has_its_own(self) -> None:
        pacers = Pacers()

        first = pacers.for_api("https://api.8x8.com/analytics/work/", "Work Analytics")

        assert pacers.for_api("https://api.8x8.com/analytics/work", "Work Analytics") is first
        assert pacers.for_api("https://cc-ams03.voiso.com", "The contact-center API") is not first

    def test_given_forgotten_when_looked_up_then_a_new_pacer_that_knows_nothing(self) -> None:
        pacers = Pacers()
        old = pacers.for_api("https://api.test", "API")
        old.interval = 5.0

        pacers.forget()

        assert pacers.for_api("https://api.test", "API").interval == 0.0


@pytest.mark.parametrize(
    "header, seconds",
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None)],
)
def test_given_a_retry_after_header_when_read_then_seconds(header: Optional[str], seconds: Optional[float]) -> None:
    response = requests.Response()
    if header is not None:
        response.headers["Retry-After"] = header

    assert retry_after_seconds(response) == seconds


def test_given_a_retry_after_http_date_when_read_then_seconds_until_then() -> None:
    response = requests.Response()
    response.headers["Retry-After"] = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)

    assert 28 <= retry_after_seconds(response) <= 30


def _requesters(config: dict) -> dict:
    source = SourceEightByEightCdr(None, config, None)
    factories = {stream.name: stream._stream_partition_generator._partition_factory for stream in source.streams(source.effective_config)}
    return {name: getattr(factory, "_built", factory)._retriever.requester for name, factory in factories.items()}  # a page stream's wraps the CDK's


def _pacer_of(session: requests.Session) -> Optional[Pacer]:
    return getattr(session.get_adapter("https://"), "pacer", None)


class TestWiring:
    """Which requests the pacers and the `requests_per_minute` budget cover, in the streams the source builds."""

    def test_given_both_apis_on_the_fast_path_when_streams_are_built_then_each_api_s_requests_and_login_share_one_pacer(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(fastpath.STOCK_PATH_VARIABLE, raising=False)
        requesters = _requesters(ConfigBuilder().with_work_analytics().with_contact_center().build())

        work_analytics = {_pacer_of(requester._http_client._session) for name, requester in requesters.items()
                          if not name.startswith("contact_center")}
        work_analytics.add(_pacer_of(requesters["call_records"].authenticator._session))
        contact_center = {_pacer_of(requester._http_client._session) for name, requester in requesters.items() if name.startswith("contact_center")}
        assert len(work_analytics) == 1 and len(contact_center) == 1 and None not in work_analytics | contact_center
        assert {each.name for each in work_analytics} == {"Work Analytics"}
        assert {each.name for each in contact_center} == {"The contact-center API"}

    def test_given_the_stock_path_when_streams_are_built_then_only_the_login_is_paced(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(fastpath.STOCK_PATH_VARIABLE, "1")
        requesters = _requesters(ConfigBuilder().with_work_analytics().with_contact_center().build())

        assert {name for name, requester in requesters.items() if _pacer_of(requester._http_client._session)} == set()
        assert _pacer_of(requesters["call_records"].authenticator._session).name == "Work Analytics"

    def test_given_a_new_build_of_the_streams_when_paced_then_the_pace_starts_over(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(fastpath.STOCK_PATH_VARIABLE, raising=False)
        first = _pacer_of(_requesters(ConfigBuilder().with_work_analytics().build())["call_records"]._http_client._session)
        first.interval = 5.0

        second = _pacer_of(_requesters(ConfigBuilder().with_work_analytics().build())["call_records"]._http_client._session)

        assert second is not first and second.interval == 0.0

    def test_given_requests_per_minute_when_streams_are_built_then_data_requests_and_the_login_take_from_a_budget_of_that_many_a_minute(self) -> None:
        requesters = _requesters(ConfigBuilder().with_work_analytics().with_contact_center().build() | {"requests_per_minute": 12})

        records = requesters["call_records"]
        budget = records._http_client._api_budget
        cdr_request = requests.Request("GET", "https://cc-ams03.voiso.com/api/v2/cdr").prepare()
        agents_request = requests.Request("GET", "https://cc-ams03.voiso.com/api/v2/cdr/agents").prepare()
        login_request = requests.Request("POST", "https://api.8x8.com/analytics/work/v1/oauth/token").prepare()
        policies = {budget.get_matching_policy(cdr_request), budget.get_matching_policy(login_request)}
        assert len(policies) == 2, "each API must have a minute of its own"
        assert budget.get_matching_policy(agents_request) is budget.get_matching_policy(cdr_request)
        assert all([(rate.limit, rate.interval) for rate in policy._bucket.rates] == [(12, 61_000)] for policy in policies)
        assert records.authenticator._session._api_budget is budget
        assert requesters["contact_center_cdrs"]._http_client._api_budget is budget

    def test_given_no_requests_per_minute_when_streams_are_built_then_no_budget_limits_a_request(self) -> None:
        requesters = _requesters(ConfigBuilder().with_work_analytics().build())

        assert requesters["call_records"]._http_client._api_budget.get_matching_policy(
            requests.Request("GET", "https://api.8x8.com/analytics/work/v2/call-records").prepare()
        ) is None
        assert not hasattr(requesters["call_records"].authenticator._session, "_api_budget")


class _Scripted(BaseHTTPRequestHandler):
    """Answers each GET with the next status of the server's `script` (429 with `Retry-After: 1`)."""

    def do_GET(self) -> None:  # noqa: N802
        status = self.server.script.pop(0) if self.server.script else 200  # type: ignore[attr-defined]
        self.server.received += 1  # type: ignore[attr-defined]
        body = b"[]" if status == 200 else b'{"error": "Too Many Requests"}'
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.script, server.received = [], 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.usefixtures("instant_sleep")
class TestOnTheRequesters:
    """The pacer and the network retries both wrap a requester's session (`fastpath/adapters.py`): each still
    does its job."""

    @staticmethod
    def _agents_requester(base_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
        monkeypatch.delenv(fastpath.STOCK_PATH_VARIABLE, raising=False)
        config = ConfigBuilder().with_contact_center().build()
        config["contact_center"]["base_url"] = base_url
        return _requesters(config)["contact_center_agents"]

    def test_given_429s_beyond_max_retries_when_a_requester_sends_then_the_cdk_gets_the_answer_that_follows(
        self, scripted_server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        requester = self._agents_requester(f"http://127.0.0.1:{scripted_server.server_port}", monkeypatch)
        scripted_server.script = [429] * 4  # type: ignore[attr-defined]  # max_retries is 2 in these configs

        response = requester.send_request()

        assert response.status_code == 200
        assert scripted_server.received == 5  # type: ignore[attr-defined]

    def test_given_a_refused_connection_when_a_paced_requester_sends_then_the_network_error_sentence(self, monkeypatch: pytest.MonkeyPatch) -> None:
        port = _closed_port()
        requester = self._agents_requester(f"http://127.0.0.1:{port}", monkeypatch)

        with pytest.raises(HostUnreachable, match=rf"Could not reach the contact-center API at 127.0.0.1:{port} \(connection refused; tried 3 times"):
            requester.send_request()


class TestCheckPatience:
    def test_given_a_check_when_its_streams_are_built_then_their_pacers_wait_10_s_and_a_read_s_an_hour(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seen: List[float] = []
        monkeypatch.setattr(SourceEightByEightCdr, "streams", lambda self, config: seen.append(pacing.PACERS.patience_seconds) or [])
        source = SourceEightByEightCdr(config=ConfigBuilder().with_contact_center().build())

        source.check(logging.getLogger("airbyte"), source.effective_config)

        assert seen == [pacing.CHECK_PATIENCE_SECONDS]
        assert pacing.PACERS.patience_seconds == pacing.PATIENCE_SECONDS
