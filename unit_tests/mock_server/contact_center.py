"""Request and response builders for the contact-center CDR API (`/api/v2/cdr` and its reference lists).

Requests are matched exactly (path and every query parameter), so a test that mocks a request also
asserts that the connector sent it. Responses start from the templates in
`unit_tests/resource/http/response/contact_center_*.json`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union
from urllib.parse import parse_qs, urlsplit

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import (
    FieldPath,
    RecordBuilder,
    create_record_builder,
    find_template,
)

from unit_tests.mock_server.config import CC_API_KEY, CC_BASE_URL

CDRS_STREAM = "contact_center_cdrs"
CDRS_PATH = "/api/v2/cdr"
REFERENCE_LIST_PATHS = {
    "contact_center_agents": "/api/v2/cdr/agents",
    "contact_center_queues": "/api/v2/cdr/queues",
    "contact_center_teams": "/api/v2/cdr/teams",
    "contact_center_campaigns": "/api/v2/cdr/campaigns",
    "contact_center_deleted_agents": "/api/v2/cdr/deleted_agents",
    "contact_center_wrapup_codes": "/api/v2/cdr/wrapup_codes",
}
SEARCH_CAP = 10_000
DEFAULT_PER_PAGE = 10_000
SAO_PAULO = timezone(timedelta(hours=-3))
KOLKATA = timezone(timedelta(hours=5, minutes=30))
# What a misconfigured base URL (a web site, a proxy's error page) answers instead of JSON.
HTML_PAGE = "<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"


def _template(name: str) -> Any:
    """A fresh copy of `resource/http/response/<name>.json`."""
    return find_template(name, __file__)


# ---------------------------------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------------------------------


class ContactCenterRequestBuilder:
    """`ContactCenterRequestBuilder.cdrs().with_window(start, end).with_page(2).build()`."""

    def __init__(self, path: str, query_params: Dict[str, str]) -> None:
        self._path = path
        self._query_params = query_params

    @classmethod
    def cdrs(cls) -> "ContactCenterRequestBuilder":
        return cls(CDRS_PATH, {"key": CC_API_KEY, "per_page": str(DEFAULT_PER_PAGE), "page": "1"})

    @classmethod
    def reference_list(cls, stream_name: str) -> "ContactCenterRequestBuilder":
        return cls(REFERENCE_LIST_PATHS[stream_name], {"key": CC_API_KEY})

    def with_window(self, start_datetime: str, end_datetime: str) -> "ContactCenterRequestBuilder":
        """Wall-clock `YYYY-MM-DDTHH:MM:SS` values, exactly as the connector must send them."""
        self._query_params["start_datetime"] = start_datetime
        self._query_params["end_datetime"] = end_datetime
        return self

    def with_per_page(self, per_page: int) -> "ContactCenterRequestBuilder":
        self._query_params["per_page"] = str(per_page)
        return self

    def with_page(self, page: int) -> "ContactCenterRequestBuilder":
        self._query_params["page"] = str(page)
        return self

    def with_search_token(self, search_token: str) -> "ContactCenterRequestBuilder":
        self._query_params["search_token"] = search_token
        return self

    def build(self) -> HttpRequest:
        return HttpRequest(url=f"{CC_BASE_URL}{self._path}", query_params=dict(self._query_params))


# ---------------------------------------------------------------------------------------------------------------------
# CDR records and pages
# ---------------------------------------------------------------------------------------------------------------------


def cdr_timestamp(moment_utc: datetime, offset: timezone = SAO_PAULO) -> str:
    """The API's `timestamp`: ISO 8601 with milliseconds and an offset, e.g. `2026-06-01T12:43:09.000-03:00`."""
    return moment_utc.astimezone(offset).isoformat(timespec="milliseconds")


def cdr_record() -> RecordBuilder:
    """One CDR from the template; set `uuid` with `with_id` and `timestamp` with `with_cursor`."""
    return create_record_builder(
        _template(CDRS_STREAM),
        FieldPath("records"),
        record_id_path=FieldPath("uuid"),
        record_cursor_path=FieldPath("timestamp"),
    )


def generate_cdrs(
    count: int,
    first_moment_utc: datetime,
    step: timedelta = timedelta(seconds=3),
    prefix: str = "cdr",
    first_index: int = 0,
) -> List[Dict[str, Any]]:
    """`count` distinct CDRs `step` apart (uuids `<prefix>-<index>`), cheap enough for tens of thousands."""
    sample = _template(CDRS_STREAM)["records"][0]
    return [
        {
            **sample,
            "uuid": f"{prefix}-{index}",
            "timestamp": cdr_timestamp(first_moment_utc + step * (index - first_index)),
        }
        for index in range(first_index, first_index + count)
    ]


class CdrPageBuilder:
    """A page of `GET /api/v2/cdr`: records, `search_token` (null unless set), `page` and `total`."""

    def __init__(self) -> None:
        self._body: Dict[str, Any] = _template(CDRS_STREAM)
        self._records: List[Union[RecordBuilder, Mapping[str, Any]]] = []

    def with_record(self, record: Union[RecordBuilder, Mapping[str, Any]]) -> "CdrPageBuilder":
        self._records.append(record)
        return self

    def with_records(self, records: Iterable[Union[RecordBuilder, Mapping[str, Any]]]) -> "CdrPageBuilder":
        self._records.extend(records)
        return self

    def with_search_token(self, search_token: Optional[str]) -> "CdrPageBuilder":
        self._body["search_token"] = search_token
        return self

    def with_page(self, page: int) -> "CdrPageBuilder":
        self._body["page"] = page
        return self

    def with_total(self, total: int) -> "CdrPageBuilder":
        self._body["total"] = total
        return self

    def build(self) -> HttpResponse:
        self._body["records"] = [record.build() if isinstance(record, RecordBuilder) else record for record in self._records]
        return HttpResponse(json.dumps(self._body), 200)


def empty_cdr_page() -> HttpResponse:
    return CdrPageBuilder().with_total(0).build()


class CdrApiSelectingByStartTime:
    """The CDR endpoint played in memory for `requests_mock`, selecting interactions by when they *started*
    (`timestamp` minus `duration`, read in UTC, both bounds inclusive) rather than when they ended: which of
    the two `start_datetime`/`end_datetime` select on is not published. One page per window; later pages empty."""

    def __init__(self, records: List[Dict[str, Any]]) -> None:
        self._records = records

    def answer(self, request: Any, context: Any) -> Dict[str, Any]:
        query = {name: values[0] for name, values in parse_qs(urlsplit(request.url).query).items()}
        low, high = (datetime.fromisoformat(query[name]).replace(tzinfo=timezone.utc) for name in ("start_datetime", "end_datetime"))
        selected = [record for record in self._records if low <= _started(record) <= high] if query.get("page") == "1" else []
        return {"records": selected, "total": len(selected), "page": int(query["page"]), "search_token": None}


def _started(record: Mapping[str, Any]) -> datetime:
    hours, minutes, seconds = (int(part) for part in record["duration"].split(":"))
    return datetime.fromisoformat(record["timestamp"]) - timedelta(hours=hours, minutes=minutes, seconds=seconds)


# ---------------------------------------------------------------------------------------------------------------------
# Reference lists
# ---------------------------------------------------------------------------------------------------------------------


def reference_list_template(stream_name: str) -> List[Dict[str, Any]]:
    return _template(stream_name)


def reference_list_response(stream_name: str, records: Optional[List[Dict[str, Any]]] = None) -> HttpResponse:
    body = reference_list_template(stream_name) if records is None else records
    return HttpResponse(json.dumps(body), 200)


# ---------------------------------------------------------------------------------------------------------------------
# Errors and malformed answers
# ---------------------------------------------------------------------------------------------------------------------


def invalid_key_response(status_code: int) -> HttpResponse:
    """`{"error": "Invalid User API Key"}`; the API does not publish whether it comes with 401 or 403."""
    return HttpResponse(json.dumps(_template("contact_center_invalid_key")), status_code)


def rate_limited_response(retry_after_seconds: int) -> HttpResponse:
    return HttpResponse(
        json.dumps(_template("contact_center_rate_limited")), 429, {"Retry-After": str(retry_after_seconds)}
    )


def server_error_response() -> HttpResponse:
    return HttpResponse(json.dumps(_template("contact_center_server_error")), 500)


def bad_request_response() -> HttpResponse:
    """A 400 about anything but the search token (here: a malformed window)."""
    return HttpResponse(json.dumps(_template("contact_center_bad_request")), 400)


def invalid_search_token_response() -> HttpResponse:
    """What the API answers when a `search_token` expired or is unknown."""
    return HttpResponse(json.dumps(_template("contact_center_invalid_search_token")), 400)


def html_response(status_code: int = 200) -> HttpResponse:
    return HttpResponse(HTML_PAGE, status_code, {"Content-Type": "text/html"})


def truncated_json_response() -> HttpResponse:
    """A 200 whose JSON body was cut off in the middle (a dropped connection behind a proxy)."""
    body = CdrPageBuilder().with_record(cdr_record()).build().body
    return HttpResponse(body[: len(body) // 2], 200)


def page_without_records_response() -> HttpResponse:
    """A 200 JSON object that has no `records` list."""
    body = _template(CDRS_STREAM)
    del body["records"]
    return HttpResponse(json.dumps(body), 200)


def utc(text: str) -> datetime:
    """`utc("2026-06-01T12:00:00.000")` -> an aware UTC datetime (test inputs are written in UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
