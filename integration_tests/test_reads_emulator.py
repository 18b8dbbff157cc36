"""`read` of the installed `source-8x8-cdr` command against the emulator: exact record sets.

Every read is compared with `Emulator.ground_truth` over the same range, by primary key *and* full record
content, and no primary key may appear twice in one sync. The module runs twice: on the connector's fast path
and on the CDK's stock path (`SOURCE_8X8_CDR_STOCK_PATH`), which must read the same records and state. Each connector run costs a few seconds of CDK
start-up, so each test makes one run and checks every stream of it (`assert_for_each_stream` reports all the
streams that fail); only the first incremental read is shared, by the test that checks it and the resume test.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

from emulator import Emulator
from source_8x8_cdr.fastpath import STOCK_PATH_VARIABLE
from integration_tests import make_fixtures
from integration_tests.conftest import (
    END,
    INCREMENTAL_STREAMS,
    START,
    assert_exact_records,
    connector_config,
    emulator_config,
    ground_truth,
    primary_key,
    record_key,
)
from integration_tests.connector_runner import ConnectorRun, catalog_for, run_connector, state_for
from integration_tests.make_fixtures import CURSORS, STREAMS

HERE = Path(__file__).resolve().parent
MS_PER_DAY = 86_400_000
# The fast path writes state in UTC (`Z`); the stock path with the offset of the record it came from.
STATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{4})$")
STATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
WA_STREAMS = ("call_records", "call_legs")


@pytest.fixture(scope="module", params=["fast_path", "stock_path"], autouse=True)
def read_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test of the module, once on each read path (the connector subprocesses inherit the switch)."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "stock_path":
            patch.setenv(STOCK_PATH_VARIABLE, "1")
        else:
            patch.delenv(STOCK_PATH_VARIABLE, raising=False)
        yield request.param


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------


def cursor_moment(stream: str, record: dict) -> datetime:
    value = record[CURSORS[stream]]
    if stream in WA_STREAMS:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(value))
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def state_moment(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def state_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(STATE_FORMAT)


def states_of(streams: Iterable[str], values: dict[str, str]) -> list:
    return [message for name in streams for message in state_for(name, {CURSORS[name]: values[name]})]


def assert_exact_set(records: list[dict], expected: list[dict], stream: str) -> None:
    """The same primary keys, none twice, and every record *equal* to the API's row, null fields included
    (`assert_exact_records` of conftest.py, which leaves null fields out, plus that strict comparison)."""
    assert_exact_records(records, expected, stream)
    if os.environ.get(STOCK_PATH_VARIABLE):
        return  # the CDK's record serializer leaves null fields out (`without_nulls`); the fast path writes them
    emitted = {record_key(stream, record): record for record in records}
    different = [record_key(stream, row) for row in expected if emitted[record_key(stream, row)] != row]
    assert not different, f"{stream}: {len(different)} records differ from the API's rows in a null field, e.g. {different[:3]}"


def assert_for_each_stream(streams: Iterable[str], check: Callable[[str], None]) -> None:
    """Runs `check` for every stream and reports the failures of all of them, not only the first."""
    failures = []
    for stream in streams:
        try:
            check(stream)
        except AssertionError as error:
            failures.append(f"{stream}: {error}")
    assert not failures, "\n".join(failures)


def read(tmp_path: Path, config: dict, streams: Iterable[str], incremental: bool = True, state: list | None = None) -> ConnectorRun:
    run = run_connector("read", tmp_path, config, catalog_for(list(streams), incremental=incremental), state)
    assert run.returncode == 0 and not run.errors, (run.errors, run.stderr[-2000:])
    return run


def assert_states_are_instants_and_end_where_read(run: ConnectorRun, stream: str, expected: list[dict],
                                                  lookback: timedelta = timedelta(minutes=60)) -> None:
    """States with an offset that never go back, the last at the newest cursor read; on the fast path, one
    lookback before the end of the sync when that is later (no record can still appear before then:
    `fastpath/checkpoint.py`)."""
    values = [state["stream"]["stream_state"][CURSORS[stream]] for state in run.states(stream)]
    assert values, f"{stream}: no state message"
    bad = [value for value in values if not isinstance(value, str) or not STATE_VALUE.match(value)]
    assert not bad, f"{stream}: states that are not ISO strings with an offset: {bad[:3]}"
    moments = [state_moment(value) for value in values]
    assert moments == sorted(moments), f"{stream}: the state went backwards: {values}"
    newest = max(cursor_moment(stream, record) for record in expected)
    settled = END - lookback if not os.environ.get(STOCK_PATH_VARIABLE) else newest
    assert moments[-1] == max(newest, settled), f"{stream}: final state {values[-1]}"


def requested_window_starts(emu: Emulator, stream: str) -> list[datetime]:
    """The start of every data request's window for `stream`, as a UTC instant (the APIs read them in UTC here)."""
    path, parameter, fmt = {
        "call_records": ("/analytics/work/v2/call-records", "startTime", "%Y-%m-%d %H:%M:%S"),
        "call_legs": ("/analytics/work/v2/call-legs", "startTime", "%Y-%m-%d %H:%M:%S"),
        "contact_center_cdrs": ("/api/v2/cdr", "start_datetime", "%Y-%m-%dT%H:%M:%S"),
    }[stream]
    return [
        datetime.strptime(params[parameter], fmt).replace(tzinfo=timezone.utc)
        for _, request_path, params, _ in emu.request_log
        if request_path == path and parameter in params
    ]


def earliest_window_start(stream: str, since: datetime, lookback_minutes: int) -> datetime:
    """The earliest window a read from `since` may ask for: contact-center windows start a lookback window before
    their slice (the API may select interactions by their start; the cursor is their end)."""
    padding = timedelta(minutes=lookback_minutes) if stream == "contact_center_cdrs" else timedelta(0)
    return (since - padding).replace(microsecond=0)


def boundary_cases(stream: str, rows: list[dict]) -> dict[str, list[str]]:
    """Primary keys of the records at a day's first and last millisecond, at noon, and of same-millisecond ties."""
    moments = {str(row[primary_key(stream)]): cursor_moment(stream, row) for row in rows}
    ties = Counter(moments.values())
    of_day = {key: (moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)) // timedelta(milliseconds=1) for key, moment in moments.items()}
    cases = {
        "00:00:00.000": [key for key, ms in of_day.items() if ms == 0],
        "same millisecond": [key for key, moment in moments.items() if ties[moment] >= 3],
    }
    if stream in WA_STREAMS:
        cases["23:59:59.999"] = [key for key, ms in of_day.items() if ms == MS_PER_DAY - 1]
        cases["23:59:59.500"] = [key for key, ms in of_day.items() if ms == MS_PER_DAY - 500]
        cases["12:00:00.000"] = [key for key, ms in of_day.items() if ms == MS_PER_DAY // 2]
    return cases


def assert_each_boundary_case_once(run: ConnectorRun, stream: str, expected: list[dict]) -> None:
    emitted = Counter(str(record[primary_key(stream)]) for record in run.records(stream))
    for case, keys in boundary_cases(stream, expected).items():
        assert keys, f"{stream}: the emulator has no record at {case} (precondition)"
        assert all(emitted[key] == 1 for key in keys), f"{stream} at {case}: {[emitted[key] for key in keys]}"


# ---------------------------------------------------------------------------------------------------------
# Full refresh
# ---------------------------------------------------------------------------------------------------------


def test_given_both_apis_when_full_refresh_read_then_every_stream_equals_ground_truth(emulator: Emulator, tmp_path: Path) -> None:
    run = read(tmp_path, connector_config(emulator), STREAMS, incremental=False)

    def check(stream: str) -> None:
        expected = ground_truth(emulator, stream)
        assert expected, "the emulator serves no rows (precondition)"
        assert_exact_set(run.records(stream), expected, stream)

    assert_for_each_stream(STREAMS, check)


# ---------------------------------------------------------------------------------------------------------
# Incremental: a first sync, a resume from its final state, a resume from mid-range
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_incremental_read(emulator: Emulator, read_path: str, tmp_path_factory: pytest.TempPathFactory) -> ConnectorRun:
    return read(tmp_path_factory.mktemp("incremental"), connector_config(emulator), INCREMENTAL_STREAMS)


def test_given_no_state_when_incremental_read_then_records_equal_ground_truth_and_final_state_is_max_cursor(
    emulator: Emulator, first_incremental_read: ConnectorRun, read_path: str
) -> None:
    """The module's emulator: Work Analytics' endTime exclusive, the contact center's end_datetime inclusive.
    The fast path writes every state in UTC (`...Z`), the form the docs show."""

    def check(stream: str) -> None:
        expected = ground_truth(emulator, stream)
        assert_exact_set(first_incremental_read.records(stream), expected, stream)
        assert_each_boundary_case_once(first_incremental_read, stream, expected)
        assert_states_are_instants_and_end_where_read(first_incremental_read, stream, expected)
        if read_path == "fast_path":
            assert all(state["stream"]["stream_state"][CURSORS[stream]].endswith("Z") for state in first_incremental_read.states(stream))

    assert_for_each_stream(INCREMENTAL_STREAMS, check)
    offsets = Counter(row["timestamp"][-6:] for row in emulator.ground_truth("contact_center_cdrs", START, END))
    assert len(offsets) >= 3, f"the API's CDRs should carry several UTC offsets (precondition): {offsets}"
    assert {record["timestamp"][-1] for record in first_incremental_read.records("contact_center_cdrs")} == {"Z"}, "instants in UTC"


def test_given_pages_of_40_records_when_incremental_read_then_each_state_counts_the_records_written_since_the_previous_one(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Records are written a page at a time (`source_8x8_cdr/fastpath/pages.py`); what the platform checks is per record:
    `sourceStats.recordCount` of each state, and a stream marked RUNNING once, before its first record."""
    config = connector_config(emulator)
    config["work_analytics"]["page_size"] = 40
    config["contact_center"]["per_page"] = 40
    run = read(tmp_path, config, INCREMENTAL_STREAMS)

    since_last_state: Counter = Counter()
    running: list[str] = []
    counted: Counter = Counter()
    for message in run.messages:
        if message["type"] == "RECORD":
            stream = message["record"]["stream"]
            assert stream in running, f"a {stream} record before the stream was marked RUNNING"
            since_last_state[stream] += 1
        elif message["type"] == "STATE":
            stream = message["state"]["stream"]["stream_descriptor"]["name"]
            assert message["state"]["sourceStats"]["recordCount"] == since_last_state[stream], stream
            counted[stream] += since_last_state.pop(stream, 0)
        elif message["type"] == "TRACE" and message["trace"]["type"] == "STREAM_STATUS":
            status = message["trace"]["stream_status"]
            if status["status"] == "RUNNING":
                running.append(status["stream_descriptor"]["name"])

    assert sorted(running) == sorted(INCREMENTAL_STREAMS)
    assert not +since_last_state, f"records after the last state of their stream: {since_last_state}"
    for stream in INCREMENTAL_STREAMS:
        expected = ground_truth(emulator, stream)
        assert counted[stream] == len(expected) > 120, stream  # several pages per stream (precondition)
        assert_exact_set(run.records(stream), expected, stream)


def test_given_final_state_of_a_first_read_when_read_again_then_only_the_lookback_window_is_reread(
    clean_emulator: Emulator, first_incremental_read: ConnectorRun, tmp_path: Path
) -> None:
    finals = {stream: first_incremental_read.last_state(stream)[CURSORS[stream]] for stream in INCREMENTAL_STREAMS}
    run = read(tmp_path, connector_config(clean_emulator), INCREMENTAL_STREAMS, state=states_of(INCREMENTAL_STREAMS, finals))

    def check(stream: str) -> None:
        since = state_moment(finals[stream]) - timedelta(minutes=60)
        expected = ground_truth(clean_emulator, stream, since, END)
        assert expected, "nothing in the lookback window (precondition)"
        assert_exact_set(run.records(stream), expected, stream)
        starts = requested_window_starts(clean_emulator, stream)
        assert starts and min(starts) >= earliest_window_start(stream, since, 60), f"asked from {min(starts)}"
        assert run.last_state(stream) == {CURSORS[stream]: finals[stream]}

    assert_for_each_stream(INCREMENTAL_STREAMS, check)


def test_given_mid_range_state_and_90_minute_lookback_when_read_then_exactly_the_records_from_state_minus_lookback(
    clean_emulator: Emulator, tmp_path: Path
) -> None:
    middle = START + timedelta(days=1, hours=7, minutes=13, seconds=27, milliseconds=500)
    values = {stream: state_text(middle) for stream in INCREMENTAL_STREAMS}
    config = connector_config(clean_emulator, lookback_window_minutes=90)
    run = read(tmp_path, config, INCREMENTAL_STREAMS, state=states_of(INCREMENTAL_STREAMS, values))
    since = middle - timedelta(minutes=90)

    def check(stream: str) -> None:
        expected = ground_truth(clean_emulator, stream, since, END)
        assert_exact_set(run.records(stream), expected, stream)
        assert_states_are_instants_and_end_where_read(run, stream, expected, timedelta(minutes=90))
        assert min(requested_window_starts(clean_emulator, stream)) >= earliest_window_start(stream, since, 90)

    assert_for_each_stream(INCREMENTAL_STREAMS, check)


# ---------------------------------------------------------------------------------------------------------
# Slice boundaries: first/last millisecond of a day and same-millisecond ties, each exactly once
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wa_end_inclusive,cc_end_inclusive,slice_hours",
    [(True, False, 24), (False, False, 1), (True, True, 1)],
    ids=["wa_inclusive-cc_exclusive-24h", "wa_exclusive-cc_exclusive-1h", "wa_inclusive-cc_inclusive-1h"],
)
def test_given_boundary_records_when_incremental_read_then_each_is_emitted_exactly_once(
    tmp_path: Path, wa_end_inclusive: bool, cc_end_inclusive: bool, slice_hours: int
) -> None:
    """With the module's read (WA exclusive, CC inclusive, 24 h), every end comparison meets both slice lengths."""
    settings = dict(end_time_inclusive=wa_end_inclusive, cc_end_inclusive=cc_end_inclusive, calls_per_day=40, cc_records_per_day=40)
    with Emulator(emulator_config(**settings)) as emu:
        run = read(tmp_path, connector_config(emu, slice_hours=slice_hours), INCREMENTAL_STREAMS)

        def check(stream: str) -> None:
            expected = ground_truth(emu, stream)
            assert_exact_set(run.records(stream), expected, stream)
            assert_each_boundary_case_once(run, stream, expected)
            assert_states_are_instants_and_end_where_read(run, stream, expected)

        assert_for_each_stream(INCREMENTAL_STREAMS, check)


# ---------------------------------------------------------------------------------------------------------
# Contact center: the search_token path, time zones, reference lists
# ---------------------------------------------------------------------------------------------------------


def _cdr_searches(emu: Emulator) -> list[dict]:
    return [params for _, path, params, status in emu.request_log if path == "/api/v2/cdr" and status == 200]


@pytest.mark.parametrize("placement", ["every_page", "cap_page"])
def test_given_search_cap_of_50_and_20_per_page_when_read_then_pages_and_search_tokens_continue_to_the_exact_set(
    tmp_path: Path, placement: str
) -> None:
    with Emulator(emulator_config(cc_token_placement=placement, cc_search_cap=50)) as emu:
        config = connector_config(emu)
        config["contact_center"]["per_page"] = 20
        run = read(tmp_path, config, ["contact_center_cdrs"])
        expected = ground_truth(emu, "contact_center_cdrs")
        assert len(expected) > 3 * 2 * 50, "each of the 3 days must need 3 searches (precondition)"
        assert_exact_set(run.records("contact_center_cdrs"), expected, "contact_center_cdrs")
        assert_states_are_instants_and_end_where_read(run, "contact_center_cdrs", expected)
        searches = _cdr_searches(emu)
        assert sum(1 for params in searches if params.get("search_token")) >= 3 * 2, "searches continued by token"
        assert any(params.get("page") == "3" for params in searches), "pages within one search"


def test_given_api_reading_datetimes_in_sao_paulo_and_the_same_zone_configured_when_read_then_exact_set(tmp_path: Path) -> None:
    zone = "America/Sao_Paulo"
    with Emulator(emulator_config(cc_time_zone=zone)) as emu:
        config = connector_config(emu)
        config["contact_center"]["time_zone"] = zone
        run = read(tmp_path, config, ["contact_center_cdrs"])
        expected = ground_truth(emu, "contact_center_cdrs")
        assert_exact_set(run.records("contact_center_cdrs"), expected, "contact_center_cdrs")
        assert_states_are_instants_and_end_where_read(run, "contact_center_cdrs", expected)


# ---------------------------------------------------------------------------------------------------------
# The acceptance-test fixtures of integration_tests/
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_emulator() -> Iterator[Emulator]:
    with Emulator(make_fixtures.fixture_emulator_config()) as emu:
        yield emu


def _load_expected_records() -> dict[str, list[dict]]:
    by_stream: dict[str, list[dict]] = {name: [] for name in STREAMS}
    for line in (HERE / "expected_records.jsonl").read_text().splitlines():
        entry = json.loads(line)
        by_stream[entry["stream"]].append(entry["data"])
    return by_stream


def _load(name: str) -> Any:
    return json.loads((HERE / name).read_text())


def test_given_fixture_generator_when_rendered_then_the_files_on_disk_are_identical() -> None:
    stale = [name for name, content in make_fixtures.render_files().items() if (HERE / name).read_text() != content]
    assert not stale, f"regenerate with `.venv/bin/python -m integration_tests.make_fixtures`: {stale}"


def test_given_sample_config_and_fixture_seed_when_read_configured_catalog_then_expected_records_are_reproduced(
    fixture_emulator: Emulator, tmp_path: Path
) -> None:
    config = make_fixtures.for_emulator(_load("sample_config.json"), fixture_emulator)
    catalog = _load("configured_catalog.json")
    assert sorted(entry["stream"]["name"] for entry in catalog["streams"]) == sorted(STREAMS)
    run = run_connector("read", tmp_path, config, catalog)
    assert run.returncode == 0 and not run.errors, run.errors
    expected = _load_expected_records()

    def check(stream: str) -> None:
        assert expected[stream], "expected_records.jsonl has no line (precondition)"
        assert_exact_set(run.records(stream), expected[stream], stream)

    assert_for_each_stream(STREAMS, check)


def test_given_sample_state_when_read_then_exactly_the_expected_records_from_state_minus_lookback(
    fixture_emulator: Emulator, tmp_path: Path
) -> None:
    config = make_fixtures.for_emulator(_load("sample_config.json"), fixture_emulator)
    state = _load("sample_state.json")
    run = read(tmp_path, config, INCREMENTAL_STREAMS, state=state)
    since = state_moment(make_fixtures.SAMPLE_STATE) - timedelta(minutes=config["lookback_window_minutes"])
    expected = _load_expected_records()

    def check(stream: str) -> None:
        wanted = [record for record in expected[stream] if cursor_moment(stream, record) >= since]
        assert 0 < len(wanted) < len(expected[stream]), "the state should split the day (precondition)"
        assert_exact_set(run.records(stream), wanted, stream)

    assert_for_each_stream(INCREMENTAL_STREAMS, check)


@pytest.mark.parametrize("state_file", ["future_state.json", "abnormal_state.json"])
def test_given_state_after_all_data_when_read_then_no_record_and_the_state_is_kept(
    fixture_emulator: Emulator, tmp_path: Path, state_file: str
) -> None:
    config = make_fixtures.for_emulator(_load("sample_config.json"), fixture_emulator)
    state = _load(state_file)
    run = read(tmp_path, config, INCREMENTAL_STREAMS, state=state)
    given = {entry["stream"]["stream_descriptor"]["name"]: entry["stream"]["stream_state"] for entry in state}
    for stream in INCREMENTAL_STREAMS:
        assert run.records(stream) == []
        kept = run.last_state(stream)
        cursor = CURSORS[stream]
        assert kept is None or (kept.keys() == given[stream].keys() and state_moment(kept[cursor]) == state_moment(given[stream][cursor])), f"{stream}: {kept}"
