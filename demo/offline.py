"""Keeps PyAirbyte off the network. Call `prepare()` before anything imports `airbyte`.

PyAirbyte reads these variables once, when it is imported:

- `AIRBYTE_LOCAL_REGISTRY=0` disables the connector registry, so naming a local executable does not
  first download the registry's catalog; `AIRBYTE_OFFLINE_MODE=1` also tolerates a missing registry.
- `DO_NOT_TRACK=1` (and offline mode) turn off its usage telemetry.
- `AIRBYTE_LOGGING_ROOT` puts its log files next to the DuckDB file instead of `/tmp/airbyte/logs`.
- `NO_LIVE_PROGRESS=1`: no Rich live view; the demo draws its own progress (see `progress.py`).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

ENVIRONMENT = {
    "AIRBYTE_LOCAL_REGISTRY": "0",
    "AIRBYTE_OFFLINE_MODE": "1",
    "DO_NOT_TRACK": "1",
    "NO_LIVE_PROGRESS": "1",
}


def prepare(log_dir: Path) -> None:
    if "airbyte" in sys.modules:
        raise RuntimeError("demo.offline.prepare() must run before `airbyte` is imported")
    os.environ.update(ENVIRONMENT)
    os.environ["AIRBYTE_LOGGING_ROOT"] = str(log_dir.resolve())
    # Importing PyAirbyte imports the Google Cloud clients, which warn about Python 3.11's end of life in 2027.
    warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)


def check() -> None:
    """Fails loudly if PyAirbyte was imported without `prepare()`: it would try the registry."""
    from airbyte import constants

    if not constants.AIRBYTE_OFFLINE_MODE or os.environ.get("AIRBYTE_LOCAL_REGISTRY") != "0":
        raise RuntimeError("PyAirbyte was imported before demo.offline.prepare(); it may try the network")
