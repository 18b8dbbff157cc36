"""Reads against an emulator that rate-limits each API (N requests in any window of W seconds, 429 beyond).

A vendor that asks to slow down gets a slower sync that finishes, exactly: the first 429 holds every request
to that API (not only the one refused), the pace adapts, and 429s are not counted against `max_retries`.
With `requests_per_minute` the CDK's API budget keeps the read under the limit: no 429 at all, on both read
paths. The pacing is mounted by the fast path (`source_8x8_cdr/fastpath/adapters.py`); on the CDK's stock path
the CDK's own 429 handling applies, which counts each 429 against `max_retries`.

The bounds on time here are loose (the machine is shared); the benchmark measures the pace itself
(`python -m benchmark --rate-limit-only`). Volumes: 3 days x 150 calls, pages of 10 rows, call records and
call legs: about 190 requests.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from integration_tests.conftest import (
    assert_exact_records,
    connector_config,
    emulator_config,
    ground_truth,
    record_request_times,
)
from integration_tests.connector_runner import ConnectorRun, catalog_for, run_connector
from source_8x8_cdr.fastpath import STOCK_PATH_VARIABLE

STREAMS = ("call_records", "call_legs")
LIMIT, WINDOW = 30, 2.0


def _read(emu: Emulator, tmp_path: Path, page_size: int = 10, **overrides: Any) -> ConnectorRun:
    config = connector_config(emu, ("work_analytics",), **overrides)
    config["work_analytics"]["page_size"] = page_size
    return run_connector("read", tmp_path, config, catalog_for(STREAMS), timeout=600)


def _assert_exact(run: ConnectorRun, emu: Emulator) -> None:
    assert run.returncode == 0, run.errors or run.stderr[-2000:]
    assert not run.errors
    for stream in STREAMS:
        assert_exact_records(run.records(stream), ground_truth(emu, stream), stream)


@pytest.mark.parametrize("retry_after", [True, False], ids=["with Retry-After", "without Retry-After"])
def test_given_a_rate_limit_when_reading_then_every_request_waits_after_the_first_429_few_are_refused_and_records_are_exact(
    tmp_path: Path, retry_after: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STOCK_PATH_VARIABLE, raising=False)  # the pacer is mounted by the fast path
    with Emulator(emulator_config(rate_limit_requests=LIMIT, rate_limit_window_s=WINDOW, rate_limit_retry_after=retry_after)) as emu:
        timed = record_request_times(emu)

        run = _read(emu, tmp_path, max_retries=0)  # a 429 is not a failure: no retry budget is needed

        _assert_exact(run, emu)
        counts = emu.stats()["rate_limit"]["work_analytics"]
        assert counts["limited"] >= 1, "the limit never applied: the test reads too little"
        assert counts["limited"] <= 0.10 * counts["requests"], counts
        # Every worker waits after the first 429: nothing is sent in the second after it but the requests
        # that were already on their way (answered within a few milliseconds of it).
        first_refused = next(moment for moment, *_, status in timed if status == 429)
        sent_soon_after = [moment for moment, *_ in timed if first_refused + 0.2 < moment < first_refused + 0.9]
        assert not sent_soon_after, f"{len(sent_soon_after)} requests went out right after the first 429"
        # The pace: from the first request to the last, within twice what the limit allows (plus 3 s).
        admitted = counts["requests"] - counts["limited"]
        minimum = (math.ceil(admitted / LIMIT) - 1) * WINDOW
        span = timed[-1][0] - timed[0][0]
        assert span <= 2 * minimum + 3, (span, minimum)


@pytest.mark.parametrize("stock_path", [False, True], ids=["fast path", "stock path"])
def test_given_requests_per_minute_at_the_api_s_limit_when_reading_then_no_429_and_records_are_exact(
    tmp_path: Path, stock_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if stock_path:
        monkeypatch.setenv(STOCK_PATH_VARIABLE, "1")
    else:
        monkeypatch.delenv(STOCK_PATH_VARIABLE, raising=False)
    # 10 requests per 60 s, as another 8x8 analytics API publishes; the read needs 13 (pages of 50 rows and
    # a login), so it must wait for the minute to pass once.
    with Emulator(emulator_config(rate_limit_requests=10, rate_limit_window_s=60)) as emu:
        config = connector_config(emu, ("work_analytics",), requests_per_minute=10)
        config["work_analytics"]["page_size"] = 50

        run = run_connector("read", tmp_path, config, catalog_for(["call_records"]), timeout=600)

        assert run.returncode == 0, run.errors or run.stderr[-2000:]
        assert_exact_records(run.records("call_records"), ground_truth(emu, "call_records"), "call_records")
        counts = emu.stats()["rate_limit"]["work_analytics"]
        assert counts["requests"] > 10, counts
        assert counts["limited"] == 0, counts
