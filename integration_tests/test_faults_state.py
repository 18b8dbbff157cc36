"""Saved state in every form the docs accept, through the real command.

The guarantees under test: each accepted form of saved state resumes from that instant (first request window,
records, final state), anything else is one config error naming the stream (never a traceback, never a silent
re-read).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest

from emulator import Emulator
from integration_tests.conftest import (
    END,
    START,
    assert_exact_records,
    connector_config,
    ground_truth,
)
from integration_tests.connector_runner import DATE_FORMAT, ConnectorRun, catalog_for, run_connector, state_for
from source_8x8_cdr.components import cursor_moment

CURSORS = {"call_records": "startTimeUTC", "contact_center_cdrs": "timestamp"}
# The request parameter holding the start of a slice's window, and its format (both APIs here read UTC).
WINDOW_STARTS = {"call_records": ("startTime", "%Y-%m-%d %H:%M:%S"), "contact_center_cdrs": ("start_datetime", "%Y-%m-%dT%H:%M:%S")}
PATHS = {"call_records": "/analytics/work/v2/call-records", "contact_center_cdrs": "/api/v2/cdr"}
LOOKBACK = timedelta(minutes=60)
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


def _expected_state(records: list[dict], stream: str) -> str:
    """The state after reading `records`: the newest of them."""
    return _state_text(max(cursor_moment(record[CURSORS[stream]]) for record in records))


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
    assert _window_starts(emu, stream)[0] == RESUME - LOOKBACK
    expected = ground_truth(emu, stream, RESUME - LOOKBACK, END)
    assert_exact_records(run.records(stream), expected, stream)
    assert run.last_state(stream) == {CURSORS[stream]: _expected_state(expected, stream)}


REFUSED: dict[str, tuple[list, str]] = {
    "global_with_shared_state": ([{"type": "GLOBAL", "global": {"shared_state": {"cdc": 1}, "stream_states": [
        {"stream_descriptor": {"name": "call_records"}, "stream_state": {"startTimeUTC": "2026-01-01T00:00:00.000000Z"}}]}}],
        "`shared_state`"),
    "legacy_not_per_stream": ([{"type": "LEGACY", "data": {"startTimeUTC": "2026-01-01T00:00:00.000000Z"}}], "LEGACY"),
    "epoch_seconds": (state_for("call_records", {"startTimeUTC": 1790985600}), "epoch seconds"),
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
