"""The PBX directory and the daily summaries, read by the installed `source-8x8-cdr` command from the emulator.

The emulator computes each summary from its own call records and legs for the interval and zone asked
(`emulator/summaries.py`). So a read is checked twice: record for record against the emulator's daily reports
(`Emulator.ground_truth`), and against the CDRs the same run read (an extension's `Inbound_Total` of a day is the
number of that day's legs to it, in the report time zone). The days span a change of daylight time in New York.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest

from emulator import Emulator, EmulatorConfig
from integration_tests.conftest import assert_exact_records, connector_config, stream_errors
from integration_tests.connector_runner import DATE_FORMAT, SUMMARY_KEYS, ConnectorRun, catalog_for, run_connector, state_for

NEW_YORK = "America/New_York"
SUMMARIES = tuple(SUMMARY_KEYS)
PBXES = "work_analytics_pbxes"
MS_PER_HOUR = 3_600_000


def last_dst_change(zone: str, before: date) -> date:
    """The last day before `before` that is not 24 hours long in `zone` (a change of daylight time)."""
    tz = ZoneInfo(zone)
    day = before - timedelta(days=1)
    while True:
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        following = start + timedelta(days=1)
        if following.astimezone(timezone.utc) - start.astimezone(timezone.utc) != timedelta(days=1):
            return day
        day -= timedelta(days=1)


# Three New York days around its last change of daylight time (far enough back that every call has ended): the
# day before, the 23- or 25-hour day, the day after. The emulator's data covers them whole, in UTC days.
DST_DAY = last_dst_change(NEW_YORK, datetime.now(timezone.utc).date() - timedelta(days=3))
DAYS = [DST_DAY - timedelta(days=1), DST_DAY, DST_DAY + timedelta(days=1)]


def _utc(day: date, hours: int = 0) -> str:
    return (datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(hours=hours)).strftime(DATE_FORMAT)


def summary_emulator(**overrides: Any) -> EmulatorConfig:
    settings = dict(seed=11, start=_utc(DAYS[0]), end=_utc(DAYS[-1] + timedelta(days=2)), calls_per_day=120, cc_records_per_day=0)
    return EmulatorConfig(**{**settings, **overrides})


def summary_config(emu: Emulator, **overrides: Any) -> dict:
    """Work Analytics only, the three days in New York. `end_date` is 06:00 UTC after the last New York day, so
    the call records and legs read in the same run cover each of the three days whole; it also asks the day after
    them, whose summary is not compared with the CDRs."""
    config = connector_config(emu, ("work_analytics",), start_date=_utc(DAYS[0]), end_date=_utc(DAYS[-1] + timedelta(days=1), 6))
    config["work_analytics"]["report_time_zone"] = NEW_YORK
    config.update(overrides)
    return config


def read(tmp_path: Path, config: dict, streams: list[str], state: list | None = None) -> ConnectorRun:
    run = run_connector("read", tmp_path, config, catalog_for(streams), state)
    assert run.returncode == 0 and not run.errors, (run.errors, run.stderr[-2000:])
    return run


def truth(emu: Emulator, stream: str, first: date, last: date, pbx_id: str = "allpbxes") -> list[dict]:
    """The emulator's rows for the days `first` to `last`, in New York."""
    return emu.ground_truth(stream, _utc(first), _utc(last + timedelta(days=1)), time_zone=NEW_YORK, pbx_id=pbx_id)


def asked_days(emu: Emulator, path: str) -> list[str]:
    return sorted(params["startTime"][:10] for _, request_path, params, status in emu.request_log if request_path == path and status == 200)


def local_day(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, ZoneInfo(NEW_YORK)).date().isoformat()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(summary_emulator()) as emu:
        yield emu


@pytest.fixture(scope="module")
def first_read(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> ConnectorRun:
    """Every Work Analytics stream, incremental: the summaries and the CDRs they summarise, in one run."""
    streams = ["call_records", "call_legs", PBXES, *SUMMARIES]
    return read(tmp_path_factory.mktemp("summaries"), summary_config(emulator), streams)


# ---------------------------------------------------------------------------------------------------------
# Exact records, and agreement with the CDRs
# ---------------------------------------------------------------------------------------------------------


def test_given_the_days_of_a_dst_change_precondition_then_one_of_them_is_not_24_hours_long() -> None:
    start = datetime(DST_DAY.year, DST_DAY.month, DST_DAY.day, tzinfo=ZoneInfo(NEW_YORK))
    length = (start + timedelta(days=1)).astimezone(timezone.utc) - start.astimezone(timezone.utc)
    assert length in (timedelta(hours=23), timedelta(hours=25))


@pytest.mark.parametrize("stream", SUMMARIES)
def test_given_new_york_days_across_a_dst_change_when_read_then_each_summary_equals_the_emulators_daily_reports(
    emulator: Emulator, first_read: ConnectorRun, stream: str
) -> None:
    expected = truth(emulator, stream, DAYS[0], DAYS[-1] + timedelta(days=1))
    assert expected, "the emulator serves no rows (precondition)"
    assert_exact_records(first_read.records(stream), expected, stream)
    assert {record["timeZone"] for record in first_read.records(stream)} == {NEW_YORK}


def test_given_a_read_when_done_then_each_day_was_asked_once_per_summary_from_00_00_00_to_23_59_59(emulator: Emulator, first_read: ConnectorRun) -> None:
    days = [day.isoformat() for day in DAYS + [DAYS[-1] + timedelta(days=1)]]
    for path in ("/analytics/work/v2/extsum", "/analytics/work/v2/rgsum-groups", "/analytics/work/v2/rgsum-members", "/analytics/work/v1/compsum"):
        assert asked_days(emulator, path) == days, path
    windows = {(params["startTime"][11:], params["endTime"][11:], params["timeZone"])
               for _, path, params, _ in emulator.request_log if path == "/analytics/work/v2/extsum"}
    assert windows == {("00:00:00", "23:59:59", NEW_YORK)}


def test_given_the_pbx_directory_when_read_then_every_pbx_of_the_account(emulator: Emulator, first_read: ConnectorRun) -> None:
    assert sorted(record["name"] for record in first_read.records(PBXES)) == sorted(emulator.pbx_ids)
    assert_exact_records(first_read.records(PBXES), emulator.ground_truth(PBXES), PBXES)


def test_given_the_call_legs_of_the_same_run_then_each_extensions_inbound_total_is_its_legs_of_that_new_york_day(
    first_read: ConnectorRun,
) -> None:
    legs = Counter(
        (leg["pbxId"], leg["callee"], local_day(leg["startTimeUTC"]))
        for leg in first_read.records("call_legs")
        if leg["calleeSvcType"] == "USER"
    )
    days = {day.isoformat() for day in DAYS}
    summed = {
        (row["PbxId"], row["Extension"], row["day"]): row["Inbound_Total"]
        for row in first_read.records("work_analytics_extension_daily")
        if row["day"] in days and row["Inbound_Total"]
    }
    assert summed == {key: count for key, count in legs.items() if key[2] in days}
    assert sum(count for key, count in summed.items() if key[2] == DST_DAY.isoformat()) > 0, "the DST day has legs (precondition)"


def test_given_the_call_records_of_the_same_run_then_the_company_and_ring_group_totals_are_the_calls_of_each_new_york_day(
    first_read: ConnectorRun,
) -> None:
    days = {day.isoformat() for day in DAYS}
    calls = [call for call in first_read.records("call_records") if local_day(call["startTimeUTC"]) in days]
    company = {row["day"]: row["totalCall"] for row in first_read.records("work_analytics_company_daily") if row["day"] in days}
    assert company == Counter(local_day(call["startTimeUTC"]) for call in calls)
    groups = {
        (row["pbxId"], row["name"], row["day"]): row["totalCalls"]
        for row in first_read.records("work_analytics_ring_group_daily")
        if row["day"] in days and row["totalCalls"]
    }
    assert groups == Counter((call["pbxId"], call["calleeName"], local_day(call["startTimeUTC"])) for call in calls if call["callee"] == "RingGroup")


def test_given_the_first_read_then_each_summary_state_is_its_newest_day(first_read: ConnectorRun) -> None:
    newest = (DAYS[-1] + timedelta(days=1)).isoformat()
    for stream in SUMMARIES:
        assert first_read.last_state(stream) == {"day": f"{newest}T00:00:00"}, stream


# ---------------------------------------------------------------------------------------------------------
# Incremental: the lookback
# ---------------------------------------------------------------------------------------------------------


def test_given_the_state_of_a_first_read_when_read_again_then_the_saved_day_and_the_two_before_it_are_read_again(
    emulator: Emulator, first_read: ConnectorRun, tmp_path: Path
) -> None:
    emulator.request_log.clear()
    state = [message for stream in SUMMARIES for message in state_for(stream, first_read.last_state(stream))]

    run = read(tmp_path, summary_config(emulator), list(SUMMARIES), state)

    again = [DAYS[-1] + timedelta(days=1) - timedelta(days=n) for n in (2, 1, 0)]
    assert asked_days(emulator, "/analytics/work/v2/extsum") == [day.isoformat() for day in again]
    for stream in SUMMARIES:
        assert_exact_records(run.records(stream), truth(emulator, stream, again[0], again[-1]), stream)
        assert run.last_state(stream) == first_read.last_state(stream), stream


# ---------------------------------------------------------------------------------------------------------
# PBXes: the filter, paging, and check
# ---------------------------------------------------------------------------------------------------------


def test_given_pbx_ids_when_read_then_the_summaries_of_those_pbxes(emulator: Emulator, tmp_path: Path) -> None:
    config = summary_config(emulator)
    config["work_analytics"]["pbx_ids"] = ["acmesales", "acmecorp2"]

    run = read(tmp_path, config, list(SUMMARIES))

    for stream in SUMMARIES:
        expected = truth(emulator, stream, DAYS[0], DAYS[-1] + timedelta(days=1), pbx_id="acmesales,acmecorp2")
        assert_exact_records(run.records(stream), expected, stream)
    assert {row["pbxId"] for row in run.records("work_analytics_company_daily")} == {"acmesales,acmecorp2"}
    assert {row["PbxId"] for row in run.records("work_analytics_extension_daily")} <= {"acmesales", "acmecorp2"}


def test_given_205_pbxes_when_read_then_three_pages_of_100_and_every_pbx(tmp_path: Path) -> None:
    names = tuple(f"branch{n:03d}" for n in range(205))
    with Emulator(summary_emulator(pbx_ids=names, calls_per_day=0)) as emu:
        run = read(tmp_path, summary_config(emu), [PBXES])

        assert sorted(record["name"] for record in run.records(PBXES)) == list(names)
        pages = [(params["page"], params["size"]) for _, path, params, _ in emu.request_log if path.endswith("/v2/pbxes/")]
        assert pages == [("0", "100"), ("1", "100"), ("2", "100")]


def test_given_pbx_ids_naming_a_pbx_the_account_does_not_have_when_check_then_fail_listing_the_account_pbxes(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = summary_config(emulator)
    config["work_analytics"]["pbx_ids"] = ["acmecorp", "acme-sales"]

    run = run_connector("check", tmp_path, config)

    assert run.connection_status == {
        "status": "FAILED",
        "message": "Work Analytics: work_analytics.pbx_ids names 'acme-sales', which is not a PBX of this account. "
        "The account's PBXes: acmecorp, acmecorp2, acmesales.",
    }


# ---------------------------------------------------------------------------------------------------------
# Bodies and faults
# ---------------------------------------------------------------------------------------------------------


def test_given_summaries_whose_objects_end_with_a_comma_when_read_then_every_row_is_read(tmp_path: Path) -> None:
    with Emulator(summary_emulator(wa_summary_trailing_comma=True)) as emu:
        run = read(tmp_path, summary_config(emu), list(SUMMARIES))

        for stream in SUMMARIES:
            assert_exact_records(run.records(stream), truth(emu, stream, DAYS[0], DAYS[-1] + timedelta(days=1)), stream)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 500, "times": 2},
        {"kind": "status", "status": 503, "times": 1},
        {"kind": "status", "status": 429, "retry_after": 1, "times": 2},
        {"kind": "expire_token", "times": 1},
        {"kind": "truncated_json", "times": 1},
    ],
    ids=["500-twice", "503-gateway-page", "429-retry-after", "token-expired-401", "cut-off-body-once"],
)
def test_given_a_passing_fault_on_the_ring_group_summaries_when_read_then_the_exact_rows(
    emulator: Emulator, tmp_path: Path, fault: dict
) -> None:
    emulator.set_faults([{**fault, "path": "/analytics/work/v2/rgsum"}])
    try:
        run = read(tmp_path, summary_config(emulator), ["work_analytics_ring_group_daily", "work_analytics_ring_group_member_daily"])
    finally:
        emulator.clear_faults()

    for stream in ("work_analytics_ring_group_daily", "work_analytics_ring_group_member_daily"):
        assert_exact_records(run.records(stream), truth(emulator, stream, DAYS[0], DAYS[-1] + timedelta(days=1)), stream)


def test_given_a_cut_off_body_on_every_try_when_read_then_the_company_summary_fails_clearly_and_keeps_no_day(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.set_faults([{"kind": "truncated_json", "path": "/analytics/work/v1/compsum", "times": -1}])
    try:
        run = run_connector("read", tmp_path, summary_config(emulator), catalog_for(["work_analytics_company_daily", "work_analytics_extension_daily"]))
    finally:
        emulator.clear_faults()

    errors = [error for error in stream_errors(run) if error["stream_descriptor"]["name"] == "work_analytics_company_daily"]
    assert errors and errors[0]["failure_type"] == "transient_error"
    assert "Work Analytics answered a body that is not JSON" in errors[0]["message"]
    assert "the state was not advanced past it" in errors[0]["message"]
    assert run.records("work_analytics_company_daily") == []
    assert all(state["stream"]["stream_state"] in ({}, {"day": f"{DAYS[0].isoformat()}T00:00:00"})
               for state in run.states("work_analytics_company_daily"))
    expected = truth(emulator, "work_analytics_extension_daily", DAYS[0], DAYS[-1] + timedelta(days=1))
    assert_exact_records(run.records("work_analytics_extension_daily"), expected, "work_analytics_extension_daily")


def test_given_a_pbx_the_user_may_not_see_when_read_then_config_error_naming_it(emulator: Emulator, tmp_path: Path) -> None:
    config = summary_config(emulator)
    config["work_analytics"]["pbx_ids"] = ["secretpbx"]

    run = run_connector("read", tmp_path, config, catalog_for(["work_analytics_extension_daily"]))

    errors = stream_errors(run)
    assert errors and {error["failure_type"] for error in errors} == {"config_error"}
    assert "pbxId(secretpbx)" in errors[0]["message"]
