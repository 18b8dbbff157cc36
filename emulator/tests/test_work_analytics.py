"""Work Analytics: login, auth errors, scrollId paging in every last-page mode, time windows."""

from __future__ import annotations

import re
import time
from collections import Counter
from urllib.parse import quote, quote_plus

import pytest
import requests

from .clients import WorkAnalyticsClient

DAY1, DAY2 = "2024-03-09", "2024-03-10"
LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}")


def window(day: str = DAY1, end_day: str = DAY2) -> tuple[str, str]:
    return f"{day} 00:00:00", f"{end_day} 00:00:00"


# ---- login


def test_given_good_credentials_when_login_then_bearer_token(emu, wa):
    response = wa.login()
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800 and len(body["access_token"]) > 40


def test_given_awkward_password_when_form_encoded_by_hand_then_decoded(emu):
    creds = emu.credentials
    assert set("+/=") <= set(creds["wa_api_key"]) and set("@ %&") <= set(creds["wa_password"])
    form = f"username={quote_plus(creds['wa_username'])}&password={quote(creds['wa_password'], safe='')}"
    headers = {"8x8-apikey": creds["wa_api_key"], "Content-Type": "application/x-www-form-urlencoded"}
    good = requests.post(emu.work_analytics_base_url + "/v1/oauth/token", data=form, headers=headers)
    raw = requests.post(emu.work_analytics_base_url + "/v1/oauth/token", headers=headers,
                        data=f"username={creds['wa_username']}&password={creds['wa_password']}")
    assert good.status_code == 200
    assert raw.status_code == 400 and raw.json()["error"] == "invalid_grant"


def test_given_bad_key_when_login_then_400_sha001(emu, wa):
    wa.creds = {**wa.creds, "wa_api_key": "nope"}
    response = wa.login()
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"], body["code"]) == (400, "Invalid 8x8-apikey", "SHA001")
    assert isinstance(body["details"], list)


def test_given_bad_password_when_login_then_400_invalid_grant(emu, wa):
    wa.creds = {**wa.creds, "wa_password": "wrong"}
    response = wa.login()
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "USER_NOTFOUND_ERROR"}


# ---- auth on data calls


def test_given_no_or_unknown_token_when_reading_then_401_invalid_token(emu, wa):
    start, end = window()
    params = {"pbxId": "allpbxes", "startTime": start, "endTime": end, "timeZone": "UTC", "pageSize": 10}
    key = {"8x8-apikey": emu.credentials["wa_api_key"]}
    url = emu.work_analytics_base_url + "/v2/call-records"
    missing = requests.get(url, params=params, headers=key)
    unknown = requests.get(url, params=params, headers={**key, "Authorization": "Bearer abc"})
    for response in (missing, unknown):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert response.json()["error_description"].startswith("Access token expired: ")


def test_given_good_token_and_bad_key_when_reading_then_400_sha001(emu, wa):
    wa.login()
    wa.creds = {**wa.creds, "wa_api_key": "other"}
    start, end = window()
    response = wa.get("call-records", pbxId="allpbxes", startTime=start, endTime=end, timeZone="UTC", pageSize=5)
    assert response.status_code == 400 and response.json()["code"] == "SHA001"


def test_given_short_token_lifetime_when_it_passes_then_401_and_relogin_works(make_emu):
    emu = make_emu(token_lifetime_s=0.5)
    wa = WorkAnalyticsClient(emu)
    assert wa.login().json()["expires_in"] == 1
    start, end = window()
    params = dict(pbxId="allpbxes", startTime=start, endTime=end, timeZone="UTC", pageSize=5)
    assert wa.get("call-records", **params).status_code == 200
    time.sleep(0.6)
    assert wa.get("call-records", **params).status_code == 401
    wa.login()
    assert wa.get("call-records", **params).status_code == 200


# ---- parameters


@pytest.mark.parametrize("size", ["0", "7001", "abc", "-5"])
def test_given_page_size_out_of_range_when_reading_then_400(wa, size):
    start, end = window()
    response = wa.get("call-records", pbxId="allpbxes", startTime=start, endTime=end, timeZone="UTC", pageSize=size)
    assert response.status_code == 400 and "pageSize" in response.json()["message"]


@pytest.mark.parametrize("override", [{"timeZone": "Mars/Olympus"}, {"startTime": "2024-03-09T00:00:00"},
                                      {"endTime": "2024-03-09"}, {"timeZone": ""}])
def test_given_bad_time_parameter_when_reading_then_400(wa, override):
    start, end = window()
    params = {"pbxId": "allpbxes", "startTime": start, "endTime": end, "timeZone": "UTC", "pageSize": 5, **override}
    assert wa.get("call-records", **params).status_code == 400


def test_given_page_size_7000_when_reading_then_one_page_holds_the_day(emu, wa):
    rows, pages = wa.read_all("call-records", *window(), page_size=7000)
    assert len(rows) == 300 and len(pages) == 2


def test_given_inaccessible_pbx_when_reading_then_403_naming_it(emu, wa):
    start, end = window()
    response = wa.get("call-records", pbxId="acmecorp,otherpbx", startTime=start, endTime=end, timeZone="UTC",
                      pageSize=5)
    assert response.status_code == 403
    assert response.json() == {"status": 403, "error": "Access Denied", "exception":
                               f"user({emu.credentials['wa_username']}) does not have access to pbxId(otherpbx)"}


def test_given_some_pbxes_when_reading_then_only_their_calls(emu, wa):
    rows, _ = wa.read_all("call-records", *window(), pbx="acmecorp2,acmesales", page_size=50)
    assert rows and {row["pbxId"] for row in rows} == {"acmecorp2", "acmesales"}
    assert rows == emu.ground_truth("call_records", "2024-03-09T00:00:00Z", "2024-03-10T00:00:00Z",
                                    pbx_id="acmecorp2,acmesales")


# ---- paging


@pytest.mark.parametrize("page_size", [7, 100, 300])
@pytest.mark.parametrize("mode", ["no_data_page", "missing_scroll_id", "empty_scroll_id", "lowercase_no_data",
                                  "empty_data_with_scroll_id"])
def test_given_last_page_mode_when_paging_then_exact_records(emu, wa, mode, page_size):
    emu.config.wa_last_page = mode  # a run-time switch
    rows, pages = wa.read_all("call-records", *window(), page_size=page_size)
    assert rows == emu.ground_truth("call_records", "2024-03-09T00:00:00Z", "2024-03-10T00:00:00Z")
    assert len(rows) == 300 and all(p["meta"].get("totalRecordCount") in (300, 0) for p in pages)
    data_pages = [p for p in pages if p["data"]]
    assert all("scrollId" in p["meta"] and p["meta"]["scrollId"] for p in data_pages[:-1])
    last_meta, after = data_pages[-1]["meta"], pages[-1]
    if mode in ("no_data_page", "lowercase_no_data"):
        assert len(last_meta["scrollId"]) > 20  # the last data page still carries a real scrollId
        word = "No Data" if mode == "no_data_page" else "no data"
        assert after == {"meta": {"totalRecordCount": 0, "scrollId": word}, "data": []}
    elif mode == "missing_scroll_id":
        assert "scrollId" not in last_meta and after is data_pages[-1]
    elif mode == "empty_scroll_id":
        assert last_meta["scrollId"] == "" and after is data_pages[-1]
    else:
        assert after["data"] == [] and len(after["meta"]["scrollId"]) > 20


def test_given_short_last_page_when_default_mode_then_it_carries_a_real_scroll_id(emu, wa):
    rows, pages = wa.read_all("call-records", *window(), page_size=250)
    assert [len(p["data"]) for p in pages] == [250, 50, 0]
    assert pages[1]["meta"]["scrollId"] not in ("", "No Data")


def test_given_reused_scroll_id_when_retrying_then_same_page(emu, wa):
    start, end = window()
    params = dict(pbxId="allpbxes", startTime=start, endTime=end, timeZone="UTC", pageSize=40)
    scroll_id = wa.get("call-records", **params).json()["meta"]["scrollId"]
    first = wa.get("call-records", scrollId=scroll_id, **params).json()
    again = wa.get("call-records", scrollId=scroll_id, **params).json()
    assert first["data"] == again["data"] and len(first["data"]) == 40


def test_given_unknown_or_expired_scroll_id_when_paging_then_400_scroll001(make_emu):
    emu = make_emu(scroll_ttl_s=0.3)
    wa = WorkAnalyticsClient(emu)
    start, end = window()
    params = dict(pbxId="allpbxes", startTime=start, endTime=end, timeZone="UTC", pageSize=40)
    scroll_id = wa.get("call-records", **params).json()["meta"]["scrollId"]
    unknown = wa.get("call-records", scrollId="c3VwZXJ0ZW5hbnQ", **params)
    time.sleep(0.4)
    expired = wa.get("call-records", scrollId=scroll_id, **params)
    for response in (unknown, expired):
        assert response.status_code == 400
        assert response.json() == {"status": 400, "message": "Invalid or expired scrollId", "code": "SCROLL001"}


def test_given_clock_moves_mid_read_when_paging_then_snapshot_of_first_request(emu, wa):
    emu.set_now("2024-03-09T14:00:00Z")
    start, end = window()
    params = dict(pbxId="allpbxes", startTime=start, endTime=end, timeZone="UTC", pageSize=20)
    first = wa.get("call-records", **params).json()
    emu.set_now("2024-03-20T00:00:00Z")
    rows, scroll_id = list(first["data"]), first["meta"]["scrollId"]
    while scroll_id != "No Data":
        page = wa.get("call-records", scrollId=scroll_id, **params).json()
        rows += page["data"]
        scroll_id = page["meta"]["scrollId"]
    assert len(rows) == first["meta"]["totalRecordCount"] < 300


# ---- time windows


@pytest.mark.parametrize("inclusive", [False, True])
def test_given_end_at_a_call_start_when_end_inclusive_then_call_included(emu, wa, inclusive):
    emu.config.end_time_inclusive = inclusive
    noon = emu.ground_truth("call_records", "2024-03-09T12:00:00Z", "2024-03-09T12:00:00.001Z")
    assert len(noon) == 1  # a call starts at exactly 12:00:00.000
    rows, _ = wa.read_all("call-records", "2024-03-09 00:00:00", "2024-03-09 12:00:00")
    assert (noon[0] in rows) is inclusive


def test_given_second_precision_end_when_call_in_last_second_then_only_next_midnight_end_gets_it(emu, wa):
    late = emu.ground_truth("call_records", "2024-03-09T23:59:59Z", "2024-03-10T00:00:00Z")
    assert [r["startTimeUTC"] % 1000 for r in late][-2:] == [500, 999]
    cut, _ = wa.read_all("call-records", "2024-03-09 00:00:00", "2024-03-09 23:59:59")
    full, _ = wa.read_all("call-records", "2024-03-09 00:00:00", "2024-03-10 00:00:00")
    assert all(r not in cut for r in late) and all(r in full for r in late)
    assert full[0]["startTime"].endswith("T00:00:00.000+0000")
    assert len(full) == 300 and full[-1]["startTimeUTC"] % 86_400_000 == 86_399_999


def test_given_same_millisecond_calls_when_reading_then_sorted_by_call_id(emu):
    rows = emu.ground_truth("call_records", "2024-03-09T00:00:00Z", "2024-03-10T00:00:00Z")
    ties = [t for t, n in Counter(r["startTimeUTC"] for r in rows).items() if n >= 3]
    assert ties
    keys = [(r["startTimeUTC"], r["callId"]) for r in rows]
    assert keys == sorted(keys) and len({r["callId"] for r in rows}) == len(rows)


def test_given_new_york_zone_when_reading_across_dst_then_local_strings_and_window_shift(emu, wa):
    rows, _ = wa.read_all("call-records", "2024-03-09 19:00:00", "2024-03-10 20:00:00", time_zone="America/New_York")
    assert rows == emu.ground_truth("call_records", "2024-03-10T00:00:00Z", "2024-03-11T00:00:00Z",
                                    time_zone="America/New_York")
    offsets = {r["startTime"][-5:] for r in rows}
    assert offsets == {"-0500", "-0400"}  # daylight time starts 2024-03-10 07:00 UTC
    assert all(LOCAL_TIME.fullmatch(r["startTime"]) for r in rows)


def test_given_clock_before_calls_end_when_later_then_late_calls_appear(emu, wa):
    emu.set_now("2024-03-09T18:00:00Z")
    early, _ = wa.read_all("call-records", "2024-03-09 00:00:00", "2024-03-09 18:00:00")
    emu.set_now("2024-03-09T20:00:00Z")
    later, _ = wa.read_all("call-records", "2024-03-09 00:00:00", "2024-03-09 18:00:00")
    assert all(r["disconnectedTimeUTC"] <= 1710007200000 for r in early)
    late = [r for r in later if r not in early]
    assert late and all(r["startTimeUTC"] < 1710007200000 < r["disconnectedTimeUTC"] for r in late)
    assert {r["callId"] for r in early} < {r["callId"] for r in later}


def test_given_clock_two_years_on_when_reading_then_only_retained_calls(emu, wa):
    emu.set_now("2026-03-10T00:00:00Z")
    rows, _ = wa.read_all("call-records", "2024-03-01 00:00:00", "2024-03-12 00:00:00", page_size=1000)
    assert len(rows) == 600 and rows[0]["startTimeUTC"] == 1710028800000  # 2024-03-10 00:00 UTC


# ---- record shapes


def test_call_record_fields_have_vendor_types(emu):
    rows = emu.ground_truth("call_records")
    assert len(rows) == 900 and len(rows[0]) >= 40
    for row in rows:
        assert isinstance(row["callLegCount"], str) and row["callId"].isdigit()
        assert row["missed"] in ("Missed", "-") and row["abandoned"] in ("Abandoned", "-")
        assert row["answered"] in ("Answered", "-")
        assert (row["connectTimeUTC"] == 0) == (row["connectTime"] == "0")
        assert isinstance(row["departments"], list) and isinstance(row["branches"], list)
        assert row["disconnectedTimeUTC"] - row["startTimeUTC"] == row["callTime"]
    assert {r["aaDestination"] is None for r in rows} == {True, False}
    assert max(r["callTime"] for r in rows) > 3_600_000  # some calls last over an hour


def test_call_legs_belong_to_calls(emu, wa):
    calls = {r["callId"]: r for r in emu.ground_truth("call_records")}
    legs = emu.ground_truth("call_legs")
    assert len({leg["legId"] for leg in legs}) == len(legs)
    assert {leg["callId"] for leg in legs} == set(calls)
    per_call = Counter(leg["callId"] for leg in legs)
    assert all(per_call[cid] == int(call["callLegCount"]) for cid, call in calls.items())
    assert all(leg["startTimeUTC"] >= calls[leg["callId"]]["startTimeUTC"] for leg in legs)
    assert {type(leg["transferToCallId"]) for leg in legs} == {str, type(None)}
    assert any(leg["startTimeUTC"] >= 1710201600000 for leg in legs)  # legs after the last midnight
    rows, _ = wa.read_all("call-legs", "2024-03-10 00:00:00", "2024-03-11 00:00:00", page_size=333)
    assert rows == emu.ground_truth("call_legs", "2024-03-10T00:00:00Z", "2024-03-11T00:00:00Z")
