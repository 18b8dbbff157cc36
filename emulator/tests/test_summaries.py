"""The PBX directory and the summary reports: the vendor's answers, computed from the emulator's own calls.

The shared emulator holds 2024-03-09 to 2024-03-12 (UTC); New York starts daylight time on 2024-03-10.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
import requests

from emulator import Emulator
from emulator.summaries import day_interval, pbx_directory_id

from .clients import WorkAnalyticsClient

REPORTS = {"extsum": "/v2/extsum", "rgsum-groups": "/v2/rgsum-groups", "rgsum-members": "/v2/rgsum-members",
           "compsum": "/v1/compsum"}
NEW_YORK = "America/New_York"


def _report(wa: WorkAnalyticsClient, report: str, day: str, zone: str = "UTC", pbx: str = "allpbxes",
            end: str = "23:59:59") -> requests.Response:
    if wa.token is None:
        wa.login()
    headers = {"8x8-apikey": wa.creds["wa_api_key"], "Authorization": f"Bearer {wa.token}"}
    params = {"pbxId": pbx, "startTime": f"{day} 00:00:00", "endTime": f"{day} {end}", "timeZone": zone}
    return wa.session.get(wa.base + REPORTS[report], params=params, headers=headers)


def _local_day(ms: int, zone: str) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).date().isoformat()


# ---- the PBX directory


def test_given_pages_of_two_when_reading_the_directory_then_hal_pages_until_an_empty_one_without_embedded(emu, wa):
    wa.login()
    headers = {"8x8-apikey": wa.creds["wa_api_key"], "Authorization": f"Bearer {wa.token}"}
    pages = [wa.session.get(wa.base + "/v2/pbxes/", params={"page": n, "size": 2, "sort": "name,ASC"}, headers=headers).json()
             for n in range(3)]

    assert [[pbx["name"] for pbx in page.get("_embedded", {}).get("pbxList", [])] for page in pages] == [
        ["acmecorp", "acmecorp2"], ["acmesales"], []]
    assert pages[0]["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 0}
    assert "next" in pages[0]["_links"] and "next" not in pages[1]["_links"]
    assert pages[0]["_embedded"]["pbxList"][0] == {"id": pbx_directory_id("acmecorp"), "name": "acmecorp", "deleted": False}


def test_given_size_over_100_when_reading_the_directory_then_pages_of_100(emu, wa):
    wa.login()
    headers = {"8x8-apikey": wa.creds["wa_api_key"], "Authorization": f"Bearer {wa.token}"}

    page = wa.session.get(wa.base + "/v2/pbxes/", params={"size": 500}, headers=headers).json()

    assert page["page"]["size"] == 100


def test_given_no_token_when_reading_the_directory_then_401(emu, wa):
    response = requests.get(wa.base + "/v2/pbxes/", headers={"8x8-apikey": wa.creds["wa_api_key"]})

    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


# ---- the summaries: requests


@pytest.mark.parametrize("report", REPORTS)
def test_given_bad_key_when_reading_a_summary_then_400_sha001(emu, wa, report):
    wa.login()
    wa.creds = {**wa.creds, "wa_api_key": "wrong"}

    response = _report(wa, report, "2024-03-10")

    assert response.status_code == 400 and response.json()["code"] == "SHA001"


@pytest.mark.parametrize("report", REPORTS)
def test_given_unknown_pbx_when_reading_a_summary_then_403_naming_it(emu, wa, report):
    response = _report(wa, report, "2024-03-10", pbx="acmecorp,secretpbx")

    assert response.status_code == 403 and "pbxId(secretpbx)" in response.json()["exception"]


@pytest.mark.parametrize("params", [{"timeZone": "Mars/Olympus"}, {"startTime": "2024-03-10"}, {"pbxId": ""}])
def test_given_bad_parameter_when_reading_a_summary_then_400_naming_it(emu, wa, params):
    wa.login()
    headers = {"8x8-apikey": wa.creds["wa_api_key"], "Authorization": f"Bearer {wa.token}"}
    query = {"pbxId": "allpbxes", "startTime": "2024-03-10 00:00:00", "endTime": "2024-03-10 23:59:59", "timeZone": "UTC", **params}

    response = wa.session.get(wa.base + "/v2/extsum", params=query, headers=headers)

    assert response.status_code == 400


def test_given_fault_rule_on_the_summary_path_when_reading_then_it_applies(emu, wa):
    emu.set_faults([{"kind": "status", "status": 429, "retry_after": 3, "path": "/analytics/work/v1/compsum"}])

    limited, then = _report(wa, "compsum", "2024-03-10"), _report(wa, "compsum", "2024-03-10")

    assert (limited.status_code, limited.headers["Retry-After"], then.status_code) == (429, "3", 200)


# ---- the summaries: what they count


def test_given_new_york_dst_day_when_asked_for_it_then_its_interval_is_23_hours():
    lo, hi = day_interval(datetime(2024, 3, 10).date(), NEW_YORK)
    assert (hi - lo) == 23 * 3_600_000


@pytest.mark.parametrize("zone", ["UTC", NEW_YORK])
def test_given_a_day_when_reading_the_extension_summary_then_inbound_totals_are_the_legs_to_each_extension(emu, wa, zone):
    legs = emu.ground_truth("call_legs", "2024-03-09T00:00:00Z", "2024-03-12T00:00:00Z")
    expected = Counter((leg["pbxId"], leg["callee"]) for leg in legs
                       if leg["calleeSvcType"] == "USER" and _local_day(leg["startTimeUTC"], zone) == "2024-03-10")

    rows = _report(wa, "extsum", "2024-03-10", zone).json()

    assert {(row["PbxId"], row["Extension"]): row["Inbound_Total"] for row in rows if row["Inbound_Total"]} == expected
    assert all(row["Inbound_Total"] == row["Inbound_Answered"] + row["Inbound_Missed"] for row in rows)
    assert all(row["Total_Answered"] == row["Inbound_Answered"] + row["Outbound_Answered"] for row in rows)


def test_given_a_day_when_reading_the_company_summary_then_one_row_counting_every_call_of_the_day(emu, wa):
    calls = emu.ground_truth("call_records", "2024-03-09T00:00:00Z", "2024-03-12T00:00:00Z")
    of_day = [call for call in calls if _local_day(call["startTimeUTC"], NEW_YORK) == "2024-03-10"]

    rows = _report(wa, "compsum", "2024-03-10", NEW_YORK).json()

    assert len(rows) == 1 and rows[0]["pbxId"] == "allpbxes"
    assert rows[0]["totalCall"] == len(of_day)
    assert rows[0]["inboundTotal"] == sum(call["direction"] == "Incoming" for call in of_day)
    assert rows[0]["totalTalkTime"] == sum(call["talkTimeMS"] for call in of_day)
    assert rows[0]["totalCall"] == rows[0]["inboundTotal"] + rows[0]["outboundTotal"] + rows[0]["totalExtToExt"]


def test_given_end_time_23_59_59_when_reading_then_a_call_in_the_days_last_second_is_counted(emu, wa):
    calls = emu.ground_truth("call_records", "2024-03-10T23:59:59Z", "2024-03-11T00:00:00Z")
    assert calls, "a call in the last second of the day (precondition)"

    whole, short = _report(wa, "compsum", "2024-03-10").json()[0], _report(wa, "compsum", "2024-03-10", end="23:59:58").json()[0]

    assert whole["totalCall"] - short["totalCall"] == len(calls)


def test_given_a_day_when_reading_ring_groups_then_group_calls_and_member_rows_agree(emu, wa):
    groups = _report(wa, "rgsum-groups", "2024-03-10").json()
    members = _report(wa, "rgsum-members", "2024-03-10").json()
    calls = emu.ground_truth("call_records", "2024-03-10T00:00:00Z", "2024-03-11T00:00:00Z")

    assert groups and members
    assert {(row["pbxId"], row["name"]): row["totalCalls"] for row in groups if row["totalCalls"]} == Counter(
        (call["pbxId"], call["calleeName"]) for call in calls if call["callee"] == "RingGroup")
    per_group = Counter((row["pbxId"], row["extension"]) for row in members)
    assert {(row["pbxId"], row["extension"]): row["totalMembers"] for row in groups if row["totalMembers"]} == per_group
    assert all(row["memberExtension"].startswith("1200") for row in members)


def test_given_trailing_comma_switch_when_reading_a_summary_then_objects_end_with_a_comma_like_the_reference(emu, wa):
    strict = _report(wa, "rgsum-groups", "2024-03-10").json()
    emu.config.wa_summary_trailing_comma = True

    body = _report(wa, "rgsum-groups", "2024-03-10").content

    assert b",}" in body
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    assert orjson.loads(body.replace(b",}", b"}")) == strict


def test_given_summary_streams_when_ground_truth_then_each_day_asked_and_tagged(emu: Emulator, wa):
    rows = emu.ground_truth("work_analytics_company_daily", "2024-03-09T00:00:00Z", "2024-03-12T00:00:00Z", time_zone=NEW_YORK)

    assert [(row["day"], row["timeZone"]) for row in rows] == [(day, NEW_YORK) for day in ("2024-03-09", "2024-03-10", "2024-03-11")]
    assert {k: v for k, v in rows[1].items() if k not in ("day", "timeZone")} == _report(wa, "compsum", "2024-03-10", NEW_YORK).json()[0]
