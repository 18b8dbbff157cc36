"""Fault rules: each kind, the after/times schedule, path matching, HTTP control, latency."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import requests

from emulator import FaultRule

from .clients import WorkAnalyticsClient

RECORDS = "/analytics/work/v2/call-records"
PARAMS = dict(pbxId="allpbxes", startTime="2024-03-09 00:00:00", endTime="2024-03-10 00:00:00", timeZone="UTC",
              pageSize=50)


def records(wa: WorkAnalyticsClient, **extra: object) -> requests.Response:
    return wa.get("call-records", **{**PARAMS, **extra})


def test_given_status_rule_with_schedule_when_requests_then_fires_after_n_for_k(emu, wa):
    wa.login()
    emu.set_faults([{"kind": "status", "status": 500, "path": RECORDS, "after": 1, "times": 2}])
    assert [records(wa).status_code for _ in range(4)] == [200, 500, 500, 200]
    assert emu.faults.describe()[0]["seen"] == 4


def test_given_forever_rule_when_other_path_then_untouched(emu, wa):
    wa.login()
    emu.set_faults([{"kind": "status", "status": 503, "path": "/analytics/work/v2/call-legs", "times": -1}])
    assert records(wa).status_code == 200
    assert [wa.get("call-legs", **PARAMS).status_code for _ in range(3)] == [503] * 3


@pytest.mark.parametrize("status, family", [(429, "wa"), (500, "wa"), (401, "wa"), (429, "cc"), (500, "cc"),
                                            (503, "wa"), (502, "cc")])
def test_given_status_rule_when_request_then_realistic_body(emu, wa, cc, status, family):
    wa.login()
    emu.set_faults([{"kind": "status", "status": status, "retry_after": 2}])
    response = records(wa) if family == "wa" else cc.get()
    assert response.status_code == status and response.headers["Retry-After"] == "2"
    if status in (502, 503):
        assert response.headers["Content-Type"].startswith("text/html") and "<html>" in response.text
    elif family == "wa" and status == 401:
        assert response.json()["error"] == "invalid_token"
    elif family == "cc" and status == 429:
        assert response.json() == {"error": "rate limit is exceeded"}
    else:
        assert response.json()


def test_given_expire_token_when_next_call_then_401_until_relogin(emu, wa):
    wa.login()
    emu.set_faults([{"kind": "expire_token"}])
    response = records(wa)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    wa.login()
    assert records(wa).status_code == 200


def test_given_slow_rule_when_client_times_out_then_next_request_is_fine(emu, wa):
    wa.login()
    emu.set_faults([{"kind": "slow", "seconds": 0.5}])
    with pytest.raises(requests.exceptions.Timeout):
        wa.get("call-records", timeout=0.2, **PARAMS)
    assert records(wa).status_code == 200


def test_given_reset_rule_when_request_then_connection_error(emu, wa):
    wa.login()
    emu.set_faults([FaultRule("reset")])
    with pytest.raises(requests.exceptions.ConnectionError):
        records(wa)
    assert records(wa).status_code == 200
    assert (emu.request_log[-2][1], emu.request_log[-2][3]) == (RECORDS, 0)


def test_given_html_rule_when_request_then_html_with_status(emu, wa, cc):
    wa.login()
    emu.set_faults([{"kind": "html"}, {"kind": "html", "status": 403}])
    first, second = records(wa), cc.get()
    assert first.status_code == 200 and second.status_code == 403
    for response in (first, second):
        assert response.headers["Content-Type"].startswith("text/html")
        with pytest.raises(ValueError):
            json.loads(response.text)


def test_given_truncated_json_when_request_then_200_with_half_body(emu, wa):
    wa.login()
    full = records(wa).content
    emu.set_faults([{"kind": "truncated_json"}])
    cut = records(wa)
    assert cut.status_code == 200  # (scrollIds have a fixed length, so the bodies compare)
    assert int(cut.headers["Content-Length"]) == len(cut.content) == len(full) // 2
    with pytest.raises(ValueError):
        json.loads(cut.content)


def test_given_missing_data_when_request_then_no_payload_key(emu, wa, cc):
    wa.login()
    emu.set_faults([{"kind": "missing_data", "times": 2}])
    page, cdrs = records(wa), cc.get()
    assert page.status_code == 200 and "data" not in page.json() and "meta" in page.json()
    assert cdrs.status_code == 200 and "records" not in cdrs.json() and "page" in cdrs.json()


def test_given_wrong_types_when_request_then_first_record_mistyped(emu, wa, cc):
    wa.login()
    emu.set_faults([{"kind": "wrong_types", "times": 2}])
    row = records(wa).json()["data"][0]
    assert isinstance(row["startTimeUTC"], str) and isinstance(row["callId"], int)
    cdr = cc.get().json()["records"][0]
    assert isinstance(cdr["agent_id"], str) and isinstance(cdr["timestamp"], int)


def test_given_future_cursor_when_request_then_last_record_stamped_after_the_clock(emu, wa, cc):
    wa.login()
    emu.set_faults([{"kind": "future_cursor", "seconds": 86_400, "times": 2}])
    rows, cdrs = records(wa).json()["data"], cc.get().json()["records"]
    day_after = emu.now + timedelta(days=1)
    assert rows[-1]["startTimeUTC"] == int(day_after.timestamp() * 1000) and rows[0] == records(wa).json()["data"][0]
    assert cdrs[-1]["timestamp"] == day_after.isoformat(timespec="milliseconds")


def test_given_expire_scroll_when_continuing_then_400(emu, wa, cc):
    wa.login()
    scroll_id = records(wa).json()["meta"]["scrollId"]
    emu.set_faults([{"kind": "expire_scroll"}])
    response = records(wa, scrollId=scroll_id)
    assert response.status_code == 400 and response.json()["code"] == "SCROLL001"


def test_given_expire_scroll_when_continuing_cdr_search_then_400(emu, cc):
    emu.config.cc_search_cap = 100
    token = cc.get(per_page=100).json()["search_token"]
    assert cc.get(search_token=token).status_code == 200
    emu.set_faults([{"kind": "expire_scroll"}])
    assert cc.get(search_token=token).status_code == 400


@pytest.mark.parametrize("kind", ["status", "truncated_json", "reset", "missing_data"])
def test_given_burned_page_when_client_retries_same_scroll_id_then_no_gap(emu, wa, kind):
    wa.login()
    rule = {"kind": kind, "path": RECORDS, "after": 2, "times": 1, **({"status": 502} if kind == "status" else {})}
    emu.set_faults([rule])
    rows, params = [], dict(PARAMS)
    for _ in range(100):
        try:
            response = records(wa, **{k: v for k, v in params.items() if k not in PARAMS})
            page = response.json()
            page["data"]
        except (requests.exceptions.ConnectionError, ValueError, KeyError):
            continue  # retry the very same request
        rows += page["data"]
        if page["meta"]["scrollId"] == "No Data":
            break
        params["scrollId"] = page["meta"]["scrollId"]
    assert rows == emu.ground_truth("call_records", "2024-03-09T00:00:00Z", "2024-03-10T00:00:00Z")


def test_given_http_control_when_used_then_faults_clock_and_stats_change(emu, wa):
    wa.login()
    control = emu.url + "/_emulator"
    set_response = requests.post(control + "/faults", json=[{"kind": "status", "status": 429, "times": -1}])
    assert set_response.status_code == 200 and set_response.json()["rules"][0]["status"] == 429
    assert records(wa).status_code == 429
    assert requests.delete(control + "/faults").status_code == 200
    assert records(wa).status_code == 200
    assert requests.post(control + "/faults", json=[{"kind": "nope"}]).status_code == 400
    now = requests.post(control + "/now", json={"now": "2024-03-09T12:00:00Z"}).json()
    assert now == {"now": "2024-03-09T12:00:00.000+00:00"} and emu.now.hour == 12
    stats = requests.get(control + "/stats").json()
    assert stats["requests"][RECORDS]["429"] >= 1 and stats["total"] >= 3
    truth = requests.get(control + "/ground_truth", params={"stream": "call_records"}).json()
    assert truth["count"] == len(emu.ground_truth("call_records")) > 0


def test_given_latency_when_concurrent_requests_then_they_overlap(make_emu):
    emu = make_emu(latency_ms=300)
    wa = WorkAnalyticsClient(emu)
    wa.login()
    statuses: list[int] = []

    def one() -> None:
        response = requests.get(emu.url + "/api/v2/cdr", params={"key": emu.credentials["cc_api_key"]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=one) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert statuses == [200] * 6 and 0.3 <= elapsed < 1.2


def test_given_repeat_token_when_continuing_a_scroll_then_the_same_page_and_scroll_id_again(emu, wa):
    wa.login()
    emu.set_faults([{"kind": "repeat_token", "path": RECORDS, "times": -1}])
    first = records(wa).json()
    scroll_id = first["meta"]["scrollId"]
    second, third = (records(wa, scrollId=scroll_id).json() for _ in range(2))
    assert second == third and second["meta"]["scrollId"] == scroll_id
    assert second["data"] and second["data"] != first["data"]


def test_given_repeat_token_when_continuing_a_cdr_search_then_its_records_with_the_request_token(emu, cc):
    emu.config.cc_search_cap = 100
    token = cc.get(per_page=100).json()["search_token"]
    emu.set_faults([{"kind": "repeat_token", "times": -1}])
    assert cc.get(per_page=100).json()["search_token"] == token  # a first page: untouched
    continued = cc.get(per_page=100, search_token=token).json()
    assert continued["search_token"] == token
    assert continued["records"] == emu.ground_truth("contact_center_cdrs")[100:200]


@pytest.mark.parametrize("family", ["wa", "cc"])
def test_given_empty_new_token_when_continuing_then_empty_pages_with_ever_new_tokens_that_are_accepted(emu, wa, cc, family):
    wa.login()
    emu.config.cc_search_cap = 100
    token = records(wa).json()["meta"]["scrollId"] if family == "wa" else cc.get(per_page=100).json()["search_token"]
    emu.set_faults([{"kind": "empty_new_token", "times": -1}])
    seen = [token]
    for _ in range(3):
        if family == "wa":
            page = records(wa, scrollId=seen[-1])
            rows, next_token = page.json()["data"], page.json()["meta"]["scrollId"]
        else:
            page = cc.get(per_page=100, search_token=seen[-1])
            rows, next_token = page.json()["records"], page.json()["search_token"]
        assert page.status_code == 200 and rows == [] and next_token not in seen
        seen.append(next_token)
    emu.clear_faults()
    resumed = records(wa, scrollId=seen[-1]).json()["data"] if family == "wa" else cc.get(per_page=100, search_token=seen[-1]).json()["records"]
    assert resumed  # the new tokens name the position of the first


def test_given_odd_values_when_request_then_first_record_has_a_lone_surrogate_and_a_wide_integer(emu, wa, cc):
    wa.login()
    emu.set_faults([{"kind": "odd_values", "times": 2}])
    for response, field in ((records(wa), "data"), (cc.get(), "records")):
        assert response.status_code == 200 and b'"half an emoji: \\ud83d"' in response.content
        first = json.loads(response.content)[field][0]
        assert first["odd_text"] == "half an emoji: \ud83d" and first["odd_number"] == 123456789012345678901234567890
