"""A destination that pauses longer than a Work Analytics scroll lives never makes a scroll expire.

The connector holds at most two pages between the API and stdout (`source_8x8_cdr/fastpath/memory.py`). When stdout
stops taking them (a destination flushing a batch, a full platform buffer), the pages read meanwhile wait
on disk instead of in the workers, so every open scroll keeps being read at the API's pace; memory stays
bounded; the files are removed. Here the reader is real: the test reads the connector's stdout through a
pipe and stops reading for longer than the emulator keeps a scroll after its last use.

Volumes: 3 days x 150 calls and their legs, pages of 10 rows: about 190 pages, 1.6 MB of records.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from emulator import Emulator
from integration_tests.conftest import assert_exact_records, connector_config, emulator_config, ground_truth
from integration_tests.connector_runner import COMMAND, catalog_for

STREAMS = ("call_records", "call_legs")
SCROLL_TTL_SECONDS = 6.0
PAUSE_SECONDS = 9.0  # longer than a scroll lives
PAUSE_EVERY_BYTES = 500_000
PAUSES = 2


def _peak_rss_kb(pid: int) -> int:
    """The process's own peak RSS (`VmHWM`, reset at exec), 0 once it has ended. Not `wait4`'s `ru_maxrss`:
    Linux carries it over from the forked copy of this test process, which can be larger than the connector."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def _read_slowly(args: list[str], env: dict) -> tuple[list[dict], str, int, int]:
    """Runs the connector and reads its stdout in 64 kB pieces, pausing `PAUSE_SECONDS` after every
    `PAUSE_EVERY_BYTES` (at most `PAUSES` times). Returns the messages, stderr, the exit code and the peak RSS
    of the connector in kB (read after every piece: the process ends at the last one)."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    chunks, read, paused, peak = [], 0, 0, 0
    while True:
        chunk = process.stdout.read1(65536)  # type: ignore[union-attr]
        peak = max(peak, _peak_rss_kb(process.pid))
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
        if paused < PAUSES and read >= (paused + 1) * PAUSE_EVERY_BYTES:
            time.sleep(PAUSE_SECONDS)
            paused += 1
    stderr = process.stderr.read().decode()  # type: ignore[union-attr]
    exit_code = process.wait()
    assert paused == PAUSES, f"the output was too short to pause {PAUSES} times"
    messages = [json.loads(line) for line in b"".join(chunks).splitlines()]
    return messages, stderr, exit_code, peak


def test_given_a_destination_that_pauses_longer_than_a_scroll_lives_when_reading_then_no_scroll_expires_and_records_are_exact(tmp_path: Path) -> None:
    with Emulator(emulator_config(scroll_ttl_s=SCROLL_TTL_SECONDS)) as emu:
        config = connector_config(emu, ("work_analytics",))
        config["work_analytics"]["page_size"] = 10
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(STREAMS)))
        spill_dir = tmp_path / "tmp"
        spill_dir.mkdir()
        args = [COMMAND, "read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]

        messages, stderr, exit_code, peak_rss_kb = _read_slowly(args, {**os.environ, "TMPDIR": str(spill_dir)})

        errors = [m["trace"]["error"] for m in messages if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"]
        assert exit_code == 0, errors or stderr[-2000:]
        logs = [m["log"]["message"] for m in messages if m["type"] == "LOG"]
        assert not [line for line in logs if "scrollId" in line], "a scroll expired"
        assert [line for line in logs if "wait on disk" in line], "no page waited on disk: the pauses did not hold the read"
        for stream in STREAMS:
            records = [m["record"]["data"] for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]
            assert_exact_records(records, ground_truth(emu, stream), stream)
        assert not list(spill_dir.rglob("*")), "the pages kept on disk were not removed"
        assert 0 < peak_rss_kb < 300_000, f"peak RSS {peak_rss_kb / 1000:.0f} MB"
