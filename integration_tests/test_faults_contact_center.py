"""The contact-center CDR API under fault injection: retries, malformed pages, expired search tokens.

Volumes: 3 days x 150 interactions, read in 12-hour slices one at a time (`concurrency` 1) unless a test
says otherwise, so the requests come in a known order and each slice is one page (`per_page` 10,000). The
paging tests cap the emulator's searches at 60 records and read pages of 25 or 50.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from emulator import Emulator
from integration_tests.conftest import (
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
from source_8x8_cdr.components import parse_utc

STREAM = "contact_center_cdrs"
CDR_PATH = "/api/v2/cdr"
REFERENCE_STREAMS = ("contact_center_agents", "contact_center_queues", "contact_center_teams",
                     "contact_center_campaigns", "contact_center_deleted_agents", "contact_center_wrapup_codes")
SEQUENTIAL = {"slice_hours": 12, "concurrency": 1}  # 6 slices of one page each, read one after the other


@pytest.fixture
def emu(clean_emulator: Emulator) -> Iterator[Emulator]:
    yield clean_emulator


def _config(emu: Emulator, **overrides: Any) -> dict:
    return connector_config(emu, ("contact_center",), **{**SEQUENTIAL, **overrides})


def _read(emu: Emulator, tmp_path: Path, streams: tuple[str, ...] = (STREAM,), state: list | None = None,
          **overrides: Any) -> ConnectorRun:
    return run_connector("read", tmp_path, _config(emu, **overrides), catalog_for(streams), state)


def _cdr_requests(emu: Emulator, status: int | None = None) -> list[tuple]:
    return [entry for entry in emu.request_log if entry[1] == CDR_PATH and status in (None, entry[3])]


def _assert_clean_success(run: ConnectorRun, emu: Emulator, streams: tuple[str, ...] = (STREAM,)) -> None:
    assert run.returncode == 0, run.errors or run.stderr[-2000:]
    assert not run.errors
    for stream in streams:
        assert_exact_records(run.records(stream), ground_truth(emu, stream), stream)


def assert_failed_slice_not_passed(run: ConnectorRun, emu: Emulator, tmp_path: Path, first_faulty: int) -> None:
    """After a read whose CDR requests failed from number `first_faulty` (0-based) on: a transient error; no
    record twice or unknown; the last state not past the first window that failed; and a clean read from that
    state delivers the rest exactly."""
    assert run.returncode != 0
    assert {error["failure_type"] for error in stream_errors(run)} == {"transient_error"}, run.errors
    records = run.records(STREAM)
    assert not duplicate_keys(records, STREAM)
    truth = ground_truth(emu, STREAM)
    truth_by_key = {row["uuid"]: row for row in truth}
    assert all(without_nulls(truth_by_key.get(record["uuid"])) == without_nulls(record) for record in records)

    failed = [entry[2]["start_datetime"] for entry in _cdr_requests(emu)[first_faulty:]]
    assert failed, "the fault never fired"
    first_failed = min(parse_utc(start + "Z") for start in failed)
    state = run.last_state(STREAM)
    if state is not None:
        assert parse_utc(state["timestamp"]) <= first_failed, (state, first_failed)

    emu.clear_faults()
    resumed = _read(emu, tmp_path, state=state_for(STREAM, state) if state else None)
    assert resumed.returncode == 0, resumed.errors
    union = {record["uuid"]: record for record in records + resumed.records(STREAM)}
    assert_exact_records(list(union.values()), truth, STREAM)


def test_given_per_page_below_the_records_of_a_search_when_reading_then_pages_through_it_exactly(emu: Emulator, tmp_path: Path) -> None:
    config = _config(emu, slice_hours=24)
    config["contact_center"]["per_page"] = 50

    run = run_connector("read", tmp_path, config, catalog_for([STREAM]))

    _assert_clean_success(run, emu)
    assert all(entry[2].get("search_token") != "None" for entry in _cdr_requests(emu))


# ---------------------------------------------------------------------------------------------------------------------
# Rate limits, server errors, dropped connections
# ---------------------------------------------------------------------------------------------------------------------


def test_given_429_with_retry_after_when_reading_then_waits_that_long_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    timed = record_request_times(emu)
    emu.set_faults([{"kind": "status", "status": 429, "retry_after": 2, "path": CDR_PATH, "after": 1, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    limited = next(entry for entry in timed if entry[4] == 429)
    retry = next(entry for entry in timed if entry[0] > limited[0] and entry[3] == limited[3])
    # without Retry-After the wait would be retry_backoff_seconds * 2 (+1 s the CDK always adds): 1.2 s
    assert 1.95 <= retry[0] - limited[0] < 10, f"retried {retry[0] - limited[0]:.2f}s after a Retry-After of 2s"


def test_given_bursts_of_429_and_5xx_within_the_retry_budget_when_reading_then_backs_off_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    # Two of each in a row; three slices are read at once, so the waits overlap. Each retry waits at least 1 s
    # (the CDK adds it); which request meets which error depends on timing, so the budget is the maximum.
    statuses = [429, 500, 502, 503, 504]  # 429 "rate limit is exceeded" without Retry-After; 502-504 HTML
    emu.set_faults([{"kind": "status", "status": status, "path": CDR_PATH, "after": n + 1, "times": 2}
                    for n, status in enumerate(statuses)])

    run = _read(emu, tmp_path, concurrency=3, max_retries=10)

    _assert_clean_success(run, emu)
    answered = [entry[3] for entry in _cdr_requests(emu)]
    assert all(answered.count(status) == 2 for status in statuses), answered


def test_given_500_longer_than_the_retry_budget_when_reading_then_fails_transiently_without_passing_the_slice(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "status", "status": 500, "path": CDR_PATH, "after": 3, "times": -1}])

    run = _read(emu, tmp_path, max_retries=1)

    assert_failed_slice_not_passed(run, emu, tmp_path, first_faulty=3)


def test_given_dropped_connections_when_reading_then_retries_and_records_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "reset", "path": CDR_PATH, "after": 1, "times": 2}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    assert len(_cdr_requests(emu, 0)) == 2


# ---------------------------------------------------------------------------------------------------------------------
# Malformed pages and expired search tokens
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html", "truncated_json", "missing_data"])
def test_given_one_malformed_page_when_reading_then_the_slice_restarts_and_records_are_exact(emu: Emulator, tmp_path: Path, kind: str) -> None:
    emu.set_faults([{"kind": kind, "path": CDR_PATH, "after": 2, "times": 1}])

    run = _read(emu, tmp_path)

    _assert_clean_success(run, emu)
    assert any("reading the slice again" in line for line in run.logs)


def test_given_a_record_with_wrong_types_when_reading_then_it_arrives_once_converted_with_the_unreadable_value_nulled_and_reported(emu: Emulator, tmp_path: Path) -> None:
    # wrong_types sends one record with: `timestamp` as epoch milliseconds (the same instant), `agent_id` and
    # `cpc` as text, `duration` as a number, `sla` inside a list, and `num_segments` "two", which no integer
    # reading can make sense of.
    emu.set_faults([{"kind": "wrong_types", "path": CDR_PATH, "after": 1, "times": 1}])

    run = _read(emu, tmp_path)

    assert run.returncode == 0, run.errors
    messages = [m["record"] for m in run.of_type("RECORD")]
    reported = [m for m in messages if m.get("meta")]
    assert len(reported) == 1
    assert reported[0]["meta"] == {"changes": [{"field": "num_segments", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"}]}
    spoiled = reported[0]["data"]
    truth = {row["uuid"]: row for row in ground_truth(emu, STREAM)}[spoiled["uuid"]]
    assert parse_utc(spoiled["timestamp"]) == parse_utc(truth["timestamp"]) and spoiled["timestamp"].endswith("+00:00")
    assert (spoiled["duration"], spoiled["num_segments"]) == ("79", None)
    unchanged = {name: value for name, value in truth.items() if name not in ("timestamp", "duration", "num_segments")}
    assert {name: spoiled[name] for name in unchanged} == unchanged  # agent_id, cpc, sla back in their types
    others = [row for row in ground_truth(emu, STREAM) if row["uuid"] != spoiled["uuid"]]
    assert_exact_records([m["data"] for m in messages if m is not reported[0]], others, STREAM)
    assert [line for line in run.logs if "could not be read" in line] == [
        "contact_center_cdrs.num_segments: 1 value could not be read as integer (sent as string) and was set to null; "
        "each record says so in its meta.changes."
    ]


def test_given_a_reference_list_with_ids_as_text_when_reading_then_the_ids_arrive_as_integers(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "wrong_types", "path": "/api/v2/cdr/teams", "times": 1}])

    run = _read(emu, tmp_path, ("contact_center_teams",))

    _assert_clean_success(run, emu, ("contact_center_teams",))
    assert all(type(record["id"]) is int for record in run.records("contact_center_teams"))
    assert not [m for m in run.of_type("RECORD") if m["record"].get("meta")]


def test_given_the_search_token_expires_mid_slice_when_reading_then_the_slice_restarts_and_records_are_exact(tmp_path: Path) -> None:
    # The emulator caps a search at 60 records (the API: 10,000) and pages hold 25: each day's 150 records take
    # three searches, each continued with the search_token of the one before.
    with Emulator(emulator_config(cc_search_cap=60)) as capped:
        capped.set_faults([{"kind": "expire_scroll", "path": CDR_PATH, "after": 4, "times": 1}])
        config = connector_config(capped, ("contact_center",), slice_hours=24, concurrency=1)
        config["contact_center"]["per_page"] = 25

        run = run_connector("read", tmp_path, config, catalog_for([STREAM]))

        _assert_clean_success(run, capped)
        assert [entry for entry in _cdr_requests(capped, 400)], "no request met the expired search_token"
        assert any(entry[2].get("search_token") for entry in _cdr_requests(capped, 200))


def test_given_pages_without_records_that_never_end_when_reading_then_fails_transiently_without_passing_the_slice(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "missing_data", "path": CDR_PATH, "after": 3, "times": -1}])

    run = _read(emu, tmp_path)

    assert_failed_slice_not_passed(run, emu, tmp_path, first_faulty=3)


# ---------------------------------------------------------------------------------------------------------------------
# Reference lists
# ---------------------------------------------------------------------------------------------------------------------


def test_given_server_errors_and_dropped_connections_on_reference_lists_when_reading_then_they_are_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([
        {"kind": "status", "status": 500, "path": f"{CDR_PATH}/queues", "times": 2},
        {"kind": "status", "status": 429, "path": f"{CDR_PATH}/teams", "times": 1},
        {"kind": "status", "status": 503, "path": f"{CDR_PATH}/agents", "times": 1},
        {"kind": "reset", "path": f"{CDR_PATH}/campaigns", "times": 1},
    ])

    run = _read(emu, tmp_path, REFERENCE_STREAMS)

    _assert_clean_success(run, emu, REFERENCE_STREAMS)


def test_given_malformed_reference_list_answers_when_reading_then_they_are_asked_again_and_exact(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([
        {"kind": "html", "path": f"{CDR_PATH}/teams", "times": 1},
        {"kind": "truncated_json", "path": f"{CDR_PATH}/agents", "times": 1},
        {"kind": "missing_data", "path": f"{CDR_PATH}/wrapup_codes", "times": 1},
    ])

    run = _read(emu, tmp_path, REFERENCE_STREAMS)

    _assert_clean_success(run, emu, REFERENCE_STREAMS)
    for path in ("teams", "agents", "wrapup_codes"):
        assert len([entry for entry in emu.request_log if entry[1] == f"{CDR_PATH}/{path}"]) == 2
