"""Custom components for source-8x8-cdr: only what `manifest.yaml` cannot express.

Each class has one job, and its docstring names the built-in component that was tried first and why it
was not enough. Everything else (streams, cursors, retries, schemas) is declared in the manifest.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Iterable, Mapping, MutableMapping, Optional, Union
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from airbyte_cdk.sources.http_config import MAX_CONNECTION_POOL_SIZE
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr.memory import PAGES_IN_MEMORY, place_pages_first
from source_8x8_cdr.secrets import register_secret

logger = logging.getLogger("airbyte")


def interpolate(value: Any, config: Config, parameters: Mapping[str, Any]) -> Any:
    """Custom components get manifest strings as they are written: resolve `{{ ... }}` like the CDK does."""
    if isinstance(value, str) and "{{" in value:
        return InterpolatedString.create(value, parameters=parameters).eval(config)
    return value

# ---------------------------------------------------------------------------------------------------------------------
# One parse per page
# ---------------------------------------------------------------------------------------------------------------------

_PARSED = "_source_8x8_cdr_parsed_body"
_PAGE_SIZE = "_source_8x8_cdr_page_size"
_NOT_JSON = object()


def parsed_body(response: requests.Response) -> Any:
    """The response body parsed once with orjson and kept on the response.

    The error handler (to validate the page), the extractor (for the records) and the paginator (for the
    next token) all read the same page; the CDK's JsonDecoder would parse it once for each of them with the
    standard library. Returns `_NOT_JSON` for a body that is not JSON (an HTML error page, a truncated body).
    """
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        try:
            cached = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            cached = _NOT_JSON
        response.__dict__[_PARSED] = cached
    return cached


def records_in_page(response: requests.Response, records_field: str) -> int:
    """How many records the page held when it arrived (the extractor empties the list as it goes)."""
    known = response.__dict__.get(_PAGE_SIZE)
    if known is None:
        body = parsed_body(response)
        records = body.get(records_field) if records_field and isinstance(body, dict) else body
        known = len(records) if isinstance(records, list) else 0
        response.__dict__[_PAGE_SIZE] = known
    return known


def release_body(response: requests.Response) -> None:
    """Drops the raw body of a page whose records are being read: they were parsed (`parsed_body`), and a
    worker otherwise keeps the bytes (up to 10 MB) until its next page has arrived."""
    if response.__dict__.get(_PARSED) is not None:
        response._content = b""


def _describe_malformed_page(body: Any, records_field: str) -> Optional[str]:
    """Why `body` is not a page of records, or None when it is one.

    With a `records_field` the page is an object holding the list there (`data`, `records`); without one
    the body itself is the list (the contact-center reference lists).
    """
    if body is _NOT_JSON:
        return "a body that is not JSON (an HTML page or a cut-off answer)"
    if records_field:
        if not isinstance(body, dict):
            return f"a JSON {type(body).__name__} instead of an object"
        records = body.get(records_field)
        if not isinstance(records, list):
            return f"a JSON object without a `{records_field}` list"
    else:
        records = body
        if not isinstance(records, list):
            return f"a JSON {type(body).__name__} instead of a list"
    if any(not isinstance(record, dict) for record in records):
        return "a list with entries that are not objects"
    return None


# ---------------------------------------------------------------------------------------------------------------------
# Work Analytics login
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class WorkAnalyticsAuthenticator(DeclarativeAuthenticator):
    """Logs in to 8x8 Work Analytics and signs every data call with `Authorization: Bearer` and `8x8-apikey`.

    Why not `SessionTokenAuthenticator`: it sends one header, while Work Analytics wants two (the bearer
    token *and* the API key); its lifetime is a fixed `expiration_duration`, while ours follows the
    `expires_in` of each login answer; and its login errors are generic, while a user needs to know whether
    the API key (`SHA001`) or the username/password (`invalid_grant`) is wrong.

    When it logs in: before the first call; again `refresh_margin_seconds` before the token expires (there
    is no refresh token); and once more when a data call answers 401 (the manifest maps 401 to
    `REFRESH_TOKEN_THEN_RETRY`, and the CDK calls `refresh_and_set_access_token` at most once per request,
    so a second 401 in a row fails as an auth error instead of looping). Logins are serialised by a lock, so
    concurrent slices share one token. Every token is registered as a secret before it is used. The login
    is not a manifest requester, so it retries by itself: network errors, 429/5xx and cut-off answers are
    tried `max_retries` more times with exponential backoff (or `Retry-After`); refused credentials never.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    base_url: Union[InterpolatedString, str] = ""
    api_key: Union[InterpolatedString, str] = ""
    username: Union[InterpolatedString, str] = ""
    password: Union[InterpolatedString, str] = ""
    refresh_margin_seconds: int = 120
    timeout_seconds: float = 30.0
    max_retries: Union[int, str] = 5
    backoff_seconds: Union[float, str] = 2

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        def resolve(value: Union[InterpolatedString, str]) -> str:
            return str(interpolate(value, self.config, parameters) or "")

        self._base_url = resolve(self.base_url).rstrip("/")
        self._api_key = resolve(self.api_key)
        self._username = resolve(self.username)
        self._password = resolve(self.password)
        self._attempts = int(interpolate(self.max_retries, self.config, parameters) or 0) + 1
        self._backoff = float(interpolate(self.backoff_seconds, self.config, parameters) or 0)
        self._lock = threading.Lock()
        self._token: Optional[str] = None
        self._refresh_at = 0.0
        self._session = requests.Session()

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self._current_token()}"

    def get_auth_header(self) -> Mapping[str, Any]:
        return {"Authorization": self.token, "8x8-apikey": self._api_key}

    def refresh_and_set_access_token(self) -> None:
        """Log in again now: the CDK calls this once when a data call answers 401."""
        with self._lock:
            self._login()

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                self._login()
            return self._token  # type: ignore[return-value]  # _login sets it or raises

    def _login(self) -> None:
        """One login, tried again on a network error, a 429/5xx or a cut-off answer (not on refused credentials)."""
        url = f"{self._base_url}/v1/oauth/token"
        attempts = self._attempts
        for attempt in range(1, attempts + 1):
            try:
                response = self._session.post(
                    url,
                    headers={"8x8-apikey": self._api_key},
                    data={"username": self._username, "password": self._password},
                    timeout=self.timeout_seconds,
                )
            except requests.RequestException as error:
                failure = AirbyteTracedException(
                    message=f"Could not reach the Work Analytics login at {_host(url)} ({type(error).__name__}). "
                    "Check work_analytics.base_url and the network.",
                    internal_message=f"login request failed: {type(error).__name__}",
                    failure_type=FailureType.transient_error,
                )
                retry_after = None
            else:
                body = parsed_body(response)
                if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
                    self._keep_token(body)
                    return
                overloaded = response.status_code == 429 or response.status_code >= 500
                failure = AirbyteTracedException(
                    message=_login_failure_message(response.status_code, body, url),
                    internal_message=f"login answered HTTP {response.status_code}",
                    failure_type=FailureType.transient_error if overloaded else FailureType.config_error,
                )
                if not overloaded and response.status_code != 200:  # refused: trying again cannot help
                    raise failure
                retry_after = _as_seconds(response.headers.get("Retry-After"), default=0) or None
            if attempt < attempts:
                pause = retry_after or self._backoff * 2 ** (attempt - 1)
                logger.warning(f"Work Analytics login failed ({failure.internal_message}); trying again in {pause:.1f} s.")
                time.sleep(pause)
        raise failure

    def _keep_token(self, body: Mapping[str, Any]) -> None:
        token = str(body["access_token"])
        register_secret(token)
        lifetime = _as_seconds(body.get("expires_in"), default=1800)
        self._token = token
        self._refresh_at = time.monotonic() + max(lifetime - self.refresh_margin_seconds, lifetime / 2)


def _as_seconds(value: Any, default: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def _host(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def _login_failure_message(status: int, body: Any, url: str) -> str:
    if isinstance(body, dict) and body.get("code") == "SHA001":
        return "Work Analytics rejected the API key (8x8 code SHA001). Check work_analytics.api_key."
    if isinstance(body, dict) and body.get("error") == "invalid_grant":
        return (
            "Work Analytics rejected the username or password (invalid_grant). Check work_analytics.username and "
            "work_analytics.password, and that this user has opened Work Analytics in a browser once."
        )
    if body is _NOT_JSON:
        return (
            f"The Work Analytics login at {_host(url)} answered HTTP {status} with a body that is not JSON. "
            "Check work_analytics.base_url (default https://api.8x8.com/analytics/work)."
        )
    return f"The Work Analytics login at {_host(url)} failed with HTTP {status}. Check the work_analytics settings."


# ---------------------------------------------------------------------------------------------------------------------
# Request windows
# ---------------------------------------------------------------------------------------------------------------------


def parse_utc(value: Union[str, int, float, datetime], zone: tzinfo = timezone.utc) -> datetime:
    """An aware UTC datetime from a slice bound or state value (ISO 8601, with `Z` or an offset; without one, a
    wall-clock time in `zone`)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


def wall_clock_window(start: datetime, end: datetime, zone: ZoneInfo, end_padding: timedelta = timedelta(0)) -> tuple[datetime, datetime]:
    """Naive wall-clock times in `zone` whose window surely covers [start, end] whatever the API does.

    The APIs take second-precision wall-clock times and do not publish whether the end is inclusive;
    records carry milliseconds. So the start is floored and the end is pushed to the next whole second
    (a call at 23:59:59.500 is inside either way). Around a DST fold a wall-clock time means two instants;
    the window is widened by the fold so that both readings still cover the slice. The records outside
    the slice are dropped afterwards by `ExactlyOnceSliceFilter`.
    """

    def to_wall(moment: datetime, widen: int) -> datetime:
        wall = moment.astimezone(zone).replace(tzinfo=None)
        earlier = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
        later = wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
        if earlier != later:
            wall = (moment + widen * abs(later - earlier)).astimezone(zone).replace(tzinfo=None)
        return wall.replace(microsecond=0)

    return to_wall(start, -1), to_wall(end + end_padding + timedelta(seconds=1), +1)


@dataclass
class WallClockWindowRequester(HttpRequester):
    """An `HttpRequester` that also sends the slice as a wall-clock window in the API's time zone.

    Why not `DatetimeBasedCursor.start_time_option`/`end_time_option` or Jinja in `request_parameters`: both
    format the slice bound as it is, in UTC. Work Analytics reads its window in `timeZone` and the
    contact-center API in the account's (configured) zone, and the window must be widened as
    `wall_clock_window` explains, which the manifest's interpolation cannot compute.

    Attributes (YAML):
        request_parameters: the other query parameters, interpolated as in `HttpRequester`
        start_parameter / end_parameter: e.g. `startTime` / `endTime`
        time_format: e.g. `"%Y-%m-%d %H:%M:%S"`
        time_zone: an IANA name, may be interpolated, e.g. `"{{ config['contact_center'].get('time_zone', 'UTC') }}"`
        end_padding_minutes: how much further than the slice end to ask, may be interpolated (default 0)
        read_timeout_in_seconds: as in `HttpRequester`, but may be interpolated from the config
    """

    request_parameters: Optional[Union[str, Mapping[str, Any]]] = None
    start_parameter: str = "start_time"
    end_parameter: str = "end_time"
    time_format: str = "%Y-%m-%dT%H:%M:%S"
    time_zone: Union[InterpolatedString, str] = "UTC"
    end_padding_minutes: Union[int, str] = 0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.request_options_provider is None:
            self.request_options_provider = InterpolatedRequestOptionsProvider(
                request_parameters=self.request_parameters or {}, config=self.config, parameters=parameters
            )
        self._zone = ZoneInfo(str(interpolate(self.time_zone, self.config, parameters) or "UTC"))
        self._end_padding = timedelta(minutes=int(interpolate(self.end_padding_minutes, self.config, parameters) or 0))
        if self.read_timeout_in_seconds is not None:  # may come from the config, as a string to interpolate
            self.read_timeout_in_seconds = float(interpolate(self.read_timeout_in_seconds, self.config, parameters))
        super().__post_init__(parameters)
        place_pages_first(self._http_client._session, MAX_CONNECTION_POOL_SIZE)

    def get_request_params(
        self,
        *,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        params = super().get_request_params(
            stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
        )
        if stream_slice and "start_time" in stream_slice and "end_time" in stream_slice:
            start, end = wall_clock_window(
                parse_utc(stream_slice["start_time"]), parse_utc(stream_slice["end_time"]), self._zone, self._end_padding
            )
            params[self.start_parameter] = start.strftime(self.time_format)
            params[self.end_parameter] = end.strftime(self.time_format)
        return params


# ---------------------------------------------------------------------------------------------------------------------
# Errors, extraction, filtering
# ---------------------------------------------------------------------------------------------------------------------


_PAGING_PARAMETERS = {"scrollId", "page", "search_token"}


def _request_window(answer: Any) -> Optional[tuple]:
    """What identifies the slice a response belongs to: its path and query without the paging parameters."""
    request = getattr(answer, "request", None)
    url = getattr(request, "url", None)
    if not url:
        return None
    parts = urlsplit(url)
    query = tuple(sorted(pair for pair in parse_qsl(parts.query) if pair[0] not in _PAGING_PARAMETERS))
    return parts.path, query


@dataclass
class PageCheckingErrorHandler(ErrorHandler):
    """Adds body checks and a bounded slice restart to the manifest's status-code rules.

    Why not `DefaultErrorHandler` alone: its `predicate` and `error_message_contains` re-parse every
    successful page with the standard library (a 7,000-record page, twice), and a 200 with an HTML page,
    a cut-off body or no `data` list would pass as an empty page, silently ending the slice. Here a 2xx body
    is parsed once (see `parsed_body`) and, when it is not a page of records, the slice is read again from
    its first page (`RESET_PAGINATION`; `ExactlyOnceSliceFilter` drops what was already emitted). Expired
    scroll ids and search tokens (mapped to `RESET_PAGINATION` by the manifest rules) restart the same way.
    The CDK reads a slice at most twice, so a second restart of the same slice (recognised by its request
    window, per thread) fails the stream with a transient error (`max_restarts` is 1); the state never moves
    past the slice, so the next sync reads it again. Everything else is decided by `status_rules`.
    """

    status_rules: ErrorHandler
    records_field: str
    api_name: str
    parameters: InitVar[Mapping[str, Any]]
    max_restarts: int = 1
    restart_pause_seconds: float = 1.0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._restarts = threading.local()

    @property
    def max_retries(self) -> Optional[int]:
        return self.status_rules.max_retries

    @property
    def max_time(self) -> Optional[int]:
        return self.status_rules.max_time

    @property
    def backoff_strategies(self) -> Any:
        return getattr(self.status_rules, "backoff_strategies", None)

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and 200 <= response_or_exception.status_code < 300:
            PAGES_IN_MEMORY.take()
            problem = _describe_malformed_page(parsed_body(response_or_exception), self.records_field)
            if problem is None:
                records_in_page(response_or_exception, self.records_field)  # counted before the extractor empties the page
                return ErrorResolution(response_action=ResponseAction.SUCCESS)
            PAGES_IN_MEMORY.give_back()
            return self._restart_or_fail(response_or_exception, f"{self.api_name} answered {problem}")
        resolution = self.status_rules.interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.RESET_PAGINATION:
            return self._restart_or_fail(response_or_exception, resolution.error_message or f"{self.api_name} asked to restart paging")
        return resolution

    def _restart_or_fail(self, answer: Any, reason: str) -> ErrorResolution:
        window = _request_window(answer)
        count = getattr(self._restarts, "count", 0) + 1 if getattr(self._restarts, "window", None) == window else 1
        self._restarts.window, self._restarts.count = window, count
        if count > self.max_restarts:
            self._restarts.window, self._restarts.count = None, 0
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.transient_error,
                error_message=f"{reason}, {count} times while reading one slice; the slice was not completed and the state was not advanced past it.",
            )
        logger.warning(f"{reason}; reading the slice again from its first page (restart {count} of {self.max_restarts}).")
        time.sleep(self.restart_pause_seconds * count)
        return ErrorResolution(response_action=ResponseAction.RESET_PAGINATION, error_message=reason)


@dataclass
class JsonPageExtractor(RecordExtractor):
    """Yields the records of a page from one orjson parse of the body.

    Why not `DpathExtractor`: it decodes the body with the standard library and walks the path with `dpath`
    for each page, which is most of the time spent per record on a 7,000-record page; and it would decode
    the page a second time after the error handler and the paginator. The page shape was already checked
    by `PageCheckingErrorHandler`, so this only reads the list at `field` (the whole body when empty),
    emptying it as it goes; the paginators read the page's size from `records_in_page`.
    """

    parameters: InitVar[Mapping[str, Any]]
    field: str = ""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = parsed_body(response)
        records = body.get(self.field) if self.field and isinstance(body, dict) else body
        if isinstance(records, list):
            # Hand each record over and drop it from the parsed page, whose raw body is dropped too: a page
            # is held once, as the records being kept, not also as its JSON and its parsed list.
            records_in_page(response, self.field)
            release_body(response)
            records.reverse()
            while records:
                yield records.pop()
        elif isinstance(records, dict):
            yield records


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_WALL_EPOCH = _EPOCH.replace(tzinfo=None)


_MILLISECOND = timedelta(milliseconds=1)


def _epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MILLISECOND


def cursor_moment(value: Any, zone: tzinfo = timezone.utc) -> Optional[datetime]:
    """A record cursor as an aware UTC datetime: epoch milliseconds (int or digit string) or ISO 8601 with an
    offset, such as `2024-07-31T12:43:09.000-03:00` (without one, a wall-clock time in `zone`). None when the
    value cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _EPOCH + timedelta(milliseconds=value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _EPOCH + timedelta(milliseconds=int(text))
        try:
            return parse_utc(text, zone)
        except ValueError:
            return None
    return None


def cursor_epoch_ms(value: Any, zone: tzinfo = timezone.utc) -> Optional[int]:
    """`cursor_moment` in epoch milliseconds; an ISO string is read without a UTC datetime (one without an offset
    with `zone`'s offset at that wall-clock time, as `parse_utc` reads it)."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return (moment - _EPOCH) // _MILLISECOND
            if not value.isdigit():  # digits are epoch milliseconds, not a compact date
                return (moment - _WALL_EPOCH - zone.utcoffset(moment)) // _MILLISECOND  # type: ignore[operator]
    moment = cursor_moment(value, zone)
    return None if moment is None else _epoch_ms(moment)


@dataclass
class ExactlyOnceSliceFilter(RecordFilter):
    """Emits each record once per sync: only in the slice that owns its cursor, and only once in that slice.

    Why not `is_client_side_incremental` or a `record_filter` condition: the built-in filter compares the
    cursor with the whole sync's bounds, not with the slice, so a record at a slice boundary (which both
    neighbouring request windows may return, as the API does not publish whether `endTime` is inclusive)
    would be emitted twice; and a Jinja condition per record costs more than the rest of the record path.

    A slice owns the records whose cursor lies in [start_time, end_time] (the CDK ends a slice one
    millisecond before the next one starts). Within a slice, primary keys already emitted are dropped, which
    makes a slice restart (`PageCheckingErrorHandler`) safe; records without a key are all kept. The key set lives per worker thread and only
    for the slice that thread is reading, so memory follows one slice, not the sync. A record whose cursor
    cannot be read is kept (never lost) and logged. A cursor without a UTC offset is a wall-clock time in
    `time_zone` (the contact-center account's zone). In a sync that reads up to its own start, the last slice
    also owns the records stamped after it (`owns_records_after`): they are kept, not lost.
    """

    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str = ""
    primary_key: str = ""
    time_zone: Union[InterpolatedString, str] = "UTC"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.cursor_field = str(interpolate(self.cursor_field, self.config, parameters))
        self.primary_key = str(interpolate(self.primary_key, self.config, parameters))
        self.zone = ZoneInfo(str(interpolate(self.time_zone, self.config, parameters) or "UTC"))
        self._open_end = ""
        self._current = threading.local()

    def owns_records_after(self, end_time: str) -> None:
        """The slice that ends at `end_time` (the time of the sync) also owns the records stamped after it: a PBX
        with a wrong clock or a scheduled callback is emitted, and read again by later syncs until its time."""
        self._open_end = end_time

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        yield from self.keep(records, stream_slice)[0]

    def keep(self, records: Iterable[Mapping[str, Any]], stream_slice: Optional[StreamSlice]) -> tuple[list, Optional[Mapping[str, Any]]]:
        """The records of a page that the slice emits, in order, and the kept record with the greatest cursor
        (None when no kept record has a readable cursor).

        ISO cursors in the APIs' fixed-width form (`2024-07-31T12:43:09.000-03:00`, or `...000Z`) are compared as
        text with the slice's bounds written at the same offset and width, which costs a fifth of converting
        each one to an instant; the greatest is found per offset and converted once per page.
        """
        if not stream_slice or "start_time" not in stream_slice:
            kept = list(records)
            return kept, None
        start, end, seen, windows = self._slice_state(stream_slice)
        cursor_field, primary_key = self.cursor_field, self.primary_key
        kept: list = []
        latest: Optional[Mapping[str, Any]] = None
        latest_ms: Optional[int] = None
        greatest: dict[str, tuple[str, Mapping[str, Any]]] = {}  # per offset, the greatest ISO cursor kept
        offset, low, high, top, top_data = "", "", "", "", None  # of the offset met last
        for record in records:
            data = record if type(record) is dict else record.data if isinstance(record, Record) else record
            value = data.get(cursor_field)
            iso = type(value) is str and len(value) in _FIXED_WIDTHS and value[10] == "T" and value[19] == "." and value[23] in "Z+-"
            if iso:
                try:
                    datetime.fromisoformat(value)
                except ValueError:
                    iso = False
            if iso:
                if not value.endswith(offset) or not offset:
                    if top_data is not None:
                        greatest[offset] = (top, top_data)
                    offset = value[23:]
                    low, high = windows.get(offset) or windows.setdefault(offset, _iso_window(start, end, offset))
                    top, top_data = greatest.get(offset, ("", None))
                if not low <= value <= high:
                    continue
                moment_ms = None
            elif type(value) is int:  # Work Analytics: epoch milliseconds, compared as they are
                moment_ms = value
                if not start <= moment_ms <= end:
                    continue
            else:
                moment_ms = cursor_epoch_ms(value, self.zone)
                if moment_ms is None:
                    logger.warning(
                        f"Record {primary_key}={data.get(primary_key)!r} has an unreadable {cursor_field} "
                        f"({type(value).__name__}); emitting it as is."
                    )
                elif not start <= moment_ms <= end:
                    continue
            key = data.get(primary_key)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            kept.append(record)
            if iso:
                if value > top:
                    top, top_data = value, data
            elif moment_ms is not None and (latest_ms is None or moment_ms > latest_ms):
                latest, latest_ms = record, moment_ms
        if top_data is not None:
            greatest[offset] = (top, top_data)
        for value, data in greatest.values():
            moment_ms = cursor_epoch_ms(value)
            if latest_ms is None or moment_ms > latest_ms:  # type: ignore[operator]
                latest, latest_ms = data, moment_ms
        return kept, latest

    def forget_slice(self) -> None:
        """This thread has finished its slice: its keys are no longer needed."""
        self._current.slice = None

    def _slice_state(self, stream_slice: StreamSlice) -> tuple[int, int, set, dict]:
        """For this thread: the slice's bounds in epoch milliseconds, the keys it emitted, and its bounds as
        fixed-width ISO text per UTC offset met so far."""
        bounds = (stream_slice["start_time"], stream_slice["end_time"])
        current = getattr(self._current, "slice", None)
        if current is None or current[0] != bounds:
            end_ms = _OPEN_END if bounds[1] == self._open_end else _epoch_ms(parse_utc(bounds[1]))
            current = (bounds, _epoch_ms(parse_utc(bounds[0])), end_ms, set(), {})
            self._current.slice = current
        return current[1], current[2], current[3], current[4]


# `2024-07-31T12:43:09.000Z` and `2024-07-31T12:43:09.000-03:00`: milliseconds, then `Z` or an offset.
_FIXED_WIDTHS = (24, 29)
# The end of a slice that owns every later record; as ISO text, "~" sorts after any date.
_OPEN_END = 1 << 63


def _iso_window(start_ms: int, end_ms: int, offset: str) -> tuple[str, str]:
    """The slice [start_ms, end_ms] as fixed-width ISO text (`2024-07-31T09:43:09.000-03:00`) at a UTC offset
    (`Z`, `-03:00`): for cursors with that offset, comparing the text compares the instants."""
    zone = timezone.utc if offset == "Z" else datetime.fromisoformat("2000-01-01T00:00:00" + offset).tzinfo

    def iso(ms: int) -> str:
        return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + offset

    return iso(start_ms), "~" if end_ms == _OPEN_END else iso(end_ms)


# ---------------------------------------------------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class _PagedBySize(PaginationStrategy):
    """What both paginators share: a page size that may come from the config, and no token before page 1."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: Union[int, str] = 0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.page_size = int(interpolate(self.page_size, self.config, parameters))

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def get_page_size(self) -> Optional[int]:
        return int(self.page_size)


@dataclass
class ScrollIdPagination(_PagedBySize):
    """Follows Work Analytics' `meta.scrollId` until the API says there is no more data.

    Why not `CursorPagination` with a `stop_condition`: it decodes the page again with the standard library
    to read one field, and its Jinja stop condition is evaluated per page against that second parse. The stop
    rules are those of FACTS.md: a scrollId "No Data" (any case), a missing or empty scrollId, or an empty
    `data` list. A short page is *not* the end: the API may still return a real scrollId after it.
    """

    page_size: Union[int, str] = 7000

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
    ) -> Optional[Any]:
        body = parsed_body(response)
        if not isinstance(body, dict) or not records_in_page(response, "data"):
            return None
        meta = body.get("meta")
        scroll_id = meta.get("scrollId") if isinstance(meta, dict) else None
        if not isinstance(scroll_id, str) or not scroll_id.strip() or scroll_id.strip().lower() == "no data":
            return None
        return scroll_id


SEARCH_CAP = 10_000


@dataclass
class SearchTokenPagination(_PagedBySize):
    """Pages the contact-center CDR search with `page`/`per_page` and continues past its 10,000-record cap
    with `search_token`.

    Why not `PageIncrement`: it knows nothing of the cap (it would stop, or read empty pages, at 10,000
    records: the HubSpot and Pardot bug) nor of tokens. The API does not publish whether the token comes on
    every page of a capped search or only on the page that reaches the cap, so the rule holds for both:

    * a page that reaches the cap and carries a token: the next search (same query, `search_token`, page 1);
    * a full page below the cap: the next page of this search, whether or not a token is already shown;
    * a short or empty page: the next search when it carries a token, otherwise the end;
    * at the cap without a token: the end (the API gives a token whenever more records match).

    `total` is never read (its meaning is not published). The token value is `{"page", "read"}`, plus
    `search_token` once a search is continued; `read` counts the records of the current search. The
    manifest sends `page` and `search_token` from it. Several slices page at once, so all state is in the token.
    """

    page_size: Union[int, str] = 10_000
    search_cap: int = SEARCH_CAP

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
    ) -> Optional[Any]:
        body = parsed_body(response)
        count = records_in_page(response, "records")
        new_token = body.get("search_token") if isinstance(body, dict) else None
        new_token = new_token if isinstance(new_token, str) and new_token else None
        current = last_page_token_value if isinstance(last_page_token_value, dict) else {}
        page = int(current.get("page", 1))
        read = int(current.get("read", 0)) + count
        per_page = page_size_override or int(self.page_size)

        if read >= self.search_cap or count < per_page:
            if new_token:
                return {"page": 1, "search_token": new_token, "read": 0}
            return None
        following = {"page": page + 1, "read": read}
        if current.get("search_token"):
            following["search_token"] = current["search_token"]
        return following
