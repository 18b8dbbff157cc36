"""The contact-center CDR API under fault injection: retries, malformed pages, expired search tokens.

Volumes: 3 days x 150 interactions, read in 12-hour slices one at a time (`concurrency` 1) unless a test
says otherwise, so the requests come in a known order and each slice is one page (`per_page` 10,000). The
paging tests cap the emulator's searches at 60 records and read pages of 25 or 50.
"""

from __future__ import annotations

from datetime import timedelta
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
from source_8x8_cdr.components.timeutil import parse_utc

STREAM = "contact_center_cdrs"
CDR_PATH = "/api/v2/cdr"
REFERENCE_STREAMS = ("contact_center_agents", "contact_center_queues", "contact_center_teams",
                     "contact_center_campaigns", "contact_center_deleted_agents", "contact_center_wrapup_codes")
SEQUENTIAL = {"slice_hours": 12, "concurrency": 1}  # 6 slices of one page each, read one after the other
LOOKBACK = timedelta(minutes=60)  # the default lookback window: each request window starts that much before its slice


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
    first_failed = min(parse_utc(start + "Z") for start in failed) + LOOKBACK  # the slice starts a lookback after its window
    state = run.last_state(STREAM)
    if state is not None:
        assert parse_utc(state["timestamp"]) <= first_failed, (state, first_failed)

    emu.clear_faults()
    resumed = _read(emu, tmp_path, state=state_for(STREAM, state) if state else None)
    assert resumed.returncode == 0, resumed.errors
    union = {record["uuid"]: record for record in records + resumed.records(STREAM)}
    assert_exact_records(list(union.values()), truth, STREAM)


def assert_one_error_per_failed_slice(run: ConnectorRun, beginning: str) -> None:
    """Every error of the run is transient and begins with `beginning`, and names a slice no other error names."""
    errors = stream_errors(run)
    assert errors and all(error["failure_type"] == "transient_error" and error["message"].startswith(beginning) for error in errors), errors
    slices = [error["message"].split(" in the slice ", 1)[1].split(":", 1)[0] for error in errors]
    assert len(set(slices)) == len(slices), slices


def test_given_per_page_below_the_records_of_a_search_when_reading_then_pages_through_it_exactly(emu: Emulator, tmp_path: Path) -> None:
    config = _config(emu, slice_hours=24)
    config["contact_center"]["per_page"] = 50

    run = run_connector("read", tmp_path, config, catalog_for([STREAM]))

    _assert_clean_success(run, emu)
    assert all(entry[2].get("search_token") != "None" for entry in _cdr_requests(emu))


@pytest.mark.parametrize("placement", ["every_page", "cap_page"])
@pytest.mark.parametrize("server_page", [25, 20], ids=["cap_mid_page", "cap_at_page_boundary"])
def test_given_a_server_serving_fewer_records_a_page_than_asked_when_reading_then_every_record_once(
    tmp_path: Path, placement: str, server_page: int
) -> None:
    # Asked for 50 a page, the server serves 25 (or 20) and caps each search at 60: a day's 150 interactions take
    # three searches, whose cap falls inside a server page (25+25+10) or at its end (20+20+20).
    settings = dict(cc_search_cap=60, cc_max_per_page=server_page, cc_token_placement=placement)
    with Emulator(emulator_config(**settings)) as server:
        config = connector_config(server, ("contact_center",), slice_hours=24, concurrency=1)
        config["contact_center"]["per_page"] = 50

        run = run_connector("read", tmp_path, config, catalog_for([STREAM]))

        _assert_clean_success(run, server)
        searches = [entry for entry in _cdr_requests(server) if entry[2].get("page") == "1"]
        assert len(searches) == 3 * 3  # three days, three searches each: no search was skipped or asked twice


@pytest.mark.parametrize("slice_hours", [1, 24])
def test_given_an_api_selecting_by_start_time_when_reading_then_interactions_crossing_slice_boundaries_are_kept(
    tmp_path: Path, slice_hours: int
) -> None:
    # The emulator selects interactions by when they started (timestamp - duration). Its chats last up to 50 hours,
    # so the lookback window (which the docs ask to be at least the longest interaction) is 50 h 10 min.
    with Emulator(emulator_config(cc_select_by="start_time")) as server:
        config = connector_config(server, ("contact_center",), slice_hours=slice_hours, lookback_window_minutes=3010, concurrency=4)

        run = run_connector("read", tmp_path, config, catalog_for([STREAM]))

        _assert_clean_success(run, server)


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
    # reading can make sense of. It spoils the first record of the second slice's first page (the request before
    # is the empty page that ends the first slice's search); without a lookback that record is its slice's own
    # (with one, the window starts earlier and the slice before owns, and reads, its first record).
    emu.set_faults([{"kind": "wrong_types", "path": CDR_PATH, "after": 2, "times": 1}])

    run = _read(emu, tmp_path, lookback_window_minutes=0)

    assert run.returncode == 0, run.errors
    messages = [m["record"] for m in run.of_type("RECORD")]
    reported = [m for m in messages if m.get("meta")]
    assert len(reported) == 1
    assert reported[0]["meta"] == {"changes": [{"field": "num_segments", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"}]}
    spoiled = reported[0]["data"]
    truth = {row["uuid"]: row for row in ground_truth(emu, STREAM)}[spoiled["uuid"]]
    assert parse_utc(spoiled["timestamp"]) == parse_utc(truth["timestamp"]) and spoiled["timestamp"].endswith(".000Z")
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


def test_given_half_an_emoji_and_an_integer_beyond_64_bits_on_every_page_when_reading_then_every_record_once_and_the_odd_ones_reported(
    emu: Emulator, tmp_path: Path
) -> None:
    # The first record of every page gets a string ending in an escaped lone surrogate and a 30-digit integer
    # (`odd_values`). Before: orjson refused every page as "not JSON" and the stream failed on every sync.
    emu.set_faults([{"kind": "odd_values", "path": CDR_PATH, "times": -1}])

    run = _read(emu, tmp_path, lookback_window_minutes=0)  # windows start at their slice: each first record is its own

    assert run.returncode == 0, run.errors or run.stderr[-2000:]
    odd = [message["record"] for message in run.of_type("RECORD") if "odd_text" in message["record"]["data"]]
    assert len(odd) == 6  # the first record of each 12-hour slice's page
    for record in odd:
        assert record["data"]["odd_text"] == "half an emoji: \ufffd" and record["data"]["odd_number"] == 123456789012345678901234567890
        assert record["meta"] == {"changes": [{"field": "odd_text", "change": "TRUNCATED", "reason": "SOURCE_SERIALIZATION_ERROR"}]}
    plain = [{k: v for k, v in record.items() if k not in ("odd_text", "odd_number")} for record in run.records(STREAM)]
    assert_exact_records(plain, ground_truth(emu, STREAM), STREAM)


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


@pytest.mark.parametrize("kind", ["repeat_token", "empty_new_token"])
def test_given_a_server_whose_continued_searches_never_end_when_reading_then_fails_transiently_naming_the_slice_and_nothing_twice(
    tmp_path: Path, kind: str
) -> None:
    # Searches are capped at 60: every 12-hour slice (75 interactions) needs a continued search, which the server
    # answers with its own search_token again (`repeat_token`) or with empty pages and ever new tokens.
    with Emulator(emulator_config(cc_search_cap=60)) as server:
        server.set_faults([{"kind": kind, "path": CDR_PATH, "times": -1}])

        run = _read(server, tmp_path)

        assert_one_error_per_failed_slice(run, "The contact-center API answered ")
        # Per 12-hour slice at most: the first search and its empty page, then 4 continued searches (or one, its
        # empty page and the token again). Six slices.
        assert len(_cdr_requests(server)) <= 6 * 6
        first_continued = next(index for index, entry in enumerate(_cdr_requests(server)) if entry[2].get("search_token"))
        assert_failed_slice_not_passed(run, server, tmp_path, first_faulty=first_continued)


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
