"""Contact-center CDR API: key, paging, the 10,000 cap with search_token, filters, reference lists."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
import requests

from emulator import Emulator
from emulator.timeutil import to_ms

from .clients import ContactCenterClient
from .conftest import config

DIGITAL = {"whatsapp", "facebook", "instagram", "telegram", "viber", "web_chat", "chat"}
PUBLISHED_TYPES = {"inbound", "outbound", "dialer", "click_to_call", "outbound_sms", "hlr_lookup", "queue_callback",
                   "scheduled_callback"} | DIGITAL


# ---- key and parameters


@pytest.mark.parametrize("status", [401, 403])
def test_given_bad_or_missing_key_when_reading_then_configured_status(make_emu, status):
    emu = make_emu(cc_bad_key_status=status)
    url = emu.contact_center_base_url + "/api/v2/cdr"
    unencoded = f"{url}?key={emu.credentials['cc_api_key']}"  # "+" arrives as a space
    for response in (requests.get(url, params={"key": "nope"}), requests.get(url), requests.get(unencoded),
                     requests.get(url + "/agents", params={"key": "nope"})):
        assert response.status_code == status
        assert response.json() == {"error": "Invalid User API Key"}


@pytest.mark.parametrize("params", [{"per_page": 0}, {"per_page": 10001}, {"per_page": "x"}, {"page": 0},
                                    {"start_date": "2024/03/09"}, {"end_datetime": "2024-03-09 10:00:00"}])
def test_given_bad_parameter_when_reading_then_422_json(cc, params):
    response = cc.get(**params)
    assert response.status_code == 422 and "error" in response.json()


def test_given_unknown_search_token_when_reading_then_400(cc):
    response = cc.get(search_token="WzE2NjkwMTcyNDkwMTUsImNkcl9pdGVtI2MzNTY2ZTFiL")
    assert response.status_code == 400 and response.json()["error"]


def test_given_defaults_when_reading_then_first_1000_in_time_order(emu, cc):
    body = cc.get().json()
    assert list(body) == ["records", "total", "page", "search_token"]
    assert body["page"] == 1 and body["search_token"] is None and len(body["records"]) == 900
    assert body["total"] not in (900, 1)
    assert body["records"] == emu.ground_truth("contact_center_cdrs")


# ---- the cap


@pytest.fixture(scope="module")
def capped() -> dict:
    """Emulators with one day of 10,000 / 10,001 / 25,000 records (the token placement is switched per test)."""
    made = {n: Emulator(config(start="2024-03-09T00:00:00Z", end="2024-03-10T00:00:00Z", cc_records_per_day=n,
                               calls_per_day=1)) for n in (10_000, 10_001, 25_000)}
    yield made
    for emulator in made.values():
        emulator.stop()


@pytest.mark.parametrize("placement", ["every_page", "cap_page"])
@pytest.mark.parametrize("n, searches", [(10_000, [10_000]), (10_001, [10_000, 1]), (25_000, [10_000, 10_000, 5_000])])
def test_given_n_matching_when_reading_with_per_page_10000_then_tokens_continue(capped, placement, n, searches):
    emu = capped[n]
    emu.config.cc_token_placement = placement  # a run-time switch
    records, pages = ContactCenterClient(emu).read_all(per_page=10_000)
    assert records == emu.ground_truth("contact_center_cdrs") and len(records) == n
    assert [len(p["records"]) for p in pages if p["records"]] == searches
    tokens = [p["search_token"] for p in pages]
    if n == 10_000:
        assert tokens == [None, None]  # not capped: no token, then an empty page
    else:
        assert tokens[0] is not None and tokens[-1] is None
        assert pages[1]["records"] == [] and (pages[1]["search_token"] is not None) == (placement == "every_page")


@pytest.mark.parametrize("placement", ["every_page", "cap_page"])
def test_given_small_cap_and_uneven_pages_when_reading_then_short_page_carries_token(emu, cc, placement):
    emu.config.cc_search_cap, emu.config.cc_token_placement = 25, placement
    records, pages = cc.read_all(per_page=10)
    assert records == emu.ground_truth("contact_center_cdrs") and len(records) == 900
    first_search = pages[:3]
    assert [len(p["records"]) for p in first_search] == [10, 10, 5]
    has_token = [p["search_token"] is not None for p in first_search]
    assert has_token == ([True, True, True] if placement == "every_page" else [False, False, True])


def test_given_a_server_page_size_below_per_page_when_reading_then_pages_of_that_size_without_a_word(emu, cc):
    emu.config.cc_max_per_page = 7
    truth = emu.ground_truth("contact_center_cdrs")
    pages = [cc.get(per_page=10, page=page).json() for page in (1, 2)]
    assert [page["records"] for page in pages] == [truth[:7], truth[7:14]]
    assert all(page["search_token"] is None and page["page"] == number for number, page in enumerate(pages, 1))


def test_given_a_server_page_size_below_per_page_and_a_small_cap_when_reading_then_the_cap_cuts_a_page(emu, cc):
    emu.config.cc_max_per_page, emu.config.cc_search_cap, emu.config.cc_token_placement = 7, 25, "cap_page"
    pages = [cc.get(per_page=10, page=page).json() for page in (1, 2, 3, 4, 5)]
    assert [len(page["records"]) for page in pages] == [7, 7, 7, 4, 0]
    assert [page["search_token"] is not None for page in pages] == [False, False, False, True, False]


def test_given_pages_past_the_cap_when_reading_then_empty(emu, cc):
    emu.config.cc_search_cap = 25
    assert [len(cc.get(per_page=10, page=page).json()["records"]) for page in (3, 4, 9)] == [5, 0, 0]


def test_given_token_when_continuing_then_the_search_resumes_after_it(emu, cc):
    emu.config.cc_search_cap = 100
    first = cc.get(per_page=100).json()
    second = cc.get(per_page=100, search_token=first["search_token"]).json()
    truth = emu.ground_truth("contact_center_cdrs")
    assert first["records"] + second["records"] == truth[:200]


# ---- filters and time


def test_given_dates_when_reading_then_whole_days_inclusive(emu, cc):
    records, _ = cc.read_all(start_date="2024-03-10", end_date="2024-03-10")
    assert records == emu.ground_truth("contact_center_cdrs", "2024-03-10T00:00:00Z", "2024-03-11T00:00:00Z")
    assert records[0]["timestamp"] == "2024-03-10T00:00:00.000+00:00"


@pytest.mark.parametrize("inclusive", [True, False])
def test_given_end_datetime_at_a_record_when_inclusive_then_included(emu, cc, inclusive):
    emu.config.cc_end_inclusive = inclusive
    records, _ = cc.read_all(start_datetime="2024-03-09T12:00:00", end_datetime="2024-03-10T00:00:00")
    midnight = emu.ground_truth("contact_center_cdrs", "2024-03-10T00:00:00Z", "2024-03-10T00:00:00.001Z")
    assert len(midnight) == 1 and (midnight[0] in records) is inclusive


def _started_ms(record: dict) -> int:
    hours, minutes, seconds = (int(part) for part in record["duration"].split(":"))
    ended = datetime.fromisoformat(record["timestamp"]).timestamp() * 1000
    return round(ended) - ((hours * 60 + minutes) * 60 + seconds) * 1000


def test_given_select_by_start_time_when_reading_a_window_then_records_that_started_in_it(emu, cc):
    emu.config.cc_select_by, emu.config.cc_end_inclusive = "start_time", False
    low, high = datetime(2024, 3, 10, 9, tzinfo=timezone.utc), datetime(2024, 3, 10, 10, tzinfo=timezone.utc)
    records, _ = cc.read_all(start_datetime="2024-03-10T09:00:00", end_datetime="2024-03-10T10:00:00")
    everything = emu.ground_truth("contact_center_cdrs")
    expected = [record for record in everything if low.timestamp() * 1000 <= _started_ms(record) < high.timestamp() * 1000]
    assert records == expected  # still in timestamp order
    assert any(datetime.fromisoformat(record["timestamp"]) >= high for record in records)  # ended after the window
    assert any(record["duration"] != "00:00:00" for record in records)


def test_given_sao_paulo_zone_when_reading_a_date_then_day_starts_at_03_utc(emu, cc):
    emu.config.cc_time_zone = "America/Sao_Paulo"
    records, _ = cc.read_all(start_date="2024-03-10", end_date="2024-03-10")
    assert records == emu.ground_truth("contact_center_cdrs", "2024-03-10T03:00:00Z", "2024-03-11T03:00:00Z")


def test_given_timestamps_without_offset_when_reading_then_new_york_wall_clock_times(emu, cc):
    with_offset = emu.ground_truth("contact_center_cdrs", "2024-03-10T06:00:00Z", "2024-03-10T08:00:00Z")
    emu.config.cc_time_zone, emu.config.cc_timestamp_offset = "America/New_York", False
    records, _ = cc.read_all(start_datetime="2024-03-10T01:00:00", end_datetime="2024-03-10T04:00:00")
    assert records == emu.ground_truth("contact_center_cdrs", "2024-03-10T06:00:00Z", "2024-03-10T08:00:00.001Z")
    # New York moves from -05:00 to -04:00 at 07:00 UTC: the wall clock jumps from 02:00 to 03:00.
    before, after = [r for r in records if r["timestamp"] < "2024-03-10T03"], [r for r in records if r["timestamp"] >= "2024-03-10T03"]
    assert [r["uuid"] for r in records] == [r["uuid"] for r in with_offset]
    assert before and after and all(len(r["timestamp"]) == 23 for r in records)
    assert [to_ms(r["timestamp"] + "-05:00") for r in before] + [to_ms(r["timestamp"] + "-04:00") for r in after] == [
        to_ms(r["timestamp"]) for r in with_offset]


def test_given_filters_when_reading_then_exact_matches(emu, cc):
    truth = emu.ground_truth("contact_center_cdrs")
    inbound, _ = cc.read_all(type="inbound")
    assert inbound == [r for r in truth if r["type"] == "inbound"]
    answered, _ = cc.read_all(disposition="answered", per_page=7)
    assert answered == [r for r in truth if r["disposition"] == "answered"]
    one, _ = cc.read_all(uuid=truth[5]["uuid"])
    assert one == [truth[5]]


def test_given_clock_mid_day_when_reading_then_only_ended_interactions(emu, cc):
    emu.set_now("2024-03-10T15:30:00Z")
    records, _ = cc.read_all()
    assert records == emu.ground_truth("contact_center_cdrs", "2024-03-09T00:00:00Z", "2024-03-10T15:30:00.001Z")
    assert 300 < len(records) < 600


# ---- records and reference lists


def test_records_cover_types_dispositions_and_quirks(capped):
    records = capped[25_000].ground_truth("contact_center_cdrs")
    types = Counter(r["type"] for r in records)
    assert PUBLISHED_TYPES < set(types) and "rcs" in types
    assert "voicemail_left" in {r["disposition"] for r in records}
    assert any("recording_url" in r for r in records)
    assert {r["timestamp"][-6:] for r in records} >= {"-03:00", "+05:30", "+00:00"}
    assert all(("sla" in r) == (r["type"] in DIGITAL) for r in records)
    assert all({"sid", "text", "num_segments"} <= set(r) for r in records if r["type"] == "outbound_sms")
    assert all("destination_name" in r for r in records if r["type"] in ("outbound", "dialer", "click_to_call"))
    stamps = Counter(r["timestamp"] for r in records if r["timestamp"].endswith("+00:00"))
    assert records[0]["timestamp"] == "2024-03-09T00:00:00.000+00:00"
    keys = [(r["timestamp"], r["uuid"]) for r in records]
    assert len(set(keys)) == len(keys)
    assert max(Counter(r["uuid"] for r in records).values()) == 1 and stamps


def test_reference_lists_and_agent_ids(emu, cc):
    names = ["agents", "queues", "teams", "campaigns", "deleted_agents", "wrapup_codes"]
    lists = {name: cc.get("/" + name).json() for name in names}
    for name in names:
        assert lists[name] == emu.ground_truth(f"contact_center_{name}") and lists[name]
    assert all({"id", "name"} <= set(item) for name in names[:-1] for item in lists[name])
    assert lists["wrapup_codes"][0] == {"description": "0100: Qualified Lead", "code": "0100"}
    known = {a["id"] for a in lists["agents"]} | {a["id"] for a in lists["deleted_agents"]}
    used = {r["agent_id"] for r in emu.ground_truth("contact_center_cdrs")} - {None}
    assert used <= known


def test_given_unknown_path_when_requested_then_404_html(emu):
    for path in ("/api/v2/cdrs", "/", "/analytics/work/v3/call-records"):
        response = requests.get(emu.url + path)
        assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/html")
        assert response.text.lstrip().lower().startswith("<!doctype html>")
