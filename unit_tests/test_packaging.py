"""Packaging consistency: metadata.yaml, acceptance-test-config.yml, Dockerfile, icon.svg and the docs page
agree with the package they describe (setup.py, manifest.yaml, the schemas, the discovered catalog, the
integration-test fixtures and every error message the connector can give).

Nothing here talks to a network: discovery builds the streams from a config without reading them.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import logging
import re
import uuid
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import yaml
from airbyte_cdk.models import AirbyteCatalog, SyncMode
from airbyte_cdk.models.connector_metadata import MetadataFile

from source_8x8_cdr.source import STREAMS_BY_API, SourceEightByEightCdr

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "source_8x8_cdr"
DOCS = ROOT / "docs" / "8x8-cdr.md"
BEHAVIOR = ROOT / "docs" / "BEHAVIOR.md"

BASE_IMAGE_PATTERN = re.compile(
    r"^docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$"
)
# From Airbyte's metadata schema (ConnectorMetadataDefinitionV0 and the files it references).
METADATA_REQUIRED = (
    "name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license",
    "documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage",
)
SUITES = {"unitTests", "integrationTests", "acceptanceTests", "liveTests"}
SL_VALUES = {0, 100, 200, 300}
QL_VALUES = {0, 100, 200, 300, 400, 500, 600}
ACCEPTANCE_SECTIONS = ("spec", "connection", "discovery", "basic_read", "incremental", "full_refresh")

# What the docs promise for each stream: (primary key, cursor field or None).
DOCUMENTED_STREAMS = {
    "call_records": ("callId", "startTimeUTC"),
    "call_legs": ("legId", "startTimeUTC"),
    "contact_center_cdrs": ("uuid", "timestamp"),
    "contact_center_agents": ("id", None),
    "contact_center_queues": ("id", None),
    "contact_center_teams": ("id", None),
    "contact_center_campaigns": ("id", None),
    "contact_center_deleted_agents": ("id", None),
    "contact_center_wrapup_codes": ("code", None),
    "work_analytics_pbxes": ("id", None),
    "work_analytics_extension_daily": (("PbxId", "Extension", "day"), "day"),
    "work_analytics_ring_group_daily": (("pbxId", "extension", "day"), "day"),
    "work_analytics_ring_group_member_daily": (("pbxId", "extension", "memberExtension", "day"), "day"),
    "work_analytics_company_daily": (("day",), "day"),
}


def _key_fields(primary_key: Any) -> tuple:
    """A documented primary key as its fields: one name, or a tuple of them."""
    return primary_key if isinstance(primary_key, tuple) else (primary_key,)


# ---------------------------------------------------------------------------------------------------------
# Loading (each file once)
# ---------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _metadata() -> Dict[str, Any]:
    return _yaml(ROOT / "metadata.yaml")


def _data() -> Dict[str, Any]:
    return _metadata()["data"]


def _acceptance() -> Dict[str, Any]:
    return _yaml(ROOT / "acceptance-test-config.yml")


def _manifest() -> Dict[str, Any]:
    return _yaml(PACKAGE / "manifest.yaml")


def _connection_spec() -> Dict[str, Any]:
    return _manifest()["spec"]["connection_specification"]


@lru_cache(maxsize=None)
def _setup_call() -> Dict[str, Any]:
    """The keyword arguments of `setup(...)` in setup.py that are literals (read, not executed)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            found = {}
            for keyword in node.keywords:
                try:
                    found[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    continue  # names such as MAIN_REQUIREMENTS
            return found
    raise AssertionError("setup.py has no setup(...) call")


def _version() -> str:
    return _setup_call()["version"]


def _console_scripts() -> Dict[str, str]:
    scripts = _setup_call()["entry_points"]["console_scripts"]
    return dict(entry.replace(" ", "").split("=", 1) for entry in scripts)


def _docker_image_name() -> str:
    return _data()["dockerRepository"].split("/", 1)[1]


@lru_cache(maxsize=None)
def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _docs() -> str:
    return DOCS.read_text()


def _discovery_config() -> Dict[str, Any]:
    # Building the streams registers these values with the CDK's process-wide secret filter: they must be
    # strings that no other test's output could contain.
    start = (datetime.now(timezone.utc) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "start_date": start,
        "work_analytics": {
            "api_key": "packaging-test-wa-key-5c1d9e",
            "username": "packaging-test-user@example.com",
            "password": "packaging-test-password-8b2f47",
        },
        "contact_center": {"api_key": "packaging-test-cc-key-3a7e02", "base_url": "https://cc-ams03.voiso.com"},
    }


@lru_cache(maxsize=None)
def _discovered() -> AirbyteCatalog:
    config = _discovery_config()
    source = SourceEightByEightCdr(config=config)
    return source.discover(logging.getLogger("airbyte"), config)


def _discovered_streams() -> Dict[str, Any]:
    return {stream.name: stream for stream in _discovered().streams}


def _manifest_stream_names() -> List[str]:
    definitions = _manifest()["definitions"]
    names = []
    for entry in _manifest()["streams"]:
        reference = entry["$ref"]
        assert reference.startswith("#/definitions/"), reference
        names.append(definitions[reference.split("/")[-1]]["name"])
    return names


def _acceptance_tests() -> Iterator[Tuple[str, Dict[str, Any]]]:
    for section, body in _acceptance()["acceptance_tests"].items():
        for test in body.get("tests", []):
            yield section, test


def _test_secret_files() -> set:
    files = set()
    for suite in _data().get("connectorTestSuitesOptions", []):
        for secret in suite.get("testSecrets", []) or []:
            files.add(f"secrets/{secret['fileName']}")
    return files


def _json_lines(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------------
# metadata.yaml
# ---------------------------------------------------------------------------------------------------------


class TestMetadata:
    def test_given_metadata_when_loaded_with_the_cdk_model_then_it_validates(self) -> None:
        metadata = MetadataFile.from_file(ROOT / "metadata.yaml")
        assert metadata.data.language.value == "python"

    def test_given_metadata_then_every_registry_required_field_is_set(self) -> None:
        assert _metadata()["metadataSpecVersion"] == "1.0"
        missing = [name for name in METADATA_REQUIRED if not _data().get(name)]
        assert not missing, f"metadata.yaml lacks {missing}"

    def test_given_metadata_then_it_describes_a_community_alpha_python_api_source(self) -> None:
        data = _data()
        assert data["connectorType"] == "source"
        assert data["connectorSubtype"] == "api"
        assert data["releaseStage"] == "alpha"
        assert data["supportLevel"] == "community"
        assert {"language:python", "cdk:low-code"} <= set(data["tags"])
        assert data["githubIssueLabel"] == _docker_image_name()
        date.fromisoformat(data["releaseDate"])

    def test_given_definition_id_then_it_is_a_canonical_random_uuid(self) -> None:
        value = _data()["definitionId"]
        parsed = uuid.UUID(value)
        assert str(parsed) == value, "write the UUID in lower case with hyphens"
        assert parsed.version == 4

    def test_given_docker_image_tag_then_it_equals_the_setup_py_version(self) -> None:
        assert _data()["dockerImageTag"] == _version()

    def test_given_docker_repository_then_it_names_the_console_script(self) -> None:
        assert _data()["dockerRepository"] == "airbyte/source-8x8-cdr"
        assert _docker_image_name() in _console_scripts()
        assert _setup_call()["name"] == _docker_image_name()

    def test_given_license_then_it_equals_the_setup_py_license(self) -> None:
        assert _data()["license"] == _setup_call()["license"] == "MIT"

    def test_given_documentation_url_then_it_equals_the_spec_documentation_url(self) -> None:
        assert _data()["documentationUrl"] == _manifest()["spec"]["documentation_url"]
        assert _data()["documentationUrl"] == "https://docs.airbyte.com/integrations/sources/8x8-cdr"

    def test_given_the_icon_then_it_is_an_svg_file_next_to_metadata(self) -> None:
        icon = ROOT / _data()["icon"]
        root = ElementTree.parse(icon).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox"), "a viewBox lets the icon scale"

    def test_given_suggested_streams_then_each_is_a_stream_of_the_manifest(self) -> None:
        suggested = _data()["suggestedStreams"]["streams"]
        assert suggested == ["call_records", "call_legs", "contact_center_cdrs"]
        assert set(suggested) <= set(_manifest_stream_names())

    def test_given_allowed_hosts_then_both_api_hosts_are_allowed(self) -> None:
        hosts = _data()["allowedHosts"]["hosts"]
        assert hosts == ["api.8x8.com", "*.voiso.com"]
        work_analytics_default = _connection_spec()["properties"]["work_analytics"]["properties"]["base_url"]["default"]
        contact_center_examples = _connection_spec()["properties"]["contact_center"]["properties"]["base_url"]["examples"]
        for url in [work_analytics_default, *contact_center_examples]:
            host = urlsplit(url).hostname
            assert any(fnmatch.fnmatch(host, pattern) for pattern in hosts), f"{host} is not an allowed host"

    def test_given_the_base_image_then_it_is_a_pinned_python_connector_base(self) -> None:
        assert BASE_IMAGE_PATTERN.match(_data()["connectorBuildOptions"]["baseImage"])

    def test_given_registries_then_pypi_and_both_registries_are_configured(self) -> None:
        data = _data()
        assert data["remoteRegistries"]["pypi"] == {"enabled": True, "packageName": f"airbyte-{_docker_image_name()}"}
        assert data["registryOverrides"]["oss"]["enabled"] is True
        assert data["registryOverrides"]["cloud"]["enabled"] is True

    def test_given_internal_levels_then_they_are_allowed_values(self) -> None:
        assert _data()["ab_internal"]["sl"] in SL_VALUES
        assert _data()["ab_internal"]["ql"] in QL_VALUES

    def test_given_test_suites_then_unit_integration_and_acceptance_suites_are_declared_once(self) -> None:
        suites = [suite["suite"] for suite in _data()["connectorTestSuitesOptions"]]
        assert len(suites) == len(set(suites))
        assert set(suites) <= SUITES
        assert {"unitTests", "integrationTests", "acceptanceTests"} <= set(suites)
        assert any((ROOT / "unit_tests").glob("test_*.py")) and any((ROOT / "integration_tests").glob("test_*.py"))

    def test_given_releases_then_breaking_changes_name_later_versions_only(self) -> None:
        releases = _data().get("releases", {})
        for version in (releases.get("breakingChanges") or {}):
            assert tuple(map(int, version.split("."))) <= tuple(map(int, _version().split(".")))

    def test_given_max_seconds_between_messages_then_a_full_rate_limit_wait_fits(self) -> None:
        retry_rules = _manifest()["definitions"]["retry_rules"]
        longest_wait = retry_rules["backoff_strategies"][0]["max_waiting_time_in_seconds"]
        assert _data()["maxSecondsBetweenMessages"] >= longest_wait


# ---------------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------------


class TestDockerfile:
    def test_given_every_from_line_then_it_is_the_metadata_base_image(self) -> None:
        images = re.findall(r"^FROM\s+(\S+)", _dockerfile(), flags=re.MULTILINE)
        assert images, "the Dockerfile has no FROM line"
        assert set(images) == {_data()["connectorBuildOptions"]["baseImage"]}

    def test_given_the_entrypoint_then_it_is_the_console_script_of_setup_py(self) -> None:
        assert _console_scripts()["source-8x8-cdr"] == "source_8x8_cdr.run:run"
        assert re.search(r'^ENV AIRBYTE_ENTRYPOINT="source-8x8-cdr"$', _dockerfile(), flags=re.MULTILINE)
        assert re.search(r'^ENTRYPOINT \["source-8x8-cdr"\]$', _dockerfile(), flags=re.MULTILINE)

    def test_given_the_copied_paths_then_they_exist_and_include_the_package(self) -> None:
        sources = []
        for line in re.findall(r"^COPY\s+(?!--from)(.+)$", _dockerfile(), flags=re.MULTILINE):
            sources.extend(line.split()[:-1])
        assert "setup.py" in sources and "source_8x8_cdr" in sources
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"

    def test_given_the_install_step_then_it_installs_the_package_with_the_tested_versions(self) -> None:
        assert re.search(r"^RUN pip install (--no-cache-dir )?-c constraints\.txt \.$", _dockerfile(), flags=re.MULTILINE)

    def test_given_the_cdk_requirement_then_it_is_the_exact_version_of_the_constraints(self) -> None:
        pinned = re.search(r'"airbyte-cdk==([0-9.]+)"', (ROOT / "setup.py").read_text())
        tested = re.search(r"^airbyte-cdk==([0-9.]+)$", (ROOT / "constraints.txt").read_text(), flags=re.MULTILINE)
        assert pinned and tested and pinned.group(1) == tested.group(1)

    def test_given_the_labels_then_they_match_metadata(self) -> None:
        assert f"LABEL io.airbyte.version={_version()}" in _dockerfile()
        assert f"LABEL io.airbyte.name={_data()['dockerRepository']}" in _dockerfile()

    def test_given_package_data_then_manifest_and_schemas_are_installed_with_the_package(self) -> None:
        package_data = _setup_call()["package_data"]["source_8x8_cdr"]
        assert "manifest.yaml" in package_data and "schemas/*.json" in package_data


# ---------------------------------------------------------------------------------------------------------
# The package itself: streams, schemas, catalog
# ---------------------------------------------------------------------------------------------------------


class TestStreams:
    def test_given_the_manifest_then_its_streams_are_those_of_the_source_and_the_docs(self) -> None:
        names = _manifest_stream_names()
        assert len(names) == len(set(names))
        assert set(names) == {name for group in STREAMS_BY_API.values() for name in group}
        assert set(names) == set(DOCUMENTED_STREAMS)

    def test_given_each_stream_then_it_has_a_json_schema_file(self) -> None:
        schema_files = {path.stem for path in (PACKAGE / "schemas").glob("*.json")}
        assert schema_files == set(_manifest_stream_names())

    def test_given_discovery_then_every_stream_has_its_documented_primary_key_and_cursor(self) -> None:
        streams = _discovered_streams()
        assert set(streams) == set(DOCUMENTED_STREAMS)
        for name, (primary_key, cursor) in DOCUMENTED_STREAMS.items():
            stream = streams[name]
            assert stream.source_defined_primary_key == [[field] for field in _key_fields(primary_key)], (
                f"{name}: the catalog announces the primary key {stream.source_defined_primary_key}"
            )
            if cursor:
                assert stream.default_cursor_field == [cursor]
                assert stream.source_defined_cursor
                assert set(stream.supported_sync_modes) == {SyncMode.full_refresh, SyncMode.incremental}
            else:
                assert stream.supported_sync_modes == [SyncMode.full_refresh]

    def test_given_each_schema_then_primary_key_and_cursor_are_declared_properties(self) -> None:
        for name, (primary_key, cursor) in DOCUMENTED_STREAMS.items():
            properties = json.loads((PACKAGE / "schemas" / f"{name}.json").read_text())["properties"]
            assert set(_key_fields(primary_key)) <= set(properties), f"{name}: no property {primary_key}"
            if cursor:
                assert cursor in properties, f"{name}: no property {cursor}"


# ---------------------------------------------------------------------------------------------------------
# acceptance-test-config.yml and the fixtures it names
# ---------------------------------------------------------------------------------------------------------


class TestAcceptanceConfig:
    def test_given_the_config_then_it_tests_the_dev_image_at_high_strictness(self) -> None:
        assert _acceptance()["connector_image"] == f"{_data()['dockerRepository']}:dev"
        assert _acceptance()["test_strictness_level"] == "high"

    def test_given_the_config_then_every_section_has_tests(self) -> None:
        sections = _acceptance()["acceptance_tests"]
        for section in ACCEPTANCE_SECTIONS:
            assert sections.get(section, {}).get("tests"), f"no {section} tests"

    def test_given_every_referenced_file_then_it_exists_or_is_a_declared_test_secret(self) -> None:
        secrets = _test_secret_files()
        for section, test in _acceptance_tests():
            paths = [value for key, value in test.items() if key.endswith("_path")]
            paths += [test[key]["path"] for key in ("expect_records",) if key in test]
            paths += [test[key]["future_state_path"] for key in ("future_state",) if key in test]
            for path in paths:
                assert path in secrets or (ROOT / path).is_file(), f"{section}: {path} does not exist"

    def test_given_the_spec_test_then_it_reads_the_manifest_spec(self) -> None:
        (test,) = _acceptance()["acceptance_tests"]["spec"]["tests"]
        assert (ROOT / test["spec_path"]).resolve() == (PACKAGE / "manifest.yaml").resolve()

    def test_given_connection_tests_then_one_succeeds_and_the_invalid_config_fails(self) -> None:
        statuses = {test["config_path"]: test["status"] for test in _acceptance()["acceptance_tests"]["connection"]["tests"]}
        assert statuses.get("integration_tests/invalid_config.json") == "failed"
        assert "succeed" in statuses.values()

    def test_given_basic_read_then_expected_records_are_compared_in_any_order(self) -> None:
        (test,) = _acceptance()["acceptance_tests"]["basic_read"]["tests"]
        assert test["expect_records"]["path"] == "integration_tests/expected_records.jsonl"
        assert test["expect_records"].get("exact_order", False) is False

    def test_given_the_incremental_test_then_it_uses_the_abnormal_state_and_a_catalog(self) -> None:
        (test,) = _acceptance()["acceptance_tests"]["incremental"]["tests"]
        assert test["future_state"]["future_state_path"] == "integration_tests/abnormal_state.json"
        assert test["configured_catalog_path"] == "integration_tests/configured_catalog.json"

    def test_given_the_configured_catalog_then_it_matches_discovery(self) -> None:
        streams = _discovered_streams()
        catalog = json.loads((ROOT / "integration_tests" / "configured_catalog.json").read_text())
        for entry in catalog["streams"]:
            name = entry["stream"]["name"]
            assert name in streams, f"configured_catalog.json names an unknown stream {name}"
            primary_key, cursor = DOCUMENTED_STREAMS[name]
            assert entry.get("primary_key") in (None, [[field] for field in _key_fields(primary_key)]), name
            if entry["sync_mode"] == "incremental":
                assert cursor and entry["cursor_field"] == [cursor], name
                assert entry["destination_sync_mode"] == "append_dedup", f"{name}: the docs recommend deduplication"

    def test_given_the_abnormal_state_then_it_lies_beyond_any_lookback_of_today(self) -> None:
        state = json.loads((ROOT / "integration_tests" / "abnormal_state.json").read_text())
        incremental = {name for name, (_, cursor) in DOCUMENTED_STREAMS.items() if cursor}
        limit = _connection_spec()["properties"]["lookback_window_minutes"]["maximum"]
        latest_useful = datetime.now(timezone.utc) + timedelta(minutes=limit)
        seen = set()
        for message in state:
            assert message["type"] == "STREAM"
            name = message["stream"]["stream_descriptor"]["name"]
            assert name in incremental, f"abnormal_state.json has state for {name}, which is not incremental"
            cursor = DOCUMENTED_STREAMS[name][1]
            value = message["stream"]["stream_state"][cursor]
            moment = datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=timezone.utc)
            assert moment > latest_useful, f"{name}: {value} is within reach of a lookback"
            seen.add(name)
        assert seen == incremental

    def test_given_expected_records_then_they_belong_to_streams_of_the_catalog(self) -> None:
        catalog = json.loads((ROOT / "integration_tests" / "configured_catalog.json").read_text())
        names = {entry["stream"]["name"] for entry in catalog["streams"]}
        records = _json_lines(ROOT / "integration_tests" / "expected_records.jsonl")
        assert records
        for record in records:
            assert record["stream"] in names
            primary_key = DOCUMENTED_STREAMS[record["stream"]][0]
            assert set(_key_fields(primary_key)) <= set(record["data"]), f"{record['stream']} record without {primary_key}"

    def test_given_the_sample_and_invalid_configs_then_both_are_well_formed(self) -> None:
        from source_8x8_cdr.config import validate_config

        for name in ("sample_config.json", "invalid_config.json"):
            config = json.loads((ROOT / "integration_tests" / name).read_text())
            validate_config(config)  # invalid_config.json fails at the APIs, not in validation


# ---------------------------------------------------------------------------------------------------------
# docs/8x8-cdr.md and docs/BEHAVIOR.md
# ---------------------------------------------------------------------------------------------------------


def _spec_keys(properties: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, body in properties.items():
        key = f"{prefix}{name}"
        yield key
        if body.get("type") == "object" and "properties" in body:
            yield from _spec_keys(body["properties"], prefix=f"{key}.")


def _string_fragments(node: Optional[ast.AST]) -> Iterator[str]:
    """The literal text of a message expression: whole strings, and the constant parts of f-strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                yield part.value
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _string_fragments(value)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _string_fragments(node.left)
        yield from _string_fragments(node.right)


# Functions whose return values are messages a user sees.
_MESSAGE_FUNCTIONS = {"_login_failure_message", "_probe", "_unreadable_file_problem", "unknown_pbx_ids"}


def _python_message_fragments(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "ConfigError" and node.args:
                yield from _string_fragments(node.args[0])
            elif name in ("AirbyteTracedException", "ErrorResolution"):
                for keyword in node.keywords:
                    if keyword.arg in ("message", "error_message"):
                        yield from _string_fragments(keyword.value)
        elif isinstance(node, ast.FunctionDef) and node.name in _MESSAGE_FUNCTIONS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return):
                    yield from _string_fragments(inner.value)
                elif isinstance(inner, ast.BoolOp):
                    yield from _string_fragments(inner)


def _manifest_message_fragments(node: Any = None) -> Iterator[str]:
    node = _manifest() if node is None else node
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "error_message" and isinstance(value, str):
                yield from re.split(r"\{\{.*?\}\}", value)
            else:
                yield from _manifest_message_fragments(value)
    elif isinstance(node, list):
        for item in node:
            yield from _manifest_message_fragments(item)


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _connector_messages() -> List[Tuple[str, str]]:
    found = []
    for path in (PACKAGE / "config.py", PACKAGE / "source.py", PACKAGE / "run.py", PACKAGE / "state.py", *sorted((PACKAGE / "components").glob("*.py"))):
        found += [(path.relative_to(PACKAGE).as_posix(), fragment) for fragment in _python_message_fragments(path)]
    found += [("manifest.yaml", fragment) for fragment in _manifest_message_fragments()]
    # Punctuation and short connecting words between placeholders carry no meaning of their own.
    return [(origin, fragment) for origin, fragment in found if len(fragment.strip(" .,:;()`'\"")) >= 12]


class TestDocs:
    def test_given_the_docs_then_every_setup_field_is_documented(self) -> None:
        missing = [key for key in _spec_keys(_connection_spec()["properties"]) if f"`{key}`" not in _docs()]
        assert not missing, f"docs/8x8-cdr.md does not describe {missing}"

    def test_given_the_docs_then_every_stream_row_names_its_primary_key_and_cursor(self) -> None:
        rows = {line.split("|")[1].strip(" `"): line for line in _docs().splitlines() if line.startswith("| `")}
        for name, (primary_key, cursor) in DOCUMENTED_STREAMS.items():
            assert name in rows, f"the streams table has no row for {name}"
            assert all(f"`{field}`" in rows[name] for field in _key_fields(primary_key)), name
            if cursor:
                assert f"`{cursor}`" in rows[name] and "Incremental" in rows[name]

    def test_given_the_docs_then_every_error_message_of_the_connector_is_in_troubleshooting(self) -> None:
        docs = _normalised(_docs())
        missing = [f"{origin}: {fragment!r}" for origin, fragment in _connector_messages() if _normalised(fragment) not in docs]
        assert not missing, "docs/8x8-cdr.md lacks these messages:\n" + "\n".join(missing)

    def test_given_the_message_scan_then_it_finds_messages_in_every_source_file(self) -> None:
        origins = {origin for origin, _ in _connector_messages()}
        assert {"config.py", "source.py", "run.py", "state.py", "manifest.yaml", "components/auth.py", "components/summaries.py"} <= origins

    def test_given_the_docs_then_the_limits_match_the_spec(self) -> None:
        properties = _connection_spec()["properties"]
        page_size = properties["work_analytics"]["properties"]["page_size"]["maximum"]
        per_page = properties["contact_center"]["properties"]["per_page"]["maximum"]
        docs = _normalised(_docs())
        assert f"up to {page_size} rows" in docs
        assert f"up to {per_page:,} records" in docs
        assert "search_token" in docs and "10,000" in docs

    def test_given_the_docs_then_every_default_concurrency_they_state_is_the_specs(self) -> None:
        default = _connection_spec()["properties"]["concurrency"]["default"]
        stated = re.compile(r"(?i)\bconcurrency\b[^.\n]{0,40}?\bdefault\b\D{0,20}?(\d+)|default concurrency of (\d+)|requests at once \((\d+)\)")
        found = {path.name: [int(m.group(1) or m.group(2) or m.group(3)) for m in stated.finditer(path.read_text())] for path in (ROOT / "README.md", DOCS, BEHAVIOR)}
        assert all(found.values()), f"a document no longer states the default concurrency: {found}"
        assert {value for values in found.values() for value in values} == {default}, found

    def test_given_the_changelog_then_it_has_the_current_version(self) -> None:
        changelog = _docs().split("## Changelog", 1)[1]
        assert re.search(rf"^\| {re.escape(_version())} \| \d{{4}}-\d{{2}}-\d{{2}} \|", changelog, flags=re.MULTILINE)

    def test_given_the_docs_then_its_sections_are_present(self) -> None:
        for heading in (
            "## Prerequisites", "## Setup guide", "## Setup fields", "## Supported sync modes",
            "## Supported streams", "## Incremental sync", "## Performance considerations and limits",
            "## Troubleshooting", "## Data type notes", "## Changelog",
        ):
            assert heading in _docs(), heading
        assert BEHAVIOR.read_text().startswith("# source-8x8-cdr")
