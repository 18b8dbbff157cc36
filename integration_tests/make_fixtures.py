"""Writes the acceptance-test fixtures of `integration_tests/` from the emulator, with a fixed seed and dates.

    .venv/bin/python -m integration_tests.make_fixtures

`expected_records.jsonl` is the emulator's ground truth for one fixed day (seed FIXTURE_SEED, a small volume), with
the values the vendor sends in another form in the schemas' types (`conftest.as_declared`), not a recording of the
connector: `test_reads_emulator.py` proves that a read of `sample_config.json` against
an emulator built by `fixture_emulator_config()` reproduces it exactly, and that the files on disk are what this
script writes (so a change of the emulator's data shows up as a failed test, not as a silently stale file).

The configs point at placeholder `example.com` hosts; tests swap in the emulator's URLs with `for_emulator()`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator import Emulator, EmulatorConfig
from integration_tests.conftest import as_declared, primary_key_fields
from integration_tests.connector_runner import SUMMARY_KEYS
from source_8x8_cdr.source import STREAMS_BY_API

HERE = Path(__file__).resolve().parent

FIXTURE_SEED = 20260601
FIXTURE_START = "2026-06-01T00:00:00Z"
FIXTURE_END = "2026-06-02T00:00:00Z"
FIXTURE_NOW = "2026-06-03T00:00:00Z"  # the emulator clock: every call of the day has ended
FIXTURE_VOLUME = 15  # calls and contact-center records per day: the fewest with a ring-group call, so every stream has lines
EMITTED_AT = 1780358400000  # 2026-06-02T00:00:00Z: a fixed value, so regenerating changes nothing

SAMPLE_STATE = "2026-06-01T12:00:00.000000Z"  # mid-day: a resume reads from 11:00 (the default 60-minute lookback)
FUTURE_STATE = "2027-01-01T00:00:00.000000Z"  # after the fixture day and its end_date
ABNORMAL_STATE = "2999-12-31T23:59:59.999000Z"  # absurdly far in the future

PLACEHOLDER_WA_URL = "https://work-analytics.example.com/analytics/work"
PLACEHOLDER_CC_URL = "https://cc-example01.example.com"

STREAMS = tuple(name for names in STREAMS_BY_API.values() for name in names)
CURSORS = {"call_records": "startTimeUTC", "call_legs": "startTimeUTC", "contact_center_cdrs": "timestamp",
           **dict.fromkeys(SUMMARY_KEYS, "day")}


def fixture_emulator_config(**overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = dict(
        seed=FIXTURE_SEED,
        start=FIXTURE_START,
        end=FIXTURE_END,
        now=FIXTURE_NOW,
        calls_per_day=FIXTURE_VOLUME,
        cc_records_per_day=FIXTURE_VOLUME,
    )
    settings.update(overrides)
    return EmulatorConfig(**settings)


def sample_config() -> dict:
    credentials = EmulatorConfig()  # the emulator's default credentials: they are test values, not secrets
    return {
        "start_date": FIXTURE_START,
        "end_date": FIXTURE_END,
        "work_analytics": {
            "api_key": credentials.wa_api_key,
            "username": credentials.wa_username,
            "password": credentials.wa_password,
            "base_url": PLACEHOLDER_WA_URL,
        },
        "contact_center": {"api_key": credentials.cc_api_key, "base_url": PLACEHOLDER_CC_URL},
        "lookback_window_minutes": 60,
        "max_retries": 2,
        "retry_backoff_seconds": 0.1,
    }


def invalid_config() -> dict:
    """Valid against the spec, but with credentials that no account accepts."""
    config = sample_config()
    config["work_analytics"] = {**config["work_analytics"], "api_key": "invalid-8x8-api-key", "password": "invalid-password"}
    config["contact_center"] = {**config["contact_center"], "api_key": "invalid-contact-center-key"}
    return config


def for_emulator(config: dict, emu: Emulator) -> dict:
    """`config` with the placeholder hosts replaced by the emulator's."""
    config = json.loads(json.dumps(config))
    config["work_analytics"]["base_url"] = emu.work_analytics_base_url
    config["contact_center"]["base_url"] = emu.contact_center_base_url
    return config


def configured_catalog() -> dict:
    entries = []
    for name in STREAMS:
        cursor = CURSORS.get(name)
        entries.append({
            "stream": {
                "name": name,
                "json_schema": {},
                "supported_sync_modes": ["full_refresh", "incremental"] if cursor else ["full_refresh"],
                **({"source_defined_cursor": True, "default_cursor_field": [cursor]} if cursor else {}),
                "source_defined_primary_key": [[field] for field in primary_key_fields(name)],
            },
            "sync_mode": "incremental" if cursor else "full_refresh",
            "destination_sync_mode": "append_dedup" if cursor else "overwrite",
            **({"cursor_field": [cursor]} if cursor else {}),
            "primary_key": [[field] for field in primary_key_fields(name)],
        })
    return {"streams": entries}


def _state_value(cursor: str, value: str) -> str:
    """The daily summaries save the day read last, at 00:00:00: `2026-06-01T00:00:00`."""
    return f"{value[:10]}T00:00:00" if cursor == "day" else value


def state_file(value: str) -> list:
    return [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": {cursor: _state_value(cursor, value)}}}
        for name, cursor in CURSORS.items()
    ]


def expected_records(emu: Emulator) -> list[dict]:
    lines = []
    for stream in STREAMS:
        rows = emu.ground_truth(stream, FIXTURE_START, FIXTURE_END) if stream in CURSORS else emu.ground_truth(stream)
        rows = as_declared(stream, rows)
        lines += [{"stream": stream, "data": row, "emitted_at": EMITTED_AT} for row in rows]
    return lines


def _json(content: Any) -> str:
    return json.dumps(content, indent=2) + "\n"


def render_files() -> dict[str, str]:
    """File name -> content, exactly as written to `integration_tests/`."""
    with Emulator(fixture_emulator_config()) as emu:
        records = expected_records(emu)
    return {
        "configured_catalog.json": _json(configured_catalog()),
        "sample_config.json": _json(sample_config()),
        "invalid_config.json": _json(invalid_config()),
        "sample_state.json": _json(state_file(SAMPLE_STATE)),
        "future_state.json": _json(state_file(FUTURE_STATE)),
        "abnormal_state.json": _json(state_file(ABNORMAL_STATE)),
        "expected_records.jsonl": "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in records),
    }


def main() -> None:
    for name, content in render_files().items():
        (HERE / name).write_text(content)
        print(f"wrote integration_tests/{name}")


if __name__ == "__main__":
    main()
