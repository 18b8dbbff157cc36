"""Request and response builders for Work Analytics' PBX directory (`/v2/pbxes/`) and daily summaries (`/v2/extsum`,
`/v2/rgsum-groups`, `/v2/rgsum-members`, `/v1/compsum`).

Requests are matched exactly (path, every query parameter, the auth headers), so a test that mocks a request also
asserts that the connector sent it. Responses start from the reference's examples in
`unit_tests/resource/http/response/work_analytics_<stream>.json`; login and error answers are those of
`work_analytics.py`.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import find_template

from unit_tests.mock_server.config import WA_API_KEY, WA_BASE_URL, ConfigBuilder
from unit_tests.mock_server.work_analytics import ACCESS_TOKEN

PBXES = "work_analytics_pbxes"
EXTENSION_DAILY = "work_analytics_extension_daily"
RING_GROUP_DAILY = "work_analytics_ring_group_daily"
RING_GROUP_MEMBER_DAILY = "work_analytics_ring_group_member_daily"
COMPANY_DAILY = "work_analytics_company_daily"
DAILY_SUMMARIES = (EXTENSION_DAILY, RING_GROUP_DAILY, RING_GROUP_MEMBER_DAILY, COMPANY_DAILY)
SUMMARY_PATHS = {
    EXTENSION_DAILY: "/v2/extsum",
    RING_GROUP_DAILY: "/v2/rgsum-groups",
    RING_GROUP_MEMBER_DAILY: "/v2/rgsum-members",
    COMPANY_DAILY: "/v1/compsum",
}
# What identifies a row of each summary within a day (the stream's primary key is this plus `day`).
ROW_KEYS = {
    EXTENSION_DAILY: ("PbxId", "Extension"),
    RING_GROUP_DAILY: ("pbxId", "extension"),
    RING_GROUP_MEMBER_DAILY: ("pbxId", "extension", "memberExtension"),
    COMPANY_DAILY: (),
}


def summary_config(
    time_zone: Optional[str] = None, lookback_days: Optional[int] = None, pbx_ids: Optional[List[str]] = None
) -> ConfigBuilder:
    """Only Work Analytics, from 2026-06-01T00:00:00Z to 2026-06-02T00:00:00Z: the day 2026-06-01."""
    config = ConfigBuilder().with_work_analytics(pbx_ids=pbx_ids, report_time_zone=time_zone).with_end_date("2026-06-02T00:00:00Z")
    if lookback_days is not None:
        config.with_field("summary_lookback_days", lookback_days)
    return config


class SummaryRequestBuilder:
    """`SummaryRequestBuilder(EXTENSION_DAILY).for_day("2026-06-01").build()`: one day, 00:00:00 to 23:59:59, in UTC
    unless `in_zone` says otherwise, for `allpbxes`, signed with `ACCESS_TOKEN` and the API key."""

    def __init__(self, stream_name: str) -> None:
        self._path = SUMMARY_PATHS[stream_name]
        self._day = "2026-06-01"
        self._query_params: Dict[str, str] = {"pbxId": "allpbxes", "timeZone": "UTC"}
        self._token = ACCESS_TOKEN

    def for_day(self, day: str) -> "SummaryRequestBuilder":
        self._day = day
        return self

    def in_zone(self, zone: str) -> "SummaryRequestBuilder":
        self._query_params["timeZone"] = zone
        return self

    def with_pbx_id(self, pbx_id: str) -> "SummaryRequestBuilder":
        self._query_params["pbxId"] = pbx_id
        return self

    def with_token(self, token: str) -> "SummaryRequestBuilder":
        self._token = token
        return self

    def build(self) -> HttpRequest:
        return HttpRequest(
            url=f"{WA_BASE_URL}{self._path}",
            query_params={**self._query_params, "startTime": f"{self._day} 00:00:00", "endTime": f"{self._day} 23:59:59"},
            headers={"Authorization": f"Bearer {self._token}", "8x8-apikey": WA_API_KEY},
        )


def a_summary_row(stream_name: str, **fields: Any) -> Dict[str, Any]:
    """The reference's example row of the summary, with `fields` replaced or added."""
    return {**find_template(stream_name, __file__)[0], **fields}


def summary_response(rows: List[Mapping[str, Any]], trailing_commas: bool = False) -> HttpResponse:
    """A 200 answer: the rows as a JSON array; with `trailing_commas`, every object ends with a comma, as in the
    reference's ring-group example (`"totalRingTime": 0,\\n    }`)."""
    if not trailing_commas:
        return HttpResponse(json.dumps(list(rows)), 200)
    objects = [json.dumps(row, indent=4)[:-1].rstrip() + ",\n    }" for row in rows]
    return HttpResponse("[\n    " + ",\n    ".join(objects) + "\n    \n]", 200)


# ---------------------------------------------------------------------------------------------------------------------
# The PBX directory
# ---------------------------------------------------------------------------------------------------------------------


def pbx_request(page: int = 0, token: str = ACCESS_TOKEN) -> HttpRequest:
    """`GET /v2/pbxes/?page=<page>&size=100&sort=name,ASC`, as the connector sends it."""
    return HttpRequest(
        url=f"{WA_BASE_URL}/v2/pbxes/",
        query_params={"page": str(page), "size": "100", "sort": "name,ASC"},
        headers={"Authorization": f"Bearer {token}", "8x8-apikey": WA_API_KEY},
    )


def a_pbx(name: str, deleted: bool = False) -> Dict[str, Any]:
    return {"id": f"id-of-{name}", "name": name, "deleted": deleted}


class PbxPage:
    """A 200 page of the directory, from the reference's example: `PbxPage.of([a_pbx("acmecorp")]).build()`.

    `_links` and `page` are copied from the example unless `without_links()`; an empty page has no `_embedded`,
    as Spring's HAL pages do."""

    def __init__(self, pbxes: List[Mapping[str, Any]]) -> None:
        self._body = find_template(PBXES, __file__)
        if pbxes:
            self._body["_embedded"]["pbxList"] = [dict(pbx) for pbx in pbxes]
        else:
            del self._body["_embedded"]

    @classmethod
    def of(cls, pbxes: List[Mapping[str, Any]]) -> "PbxPage":
        return cls(pbxes)

    def without_links(self) -> "PbxPage":
        del self._body["_links"], self._body["page"]
        return self

    def with_links_to_more_pages(self) -> "PbxPage":
        """`_links.next` and `page.totalPages` that claim more pages (whether or not there are)."""
        self._body["_links"]["next"] = {"href": f"{WA_BASE_URL}/v2/pbxes/?page=1&size=100"}
        self._body["page"]["totalPages"] = 9
        return self

    def build(self) -> HttpResponse:
        return HttpResponse(json.dumps(self._body), 200)


def many_pbxes(count: int, prefix: str = "pbx") -> List[Dict[str, Any]]:
    return [a_pbx(f"{prefix}{n:03d}") for n in range(count)]
