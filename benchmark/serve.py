"""Runs one emulator in its own process for the benchmark: `python -m benchmark.serve '<json settings>'`.

Why not `python -m emulator --warm`: that renders every stream (call legs too, the slowest to generate),
while a run reads only call_records or only contact_center_cdrs from a given emulator. The streams listed
under "warm" are generated and serialized (`Emulator.warm`) *before* the server reports itself ready, so
no measured read pays for data generation. Prints one JSON line (URLs, credentials, warm-up seconds) and
serves until SIGTERM. The other settings are `EmulatorConfig` fields.
"""

from __future__ import annotations

import sys
import time

import orjson

from emulator import Emulator, EmulatorConfig


def main(argv: list[str]) -> int:
    settings = orjson.loads(argv[0])
    warm = tuple(settings.pop("warm", ()))  # e.g. ["call_records"]
    emulator = Emulator(EmulatorConfig(**settings))
    began = time.perf_counter()
    if warm:
        emulator.warm(warm, "UTC")
    print(orjson.dumps({
        "work_analytics_base_url": emulator.work_analytics_base_url,
        "contact_center_base_url": emulator.contact_center_base_url,
        "credentials": emulator.credentials,
        "warm_seconds": round(time.perf_counter() - began, 2),
        "cache": emulator.stats().get("cache"),
    }).decode(), flush=True)
    emulator.serve_until_terminated()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
