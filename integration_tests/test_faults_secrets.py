"""No secret reaches stdout or stderr, in any form, in successful and failing checks and reads, with debug logs.

Secrets: both API keys and the password of the config (the emulator's awkward ones, with `+/=`, `@`, a space,
`%` and `&`; and the wrong ones of the failing configs), and every access token the emulator issued. Each is
searched raw, `quote`d, `quote_plus`ed, `quote(safe="")`d, as a Python `repr` or `ascii`, and each of these
JSON-escaped once and twice (with and without `ensure_ascii`). Debug logs are switched on both ways the CDK
offers: the `--debug` flag and the platform's `LOG_LEVEL=debug`. The emulator of the last tests takes
credentials with a backslash, both quotes and a non-ASCII letter, whose forms all differ.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import quote, quote_plus

import pytest

from emulator import Emulator
from integration_tests.conftest import capture_issued_tokens, connector_config, emulator_config, stream_errors
from integration_tests.connector_runner import COMMAND, ConnectorRun, catalog_for, run_command

WA_DATA = "/analytics/work/v2/call-records"
WA_LOGIN = "/analytics/work/v1/oauth/token"
CC_DATA = "/api/v2/cdr"
STREAMS = ("call_records", "contact_center_cdrs", "contact_center_teams")
WRONG_PASSWORD = "wr0ng p@ss%41&k=v+w"
WRONG_API_KEY = "bad8x8+Key/Nope=="
WRONG_CC_KEY = "cc+Wrong/Key=%zz&q"


def secret_forms(value: str) -> dict[str, str]:
    forms = {"raw": value, "quote": quote(value), "quote_plus": quote_plus(value), "quote_safe_none": quote(value, safe=""),
             "repr": repr(value)[1:-1], "ascii": ascii(value)[1:-1]}
    for name, text in list(forms.items()):  # JSON-escaped once and twice, with and without ensure_ascii
        for outer in (True, False):
            once = json.dumps(text, ensure_ascii=outer)[1:-1]
            forms[f"json({name}, ascii={outer})"] = once
            for inner in (True, False):
                forms[f"json(json({name}, ascii={inner}), ascii={outer})"] = json.dumps(json.dumps(text, ensure_ascii=inner)[1:-1], ensure_ascii=outer)[1:-1]
    return forms


def leaks(output: str, secrets: dict[str, str]) -> list[str]:
    return [f"{name} ({form})" for name, value in secrets.items() for form, text in secret_forms(value).items()
            if text in output]


def run_with_debug(command: str, tmp_path: Path, config: dict, catalog: Optional[dict] = None, *,
                   platform_debug: bool = False) -> ConnectorRun:
    """Like `run_connector`, with `--debug` (or, with `platform_debug`, LOG_LEVEL=debug instead)."""
    args = [COMMAND, command, "--config", str(tmp_path / "config.json")]
    (tmp_path / "config.json").write_text(json.dumps(config))
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    env = dict(os.environ)
    if platform_debug:
        env["LOG_LEVEL"] = "debug"
    else:
        args.append("--debug")
    return run_command(args, env=env)


@pytest.fixture
def emu(clean_emulator: Emulator) -> Iterator[Emulator]:
    capture_issued_tokens(clean_emulator).clear()
    yield clean_emulator


def _secrets(emu: Emulator, config: dict) -> dict[str, str]:
    found = {"work_analytics.api_key": config["work_analytics"]["api_key"],
             "work_analytics.password": config["work_analytics"]["password"],
             "contact_center.api_key": config["contact_center"]["api_key"],
             "emulator wa_api_key": emu.credentials["wa_api_key"],
             "emulator wa_password": emu.credentials["wa_password"],
             "emulator cc_api_key": emu.credentials["cc_api_key"]}
    found.update({f"access token {n}": token for n, token in enumerate(capture_issued_tokens(emu))})
    return found


def _assert_nothing_leaked(run: ConnectorRun, emu: Emulator, config: dict) -> None:
    secrets = _secrets(emu, config)
    assert not leaks(run.stdout, secrets), leaks(run.stdout, secrets)
    assert not leaks(run.stderr, secrets), leaks(run.stderr, secrets)


def _config(emu: Emulator, wa: Optional[dict] = None, cc: Optional[dict] = None, **overrides: Any) -> dict:
    config = connector_config(emu, max_retries=1, **overrides)
    config["work_analytics"].update(wa or {})
    config["contact_center"].update(cc or {})
    return config


# ---------------------------------------------------------------------------------------------------------------------
# Successful runs (with a 401 on the way: the emulator's 401 body repeats the rejected token)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform_debug", [False, True], ids=["--debug", "LOG_LEVEL=debug"])
def test_given_debug_logs_and_a_token_rejected_once_when_reading_successfully_then_no_secret_is_printed(emu: Emulator, tmp_path: Path, platform_debug: bool) -> None:
    emu.set_faults([{"kind": "expire_token", "path": WA_DATA, "after": 1, "times": 1},
                    {"kind": "truncated_json", "path": CC_DATA, "after": 1, "times": 1}])
    config = _config(emu)

    run = run_with_debug("read", tmp_path, config, catalog_for(STREAMS), platform_debug=platform_debug)

    assert run.returncode == 0, run.errors
    assert run.records("call_records") and run.records("contact_center_cdrs")
    assert len(capture_issued_tokens(emu)) == 2, "the 401 did not happen"
    assert any("DEBUG" in line for line in run.stdout.splitlines()), "debug logging was not on"
    _assert_nothing_leaked(run, emu, config)


def test_given_debug_logs_when_checking_successfully_then_no_secret_is_printed(emu: Emulator, tmp_path: Path) -> None:
    config = _config(emu)

    run = run_with_debug("check", tmp_path, config)

    assert run.connection_status == {"status": "SUCCEEDED"}
    _assert_nothing_leaked(run, emu, config)


# ---------------------------------------------------------------------------------------------------------------------
# Failing runs
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command, wa", [("check", {"password": WRONG_PASSWORD}), ("read", {"password": WRONG_PASSWORD}),
                                         ("read", {"api_key": WRONG_API_KEY})],
                         ids=["check-wrong_password", "read-wrong_password", "read-wrong_api_key"])
def test_given_a_login_that_fails_when_running_with_debug_then_no_secret_is_printed(emu: Emulator, tmp_path: Path, command: str, wa: dict) -> None:
    config = _config(emu, wa=wa)

    run = run_with_debug(command, tmp_path, config, catalog_for(STREAMS) if command == "read" else None)

    if command == "check":
        assert run.connection_status["status"] == "FAILED"
    else:
        assert run.returncode != 0 and stream_errors(run)
    assert [entry[3] for entry in emu.request_log if entry[1] == WA_LOGIN] and \
        all(entry[3] == 400 for entry in emu.request_log if entry[1] == WA_LOGIN)
    _assert_nothing_leaked(run, emu, config)


@pytest.mark.parametrize("command", ["check", "read"])
def test_given_a_wrong_contact_center_key_when_running_with_debug_then_no_secret_is_printed(emu: Emulator, tmp_path: Path, command: str) -> None:
    config = _config(emu, cc={"api_key": WRONG_CC_KEY})

    run = run_with_debug(command, tmp_path, config, catalog_for(STREAMS) if command == "read" else None)

    assert any(entry[3] == 401 for entry in emu.request_log if entry[1].startswith(CC_DATA))
    assert (run.connection_status or {}).get("status") == "FAILED" or run.returncode != 0
    _assert_nothing_leaked(run, emu, config)


def test_given_a_pbx_the_user_cannot_see_when_reading_with_debug_then_no_secret_is_printed(emu: Emulator, tmp_path: Path) -> None:
    config = _config(emu, wa={"pbx_ids": ["acmecorp", "not-ours"]})

    run = run_with_debug("read", tmp_path, config, catalog_for(STREAMS))

    assert any(entry[3] == 403 for entry in emu.request_log)
    assert run.returncode != 0
    _assert_nothing_leaked(run, emu, config)


def test_given_500s_and_dropped_connections_beyond_the_retry_budget_when_reading_with_debug_then_no_secret_is_printed(emu: Emulator, tmp_path: Path) -> None:
    # The failed requests' URLs (the contact-center key is in the query string) end up in error messages.
    emu.set_faults([{"kind": "status", "status": 500, "path": WA_DATA, "times": -1},
                    {"kind": "status", "status": 500, "path": f"{CC_DATA}/teams", "times": -1},
                    {"kind": "reset", "path": CC_DATA, "times": -1}])
    config = _config(emu)

    run = run_with_debug("read", tmp_path, config, catalog_for(STREAMS))

    assert run.returncode != 0
    assert len(stream_errors(run)) >= 3
    _assert_nothing_leaked(run, emu, config)


def test_given_cut_off_bodies_beyond_the_restart_budget_when_reading_with_debug_then_no_secret_is_printed(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "truncated_json", "path": WA_DATA, "times": -1},
                    {"kind": "truncated_json", "path": CC_DATA, "times": -1}])
    config = _config(emu)

    run = run_with_debug("read", tmp_path, config, catalog_for(STREAMS))

    assert run.returncode != 0
    _assert_nothing_leaked(run, emu, config)


def test_given_the_login_answers_500_when_checking_with_debug_then_no_secret_is_printed(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults([{"kind": "status", "status": 500, "path": WA_LOGIN, "times": -1},
                    {"kind": "status", "status": 500, "path": CC_DATA, "times": -1}])
    config = _config(emu)

    run = run_with_debug("check", tmp_path, config)

    assert run.connection_status["status"] == "FAILED"
    _assert_nothing_leaked(run, emu, config)


# ---------------------------------------------------------------------------------------------------------------------
# Credentials with a backslash, both quotes and a non-ASCII letter: every escaping gives a different text
# ---------------------------------------------------------------------------------------------------------------------

AWKWARD = {"wa_api_key": "k\\ey\"7'Z-\u00e9-wa-key", "wa_password": "p\\w\"7'Z-\u00e9-password", "cc_api_key": "c\\k\"7'Z-\u00e9-cc-key"}


@pytest.fixture(scope="module")
def awkward_emulator() -> Iterator[Emulator]:
    with Emulator(emulator_config(**AWKWARD)) as emulator:
        yield emulator


@pytest.fixture
def awkward(awkward_emulator: Emulator) -> Iterator[Emulator]:
    awkward_emulator.clear_faults()
    capture_issued_tokens(awkward_emulator).clear()
    yield awkward_emulator


@pytest.mark.parametrize("platform_debug", [False, True], ids=["--debug", "LOG_LEVEL=debug"])
@pytest.mark.parametrize("command", ["check", "read"])
def test_given_secrets_with_backslashes_quotes_and_accents_when_running_with_debug_logs_then_no_form_is_printed(
    awkward: Emulator, tmp_path: Path, command: str, platform_debug: bool
) -> None:
    # The contact-center key travels in the query string; the Work Analytics key and token in headers, which
    # debug logs show as a Python repr inside JSON (inside JSON again with LOG_LEVEL=debug).
    config = _config(awkward)

    run = run_with_debug(command, tmp_path, config, catalog_for(STREAMS) if command == "read" else None, platform_debug=platform_debug)

    if command == "check":
        assert run.connection_status == {"status": "SUCCEEDED"}
    else:
        assert run.returncode == 0, run.errors
        assert run.records("call_records") and run.records("contact_center_cdrs")
    assert capture_issued_tokens(awkward), "no login happened"
    assert any("8x8-apikey" in line for line in run.stdout.splitlines()), "the request headers were not logged"
    _assert_nothing_leaked(run, awkward, config)


def test_given_wrong_secrets_with_backslashes_quotes_and_accents_when_reading_with_debug_then_no_form_is_printed(
    awkward: Emulator, tmp_path: Path
) -> None:
    config = _config(awkward, cc={"api_key": "w\\rong\"cc'key-\u00e9"})
    config["work_analytics"]["password"] = "w\\rong\"wa'password-\u00e9"

    run = run_with_debug("read", tmp_path, config, catalog_for(STREAMS))

    assert run.returncode != 0 and stream_errors(run)
    _assert_nothing_leaked(run, awkward, config)
