"""A reader of stdout that stops early (a destination that died, `| head`): the connector exits at once, quietly.

Before, `source-8x8-cdr read ... | head -n 5` ended with "Error in sys.excepthook ... BrokenPipeError ... lost
sys.stderr" on stderr. The reads here print about 2 MB, far more than a pipe holds, so the connector is still
writing (and its workers still reading pages) when the reader goes away.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from emulator import Emulator
from integration_tests.conftest import connector_config
from integration_tests.connector_runner import COMMAND, catalog_for

STREAMS = ("call_records", "call_legs", "contact_center_cdrs")


def _read_command(emulator: Emulator, tmp_path: Path, **overrides: object) -> list[str]:
    (tmp_path / "config.json").write_text(json.dumps(connector_config(emulator, **overrides)))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(STREAMS)))
    return [COMMAND, "read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]


@pytest.mark.parametrize("overrides", [{}, {"concurrency": 1, "slice_hours": 6}], ids=["default", "one_worker_small_slices"])
def test_given_head_reading_five_lines_when_reading_then_the_connector_exits_promptly_with_nothing_on_stderr(
    emulator: Emulator, tmp_path: Path, overrides: dict
) -> None:
    connector = subprocess.Popen(_read_command(emulator, tmp_path, **overrides), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-n", "5"], stdin=connector.stdout, stdout=subprocess.PIPE)
    connector.stdout.close()  # type: ignore[union-attr]  # head holds the only reading end now

    lines = head.communicate(timeout=120)[0].splitlines()
    closed = time.monotonic()
    try:
        returncode = connector.wait(timeout=20)
    finally:
        connector.kill()
    stderr = connector.stderr.read().decode()  # type: ignore[union-attr]

    assert len(lines) == 5 and all(json.loads(line)["type"] for line in lines)
    assert time.monotonic() - closed < 20
    assert stderr == "", stderr[-2000:]
    assert returncode != 0


def test_given_a_reader_that_closes_the_pipe_when_reading_then_no_worker_thread_keeps_the_connector_alive(
    emulator: Emulator, tmp_path: Path
) -> None:
    # The reader stops once records flow: the workers are then blocked on pages that stdout will never take.
    connector = subprocess.Popen(_read_command(emulator, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in connector.stdout:  # type: ignore[union-attr]
        if line.startswith(b'{"type":"RECORD"'):
            break
    connector.stdout.close()  # type: ignore[union-attr]

    try:
        returncode = connector.wait(timeout=20)
    finally:
        connector.kill()

    assert returncode != 0
    assert connector.stderr.read() == b""  # type: ignore[union-attr]
