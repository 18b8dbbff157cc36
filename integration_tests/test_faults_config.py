"""Malformed and unusable configurations: one clear sentence naming the field, from both `check` and `read`.

Each bad config must give a failed CONNECTION_STATUS from `check` and, from `read`, a TRACE error of type
config_error with a non-zero exit; the message names the field; and no Python traceback appears in stderr,
in a log message or as plain text on stdout. (The `stack_trace` field of a TRACE message is where the protocol
puts it for the platform's internal logs, so it is not searched.) `check` and `read` of one config run side by
side to save time.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from emulator import Emulator
from integration_tests.conftest import assert_exact_records, connector_config, ground_truth, stream_errors
from integration_tests.connector_runner import COMMAND, ConnectorRun, catalog_for, run_command

TRACEBACK = "Traceback (most recent call last)"
ALL_STREAMS = ("call_records", "contact_center_cdrs")


def run_raw(command: str, workdir: Path, config_text: str, catalog: Optional[dict] = None) -> ConnectorRun:
    """`source-8x8-cdr COMMAND` with the config file's text as given (it may be no JSON at all)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(config_text)
    args = [COMMAND, command, "--config", str(workdir / "config.json")]
    if catalog is not None:
        (workdir / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(workdir / "catalog.json")]
    return run_command(args)


def check_and_read(tmp_path: Path, config: Any, streams: tuple[str, ...] = ALL_STREAMS) -> tuple[ConnectorRun, ConnectorRun]:
    text = config if isinstance(config, str) else json.dumps(config)
    with ThreadPoolExecutor(max_workers=2) as pool:
        check = pool.submit(run_raw, "check", tmp_path / "check", text)
        read = pool.submit(run_raw, "read", tmp_path / "read", text, catalog_for(streams))
        return check.result(), read.result()


def sentences(message: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+(?=[A-Z`])", message.strip()) if part]


def assert_no_traceback(run: ConnectorRun) -> None:
    assert TRACEBACK not in run.stderr, run.stderr[-1500:]
    assert not [line for line in run.logs if TRACEBACK in line], [line[:300] for line in run.logs if TRACEBACK in line]
    assert not run.of_type("NOT_JSON"), run.of_type("NOT_JSON")[:3]


def assert_clear_message(message: str, field: str) -> None:
    assert field in message, f"{field!r} not named in: {message}"
    assert "\n" not in message and len(message) < 400, message
    assert len(sentences(message)) <= 2, f"more than a sentence and a hint: {message}"


def assert_check_fails_naming(check: ConnectorRun, field: str) -> None:
    assert check.returncode == 0, check.stderr[-1500:]
    status = check.connection_status
    assert status is not None and status["status"] == "FAILED", status
    assert_clear_message(status["message"], field)
    assert_no_traceback(check)


def assert_read_fails_naming(read: ConnectorRun, field: str) -> None:
    assert read.returncode != 0
    errors = stream_errors(read) or read.errors
    assert errors, read.stdout[-1500:]
    assert {error["failure_type"] for error in errors} == {"config_error"}, errors
    assert len({error["message"] for error in errors}) == 1, "several different errors for one problem"
    assert_clear_message(errors[0]["message"], field)
    assert not read.records()
    assert_no_traceback(read)


@pytest.fixture
def emu(clean_emulator: Emulator) -> Iterator[Emulator]:
    yield clean_emulator


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        *blocks, name = path.split(".")
        target = config
        for block in blocks:
            target = target[block]
        target[name] = value
    return change


def _drop(path: str) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        *blocks, name = path.split(".")
        target = config
        for block in blocks:
            target = target[block]
        del target[name]
    return change


# (id, change to a good config, the field the message must name)
INVALID_BEFORE_ANY_REQUEST = [
    ("missing_start_date", _drop("start_date"), "start_date"),
    ("start_date_not_a_date", _set("start_date", "2024-13-45T00:00:00Z"), "start_date"),
    ("end_date_before_start_date", _set("end_date", "2021-01-01T00:00:00Z"), "end_date"),
    ("unknown_time_zone", _set("contact_center.time_zone", "Mars/Olympus_Mons"), "contact_center.time_zone"),
    ("work_analytics_http_to_a_remote_host", _set("work_analytics.base_url", "http://api.8x8.com/analytics/work"), "work_analytics.base_url"),
    ("missing_password", _drop("work_analytics.password"), "work_analytics.password"),
    ("api_key_not_a_string", _set("contact_center.api_key", 12345), "contact_center.api_key"),
    ("pbx_ids_a_string", _set("work_analytics.pbx_ids", "acmecorp"), "work_analytics.pbx_ids"),
    ("lookback_a_string", _set("lookback_window_minutes", "60"), "lookback_window_minutes"),
    ("both_api_blocks_missing", lambda config: [config.pop("work_analytics"), config.pop("contact_center")], "work_analytics"),
]


@pytest.mark.parametrize("change, field", [case[1:] for case in INVALID_BEFORE_ANY_REQUEST],
                         ids=[case[0] for case in INVALID_BEFORE_ANY_REQUEST])
def test_given_an_invalid_config_when_checking_and_reading_then_one_config_error_names_the_field(emu: Emulator, tmp_path: Path, change: Callable, field: str) -> None:
    config = connector_config(emu)
    change(config)

    check, read = check_and_read(tmp_path, config)

    assert_check_fails_naming(check, field)
    assert_read_fails_naming(read, field)
    assert not emu.request_log, "an invalid config reached the API"


def test_given_a_config_file_that_is_not_json_when_checking_and_reading_then_one_config_error_names_the_file(emu: Emulator, tmp_path: Path) -> None:
    check, read = check_and_read(tmp_path, '{"start_date": "2024-01-01T00:00:00Z",')

    assert_check_fails_naming(check, "config file")
    assert_read_fails_naming(read, "config file")


# ---------------------------------------------------------------------------------------------------------------------
# Configs that are well-formed but that the APIs refuse
# ---------------------------------------------------------------------------------------------------------------------

REFUSED_BY_THE_API = [
    ("inaccessible_pbx", _set("work_analytics.pbx_ids", ["acmecorp", "nope"]), ("call_records",), ["work_analytics.pbx_ids", "nope"]),
    ("wrong_password", _set("work_analytics.password", "not the password"), ("call_records",), ["work_analytics.password"]),
    ("wrong_api_key", _set("work_analytics.api_key", "not+the/key="), ("call_records",), ["work_analytics.api_key"]),
    ("wrong_contact_center_key", _set("contact_center.api_key", "not+the/key="), ("contact_center_cdrs",), ["contact_center.api_key"]),
    ("work_analytics_base_url_without_the_api", lambda config: config["work_analytics"].update(
        base_url=config["work_analytics"]["base_url"].replace("/analytics/work", "/analytics")), ("call_records",), ["work_analytics.base_url"]),
]


@pytest.mark.parametrize("change, streams, names", [case[1:] for case in REFUSED_BY_THE_API],
                         ids=[case[0] for case in REFUSED_BY_THE_API])
def test_given_a_config_the_api_refuses_when_checking_then_fails_naming_the_field(emu: Emulator, tmp_path: Path, change: Callable, streams: tuple, names: list[str]) -> None:
    config = connector_config(emu)
    change(config)

    check = run_raw("check", tmp_path, json.dumps(config))

    for name in names:
        assert_check_fails_naming(check, name)


@pytest.mark.parametrize("change, streams, names", [case[1:] for case in REFUSED_BY_THE_API[::2]],
                         ids=[case[0] for case in REFUSED_BY_THE_API[::2]])
def test_given_a_config_the_api_refuses_when_reading_then_one_config_error_names_the_field_without_traceback(emu: Emulator, tmp_path: Path, change: Callable, streams: tuple, names: list[str]) -> None:
    config = connector_config(emu)
    change(config)

    read = run_raw("read", tmp_path, json.dumps(config), catalog_for(streams))

    for name in names:
        assert_read_fails_naming(read, name)


# ---------------------------------------------------------------------------------------------------------------------
# Configs that are valid
# ---------------------------------------------------------------------------------------------------------------------


def test_given_a_start_date_older_than_the_retention_and_no_pbx_list_when_checking_and_reading_then_it_is_clamped_with_a_warning_and_all_pbxes_are_read(emu: Emulator, tmp_path: Path) -> None:
    config = connector_config(emu, start_date="2020-01-01T00:00:00Z", slice_hours=744)
    config["work_analytics"]["pbx_ids"] = []  # valid: all PBXes of the account

    check, read = check_and_read(tmp_path, config, ("call_records",))

    assert check.connection_status == {"status": "SUCCEEDED"}
    assert read.returncode == 0, read.errors
    assert [line for line in read.logs if "start_date" in line and "retention" in line]
    windows = [entry[2] for entry in emu.request_log if entry[1].endswith("/v2/call-records")]
    assert min(window["startTime"] for window in windows) > "2024-01-01", "the read did not start at the retention edge"
    assert {window["pbxId"] for window in windows} == {"allpbxes"}
    assert_exact_records(read.records("call_records"), ground_truth(emu, "call_records"), "call_records")
    assert_no_traceback(read)


@pytest.mark.parametrize("api, stream", [("work_analytics", "call_records"), ("contact_center", "contact_center_cdrs")])
def test_given_only_one_api_configured_when_checking_and_reading_then_that_api_is_read(emu: Emulator, tmp_path: Path, api: str, stream: str) -> None:
    config = connector_config(emu, (api,))

    check, read = check_and_read(tmp_path, config, (stream,))

    assert check.connection_status == {"status": "SUCCEEDED"}, check.connection_status
    assert read.returncode == 0, read.errors
    assert_exact_records(read.records(stream), ground_truth(emu, stream), stream)
