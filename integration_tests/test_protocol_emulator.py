"""`spec`, `check` and `discover` of the installed `source-8x8-cdr` command, against the emulator.

Every failed check must answer with one sentence that says what to fix: no traceback, no secret (in any of
the forms a secret can take in a URL or a JSON string), exit code 0 and a FAILED connection status.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from jsonschema import Draft7Validator

from emulator import Emulator
from integration_tests.conftest import connector_config, primary_key_fields
from integration_tests.connector_runner import ConnectorRun, run_connector
from integration_tests.make_fixtures import CURSORS, STREAMS, for_emulator

HERE = Path(__file__).resolve().parent
WORK_ANALYTICS_STREAMS = [name for name in STREAMS if not name.startswith("contact_center_")]
CONTACT_CENTER_STREAMS = [name for name in STREAMS if name.startswith("contact_center_")]
WRONG_WA_KEY = "wrong+WA/Key==123"
WRONG_WA_PASSWORD = "wrong pa%20ss&word+1"
WRONG_CC_KEY = "wrong+CC/Key=456"


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------


def _secret_forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}


def _secrets_of(config: dict) -> set[str]:
    values = set()
    for block, fields in (("work_analytics", ("api_key", "password")), ("contact_center", ("api_key",))):
        for name in fields:
            if config.get(block, {}).get(name):
                values |= _secret_forms(config[block][name])
    return values


def _assert_no_secret_and_no_traceback(run: ConnectorRun, config: dict) -> None:
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    leaked = sorted(form for form in _secrets_of(config) if form in output)
    assert not leaked, f"secret forms in the output: {len(leaked)}"


def _closed_port_url(path: str = "") -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def _check(tmp_path: Path, config: dict) -> dict:
    """The connection status of `check`, which must exit 0 without a traceback or a secret in its output."""
    run = run_connector("check", tmp_path, config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.connection_status is not None, run.stdout[-2000:]
    _assert_no_secret_and_no_traceback(run, config)
    return run.connection_status


def _assert_failed_with_one_sentence(status: dict, api: str, *phrases: str) -> None:
    """FAILED, naming only the failing API (the other one of the config is good), in one short sentence."""
    assert status["status"] == "FAILED"
    message = status.get("message") or ""
    assert "\n" not in message and len(message) < 400, message
    assert message.startswith(f"{api}: "), message
    other = "Contact center" if api == "Work Analytics" else "Work Analytics"
    assert other not in message, message
    for phrase in phrases:
        assert phrase in message, message


def _discovered(run: ConnectorRun) -> dict[str, dict]:
    catalogs = run.of_type("CATALOG")
    assert len(catalogs) == 1, run.stdout[-2000:]
    return {stream["name"]: stream for stream in catalogs[0]["catalog"]["streams"]}


# ---------------------------------------------------------------------------------------------------------
# spec
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = run_connector("spec", tmp_path_factory.mktemp("spec"))
    assert run.returncode == 0, run.stderr[-2000:]
    specs = run.of_type("SPEC")
    assert len(specs) == 1
    return specs[0]["spec"]


def test_given_no_config_when_spec_then_connection_specification_is_a_valid_json_schema(spec: dict) -> None:
    schema = spec["connectionSpecification"]
    Draft7Validator.check_schema(schema)
    assert spec["documentationUrl"].startswith("https://")


def test_given_no_config_when_spec_then_required_fields_are_declared(spec: dict) -> None:
    schema = spec["connectionSpecification"]
    properties = schema["properties"]
    assert schema["required"] == ["start_date"]
    assert {"work_analytics", "contact_center"} <= properties.keys()
    assert sorted(properties["work_analytics"]["required"]) == ["api_key", "password", "username"]
    assert sorted(properties["contact_center"]["required"]) == ["api_key", "base_url"]


def test_given_no_config_when_spec_then_secrets_and_only_secrets_are_marked_airbyte_secret(spec: dict) -> None:
    properties = spec["connectionSpecification"]["properties"]
    marked = set()
    for block in ("work_analytics", "contact_center"):
        for name, field in properties[block]["properties"].items():
            if field.get("airbyte_secret"):
                marked.add(f"{block}.{name}")
    for name, field in properties.items():
        if field.get("airbyte_secret"):
            marked.add(name)
    assert marked == {"work_analytics.api_key", "work_analytics.password", "contact_center.api_key"}


@pytest.mark.parametrize("name", ["sample_config.json", "invalid_config.json"])
def test_given_fixture_config_when_validated_against_spec_then_valid(spec: dict, name: str) -> None:
    config = json.loads((HERE / name).read_text())
    errors = [error.message for error in Draft7Validator(spec["connectionSpecification"]).iter_errors(config)]
    assert not errors


# ---------------------------------------------------------------------------------------------------------
# check: success
# ---------------------------------------------------------------------------------------------------------


def test_given_good_config_for_both_apis_when_check_then_succeeded(emulator: Emulator, tmp_path: Path) -> None:
    status = _check(tmp_path, connector_config(emulator))
    assert status == {"status": "SUCCEEDED"}


@pytest.mark.parametrize("api", ["work_analytics", "contact_center"])
def test_given_good_config_for_one_api_when_check_then_succeeded(emulator: Emulator, tmp_path: Path, api: str) -> None:
    status = _check(tmp_path, connector_config(emulator, apis=(api,)))
    assert status == {"status": "SUCCEEDED"}


# ---------------------------------------------------------------------------------------------------------
# check: failures, one sentence each
# ---------------------------------------------------------------------------------------------------------


def test_given_wrong_work_analytics_key_when_check_then_failed_naming_sha001(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["work_analytics"]["api_key"] = WRONG_WA_KEY
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Work Analytics", "SHA001", "work_analytics.api_key")


def test_given_wrong_work_analytics_password_when_check_then_failed_naming_invalid_grant(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["work_analytics"]["password"] = WRONG_WA_PASSWORD
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Work Analytics", "invalid_grant", "work_analytics.password")


def test_given_pbx_without_access_when_check_then_failed_naming_the_pbx(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["work_analytics"]["pbx_ids"] = ["acmecorp", "rivalcorp"]
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Work Analytics", "rivalcorp", "work_analytics.pbx_ids")


def test_given_unreachable_work_analytics_host_when_check_then_failed_naming_base_url(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["work_analytics"]["base_url"] = _closed_port_url("/analytics/work")
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Work Analytics", "work_analytics.base_url")


def test_given_work_analytics_base_url_to_html_page_when_check_then_failed_naming_base_url(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["work_analytics"]["base_url"] = emulator.url + "/not-the-api"
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Work Analytics", "not JSON", "work_analytics.base_url")


def test_given_wrong_contact_center_key_when_check_then_failed_naming_the_key_field(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["contact_center"]["api_key"] = WRONG_CC_KEY
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Contact center", "Invalid User API Key", "contact_center.api_key")


def test_given_wrong_contact_center_base_url_when_check_then_failed_naming_base_url(emulator: Emulator, tmp_path: Path) -> None:
    config = connector_config(emulator)
    config["contact_center"]["base_url"] = emulator.url + "/wrong-cluster"
    status = _check(tmp_path, config)
    _assert_failed_with_one_sentence(status, "Contact center", "contact_center.base_url")


def test_given_invalid_config_fixture_when_check_against_the_emulator_then_failed_naming_both_apis(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = for_emulator(json.loads((HERE / "invalid_config.json").read_text()), emulator)
    status = _check(tmp_path, config)
    assert status["status"] == "FAILED"
    assert "Work Analytics" in status["message"] and "Contact center" in status["message"], status["message"]


# ---------------------------------------------------------------------------------------------------------
# discover
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def discovered_both(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    run = run_connector("discover", tmp_path_factory.mktemp("discover"), connector_config(emulator))
    assert run.returncode == 0, run.stderr[-2000:]
    return _discovered(run)


def test_given_both_apis_when_discover_then_every_stream(discovered_both: dict[str, dict]) -> None:
    assert sorted(discovered_both) == sorted(STREAMS)


@pytest.mark.parametrize(
    "api,expected",
    [("work_analytics", WORK_ANALYTICS_STREAMS), ("contact_center", CONTACT_CENTER_STREAMS)],
)
def test_given_one_api_when_discover_then_only_its_streams(emulator: Emulator, tmp_path: Path, api: str, expected: list[str]) -> None:
    run = run_connector("discover", tmp_path, connector_config(emulator, apis=(api,)))
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(_discovered(run)) == sorted(expected)


def test_given_both_apis_when_discover_then_cursors_and_sync_modes_are_as_documented(discovered_both: dict[str, dict]) -> None:
    for name, stream in discovered_both.items():
        if name in CURSORS:
            assert stream["supported_sync_modes"] == ["full_refresh", "incremental"], name
            assert stream["source_defined_cursor"] is True, name
            assert stream["default_cursor_field"] == [CURSORS[name]], name
            assert CURSORS[name] in stream["json_schema"]["properties"], name
        else:
            assert stream["supported_sync_modes"] == ["full_refresh"], name


def test_given_both_apis_when_discover_then_primary_keys_are_the_record_ids(discovered_both: dict[str, dict]) -> None:
    reported = {name: stream.get("source_defined_primary_key") for name, stream in discovered_both.items()}
    assert reported == {name: [[field] for field in primary_key_fields(name)] for name in STREAMS}


def test_given_both_apis_when_discover_then_primary_keys_exist_in_the_schemas(discovered_both: dict[str, dict]) -> None:
    for name, stream in discovered_both.items():
        assert set(primary_key_fields(name)) <= set(stream["json_schema"]["properties"]), name
