"""The HTTP server that plays both vendor APIs on 127.0.0.1, and the ``Emulator`` handle.

Routing: ``/analytics/work/...`` goes to Work Analytics, ``/api/v2/cdr...`` to the contact-center
API, ``/_emulator/...`` to the control endpoints; anything else gets a 404 HTML page (as a wrong
base URL would). Every vendor request first sleeps ``latency_ms``, then meets the fault rules.
"""

from __future__ import annotations

import socket
import struct
import signal
import sys
import threading
import time
import traceback
import warnings
from collections import Counter, defaultdict
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson

from . import faults as fault_kinds
from .config import EmulatorConfig
from .contact_center import CDR_PATH, REFERENCE_PATHS, ContactCenterAPI
from .data import WA_STREAMS, Dataset
from .faults import FaultPlan, FaultRule
from .messages import RESET, Request, Response, first_values, html_response, json_response
from .ratelimit import RateLimiter
from .summaries import PBX_PATHS, PBX_STREAM, SUMMARY_PATHS, SUMMARY_STREAMS, SummaryReports
from .timeutil import MS_PER_DAY, Clock, from_ms, iso_utc, to_ms, two_years_before
from .work_analytics import BASE_PATH, REPORT_PATHS, TOKEN_PATH, WorkAnalyticsAPI

CONTROL = "/_emulator"
CC_REFERENCE_STREAMS = {f"contact_center_{name}": name for name in REFERENCE_PATHS.values()}


def dataset_range(config: EmulatorConfig, now_ms: int) -> tuple[int, int]:
    """``[start, end)`` in epoch ms; defaults: ``days`` days ending at the midnight after ``now``."""
    day_ms = config.days * MS_PER_DAY
    if config.end is not None:
        end = to_ms(config.end)
    elif config.start is not None:
        end = to_ms(config.start) + day_ms
    else:
        end = (now_ms // MS_PER_DAY + 1) * MS_PER_DAY
    start = to_ms(config.start) if config.start is not None else end - day_ms
    if start >= end:
        raise ValueError("dataset start must be before its end")
    return start, end


class Emulator:
    """Both vendor APIs on a local port, started on construction; also a context manager::

        with Emulator(EmulatorConfig(seed=7)) as emu:
            requests.get(emu.contact_center_base_url + "/api/v2/cdr", params={"key": emu.credentials["cc_api_key"]})
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config = config or EmulatorConfig()
        self._server = _Server(("127.0.0.1", config.port), _Handler)  # first: fail early if the port is taken
        self._server.emulator = self
        self.clock = Clock(config.now)
        lo_ms, hi_ms = dataset_range(config, self.clock.now_ms())
        if lo_ms < two_years_before(self.clock.now_ms()):
            warnings.warn("part of the dataset is older than Work Analytics' two-year retention at the "
                          "emulator clock and will not be served; set EmulatorConfig.now", stacklevel=2)
        self.dataset = Dataset(config.seed, lo_ms, hi_ms, config.calls_per_day, config.cc_records_per_day,
                               config.pbx_ids, config.cache_mb)
        self.work_analytics = WorkAnalyticsAPI(config, self.dataset, self.clock)
        self.summaries = SummaryReports(self.work_analytics)
        self.contact_center = ContactCenterAPI(config, self.dataset, self.clock)
        self.faults = FaultPlan()
        self.faults.set(config.faults)
        self.rate_limiter = RateLimiter(config)
        self.request_log: list[tuple[str, str, dict[str, str], int]] = []
        self._stats: dict[str, Counter] = defaultdict(Counter)
        self._stats_lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="emulator-http", daemon=True)
        self._thread.start()
        self._stopped = False

    # ---- handle

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def work_analytics_base_url(self) -> str:
        return self.url + BASE_PATH

    @property
    def contact_center_base_url(self) -> str:
        return self.url

    @property
    def credentials(self) -> dict[str, str]:
        c = self.config
        return {"wa_api_key": c.wa_api_key, "wa_username": c.wa_username, "wa_password": c.wa_password,
                "cc_api_key": c.cc_api_key}

    @property
    def pbx_ids(self) -> tuple[str, ...]:
        return self.config.pbx_ids

    @property
    def data_range(self) -> tuple[datetime, datetime]:
        """The dataset's ``[start, end)`` as UTC datetimes."""
        return from_ms(self.dataset.lo_ms), from_ms(self.dataset.hi_ms)

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve_until_terminated(self) -> None:
        """Serve in the foreground until SIGTERM or Ctrl-C, then stop (for command lines)."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.close_all_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.dataset.close()

    # ---- run-time control

    def set_faults(self, rules: list[dict[str, Any] | FaultRule]) -> None:
        self.faults.set(rules)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_now(self, now: str | datetime | None) -> None:
        """Freeze the emulator clock at ``now`` (None: back to the real clock)."""
        self.clock.set(now)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            by_path = {path: {str(status): n for status, n in counts.items()} for path, counts in self._stats.items()}
        return {"requests": by_path, "total": sum(sum(c.values()) for c in by_path.values()),
                "cache": self.dataset.cache_info(), "rate_limit": self.rate_limiter.counts()}

    def ground_truth(self, stream: str, start: str | datetime | None = None, end: str | datetime | None = None,
                     *, time_zone: str = "UTC", pbx_id: str = "allpbxes") -> list[dict]:
        """What the API serves now for ``stream``, rows with their time in ``[start, end)``.

        Streams: ``call_records``, ``call_legs`` (by startTimeUTC; local times in ``time_zone``;
        ``pbx_id`` as the API's ``pbxId``), ``contact_center_cdrs`` (by timestamp) and the reference
        lists ``contact_center_agents``, ``_queues``, ``_teams``, ``_campaigns``, ``_deleted_agents``,
        ``_wrapup_codes``; ``work_analytics_pbxes`` (the directory) and the daily summaries
        ``work_analytics_extension_daily``, ``_ring_group_daily``, ``_ring_group_member_daily`` and
        ``_company_daily``: for each calendar day from the (UTC) date of ``start`` to the day before ``end``,
        the report for 00:00:00 to 23:59:59 of that day in ``time_zone``, each row with the ``day`` and
        ``timeZone`` asked. Start and end default to the dataset range.
        """
        lo = to_ms(start) if start is not None else self.dataset.lo_ms
        hi = to_ms(end) if end is not None else self.dataset.hi_ms + MS_PER_DAY
        if stream in WA_STREAMS:
            return self.work_analytics.ground_truth(stream, lo, hi, time_zone, pbx_id)
        if stream in SUMMARY_STREAMS:  # whole calendar days: the date of `start` to the day before `end`
            last = from_ms((hi if end is not None else self.dataset.hi_ms) - 1).date()
            return self.summaries.daily(stream, from_ms(lo).date(), last, time_zone, pbx_id)
        if stream == PBX_STREAM:
            return self.summaries.pbx_page(0, max(len(self.pbx_ids), 1))["_embedded"]["pbxList"]
        if stream == "contact_center_cdrs":
            return self.contact_center.ground_truth(lo, hi)
        if stream in CC_REFERENCE_STREAMS:
            return orjson.loads(orjson.dumps(self.dataset.reference.as_lists()[CC_REFERENCE_STREAMS[stream]]))
        raise ValueError(f"unknown stream {stream!r}")

    def warm(self, streams: tuple[str, ...] = ("call_records", "call_legs", "contact_center_cdrs"),
             time_zone: str = "UTC") -> None:
        """Generate and serialize every day now, so later reads are served from the cache."""
        for stream in streams:
            self.dataset.warm(stream, time_zone)

    # ---- dispatch (called by the HTTP handler threads)

    def _dispatch(self, request: Request) -> Response:
        if request.path == CONTROL or request.path.startswith(CONTROL + "/"):
            return self._control(request)
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)
        refused = self.rate_limiter.refuse(request.path, iso_utc(self.clock.now_ms()))
        if refused is not None:
            return refused
        spoil = paging = stamp_ms = None
        for rule in self.faults.firing(request.path):
            if rule.kind == "slow":
                time.sleep(rule.seconds)
            elif rule.kind == "expire_token":
                self.work_analytics.tokens.expire_all()
            elif rule.kind == "expire_scroll":
                self.work_analytics.scrolls.expire_all()
                self.contact_center.tokens.expire_all()
            elif rule.kind == "status":
                return fault_kinds.status_response(rule, request.path, iso_utc(self.clock.now_ms()))
            elif rule.kind == "html":
                return fault_kinds.html_fault_response(rule)
            elif rule.kind == "reset":
                return RESET
            elif rule.kind in fault_kinds.PAGING:
                if fault_kinds.continued_token(request.params):
                    paging = rule.kind
                    break
            elif rule.kind == "future_cursor":
                stamp_ms = self.clock.now_ms() + int(rule.seconds * 1000)
                break
            else:
                spoil = rule.kind
                break
        if paging:
            return self._paging_fault(paging, request)
        response = self._route(request)
        if stamp_ms is not None:
            return fault_kinds.future_cursor(response, stamp_ms)
        return fault_kinds.rewrite(spoil, response) if spoil else response

    def _paging_fault(self, kind: str, request: Request) -> Response:
        token = fault_kinds.continued_token(request.params)
        if kind == "repeat_token":
            return fault_kinds.repeat_token(self._route(request), token)
        if request.path == CDR_PATH:
            new_token = self.contact_center.tokens.alias(token)
        else:
            new_token = self.work_analytics.scrolls.alias(token, self.config.scroll_ttl_s)
        return fault_kinds.empty_page(request.path == CDR_PATH, new_token) if new_token else self._route(request)

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == TOKEN_PATH:
            return self.work_analytics.login(request) if method == "POST" else _not_allowed("POST")
        if path in REPORT_PATHS:
            return self.work_analytics.report(request) if method == "GET" else _not_allowed("GET")
        if path in SUMMARY_PATHS:
            return self.summaries.summary(request) if method == "GET" else _not_allowed("GET")
        if path in PBX_PATHS:
            return self.summaries.pbxes(request) if method == "GET" else _not_allowed("GET")
        if path == CDR_PATH:
            return self.contact_center.cdr(request) if method == "GET" else _not_allowed("GET")
        if path in REFERENCE_PATHS:
            return self.contact_center.reference(request) if method == "GET" else _not_allowed("GET")
        return html_response(404, "404 Not Found", "The requested URL was not found on this server.")

    def _control(self, request: Request) -> Response:
        action = (request.method, request.path[len(CONTROL):])
        try:
            if action == ("POST", "/faults"):
                rules = orjson.loads(request.body or b"[]")
                self.set_faults(rules if isinstance(rules, list) else [rules])
                return json_response(200, {"rules": self.faults.describe()})
            if action == ("GET", "/faults"):
                return json_response(200, {"rules": self.faults.describe()})
            if action == ("DELETE", "/faults"):
                self.clear_faults()
                return json_response(200, {"rules": []})
            if action == ("POST", "/now"):
                self.set_now(orjson.loads(request.body or b"{}").get("now"))
                return json_response(200, {"now": iso_utc(self.clock.now_ms())})
            if action == ("GET", "/now"):
                return json_response(200, {"now": iso_utc(self.clock.now_ms())})
            if action == ("GET", "/stats"):
                return json_response(200, self.stats())
            if action == ("DELETE", "/rate_limit"):
                self.rate_limiter.reset()
                return json_response(200, {"rate_limit": self.rate_limiter.counts()})
            if action == ("GET", "/ground_truth"):
                p = request.params
                records = self.ground_truth(p.get("stream", ""), p.get("start"), p.get("end"),
                                            time_zone=p.get("time_zone", "UTC"), pbx_id=p.get("pbx_id", "allpbxes"))
                return json_response(200, {"count": len(records), "records": records})
        except (ValueError, TypeError, KeyError, AttributeError, orjson.JSONDecodeError) as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(404, {"error": f"no control endpoint {request.method} {request.path}"})

    def _record(self, request: Request, status: int) -> None:
        if request.path.startswith(CONTROL):
            return
        with self._stats_lock:
            self.request_log.append((request.method, request.path, request.params, status))
            self._stats[request.path][status] += 1


def _not_allowed(allowed: str) -> Response:
    return json_response(405, {"error": "Method Not Allowed"}, {"Allow": allowed})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    emulator: Emulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def close_all_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read request_log instead
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(self.command, url.path, first_values(url.query), self.headers, body)
        emulator = self.server.emulator
        try:
            response = emulator._dispatch(request)
        except Exception:  # an emulator bug: say so loudly rather than pretend to be the vendor
            traceback.print_exc()
            response = json_response(500, {"error": "emulator bug", "detail": traceback.format_exc(limit=3)})
        emulator._record(request, response.status)
        if response is RESET:
            self._reset()
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0) and no response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve
