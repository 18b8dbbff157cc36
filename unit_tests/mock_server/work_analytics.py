"""Request and response builders for 8x8 Work Analytics (`/v1/oauth/token`, `/v2/call-records`, `/v2/call-legs`),
and the config the Work Analytics tests start from.

Requests are matched exactly (path, every query parameter, the auth headers and the login form), so a test
that mocks a request also asserts that the connector sent it. Responses start from the templates in
`unit_tests/resource/http/response/work_analytics_*.json`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union
from urllib.parse import urlencode

from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath, RecordBuilder, create_record_builder, find_template

from unit_tests.mock_server.config import WA_API_KEY, WA_BASE_URL, WA_PASSWORD, WA_USERNAME, ConfigBuilder

CALL_RECORDS = "call_records"
CALL_LEGS = "call_legs"
PATHS = {CALL_RECORDS: "/v2/call-records", CALL_LEGS: "/v2/call-legs"}
PRIMARY_KEYS = {CALL_RECORDS: "callId", CALL_LEGS: "legId"}
DEFAULT_PAGE_SIZE = 7000
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.wa-test-token.signature"
HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"


def _template(name: str) -> Any:
    """A fresh copy of `resource/http/response/<name>.json`."""
    return find_template(name, __file__)


def epoch_ms(text: str) -> int:
    """`epoch_ms("2026-06-01T23:59:59.999")` -> epoch milliseconds of that UTC time (the API's `startTimeUTC`)."""
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------------------------------

# The window `work_analytics_config()` asks for: one slice [2026-06-01 00:00:00.000, 2026-06-02 00:00:00.000]. The
# request ends later than the slice: by the lookback window (60 minutes by default; the API may select calls by
# their end rather than their start) and one second (it takes whole seconds, and `endTime` may be exclusive).
WINDOW_START = "2026-06-01 00:00:00"
WINDOW_END = "2026-06-02 01:00:01"


def work_analytics_config(pbx_ids: Optional[List[str]] = None, page_size: Optional[int] = None) -> ConfigBuilder:
    """Only Work Analytics, from 2026-06-01T00:00:00Z to 2026-06-02T00:00:00Z: one daily slice."""
    return ConfigBuilder().with_work_analytics(pbx_ids=pbx_ids, page_size=page_size).with_end_date("2026-06-02T00:00:00Z")


# ---------------------------------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------------------------------


def login_request(api_key: str = WA_API_KEY, username: str = WA_USERNAME, password: str = WA_PASSWORD) -> HttpRequest:
    """`POST /v1/oauth/token` with the `8x8-apikey` header and the form-encoded username and password."""
    return HttpRequest(
        url=f"{WA_BASE_URL}/v1/oauth/token",
        headers={"8x8-apikey": api_key, "Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"username": username, "password": password}),
    )


def logged_in(http_mocker: HttpMocker) -> None:
    """Every login answers `ACCESS_TOKEN`."""
    http_mocker.post(login_request(), token_response())


class WorkAnalyticsRequestBuilder:
    """`WorkAnalyticsRequestBuilder.call_records().with_window("2026-06-01 00:00:00", "2026-06-02 01:00:00").build()`.

    Defaults are what the connector sends with `work_analytics_config()`: `pbxId=allpbxes`, `timeZone=UTC`,
    `pageSize=7000`, the window `WINDOW_START`..`WINDOW_END`, signed with `ACCESS_TOKEN` and the API key.
    """

    def __init__(self, stream_name: str) -> None:
        self._path = PATHS[stream_name]
        self._query_params: Dict[str, str] = {
            "pbxId": "allpbxes",
            "timeZone": "UTC",
            "pageSize": str(DEFAULT_PAGE_SIZE),
            "startTime": WINDOW_START,
            "endTime": WINDOW_END,
        }
        self._token = ACCESS_TOKEN

    @classmethod
    def call_records(cls) -> "WorkAnalyticsRequestBuilder":
        return cls(CALL_RECORDS)

    @classmethod
    def call_legs(cls) -> "WorkAnalyticsRequestBuilder":
        return cls(CALL_LEGS)

    def with_window(self, start_time: str, end_time: str) -> "WorkAnalyticsRequestBuilder":
        """`YYYY-MM-DD HH:MM:SS` values, exactly as the connector must send them."""
        self._query_params["startTime"] = start_time
        self._query_params["endTime"] = end_time
        return self

    def with_pbx_id(self, pbx_id: str) -> "WorkAnalyticsRequestBuilder":
        self._query_params["pbxId"] = pbx_id
        return self

    def with_page_size(self, page_size: int) -> "WorkAnalyticsRequestBuilder":
        self._query_params["pageSize"] = str(page_size)
        return self

    def with_scroll_id(self, scroll_id: str) -> "WorkAnalyticsRequestBuilder":
        self._query_params["scrollId"] = scroll_id
        return self

    def with_token(self, token: str) -> "WorkAnalyticsRequestBuilder":
        self._token = token
        return self

    def build(self) -> HttpRequest:
        return HttpRequest(
            url=f"{WA_BASE_URL}{self._path}",
            query_params=dict(self._query_params),
            headers={"Authorization": f"Bearer {self._token}", "8x8-apikey": WA_API_KEY},
        )


# ---------------------------------------------------------------------------------------------------------------------
# Records and pages
# ---------------------------------------------------------------------------------------------------------------------


def _record_builder(stream_name: str) -> RecordBuilder:
    return create_record_builder(
        _template(f"work_analytics_{stream_name}"),
        FieldPath("data"),
        record_id_path=FieldPath(PRIMARY_KEYS[stream_name]),
        record_cursor_path=FieldPath("startTimeUTC"),
    )


def a_call_record(call_id: str, start_ms: Union[int, str]) -> RecordBuilder:
    """One call record from the template, with its `callId` and `startTimeUTC` (epoch ms, or a digit string)."""
    return _record_builder(CALL_RECORDS).with_id(call_id).with_cursor(start_ms)


def a_call_leg(leg_id: str, start_ms: Union[int, str], call_id: Optional[str] = None) -> RecordBuilder:
    """One call leg from the template, with its `legId`, `startTimeUTC` and (optionally) `callId`."""
    leg = _record_builder(CALL_LEGS).with_id(leg_id).with_cursor(start_ms)
    if call_id is not None:
        leg.with_field(FieldPath("callId"), call_id)
    return leg


_UNSET = object()


class WorkAnalyticsPage:
    """A 200 page of `/v2/call-records` or `/v2/call-legs`.

    `WorkAnalyticsPage.of([a_call_record("1", ms)]).with_scroll_id("next")` for a page that continues,
    `WorkAnalyticsPage.of([...]).last()` for one followed by nothing (`scrollId: "No Data"`).
    """

    def __init__(self, records: Iterable[Union[RecordBuilder, Mapping[str, Any]]]) -> None:
        self._records = list(records)
        self._scroll_id: Any = _template("work_analytics_call_records")["meta"]["scrollId"]

    @classmethod
    def of(cls, records: Iterable[Union[RecordBuilder, Mapping[str, Any]]]) -> "WorkAnalyticsPage":
        return cls(records)

    @classmethod
    def empty(cls) -> "WorkAnalyticsPage":
        """What the API answers after the last page: `{"meta":{"totalRecordCount":0,"scrollId":"No Data"},"data":[]}`."""
        return cls([]).with_scroll_id("No Data")

    def with_scroll_id(self, scroll_id: Any) -> "WorkAnalyticsPage":
        """Any value, including None (sent as `null`)."""
        self._scroll_id = scroll_id
        return self

    def without_scroll_id(self) -> "WorkAnalyticsPage":
        self._scroll_id = _UNSET
        return self

    def last(self) -> "WorkAnalyticsPage":
        return self.with_scroll_id("No Data")

    def body(self) -> Dict[str, Any]:
        body = _template("work_analytics_no_data")  # the page shape: {"meta": {...}, "data": []}
        body["data"] = [record.build() if isinstance(record, RecordBuilder) else dict(record) for record in self._records]
        body["meta"]["totalRecordCount"] = len(body["data"])
        if self._scroll_id is _UNSET:
            del body["meta"]["scrollId"]
        else:
            body["meta"]["scrollId"] = self._scroll_id
        return body

    def build(self) -> HttpResponse:
        return HttpResponse(json.dumps(self.body()), 200)


# ---------------------------------------------------------------------------------------------------------------------
# Login answers
# ---------------------------------------------------------------------------------------------------------------------


def token_response(access_token: str = ACCESS_TOKEN, expires_in: Any = 1800) -> HttpResponse:
    body = _template("work_analytics_token")
    body["access_token"] = access_token
    body["expires_in"] = expires_in
    return HttpResponse(json.dumps(body), 200)


def invalid_api_key_response() -> HttpResponse:
    """HTTP 400 `{"status":400,"message":"Invalid 8x8-apikey","code":"SHA001",...}`: the login and data calls both
    answer it for a bad key."""
    return HttpResponse(json.dumps(_template("work_analytics_invalid_api_key")), 400)


def invalid_grant_response() -> HttpResponse:
    """HTTP 400 `{"error":"invalid_grant","error_description":"USER_NOTFOUND_ERROR"}`: bad username or password."""
    return HttpResponse(json.dumps(_template("work_analytics_invalid_grant")), 400)


# ---------------------------------------------------------------------------------------------------------------------
# Data-call errors and malformed answers
# ---------------------------------------------------------------------------------------------------------------------


def invalid_token_response() -> HttpResponse:
    """HTTP 401 `{"error":"invalid_token",...}`: the token expired or was revoked."""
    return HttpResponse(json.dumps(_template("work_analytics_invalid_token")), 401)


def access_denied_response(pbx_id: str = "acmecorp2", user: str = WA_USERNAME) -> HttpResponse:
    body = _template("work_analytics_access_denied")
    body["exception"] = f"user({user}) does not have access to pbxId({pbx_id})"
    return HttpResponse(json.dumps(body), 403)


def expired_scroll_id_response() -> HttpResponse:
    """HTTP 400 whose message mentions the scrollId (the scroll context expired between two pages)."""
    return HttpResponse(json.dumps(_template("work_analytics_expired_scroll_id")), 400)


def rate_limited_response(retry_after_seconds: int) -> HttpResponse:
    return HttpResponse(
        json.dumps(_template("work_analytics_rate_limited")), 429, {"Retry-After": str(retry_after_seconds)}
    )


def server_error_response() -> HttpResponse:
    return HttpResponse(json.dumps(_template("work_analytics_server_error")), 500)


def html_response(status_code: int = 200) -> HttpResponse:
    """What a proxy in front of the API answers instead of JSON."""
    return HttpResponse(HTML_PAGE, status_code, {"Content-Type": "text/html"})


def truncated_page_response(records: List[RecordBuilder]) -> HttpResponse:
    """A 200 whose JSON body was cut off in the middle (a dropped connection)."""
    body = json.dumps(WorkAnalyticsPage.of(records).body())
    return HttpResponse(body[: len(body) // 2], 200)


def page_without_data_response() -> HttpResponse:
    """A 200 JSON object without the `data` list."""
    body = _template("work_analytics_no_data")
    del body["data"]
    return HttpResponse(json.dumps(body), 200)
