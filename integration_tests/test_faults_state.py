"""Saved state in every form the docs accept, and how far a sync may move it, through the real command.

The guarantees under test: each accepted form of saved state resumes from that instant (first request window,
records, final state), anything else is one config error naming the stream (never a traceback, never a silent
re-read); the state never moves past the time of the sync, though a record stamped in the future is kept; a
stream without records still moves its state; and a CDR `timestamp` without a UTC offset is read in the
account's time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import pytest

from emulator import Emulator, EmulatorConfig
from integration_tests.conftest import (
    END,
    START,
    assert_exact_records,
    connector_config,
    emulator_config,
    ground_truth,
)
from integration_tests.connector_runner import DATE_FORMAT, ConnectorRun, catalog_for, run_connector, state_for
from source_8x8_cdr.components.timeutil import cursor_moment, parse_utc

CURSORS = {"call_records": "startTimeUTC", "contact_center_cdrs": "timestamp"}
# The request parameter holding the start of a slice's window, and its format (both APIs here read UTC).
WINDOW_STARTS = {"call_records": ("startTime", "%Y-%m-%d %H:%M:%S"), "contact_center_cdrs": ("start_datetime", "%Y-%m-%dT%H:%M:%S")}
PATHS = {"call_records": "/analytics/work/v2/call-records", "contact_center_cdrs": "/api/v2/cdr"}
LOOKBACK = timedelta(minutes=60)
NEW_YORK = ZoneInfo("America/New_York")
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture
def emu(clean_emulator: Emulator) -> Emulator:
    return clean_emulator


def _state_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _window_starts(emu: Emulator, stream: str) -> list[datetime]:
    """The distinct starts of the windows the connector asked `stream` for, in order."""
    parameter, layout = WINDOW_STARTS[stream]
    return sorted({datetime.strptime(params[parameter], layout).replace(tzinfo=timezone.utc)
                   for _, path, params, _ in emu.request_log if path == PATHS[stream] and parameter in params})


def _padding(stream: str) -> timedelta:
    """Contact-center windows start a lookback before their slice (the API may select by start time)."""
    return LOOKBACK if stream == "contact_center_cdrs" else timedelta(0)


def _expected_state(records: list[dict], stream: str, sync_end: datetime) -> str:
    """The state after reading up to `sync_end`: the newest record, or one lookback before the end when that is later."""
    newest = max(cursor_moment(record[CURSORS[stream]]) for record in records)
    return _state_text(max(newest, sync_end - LOOKBACK))


def _assert_no_traceback(run: ConnectorRun) -> None:
    assert TRACEBACK not in run.stderr, run.stderr[-1500:]
    assert not [line for line in run.logs if TRACEBACK in line]
    assert not run.of_type("NOT_JSON"), run.of_type("NOT_JSON")[:3]


# ---------------------------------------------------------------------------------------------------------------------
# Every form of saved state the docs accept resumes from its instant
# ---------------------------------------------------------------------------------------------------------------------

RESUME = START + timedelta(days=1)  # a UTC midnight

ACCEPTED: dict[str, tuple[str, Callable[[], list]]] = {
    "iso_without_fraction": ("call_records", lambda: state_for("call_records", {"startTimeUTC": RESUME.strftime(DATE_FORMAT)})),
    "iso_with_+02:00": ("call_records", lambda: state_for(
        "call_records", {"startTimeUTC": (RESUME + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")})),
    "date": ("call_records", lambda: state_for("call_records", {"startTimeUTC": RESUME.strftime("%Y-%m-%d")})),
    "cdr_epoch_ms": ("contact_center_cdrs", lambda: state_for("contact_center_cdrs", {"timestamp": int(RESUME.timestamp() * 1000)})),
    "cdr_epoch_ms_digits": ("contact_center_cdrs", lambda: state_for(
        "contact_center_cdrs", {"timestamp": str(int(RESUME.timestamp() * 1000))})),
    "wa_epoch_seconds": ("call_records", lambda: state_for("call_records", {"startTimeUTC": int(RESUME.timestamp())})),
    "cdk_slices_without_fraction": ("call_records", lambda: state_for("call_records", {
        "state_type": "date-range",
        "slices": [{"start": START.strftime(DATE_FORMAT), "end": RESUME.strftime(DATE_FORMAT),
                    "most_recent_cursor_value": RESUME.strftime(DATE_FORMAT)}]})),
    "global_without_shared_state": ("call_records", lambda: [{"type": "GLOBAL", "global": {"stream_states": [
        {"stream_descriptor": {"name": "call_records"}, "stream_state": {"startTimeUTC": _state_text(RESUME)}}]}}]),
    "legacy": ("call_records", lambda: [{"type": "LEGACY", "data": {"call_records": {"startTimeUTC": _state_text(RESUME)}}}]),
}


@pytest.mark.parametrize("form", list(ACCEPTED))
def test_given_a_saved_state_in_an_accepted_form_when_reading_then_the_read_resumes_one_lookback_before_it(
        emu: Emulator, tmp_path: Path, form: str) -> None:
    stream, state = ACCEPTED[form]

    run = run_connector("read", tmp_path, connector_config(emu), catalog_for([stream]), state())

    assert run.returncode == 0, run.errors
    _assert_no_traceback(run)
    assert _window_starts(emu, stream)[0] == RESUME - LOOKBACK - _padding(stream)
    expected = ground_truth(emu, stream, RESUME - LOOKBACK, END)
    assert_exact_records(run.records(stream), expected, stream)
    assert run.last_state(stream) == {CURSORS[stream]: _expected_state(expected, stream, END)}


REFUSED: dict[str, tuple[list, str]] = {
    "global_with_shared_state": ([{"type": "GLOBAL", "global": {"shared_state": {"cdc": 1}, "stream_states": [
        {"stream_descriptor": {"name": "call_records"}, "stream_state": {"startTimeUTC": "2026-01-01T00:00:00.000000Z"}}]}}],
        "`shared_state`"),
    "legacy_not_per_stream": ([{"type": "LEGACY", "data": {"startTimeUTC": "2026-01-01T00:00:00.000000Z"}}], "LEGACY"),
    "compact_date": (state_for("call_records", {"startTimeUTC": 20261003}), "compact date"),
}


@pytest.mark.parametrize("form", list(REFUSED))
def test_given_a_saved_state_in_another_form_when_reading_then_one_config_error_names_it_before_any_request(
        emu: Emulator, tmp_path: Path, form: str) -> None:
    state, named = REFUSED[form]

    run = run_connector("read", tmp_path, connector_config(emu), catalog_for(["call_records"]), state)

    _assert_no_traceback(run)
    assert run.returncode != 0 and run.stderr.strip() == ""
    assert [error["failure_type"] for error in run.errors] == ["config_error"], run.errors
    message = run.errors[0]["message"]
    assert "state" in message and named in message and ("call_records" in message or "LEGACY" in message), message
    assert not run.records() and not emu.request_log


# ---------------------------------------------------------------------------------------------------------------------
# The state never moves past the time of the sync
# ---------------------------------------------------------------------------------------------------------------------


def test_given_a_call_stamped_days_ahead_and_an_end_date_in_the_future_when_synced_twice_then_the_second_sync_reads_the_last_half_hour(
        tmp_path: Path) -> None:
    # The emulator runs on the real clock (it lists a call once it has ended), as does the connector.
    stream = "call_records"
    with Emulator(EmulatorConfig(seed=11, days=2, calls_per_day=3000, cc_records_per_day=0)) as emu:
        started = datetime.now(timezone.utc)
        config = connector_config(emu, ("work_analytics",), start_date=(started - timedelta(hours=6)).strftime(DATE_FORMAT),
                                  end_date=(started + timedelta(days=3)).strftime(DATE_FORMAT), slice_hours=744)
        emu.set_faults([{"kind": "future_cursor", "path": PATHS[stream], "seconds": 2 * 86_400}])

        first = run_connector("read", tmp_path, config, catalog_for([stream]))
        first_done = datetime.now(timezone.utc)

        assert first.returncode == 0, first.errors
        stamped_ahead = [record for record in first.records(stream) if cursor_moment(record["startTimeUTC"]) > first_done]
        assert len(stamped_ahead) == 1, "the call stamped in the future is emitted, not dropped"
        state = first.last_state(stream)
        assert started - timedelta(seconds=1) <= parse_utc(state["startTimeUTC"]) <= first_done, state
        assert [line for line in first.logs if "end_date" in line and "future" in line]

        emu.clear_faults()
        second_starts = datetime.now(timezone.utc)
        half_hour_ago = {row["callId"] for row in ground_truth(emu, stream, second_starts - timedelta(minutes=40),
                                                                second_starts - timedelta(minutes=20))}
        second = run_connector("read", tmp_path, config, catalog_for([stream]), state_for(stream, state))

        assert second.returncode == 0, second.errors
        assert half_hour_ago, "the scenario needs calls that started about 30 minutes before the second sync"
        assert half_hour_ago <= {record["callId"] for record in second.records(stream)}


# ---------------------------------------------------------------------------------------------------------------------
# A stream without records checkpoints too
# ---------------------------------------------------------------------------------------------------------------------


def test_given_streams_without_records_when_synced_twice_then_the_second_sync_starts_near_the_end_of_the_first(tmp_path: Path) -> None:
    streams = ("call_records", "contact_center_cdrs")
    start = END - timedelta(days=30)
    with Emulator(emulator_config(start=start.strftime(DATE_FORMAT), calls_per_day=0, cc_records_per_day=0)) as emu:
        config = connector_config(emu, start_date=start.strftime(DATE_FORMAT))
        first = run_connector("read", tmp_path, config, catalog_for(streams))
        assert first.returncode == 0, first.errors
        first_windows = {stream: _window_starts(emu, stream) for stream in streams}
        emu.request_log.clear()

        second = run_connector("read", tmp_path, config, catalog_for(streams),
                               [state_for(stream, first.last_state(stream))[0] for stream in streams])

        assert second.returncode == 0, second.errors
        for stream in streams:
            assert first.last_state(stream) == {CURSORS[stream]: _state_text(END - LOOKBACK)}
            assert len(first_windows[stream]) == 30
            assert _window_starts(emu, stream) == [END - 2 * LOOKBACK - _padding(stream)], f"{stream}: the second sync walked from start_date again"


# ---------------------------------------------------------------------------------------------------------------------
# CDR timestamps without a UTC offset are wall-clock times in the account's zone
# ---------------------------------------------------------------------------------------------------------------------


def test_given_cdr_timestamps_without_offset_in_new_york_when_reading_then_no_record_is_lost(tmp_path: Path) -> None:
    stream = "contact_center_cdrs"
    with Emulator(emulator_config(cc_time_zone="America/New_York", cc_timestamp_offset=False)) as emu:
        config = connector_config(emu, ("contact_center",))
        config["contact_center"]["time_zone"] = "America/New_York"

        run = run_connector("read", tmp_path, config, catalog_for([stream]))

        assert run.returncode == 0, run.errors
        expected = ground_truth(emu, stream)
        assert expected and all(len(row["timestamp"]) == 23 for row in expected), "the emulator writes no offset"
        # Each record's timestamp becomes the instant of that New York time, in UTC; nothing else changes.
        in_utc = [{**row, "timestamp": parse_utc(row["timestamp"], NEW_YORK).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"} for row in expected]
        assert_exact_records(run.records(stream), in_utc, stream)
        newest = max(parse_utc(row["timestamp"], NEW_YORK) for row in expected)
        assert run.last_state(stream) == {"timestamp": _state_text(max(newest, END - LOOKBACK))}

