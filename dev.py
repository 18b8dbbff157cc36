#!/usr/bin/env python3
"""The project's two commands, on a fresh machine with only Python 3.11:

    python3 dev.py demo [--config secrets/config.json]   # sync the emulator (or a real account) into DuckDB
    python3 dev.py test                                  # every test: unit, emulator, integration, faults

Both create `.venv` (once, and again when setup.py or constraints.txt changes) and install the project into
it, with the exact versions of `constraints.txt`.
Other commands: `python3 dev.py bench` (the benchmark), `python3 dev.py emulator` (serve the emulator).
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
STAMP = VENV / ".installed-from"
# What the venv is built from: the requirements and the exact versions they were tested with.
INSTALL_INPUTS = ("setup.py", "constraints.txt")


def ensure_venv() -> None:
    wanted = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in INSTALL_INPUTS)).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing source-8x8-cdr with its test and demo extras into .venv ...", flush=True)
    install = subprocess.run(
        [
            str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[tests,demo]",
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:  # pip's output only matters when it failed
        print(install.stdout, install.stderr, sep="\n", file=sys.stderr)
        raise SystemExit(f"Installing into .venv failed (pip exited {install.returncode}).")
    STAMP.write_text(wanted)


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
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(PYTHON), *targets[command]], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
