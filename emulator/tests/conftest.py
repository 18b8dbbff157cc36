from __future__ import annotations

import dataclasses
from typing import Callable, Iterator

import pytest

from emulator import Emulator, EmulatorConfig

from .clients import ContactCenterClient, WorkAnalyticsClient

# three full days in March 2024 (New York switches to daylight time on 2024-03-10 07:00 UTC)
BASE = dict(seed=42, start="2024-03-09T00:00:00Z", end="2024-03-12T00:00:00Z", now="2024-03-20T00:00:00Z",
            calls_per_day=300, cc_records_per_day=300)


def config(**overrides: object) -> EmulatorConfig:
    return EmulatorConfig(**{**BASE, **overrides})


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """A shared emulator for tests that do not change its settings (faults are cleared after each test)."""
    with Emulator(config()) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Undo what a test did to the shared emulator: faults, clock and run-time switches."""
    if "emu" not in request.fixturenames:
        yield
        return
    shared = request.getfixturevalue("emu")
    settings = dataclasses.asdict(shared.config)
    yield
    shared.clear_faults()
    shared.set_now(BASE["now"])
    for name, value in settings.items():
        setattr(shared.config, name, value)


@pytest.fixture
def make_emu() -> Iterator[Callable[..., Emulator]]:
    """Build an emulator with setting overrides; stopped after the test."""
    made: list[Emulator] = []

    def make(**overrides: object) -> Emulator:
        made.append(Emulator(config(**overrides)))
        return made[-1]

    yield make
    for emulator in made:
        emulator.stop()


@pytest.fixture
def wa(emu: Emulator) -> WorkAnalyticsClient:
    return WorkAnalyticsClient(emu)


@pytest.fixture
def cc(emu: Emulator) -> ContactCenterClient:
    return ContactCenterClient(emu)
