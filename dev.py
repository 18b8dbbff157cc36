#!/usr/bin/env python3
"""The project's two commands, on a fresh machine with only Python 3.11:

    python3 dev.py demo [--config secrets/config.json]   # sync the emulator (or a real account) into DuckDB
    python3 dev.py test                                  # every test: unit, emulator, integration, faults

Both create `.venv` (once, and again when setup.py or constraints.txt changes) and install the project into
it, with the exact versions of `constraints.txt`.
Other commands: `python3 dev.py bench` (the benchmark), `python3 dev.py emulator` (serve the emulator).
`bench` also creates `.venv-connector`: the connector alone, with only its own requirements, as the Docker image
and PyAirbyte (a venv per connector) install it. That is the process the benchmark measures; `.venv` also holds
the demo's PyAirbyte, whose Snowflake driver brings boto3, which requests-cache (a CDK dependency) imports when it is
installed: 7 MB more memory at start-up, 6-14 MB more at the peak of a read (measured on 2026-12-05).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
CONNECTOR_VENV = ROOT / ".venv-connector"  # the connector alone, for the benchmark (see the docstring)
# What a venv is built from: the requirements, the exact versions they were tested with, and the C source that
# the install compiles (into the package's folder: the install is editable).
INSTALL_INPUTS = ("setup.py", "constraints.txt", "source_8x8_cdr/fastpath/record_scan.c")


def ensure_venv(
    where: Path = VENV, extras: str = "[tests,demo]", what: str = "with its test and demo extras", compile_bytecode: bool = True
) -> None:
    """`where` holds the project (editable) with `extras`, at the versions of `constraints.txt`; without
    `compile_bytecode`, pip leaves each module to be compiled when first imported (a third faster to install)."""
    python, stamp = where / "bin" / "python", where / ".installed-from"
    wanted = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in INSTALL_INPUTS)).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    if not python.exists():
        print(f"Creating {where.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(where)
    print(f"Installing source-8x8-cdr {what} into {where.name} ...", flush=True)
    install = subprocess.run(
        [
            str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            *(() if compile_bytecode else ("--no-compile",)),
            "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}{extras}",
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:  # pip's output only matters when it failed
        print(install.stdout, install.stderr, sep="\n", file=sys.stderr)
        raise SystemExit(f"Installing into {where.name} failed (pip exited {install.returncode}).")
    stamp.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    targets = {
        "demo": ["-m", "demo", *rest],
        "test": ["-m", "pytest", "-n", "2", "-q", *rest],
        "bench": ["-m", "benchmark", *rest],
        "emulator": ["-m", "emulator", *rest],
    }
    if command not in targets:
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    ensure_venv()
    if command == "bench":
        ensure_venv(CONNECTOR_VENV, "", "alone")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(PYTHON), *targets[command]], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
