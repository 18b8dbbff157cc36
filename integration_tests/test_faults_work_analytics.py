"""Work Analytics under fault injection: logins, retries, malformed pages and bounded failures.

Each test sets fault rules on the emulator (see `emulator/faults.py`), reads `call_records` through the real
console command, and compares the records with the emulator's ground truth: nothing lost, nothing twice.
When a fault outlasts the retry budget, the read must fail with a clear error and a state that does not
pass the slice that was not finished.

Volumes: 3 days x 150 calls, pages of 50 rows, 24-hour slices: about 4 requests per slice.
"""

from __future__ import annotations

import time

from pathlib import Path
from typing import Any, Iterator

import pytest

from emulator import Emulator
from integration_tests.conftest import (
    START,
    assert_exact_records,
    connector_config,
    duplicate_keys,
    emulator_config,
    ground_truth,
    record_request_times,
    stream_errors,
    without_nulls,
)
from integration_tests.connector_runner import ConnectorRun, catalog_for, run_connector, state_for
from integration_tests.test_faults_contact_center import assert_one_error_per_failed_slice
from source_8x8_cdr.components.timeutil import cursor_moment, parse_utc

STREAM = "call_records"
DATA_PATH = "/analytics/work/v2/call-records"
LOGIN_PATH = "/analytics/work/v1/oauth/token"
PAGE_SIZE = 50


def _config(emu: Emulator, **overrides: Any) -> dict:
    config = connector_config(emu, ("work_analytics",), **overrides)
    config["work_analytics"]["page_size"] = PAGE_SIZE
    return config


def _read(emu: Emulator, tmp_path: Path, state: list | None = None, **overrides: Any) -> ConnectorRun:
    return run_connector("read", tmp_path, _config(emu, **overrides), catalog_for([STREAM]), state)


def _requests(emu: Emulator, path: str, status: int | None = None) -> list[tuple]:
    return [entry for entry in emu.request_log if entry[1] == path and status in (None, entry[3])]


def _error_types(run: ConnectorRun) -> set[str]:
    return {error.get("failure_type") for error in stream_errors(run)}


def _assert_clean_success(run: ConnectorRun, emu: Emulator) -> None:
    assert run.returncode == 0, run.errors or run.stderr[-2000:]
    assert not run.errors
    assert_exact_records(run.records(STREAM), ground_truth(emu, STREAM), STREAM)


def assert_failed_slice_not_passed(run: ConnectorRun, emu: Emulator, tmp_path: Path, first_faulty: int) -> None:
    """After a read whose data requests failed from number `first_faulty` (0-based) on: a transient error; no
    record twice; no record outside the ground truth; the last state (if any) not past the first window that
    failed; and a clean read from that state delivers everything that was not yet delivered."""
    assert run.returncode != 0
    assert _error_types(run) == {"transient_error"}, run.errors
    records = run.records(STREAM)
    assert not duplicate_keys(records, STREAM)
    truth = ground_truth(emu, STREAM)
    truth_by_key = {row["callId"]: row for row in truth}
    assert all(without_nulls(truth_by_key.get(record["callId"])) == without_nulls(record) for record in records)

    failed_windows = [entry[2]["startTime"] for entry in _requests(emu, DATA_PATH)[first_faulty:]]
    assert failed_windows, "the fault never fired"
    first_failed = min(parse_utc(window.replace(" ", "T") + "Z") for window in failed_windows)
    state = run.last_state(STREAM)
    if state is not None:
        assert parse_utc(state["startTimeUTC"]) <= first_failed, (state, first_failed)

    emu.clear_faults()
    resumed = _read(emu, tmp_path, state_for(STREAM, state) if state else None)
    assert resumed.returncode == 0, resumed.errors
    union = {record["callId"]: record for record in records + resumed.records(STREAM)}
    assert_exact_records(list(union.values()), truth, STREAM)


@pytest.fixture
def emu(clean_emulator: Emulator) -> Iterator[Emulator]:
    yield clean_emulator


# ---------------------------------------------------------------------------------------------------------------------
# Login and tokens
# ---------------------------------------------------------------------------------------------------------------------


def test_given_token_lifetime_shorter_than_the_read_when_reading_then_logs_in_again_and_records_are_exact(tmp_path: Path) -> None:
    # Tokens live 2 s (the connector renews at half that); the read takes longer (300 ms per request).
    with Emulator(emulator_config(token_lifetime_s=2, latency_ms=300)) as slow_emu:
        run = _read(slow_emu, tmp_path, concurrency=2)

        _assert_clean_success(run, slow_emu)
        assert len(_requests(slow_emu, LOGIN_PATH, 200)) >= 2


def test_given_401_invalid_token_mid_read_when_reading_then_logs_in_once_more_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "expire_token", "path": DATA_PATH, "after": 3, "times": 1}])

    run = _read(emu, tmp_path, slice_hours=72)  # one slice: its requests go one after the other

    _assert_clean_success(run, emu)
    assert len(_requests(emu, DATA_PATH, 401)) == 1
    assert len(_requests(emu, LOGIN_PATH)) == 2


@pytest.fixture(scope="module")
def two_401_run(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[ConnectorRun, list[tuple]]:
    """One read (shared by the tests below) whose one slice meets 401 twice in a row; and its request log."""
    emulator.request_log.clear()
    emulator.set_faults([{"kind": "status", "status": 401, "path": DATA_PATH, "times": 2}])
    try:
        run = _read(emulator, tmp_path_factory.mktemp("two_401"), slice_hours=72)
        return run, list(emulator.request_log)
    finally:
        emulator.clear_faults()


def test_given_two_401_in_a_row_when_reading_then_fails_with_a_config_error_after_one_login_more(two_401_run: tuple) -> None:
    run, log = two_401_run

    assert run.returncode != 0
    assert _error_types(run) == {"config_error"}, run.errors
    assert [entry[1] for entry in log] == [LOGIN_PATH, DATA_PATH, LOGIN_PATH, DATA_PATH], "not exactly one login more"
    assert not run.records(STREAM)


def test_given_two_401_in_a_row_when_reading_then_the_error_names_work_analytics_and_its_credentials(two_401_run: tuple) -> None:
    run, _ = two_401_run

    message = stream_errors(run)[0]["message"]
    assert "Work Analytics" in message and "work_analytics." in message, message


def test_given_login_answers_503_once_when_reading_then_logs_in_again_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "status", "status": 503, "path": LOGIN_PATH, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    assert [entry[3] for entry in _requests(emu, LOGIN_PATH)] == [503, 200]


def test_given_login_connection_reset_once_when_reading_then_logs_in_again_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "reset", "path": LOGIN_PATH, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)


def test_given_login_answers_a_truncated_body_once_when_reading_then_logs_in_again_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "truncated_json", "path": LOGIN_PATH, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)


def test_given_login_keeps_answering_503_when_reading_then_fails_with_a_transient_error_and_no_records(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "status", "status": 503, "path": LOGIN_PATH, "times": -1}])

    run = _read(emu, tmp_path)

    assert run.returncode != 0
    assert _error_types(run) == {"transient_error"}, run.errors
    assert "login" in stream_errors(run)[0]["message"].lower()
    assert not run.records(STREAM)
    assert not run.states(STREAM) or run.last_state(STREAM)["startTimeUTC"] <= START.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------------------------------
# Rate limits, server errors, dropped and slow connections
# ---------------------------------------------------------------------------------------------------------------------


def test_given_429_with_retry_after_when_reading_then_waits_that_long_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    timed = record_request_times(emu)
    emu.set_faults([{"kind": "status", "status": 429, "retry_after": 2, "path": DATA_PATH, "after": 2, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    limited = next(entry for entry in timed if entry[4] == 429)
    retry = next(entry for entry in timed if entry[0] > limited[0] and entry[3] == limited[3])
    # without Retry-After the wait would be retry_backoff_seconds * 2 (+1 s the CDK always adds): 1.2 s
    assert 1.95 <= retry[0] - limited[0] < 10, f"retried {retry[0] - limited[0]:.2f}s after a Retry-After of 2s"


def test_given_bursts_of_429_and_5xx_within_the_retry_budget_when_reading_then_backs_off_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    # Two of each in a row; the three slices are read at once, so the waits overlap. Each retry waits at least
    # 1 s (the CDK adds it); which request meets which error depends on timing, so the budget is the maximum.
    statuses = [429, 500, 502, 503, 504]  # 429 without Retry-After; 502-504 with a gateway's HTML body
    emu.set_faults([{"kind": "status", "status": status, "path": DATA_PATH, "after": n + 1, "times": 2}
                    for n, status in enumerate(statuses)])

    run = _read(emu, tmp_path, concurrency=3, max_retries=10)

    _assert_clean_success(run, emu)
    answered = [entry[3] for entry in _requests(emu, DATA_PATH)]
    assert all(answered.count(status) == 2 for status in statuses), answered


def test_given_503_longer_than_the_retry_budget_when_reading_then_fails_transiently_without_passing_the_slice(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "status", "status": 503, "path": DATA_PATH, "after": 5, "times": -1}])

    run = _read(emu, tmp_path, max_retries=1, concurrency=2)

    assert_failed_slice_not_passed(run, emu, tmp_path, first_faulty=5)


def test_given_dropped_connections_and_a_slow_answer_when_reading_then_retries_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    # A slow answer within the read timeout (default 120 s) is awaited, not retried.
    emu.set_faults([{"kind": "reset", "path": DATA_PATH, "after": 2, "times": 2},
                    {"kind": "slow", "seconds": 1, "path": DATA_PATH, "after": 6, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    answered = [(entry[2]["startTime"], entry[2].get("scrollId")) for entry in _requests(emu, DATA_PATH, 200)]
    assert len(answered) == len(set(answered)), "a page that was answered was asked for again"
    assert len(_requests(emu, DATA_PATH, 0)) == 2


def test_given_an_answer_slower_than_the_request_timeout_when_reading_then_it_is_asked_again_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "slow", "seconds": 4, "path": DATA_PATH, "after": 2, "times": 1}])

    run = _read(emu, tmp_path, request_timeout_seconds=1)

    _assert_clean_success(run, emu)
    time.sleep(4)  # the emulator logs the slow answer once its 4 s are over, after the connector gave up on it
    asked = [(entry[2]["startTime"], entry[2].get("scrollId")) for entry in _requests(emu, DATA_PATH)]
    assert len(asked) == len(set(asked)) + 1, "the slow page was asked for exactly once more"


# ---------------------------------------------------------------------------------------------------------------------
# Malformed pages and expired scroll ids
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html", "truncated_json", "missing_data"])
def test_given_one_malformed_page_when_reading_then_the_slice_restarts_and_records_are_exact(emu: Emulator, tmp_path: Path, kind: str) -> None:
    emu.set_faults([{"kind": kind, "path": DATA_PATH, "after": 4, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    assert any("reading the slice again" in line for line in run.logs)


@pytest.mark.parametrize("stream", ["call_records", "call_legs"])
def test_given_a_record_with_wrong_types_when_reading_then_it_arrives_once_converted_with_the_unreadable_value_nulled_and_reported(
    emu: Emulator, tmp_path: Path, stream: str
) -> None:
    # wrong_types sends one record with: startTimeUTC and talkTimeMS as text, callId (and legId) as numbers,
    # departments as one string, disconnectedTimeUTC as a float, recordServiceOn as "true"/"false" (legs), and
    # callTime "n/a", which no integer reading can make sense of.
    path = DATA_PATH if stream == STREAM else "/analytics/work/v2/call-legs"
    emu.set_faults([{"kind": "wrong_types", "path": path, "after": 1, "times": 1}])

    run = run_connector("read", tmp_path, _config(emu), catalog_for([stream]))

    assert run.returncode == 0, run.errors
    messages = [m["record"] for m in run.of_type("RECORD")]
    reported = [m for m in messages if m.get("meta")]
    assert len(reported) == 1
    assert reported[0]["meta"] == {"changes": [{"field": "callTime", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"}]}
    spoiled = reported[0]["data"]
    key = "callId" if stream == STREAM else "legId"
    truth = {**{row[key]: row for row in ground_truth(emu, stream)}[spoiled[key]], "callTime": None}
    assert spoiled == truth  # every other value converted back to what the API meant, in the same field order
    assert list(spoiled) == list(truth)
    others = [row for row in ground_truth(emu, stream) if row[key] != spoiled[key]]
    assert_exact_records([m["data"] for m in messages if m is not reported[0]], others, stream)
    warnings = [line for line in run.logs if "could not be read" in line]
    assert warnings == [
        f"{stream}.callTime: 1 value could not be read as integer (sent as string) and was set to null; "
        "each record says so in its meta.changes."
    ]


def test_given_scroll_ids_expire_mid_slice_when_reading_then_the_slice_restarts_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "expire_scroll", "path": DATA_PATH, "after": 4, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    assert _requests(emu, DATA_PATH, 400), "no request met the expired scrollId"


def test_given_html_pages_that_never_end_when_reading_then_fails_transiently_without_passing_the_slice(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "html", "path": DATA_PATH, "after": 5, "times": -1}])

    run = _read(emu, tmp_path, concurrency=2)

    assert_failed_slice_not_passed(run, emu, tmp_path, first_faulty=5)
    assert "not completed" in " ".join(error["message"] for error in run.errors)


def test_given_a_scroll_id_that_never_moves_on_when_reading_then_fails_transiently_naming_the_slice_and_nothing_twice(emu: Emulator, tmp_path: Path) -> None:
    # From the second page of every slice on, the API gives the request's scrollId back: the same page, forever.
    emu.set_faults([{"kind": "repeat_token", "path": DATA_PATH, "times": -1}])

    run = _read(emu, tmp_path, concurrency=1)

    assert_one_error_per_failed_slice(run, "Work Analytics answered a page of records it had already sent in the slice ")
    assert len(_requests(emu, DATA_PATH)) <= 3 * 3  # per daily slice: the first page, the second, the second again
    first_continued = next(index for index, entry in enumerate(_requests(emu, DATA_PATH)) if entry[2].get("scrollId"))
    assert_failed_slice_not_passed(run, emu, tmp_path, first_faulty=first_continued)
