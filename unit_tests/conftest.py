"""Fixtures shared by the unit tests."""

from __future__ import annotations

import copy
import time
from typing import Iterator, List

import pytest
from airbyte_cdk.sources.declarative import concurrent_declarative_source


@pytest.fixture(autouse=True, scope="session")
def _component_schema_parsed_once() -> Iterator[None]:
    """The CDK parses its declarative component schema (a large YAML file in the CDK package) every time a source
    is built, which is about a third of a mock-server test. The file cannot change during a run: parse it once
    and hand each source its own copy."""
    schema = concurrent_declarative_source.get_declarative_component_schema()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(concurrent_declarative_source, "get_declarative_component_schema", lambda: copy.deepcopy(schema))
        yield


@pytest.fixture
def instant_sleep(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> List[float]:
    """Makes `time.sleep` return at once (after at most 10 ms) and lists the waits that were asked for.

    Retries back off (`Retry-After`, the CDK's exponential default) and slice restarts pause: real waits would
    make error tests slow. Apply it with `pytestmark = pytest.mark.usefixtures("instant_sleep")`; it works for
    `unittest.TestCase` classes too, where the list is `self.waits`. Short polls keep a tiny real sleep, so that
    no thread spins. The one way the tests skip waits: no module patches `time.sleep` on its own.
    """
    real_sleep = time.sleep
    requested: List[float] = []

    def fake_sleep(seconds: float) -> None:
        requested.append(seconds)
        real_sleep(min(seconds, 0.01))

    monkeypatch.setattr(time, "sleep", fake_sleep)
    if request.instance is not None:
        request.instance.waits = requested
    return requested
