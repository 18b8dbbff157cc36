"""Shared fixtures: an emulator serving both APIs over a few recent days, and configs that point at it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

import source_8x8_cdr
from emulator import Emulator, EmulatorConfig
from integration_tests.connector_runner import DATE_FORMAT, SUMMARY_KEYS, recent_days
from integration_tests.postgres_server import PostgresServer, running_postgres

DAYS = 3
START, END = recent_days(DAYS)


def emulator_config(**overrides: Any) -> EmulatorConfig:
    settings = dict(seed=7, start=START.strftime(DATE_FORMAT), end=END.strftime(DATE_FORMAT), calls_per_day=150, cc_records_per_day=150)
    settings.update(overrides)
    return EmulatorConfig(**settings)


def connector_config(emu: Emulator, apis: tuple[str, ...] = ("work_analytics", "contact_center"), **overrides: Any) -> dict:
    creds = emu.credentials
    config: dict[str, Any] = {
        "start_date": START.strftime(DATE_FORMAT),
        "end_date": END.strftime(DATE_FORMAT),
        "retry_backoff_seconds": 0.1,
        "max_retries": 3,
    }
    if "work_analytics" in apis:
        config["work_analytics"] = {
            "api_key": creds["wa_api_key"],
            "username": creds["wa_username"],
            "password": creds["wa_password"],
            "base_url": emu.work_analytics_base_url,
        }
    if "contact_center" in apis:
        config["contact_center"] = {"api_key": creds["cc_api_key"], "base_url": emu.contact_center_base_url}
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(emulator_config()) as emu:
        yield emu


# ---------------------------------------------------------------------------------------------------------
# Fault-suite helpers (used by test_faults_*.py): a clean emulator per test, exact record sets, timed
# request logs and the access tokens the emulator issued.
# ---------------------------------------------------------------------------------------------------------

PRIMARY_KEYS = {"call_records": "callId", "call_legs": "legId", "contact_center_cdrs": "uuid",
                "contact_center_wrapup_codes": "code", **SUMMARY_KEYS}
INCREMENTAL_STREAMS = ("call_records", "call_legs", "contact_center_cdrs")


def primary_key(stream: str) -> str:
    """The primary key of a stream keyed by one field."""
    key = PRIMARY_KEYS.get(stream, "id")
    assert isinstance(key, str), f"{stream} has a composite key: use primary_key_fields or record_key"
    return key


def primary_key_fields(stream: str) -> tuple[str, ...]:
    key = PRIMARY_KEYS.get(stream, "id")
    return key if isinstance(key, tuple) else (key,)


def record_key(stream: str, record: dict) -> str:
    """A record's primary key as one text, whatever the number of its fields."""
    return "|".join(str(record.get(field)) for field in primary_key_fields(stream))


@pytest.fixture
def clean_emulator(emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator with no fault rules and an empty request log, before and after the test."""
    emulator.clear_faults()
    emulator.request_log.clear()
    yield emulator
    emulator.clear_faults()
    emulator.request_log.clear()


def duplicate_keys(records: list[dict], stream: str) -> list:
    seen: set = set()
    duplicates = []
    for record in records:
        key = record_key(stream, record)
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    return duplicates


def stream_errors(run: Any) -> list[dict]:
    """The run's TRACE errors less the CDK's closing summary ("During the sync, the following streams did not
    sync successfully"), which is always a config_error whatever the streams' own errors were."""
    summary = "During the sync, the following streams did not sync successfully"
    return [error for error in run.errors
            if error.get("internal_message") != "Concurrent read failure" and not error.get("message", "").startswith(summary)]


def without_nulls(value: Any) -> Any:
    """The CDK's record serializer leaves out fields whose value is null: compare without them."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


@lru_cache(maxsize=None)
def schema_validator(stream: str) -> jsonschema.Draft7Validator:
    schema = json.loads((Path(source_8x8_cdr.__file__).parent / "schemas" / f"{stream}.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def assert_valid_records(records: list[dict], stream: str) -> None:
    """Every record validates against its stream's schema (JSON Schema draft 7)."""
    invalid = [(error.json_path, error.message) for record in records for error in schema_validator(stream).iter_errors(record)]
    assert not invalid, f"{stream}: {len(invalid)} values do not match the schema, e.g. {invalid[:3]}"


def assert_exact_records(records: list[dict], expected: list[dict], stream: str) -> None:
    """`records` are exactly `expected`: the same keys, no key twice, every record equal to the API's row
    (null fields aside, see `without_nulls`) and valid against the stream's schema."""
    assert_valid_records(records, stream)
    duplicates = duplicate_keys(records, stream)
    assert not duplicates, f"{stream}: {len(duplicates)} duplicate keys, e.g. {duplicates[:3]}"
    got = {record_key(stream, record): record for record in records}
    want = {record_key(stream, row): row for row in expected}
    missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
    assert not missing and not extra, (
        f"{stream}: {len(got)} records, expected {len(want)}; missing {missing[:3]}, unexpected {extra[:3]}"
    )
    different = [k for k in want if without_nulls(got[k]) != without_nulls(want[k])]
    assert not different, f"{stream}: {len(different)} records differ from the API's rows, e.g. {different[:3]}"


# The values the emulator sends, as the vendor does, in another form than the schemas declare, and what the
# connector must make of them: the ground truth of a read.
def _instant_in_utc(value: str) -> str:
    """An ISO 8601 time with an offset as the same instant in UTC, with milliseconds and `Z` (as the connector
    emits instants); a time without an offset is left as it is."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return value
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


DECLARED_FORMS = {"call_records": {"callLegCount": int}, "contact_center_cdrs": {"timestamp": _instant_in_utc}}


def as_declared(stream: str, rows: list[dict]) -> list[dict]:
    """The emulator's rows with the values of `DECLARED_FORMS` in their declared types."""
    forms = DECLARED_FORMS.get(stream, {})
    return [{name: forms[name](value) if name in forms and value is not None else value for name, value in row.items()} for row in rows]


def ground_truth(emu: Emulator, stream: str, start: Any = None, end: Any = None) -> list[dict]:
    """The emulator's rows for `stream` over [start, end) (default: the configs' START..END), in the schema's types."""
    if stream in INCREMENTAL_STREAMS:
        return as_declared(stream, emu.ground_truth(stream, start or START, end or END))
    return as_declared(stream, emu.ground_truth(stream))


def record_request_times(emu: Emulator) -> list[tuple[float, str, str, dict, int]]:
    """Starts a timed copy of `emu.request_log`: (time.monotonic(), method, path, params, status) per request.

    The emulator's own log has no times; a test that measures a wait (Retry-After) needs them.
    """
    import time

    timed: list[tuple[float, str, str, dict, int]] = getattr(emu, "_fault_suite_times", [])
    timed.clear()
    if hasattr(emu, "_fault_suite_times"):  # already installed on this emulator
        return timed
    emu._fault_suite_times = timed  # type: ignore[attr-defined]
    original = emu._record

    def record(request: Any, status: int) -> None:
        if not request.path.startswith("/_emulator"):
            timed.append((time.monotonic(), request.method, request.path, dict(request.params), status))
        original(request, status)

    emu._record = record  # type: ignore[method-assign]
    return timed


def capture_issued_tokens(emu: Emulator) -> list[str]:
    """Every Work Analytics access token the emulator issues from now on (it does not list them itself)."""
    tokens: list[str] = getattr(emu, "_fault_suite_tokens", [])
    if hasattr(emu, "_fault_suite_tokens"):  # already installed on this emulator
        return tokens
    emu._fault_suite_tokens = tokens  # type: ignore[attr-defined]
    store = emu.work_analytics.tokens
    original = store.issue

    def issue(lifetime_s: float) -> str:
        token = original(lifetime_s)
        tokens.append(token)
        return token

    store.issue = issue  # type: ignore[method-assign]
    return tokens


# ---------------------------------------------------------------------------------------------------------
# CDK standard tests (test_standard_source.py)
# ---------------------------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # The CDK's standard-test base classes mark their Docker tests `image_tests` (and credentialed scenarios
    # `requires_creds`) without registering the marks; registered here, importing them raises no warning.
    config.addinivalue_line("markers", "image_tests: the CDK's Docker image tests (skipped offline)")
    config.addinivalue_line("markers", "requires_creds: CDK standard-test scenarios that need real credentials")


# ---------------------------------------------------------------------------------------------------------
# Destination tests (test_destinations.py): a real PostgreSQL server
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1, started once per test process and stopped at its end
    (see `postgres_server.py`). A server that cannot start fails the tests that need it, saying why."""
    with running_postgres() as server:
        yield server
