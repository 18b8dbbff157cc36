"""Runs the installed `source-8x8-cdr` command as Airbyte would, and sorts what it prints.

Integration tests go through the real console command (a subprocess), so they cover argument parsing,
config validation, logging and exit codes exactly as a platform sees them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Optional

# The daily summaries: incremental on `day`, keyed by what they summarise and the day.
SUMMARY_KEYS = {
    "work_analytics_extension_daily": ("PbxId", "Extension", "day"),
    "work_analytics_ring_group_daily": ("pbxId", "extension", "day"),
    "work_analytics_ring_group_member_daily": ("pbxId", "extension", "memberExtension", "day"),
    "work_analytics_company_daily": ("day",),
}
COMMAND = shutil.which("source-8x8-cdr") or str(Path(sys.executable).with_name("source-8x8-cdr"))
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class ConnectorRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict]:
        return [message for message in self.messages if message.get("type") == kind]

    def records(self, stream: Optional[str] = None) -> list[dict]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if stream in (None, m["record"]["stream"])]

    def states(self, stream: Optional[str] = None) -> list[dict]:
        found = []
        for message in self.of_type("STATE"):
            state = message["state"]
            if stream in (None, state["stream"]["stream_descriptor"]["name"]):
                found.append(state)
        return found

    def last_state(self, stream: str) -> Optional[dict]:
        states = self.states(stream)
        return states[-1]["stream"]["stream_state"] if states else None

    @property
    def errors(self) -> list[dict]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]

    @property
    def connection_status(self) -> Optional[dict]:
        statuses = self.of_type("CONNECTION_STATUS")
        return statuses[-1]["connectionStatus"] if statuses else None

    @property
    def logs(self) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG")]


def run_connector(
    command: str,
    tmp_path: Path,
    config: Optional[dict] = None,
    catalog: Optional[dict] = None,
    state: Optional[list] = None,
    timeout: float = 300,
) -> ConnectorRun:
    args = [COMMAND, command]
    for flag, content in (("--config", config), ("--catalog", catalog), ("--state", state)):
        if content is not None:
            path = tmp_path / f"{flag[2:]}.json"
            path.write_text(json.dumps(content))
            args += [flag, str(path)]
    return run_command(args, timeout=timeout)


def run_command(args: list[str], env: Optional[dict] = None, timeout: float = 300) -> ConnectorRun:
    """Runs a command line of the connector and sorts its stdout into Airbyte messages."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    messages = []
    for line in done.stdout.splitlines():
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            messages.append({"type": "NOT_JSON", "line": line})
    return ConnectorRun(done.returncode, done.stdout, done.stderr, messages)


def catalog_for(streams: Iterable[str], incremental: bool = True) -> dict:
    entries = []
    for name in streams:
        cursor = {"call_records": "startTimeUTC", "call_legs": "startTimeUTC", "contact_center_cdrs": "timestamp"}.get(name)
        keys = {"call_records": "callId", "call_legs": "legId", "contact_center_wrapup_codes": "code",
                "contact_center_cdrs": "uuid"}.get(name, "id")
        if name in SUMMARY_KEYS:
            cursor, keys = "day", SUMMARY_KEYS[name]
        sync_mode = "incremental" if (incremental and cursor) else "full_refresh"
        entries.append({
            "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"] if cursor else ["full_refresh"]},
            "sync_mode": sync_mode,
            "destination_sync_mode": "append_dedup" if sync_mode == "incremental" else "overwrite",
            **({"cursor_field": [cursor]} if sync_mode == "incremental" else {}),
            "primary_key": [[key] for key in keys] if isinstance(keys, tuple) else [[keys]],
        })
    return {"streams": entries}


def state_for(stream: str, stream_state: dict) -> list:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}]


def recent_days(days: int, ending_days_ago: int = 1) -> tuple[datetime, datetime]:
    """Whole UTC days that end `ending_days_ago` days before today: inside the two-year retention."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    end = today - timedelta(days=ending_days_ago)
    return end - timedelta(days=days), end
