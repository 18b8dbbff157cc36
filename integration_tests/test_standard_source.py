"""The CDK's standard source tests (`SourceTestSuiteBase`), run offline against a live emulator.

How the suite is fed, and why:

* Scenarios. The CDK collects them with `get_scenarios()` at collection time, from `acceptance-test-config.yml`,
  whose configs point at the real vendor hosts. Here they point at an emulator that exists only once a fixture
  has started it, on a port picked at that moment. So each scenario names a config *file* (`config_path`), in a
  directory private to this pytest process, and the class fixture `_emulator_configs` writes the files once the
  emulator runs. The scenario's id is the file's stem, so both pytest-xdist workers collect the same test ids.
* Connector. `run_test_job` calls `create_connector(scenario)`; the source reads its config in the constructor
  (as `run.py` does), so `create_connector` passes the scenario's config in.
* Docker image tests need a network to build the image: they are skipped here (CI runs them).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401  # parametrizes `scenario`
from emulator import Emulator
from integration_tests.conftest import connector_config, emulator_config
from source_8x8_cdr.source import SourceEightByEightCdr

CONFIG_DIR = Path(tempfile.gettempdir()) / f"source-8x8-cdr-standard-tests-{os.getpid()}"
GOOD_CONFIG = CONFIG_DIR / "emulator_config.json"
INVALID_CONFIG = CONFIG_DIR / "emulator_invalid_config.json"
DOCKER_SKIP = "Docker image tests build the image from the network; they run in CI, not against the emulator."


def _good_config(emu: Emulator) -> dict:
    return connector_config(emu)


def _invalid_config(emu: Emulator) -> dict:
    config = connector_config(emu)
    config["work_analytics"]["api_key"] = "invalid+8x8/api=key"
    config["contact_center"]["api_key"] = "invalid+contact/center=key"
    return config


class TestSourceEightByEightCdrStandard(SourceTestSuiteBase):
    connector = SourceEightByEightCdr

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        return [
            ConnectorTestScenario(config_path=GOOD_CONFIG, status="succeed"),
            ConnectorTestScenario(config_path=INVALID_CONFIG, status="failed"),
        ]

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourceEightByEightCdr:
        config = None
        if scenario is not None:
            config = scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True) or None
        return SourceEightByEightCdr(config=config)

    @pytest.fixture(scope="class", autouse=True)
    def _emulator_configs(self) -> Iterator[Emulator]:
        """Starts a small emulator and writes the scenario configs that point at it."""
        with Emulator(emulator_config(calls_per_day=20, cc_records_per_day=20)) as emu:
            CONFIG_DIR.mkdir(parents=True, exist_ok=True)
            GOOD_CONFIG.write_text(json.dumps(_good_config(emu)))
            INVALID_CONFIG.write_text(json.dumps(_invalid_config(emu)))
            try:
                yield emu
            finally:
                shutil.rmtree(CONFIG_DIR, ignore_errors=True)

    # The image tests of `DockerConnectorTestSuite`.

    @pytest.mark.skip(reason=DOCKER_SKIP)
    def test_docker_image_build_and_spec(self, *args: Any, **kwargs: Any) -> None: ...

    @pytest.mark.skip(reason=DOCKER_SKIP)
    def test_docker_image_spec_backward_compatibility(self, *args: Any, **kwargs: Any) -> None: ...

    @pytest.mark.skip(reason=DOCKER_SKIP)
    def test_docker_image_build_and_check(self, scenario: ConnectorTestScenario) -> None: ...

    @pytest.mark.skip(reason=DOCKER_SKIP)
    def test_docker_image_build_and_config_matches_spec(self, scenario: ConnectorTestScenario) -> None: ...

    @pytest.mark.skip(reason=DOCKER_SKIP)
    def test_docker_image_build_and_discover(self, scenario: ConnectorTestScenario) -> None: ...

    @pytest.mark.skip(reason=DOCKER_SKIP)
    def test_docker_image_build_and_read(self, scenario: ConnectorTestScenario) -> None: ...
