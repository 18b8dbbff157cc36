"""``python -m emulator``: one JSON line, then serving until SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_given_cli_when_started_then_prints_urls_and_serves_until_sigterm():
    command = [sys.executable, "-m", "emulator", "--port", "0", "--seed", "7", "--days", "2",
               "--calls-per-day", "50", "--cc-records-per-day", "50", "--now", "2025-01-10T00:00:00Z",
               "--end", "2025-01-09T00:00:00Z", "--cc-token-placement", "cap_page", "--end-time-inclusive",
               "--fault", '{"kind": "status", "status": 503, "path": "/api/v2/cdr/agents"}']
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        assert info["work_analytics_base_url"] == info["url"] + "/analytics/work"
        assert set(info["credentials"]) == {"wa_api_key", "wa_username", "wa_password", "cc_api_key"}
        key = {"key": info["credentials"]["cc_api_key"]}
        assert len(requests.get(info["contact_center_base_url"] + "/api/v2/cdr", params=key).json()["records"]) == 100
        assert requests.get(info["url"] + "/api/v2/cdr/agents", params=key).status_code == 503
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
