"""Secrets that occur in the protocol's own JSON never corrupt it: every line of every command still parses.

A password `p` once turned `check`'s answer into `{"ty****e":"CONNECTION_STATUS",...}`: the secret filter ran
over whole serialized lines. Here the credentials are words of the JSON frame itself (`type`, `RECORD`,
`status`, `true`, `p`, `e`, `1`), and every line of `spec`, `check`, `discover` and `read` (with debug logs
both ways the CDK offers, and with wrong credentials) must parse with the CDK's own message model. The
`--debug` flag also writes the CDK's `{"type": "DEBUG", ...}` lines, which are no protocol messages: they must
still be JSON with their keys intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, Optional

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, Type

from emulator import Emulator
from integration_tests import make_fixtures
from integration_tests.conftest import connector_config, emulator_config
from integration_tests.connector_runner import COMMAND, ConnectorRun, catalog_for, run_command

CREDENTIALS = {
    "type-p-e": {"wa_api_key": "type", "wa_password": "p", "cc_api_key": "e"},
    "RECORD-1-status": {"wa_api_key": "RECORD", "wa_password": "1", "cc_api_key": "status"},
}
WRONG = {"type-p-e": ("true", "status", "1"), "RECORD-1-status": ("e", "true", "p")}  # wa key, wa password, cc key
STREAMS = ("call_records", "contact_center_cdrs", "contact_center_teams")


@pytest.fixture(scope="module", params=list(CREDENTIALS))
def emu(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(emulator_config(**CREDENTIALS[request.param])) as emulator:
        emulator.credential_set = request.param  # type: ignore[attr-defined]
        yield emulator


def _run(tmp_path: Path, command: str, config: Optional[dict] = None, *flags: str, env: Optional[dict] = None) -> ConnectorRun:
    args = [COMMAND, command]
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        args += ["--config", str(tmp_path / "config.json")]
    if command == "read":
        (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(STREAMS)))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    return run_command(args + list(flags), env={**os.environ, **(env or {})})


def _assert_every_line_is_protocol(run: ConnectorRun, debug_lines_allowed: bool = False) -> list:
    messages = []
    for line in run.stdout.splitlines():
        parsed = json.loads(line)
        if debug_lines_allowed and parsed.get("type") == "DEBUG":
            assert set(parsed) == {"type", "message", "data"} and isinstance(parsed["data"], dict), line[:300]
            continue
        messages.append(AirbyteMessageSerializer.load(parsed))
    assert messages
    return messages


def test_given_frame_words_as_secrets_when_spec_then_every_line_parses(emu: Emulator, tmp_path: Path) -> None:
    messages = _assert_every_line_is_protocol(_run(tmp_path, "spec"))

    assert [m.type for m in messages if m.type != Type.LOG] == [Type.SPEC]


@pytest.mark.parametrize("flags, env", [((), None), (("--debug",), None), ((), {"LOG_LEVEL": "debug"})],
                         ids=["plain", "--debug", "LOG_LEVEL=debug"])
def test_given_frame_words_as_secrets_when_checking_then_every_line_parses(emu: Emulator, tmp_path: Path, flags: tuple, env: Optional[dict]) -> None:
    run = _run(tmp_path, "check", connector_config(emu), *flags, env=env)

    messages = _assert_every_line_is_protocol(run, debug_lines_allowed=bool(flags))
    statuses = [m.connectionStatus for m in messages if m.type == Type.CONNECTION_STATUS]
    assert [status.status.value for status in statuses] == ["SUCCEEDED"]


def test_given_frame_words_as_wrong_secrets_when_checking_then_every_line_parses_and_names_each_api(emu: Emulator, tmp_path: Path) -> None:
    config = connector_config(emu)
    wa_key, wa_password, cc_key = WRONG[emu.credential_set]  # type: ignore[attr-defined]
    config["work_analytics"].update(api_key=wa_key, password=wa_password)
    config["contact_center"]["api_key"] = cc_key

    messages = _assert_every_line_is_protocol(_run(tmp_path, "check", config))

    status = [m.connectionStatus for m in messages if m.type == Type.CONNECTION_STATUS][0]
    assert status.status.value == "FAILED"


def test_given_frame_words_as_secrets_when_discovering_then_every_line_parses(emu: Emulator, tmp_path: Path) -> None:
    messages = _assert_every_line_is_protocol(_run(tmp_path, "discover", connector_config(emu)))

    catalogs = [m.catalog for m in messages if m.type == Type.CATALOG]
    assert len(catalogs) == 1 and {stream.name for stream in catalogs[0].streams} == set(make_fixtures.STREAMS)


@pytest.mark.parametrize("flags, env", [(("--debug",), None), ((), {"LOG_LEVEL": "debug"})], ids=["--debug", "LOG_LEVEL=debug"])
def test_given_frame_words_as_secrets_when_reading_then_every_line_parses(emu: Emulator, tmp_path: Path, flags: tuple, env: Optional[dict]) -> None:
    run = _run(tmp_path, "read", connector_config(emu), *flags, env=env)

    assert run.returncode == 0, run.stdout[-3000:]
    messages = _assert_every_line_is_protocol(run, debug_lines_allowed=bool(flags))
    kinds = {m.type for m in messages}
    assert {Type.RECORD, Type.STATE, Type.LOG, Type.TRACE} <= kinds
    assert {m.record.stream for m in messages if m.type == Type.RECORD} == set(STREAMS)


def test_given_frame_words_as_wrong_secrets_when_reading_then_every_error_line_parses(emu: Emulator, tmp_path: Path) -> None:
    config = connector_config(emu, max_retries=0)
    wa_key, _, cc_key = WRONG[emu.credential_set]  # type: ignore[attr-defined]
    config["work_analytics"]["api_key"] = wa_key
    config["contact_center"]["api_key"] = cc_key

    run = _run(tmp_path, "read", config)

    assert run.returncode != 0
    messages = _assert_every_line_is_protocol(run)
    assert [m for m in messages if m.type == Type.TRACE and m.trace.error is not None]
