"""Same seed and settings give the same data, whatever the request order or cache pressure."""

from __future__ import annotations

from emulator import Emulator

from .conftest import config

STREAMS = ("call_records", "call_legs", "contact_center_cdrs", "contact_center_agents")


def test_given_same_seed_when_read_in_other_orders_then_same_data(make_emu):
    first, second = make_emu(), make_emu(cache_mb=0)  # the second one evicts and regenerates all the time
    for stream in reversed(STREAMS):
        second.ground_truth(stream, "2024-03-11T00:00:00Z", "2024-03-12T00:00:00Z")
    for stream in STREAMS:
        assert first.ground_truth(stream) == second.ground_truth(stream), stream
    assert first.ground_truth("call_records", time_zone="Asia/Kolkata") == second.ground_truth(
        "call_records", time_zone="Asia/Kolkata")


def test_given_other_seed_when_generated_then_other_data(make_emu):
    assert make_emu().ground_truth("call_records") != make_emu(seed=43).ground_truth("call_records")
    assert make_emu().ground_truth("contact_center_cdrs") != make_emu(seed=43).ground_truth("contact_center_cdrs")


def test_given_shorter_range_when_generated_then_days_match_the_longer_range(make_emu):
    short = make_emu(start="2024-03-10T06:00:00Z", end="2024-03-11T00:00:00Z")
    rows = short.ground_truth("call_records")
    assert rows and rows[0]["startTimeUTC"] >= 1710050400000
    assert rows == make_emu().ground_truth("call_records", "2024-03-10T06:00:00Z", "2024-03-11T00:00:00Z")


def test_given_default_range_when_started_then_days_end_at_next_midnight():
    with Emulator(config(start=None, end=None, now="2025-06-15T10:30:00Z", days=3)) as emu:
        start, end = emu.data_range
        assert (start.isoformat(), end.isoformat()) == ("2025-06-13T00:00:00+00:00", "2025-06-16T00:00:00+00:00")
        rows = emu.ground_truth("call_records")
        assert rows and max(r["disconnectedTimeUTC"] for r in rows) <= 1749983400000  # ended by 10:30


def test_given_whole_days_when_counted_without_generating_then_same_rows_as_generated(emu):
    whole = emu.ground_truth("call_records", "2024-03-09T00:00:00Z", "2024-03-11T00:00:00Z")  # counted shortcut
    edges = ["2024-03-09T00:00:00Z", "2024-03-09T12:00:00Z", "2024-03-10T00:00:00Z", "2024-03-10T12:00:00Z",
             "2024-03-11T00:00:00Z"]
    halves = [emu.ground_truth("call_records", a, b) for a, b in zip(edges, edges[1:])]  # selected row by row
    assert whole == [row for half in halves for row in half] and len(whole) == 600
