"""Resuming: a read killed part-way, calls that end after a sync, and state input the connector cannot use.

The guarantees under test: a sync resumed from the last state it emitted loses nothing; records delivered
twice across syncs are only those the lookback re-reads; late-ending calls within the lookback are picked up;
a state that cannot be used gives one config error naming it (never a silent full re-read, nor a traceback);
and a state in the future is kept with a warning.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from integration_tests.conftest import (
    END,
    START,
    assert_exact_records,
    connector_config,
    emulator_config,
    ground_truth,
    primary_key,
)
from integration_tests.connector_runner import COMMAND, DATE_FORMAT, ConnectorRun, catalog_for, run_connector, state_for
from source_8x8_cdr.components.timeutil import cursor_moment, parse_utc

CURSORS = {"call_records": "startTimeUTC", "call_legs": "startTimeUTC", "contact_center_cdrs": "timestamp"}
TRACEBACK = "Traceback (most recent call last)"


def _states_by_stream(messages: list[dict]) -> dict[str, dict]:
    last: dict[str, dict] = {}
    for message in messages:
        if message.get("type") == "STATE":
            stream = message["state"]["stream"]
            last[stream["stream_descriptor"]["name"]] = stream["stream_state"]
    return last


def _records(messages: list[dict], stream: str) -> list[dict]:
    return [m["record"]["data"] for m in messages if m.get("type") == "RECORD" and m["record"]["stream"] == stream]


def _assert_duplicates_only_in_lookback(first: list[dict], second: list[dict], stream: str, state: dict | None,
                                        lookback: timedelta) -> None:
    """Records delivered by both syncs all lie in the window the second sync re-read: from its state minus the
    lookback on."""
    key, cursor = primary_key(stream), CURSORS[stream]
    again = {record[key] for record in first} & {record[key] for record in second}
    if not again:
        return
    assert state is not None, f"{stream}: {len(again)} records delivered twice though the second sync had no state"
    floor = parse_utc(state[cursor]) - lookback
    outside = [record for record in second if record[key] in again and cursor_moment(record[cursor]) < floor]
    assert not outside, f"{stream}: {len(outside)} records re-delivered from before state - lookback ({floor})"


def _assert_no_traceback(run: ConnectorRun) -> None:
    assert TRACEBACK not in run.stderr
    assert not any(TRACEBACK in line for line in run.logs)
    assert not run.of_type("NOT_JSON"), run.of_type("NOT_JSON")[:3]


# ---------------------------------------------------------------------------------------------------------------------
# Kill mid-read
# ---------------------------------------------------------------------------------------------------------------------


def test_given_a_read_killed_after_its_first_checkpoints_when_read_again_from_its_last_state_then_nothing_is_lost(tmp_path: Path) -> None:
    streams = ("call_records", "contact_center_cdrs")
    with Emulator(emulator_config(latency_ms=100)) as emu:
        config = connector_config(emu, slice_hours=6, concurrency=2)
        config["work_analytics"]["page_size"] = 20
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(streams)))

        killed = subprocess.Popen([COMMAND, "read", "--config", str(tmp_path / "config.json"), "--catalog",
                                   str(tmp_path / "catalog.json")], stdout=subprocess.PIPE, text=True)
        delivered: list[dict] = []
        try:
            for line in killed.stdout:  # type: ignore[union-attr]
                delivered.append(json.loads(line))
                if len([m for m in delivered if m["type"] == "STATE"]) >= 2:
                    break
        finally:
            killed.kill()
            killed.communicate(timeout=30)
        assert killed.returncode != 0, "the read finished before it could be killed: make it slower"
        states = _states_by_stream(delivered)

        resumed = run_connector("read", tmp_path, config, catalog_for(streams),
                                [state_for(name, value)[0] for name, value in states.items()])

        assert resumed.returncode == 0, resumed.errors
        for stream in streams:
            first, second = _records(delivered, stream), resumed.records(stream)
            union = {record[primary_key(stream)]: record for record in first + second}
            assert_exact_records(list(union.values()), ground_truth(emu, stream), stream)
            _assert_duplicates_only_in_lookback(first, second, stream, states.get(stream), timedelta(minutes=60))


# ---------------------------------------------------------------------------------------------------------------------
# Late-arriving calls
# ---------------------------------------------------------------------------------------------------------------------


def test_given_calls_still_running_at_the_first_sync_when_the_next_sync_runs_then_the_lookback_picks_them_up(tmp_path: Path) -> None:
    # The emulator lists a call only once it has ended; the connector's "now" is played by end_date. (Call legs
    # share the cursor, the slices and the lookback of call records.)
    stream = "call_records"
    first_now, second_now = END - timedelta(hours=3), END
    lookback = timedelta(minutes=150)  # the emulator's calls last at most 2 hours
    with Emulator(emulator_config(now=first_now.isoformat())) as emu:
        config = connector_config(emu, lookback_window_minutes=150, end_date=first_now.strftime(DATE_FORMAT))
        first = run_connector("read", tmp_path, config, catalog_for([stream]))
        assert first.returncode == 0, first.errors
        listed_at_first = {row[primary_key(stream)] for row in ground_truth(emu, stream, START, first_now)}

        emu.set_now(second_now.isoformat())
        config["end_date"] = second_now.strftime(DATE_FORMAT)
        second = run_connector("read", tmp_path, config, catalog_for([stream]), state_for(stream, first.last_state(stream)))

        assert second.returncode == 0, second.errors
        truth = ground_truth(emu, stream, START, second_now)
        late = {row[primary_key(stream)] for row in truth
                if row[primary_key(stream)] not in listed_at_first and cursor_moment(row["startTimeUTC"]) < first_now}
        assert late, "the scenario needs calls that started before the first sync and ended after it"
        second_keys = {record[primary_key(stream)] for record in second.records(stream)}
        assert late <= second_keys
        union = {record[primary_key(stream)]: record for record in first.records(stream) + second.records(stream)}
        assert_exact_records(list(union.values()), truth, stream)
        _assert_duplicates_only_in_lookback(first.records(stream), second.records(stream), stream,
                                            first.last_state(stream), lookback)


# ---------------------------------------------------------------------------------------------------------------------
# State input the connector cannot use
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def emu(clean_emulator: Emulator) -> Emulator:
    return clean_emulator


def _read_call_records(emu: Emulator, tmp_path: Path, state: Any) -> ConnectorRun:
    return run_connector("read", tmp_path, connector_config(emu), catalog_for(["call_records"]), state)


def assert_config_error_naming_the_state(run: ConnectorRun, emu: Emulator) -> None:
    """The connector's choice for a state it cannot use (state.py): one config error that names the stream and
    its state, before any request; no records, no traceback. (Not a silent full re-read from start_date.)"""
    _assert_no_traceback(run)
    assert run.returncode != 0
    assert [error["failure_type"] for error in run.errors] == ["config_error"], run.errors
    message = run.errors[0]["message"]
    assert "state" in message.lower() and "call_records" in message, message
    assert not run.records("call_records")
    assert not emu.request_log, "the connector called the API with a state it could not use"


def test_given_a_state_of_unknown_shape_when_reading_then_one_config_error_names_the_state(emu: Emulator, tmp_path: Path) -> None:
    run = _read_call_records(emu, tmp_path, state_for("call_records", {"foo": "bar"}))

    assert_config_error_naming_the_state(run, emu)


def test_given_a_state_in_the_future_when_reading_then_it_is_kept_with_a_warning_and_nothing_is_read(emu: Emulator, tmp_path: Path) -> None:
    # The connector's documented choice (state.py): the protocol's state is honoured, and the user is told.
    future = "2099-01-01T00:00:00.000000Z"

    run = _read_call_records(emu, tmp_path, state_for("call_records", {"startTimeUTC": future}))

    assert run.returncode == 0, run.errors
    _assert_no_traceback(run)
    assert [line for line in run.logs if "call_records" in line and "future" in line and "2099" in line]
    assert not run.records("call_records")
    assert all(state["stream"]["stream_state"]["startTimeUTC"] >= future for state in run.states("call_records"))


@pytest.mark.parametrize("value", ["yesterday", "21/11/2026"])
def test_given_a_garbage_cursor_string_in_state_when_reading_then_one_config_error_names_the_state(emu: Emulator, tmp_path: Path, value: str) -> None:
    run = _read_call_records(emu, tmp_path, state_for("call_records", {"startTimeUTC": value}))

    assert_config_error_naming_the_state(run, emu)


def test_given_a_cursor_of_the_wrong_type_in_state_when_reading_then_one_config_error_names_the_state(emu: Emulator, tmp_path: Path) -> None:
    run = _read_call_records(emu, tmp_path, state_for("call_records", {"startTimeUTC": ["2026-11-21"]}))

    assert_config_error_naming_the_state(run, emu)


def test_given_a_cursor_in_epoch_milliseconds_in_state_when_reading_then_it_is_read_as_that_instant(emu: Emulator, tmp_path: Path) -> None:
    resume_at = START + timedelta(days=1)
    epoch_ms = int(resume_at.timestamp() * 1000)

    run = _read_call_records(emu, tmp_path, state_for("call_records", {"startTimeUTC": epoch_ms}))

    assert run.returncode == 0, run.errors
    lookback_start = resume_at - timedelta(minutes=60)
    assert_exact_records(run.records("call_records"), ground_truth(emu, "call_records", lookback_start, END), "call_records")


@pytest.mark.parametrize("state", [{"call_records": {"startTimeUTC": "2026-11-21T00:00:00.000000Z"}}],
                         ids=["legacy_per_stream_object"])
def test_given_a_state_file_of_the_wrong_shape_when_reading_then_fails_with_a_config_error_naming_the_state_file(emu: Emulator, tmp_path: Path, state: Any) -> None:
    run = _read_call_records(emu, tmp_path, state)

    assert run.returncode != 0
    assert [error["failure_type"] for error in run.errors] == ["config_error"]
    assert "state file" in run.errors[0]["message"]
    assert not run.records("call_records")
    assert not emu.request_log, "the connector called the API with a state it could not read"
    _assert_no_traceback(run)
