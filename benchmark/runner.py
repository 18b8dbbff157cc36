"""Running the measured processes: one subprocess each, its stdout counted in a pipe, its CPU time taken from
`os.wait4` (the rusage of that child alone, stdlib only) and its peak RSS from `/proc/<pid>/status` (`VmHWM`,
read with each chunk of output): `wait4`'s `ru_maxrss` would also count the forked copy of the benchmark
process that the child was before it started the command.

Counting costs the benchmark little: the CDK writes its output in ~0.1 s batches, each read here in 1 MiB
chunks where record lines are counted with `bytes.count`; only the few other lines (state, log, trace)
are parsed. Records are parsed only when a run asks to check them (`inspect`), which the small latency
runs do and the throughput runs do not.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import orjson

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
RECORD_PREFIX = b'{"type":"RECORD"'
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: Optional[int]) -> float:
    """User + system CPU seconds used so far by a running process (all its threads), from /proc."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime (fields 14 and 15 of stat)


def machine_busy_seconds() -> float:
    """CPU seconds spent busy so far by all CPUs of the machine (from the first line of /proc/stat)."""
    try:
        with open("/proc/stat", "rb") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICK  # without guest time, already counted in user


@dataclass
class Inspection:
    """What a checked run emitted: the records' cursor values and keys."""

    cursor_field: str
    key_field: str
    max_cursor: Any = None
    keys: set = field(default_factory=set)
    duplicates: int = 0

    def add(self, line: bytes) -> None:
        data = orjson.loads(line)["record"]["data"]
        cursor, key = data.get(self.cursor_field), data.get(self.key_field)
        if self.max_cursor is None or cursor > self.max_cursor:
            self.max_cursor = cursor
        if key in self.keys:
            self.duplicates += 1
        self.keys.add(key)


@dataclass
class ProcessRun:
    command: list[str]
    returncode: int = 0
    wall_seconds: float = 0.0
    records: int = 0
    states: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0
    max_rss_mb: float = 0.0
    peak_rss_kb: int = 0  # the greatest VmHWM read while the process ran
    emulator_cpu_seconds: float = 0.0
    other_cpu_seconds: float = 0.0  # CPU used meanwhile by everything else on the machine (contention)
    first_record_seconds: Optional[float] = None  # process start until its first record reached the pipe
    startup_cpu_seconds: float = 0.0  # CPU the process had used by then
    stderr_tail: str = ""
    last_other_line: bytes = b""  # the last line that is not an Airbyte record (the raw loop's result)
    inspection: Optional[Inspection] = None

    @property
    def startup_seconds(self) -> float:
        """Imports, manifest, login and the first page: until the first record (the CDK flushes every 0.1 s)."""
        return self.first_record_seconds if self.first_record_seconds is not None else self.wall_seconds

    @property
    def read_seconds(self) -> float:
        """From the first record to the end of the process."""
        return self.wall_seconds - self.startup_seconds

    @property
    def read_cpu_seconds(self) -> float:
        """CPU of the process from its first record to its end."""
        return self.cpu_seconds - self.startup_cpu_seconds

    @property
    def other_cpu_percent(self) -> float:
        """How much of a core other processes took during the run: above ~10 the figures are disturbed."""
        return 100 * self.other_cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.errors


def placement(cpus: Optional[set[int]], nice: int) -> Callable[[], None]:
    """A `preexec_fn`: the child dies with the benchmark, runs on `cpus` and with priority `nice`.

    With the kernel's autogroups (`/proc/sys/kernel/sched_autogroup_enabled`), CPU is shared between
    sessions first and niceness only orders the processes of one session, so for a negative `nice` the
    child starts a session of its own and sets that session's niceness too (`/proc/self/autogroup`).
    Without the right to do so, the child just runs at normal priority.
    """

    def place() -> None:
        try:  # PR_SET_PDEATHSIG: SIGTERM when the benchmark ends, even killed (the child has its own session)
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
        if cpus:
            os.sched_setaffinity(0, cpus)
        if nice:
            try:
                os.setsid()
                with open("/proc/self/autogroup", "w") as autogroup:
                    autogroup.write(str(nice))
            except OSError:
                pass
            try:
                os.setpriority(os.PRIO_PROCESS, 0, nice)
            except OSError:
                pass

    return place


def run_process(
    command: Sequence[str],
    *,
    cwd: str,
    env: dict[str, str],
    cpus: Optional[set[int]] = None,
    nice: int = 0,
    emulator_pid: Optional[int] = None,
    inspect: Optional[Inspection] = None,
    timeout: float = 900,
) -> ProcessRun:
    """Runs `command` to its end, counting what it prints; see the module docstring."""
    result = ProcessRun(command=list(command), inspection=inspect)
    preexec = placement(cpus, nice)
    with tempfile.TemporaryFile() as stderr:
        emulator_cpu_before = process_cpu_seconds(emulator_pid)
        busy_before, own_before = machine_busy_seconds(), _own_cpu_seconds()
        began = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr,
                                   stdin=subprocess.DEVNULL, preexec_fn=preexec)
        try:
            _read_output(process, result, inspect, began, timeout)
        except BaseException:  # Ctrl-C or a bug here: do not leave the reader running in its own session
            process.kill()
            process.wait()
            raise
        _, status, usage = os.wait4(process.pid, 0)
        result.wall_seconds = time.perf_counter() - began
        result.emulator_cpu_seconds = process_cpu_seconds(emulator_pid) - emulator_cpu_before
        busy, own = machine_busy_seconds() - busy_before, _own_cpu_seconds() - own_before
        process.returncode = result.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()  # type: ignore[union-attr]
        result.cpu_seconds = usage.ru_utime + usage.ru_stime
        result.max_rss_mb = (result.peak_rss_kb or usage.ru_maxrss) / 1024  # KiB on Linux
        result.other_cpu_seconds = max(0.0, busy - own - result.cpu_seconds - result.emulator_cpu_seconds)
        stderr.seek(0)
        result.stderr_tail = stderr.read()[-3000:].decode(errors="replace")
    return result


def peak_rss_kb(pid: int) -> int:
    """A process's own peak RSS in KiB (`VmHWM`, which starts anew at exec); 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def _read_output(process: subprocess.Popen, result: ProcessRun, inspect: Optional[Inspection], began: float, timeout: float) -> None:
    """Reads the child's stdout to its end (or the timeout), counting and collecting as it goes."""
    fd = process.stdout.fileno()  # type: ignore[union-attr]
    try:  # room for a few of the CDK's 0.1 s batches, should the benchmark be slow to read them
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    carry = b""
    while True:
        chunk = os.read(fd, 1 << 20)
        result.peak_rss_kb = max(result.peak_rss_kb, peak_rss_kb(process.pid))
        if not chunk:
            break
        if result.first_record_seconds is None and RECORD_PREFIX in chunk:
            result.first_record_seconds = time.perf_counter() - began
            result.startup_cpu_seconds = process_cpu_seconds(process.pid)
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        carry, complete = data[cut:], data[:cut]
        _consume(complete, result, inspect)
        if time.perf_counter() - began > timeout:
            process.kill()
            result.errors.append(f"killed after {timeout:.0f} s")
            break
    if carry:
        _consume(carry + b"\n", result, inspect)


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _consume(complete: bytes, result: ProcessRun, inspect: Optional[Inspection]) -> None:
    records = complete.count(RECORD_PREFIX)
    result.records += records
    if inspect is None and complete.count(b"\n") == records:
        return  # only records in this chunk: nothing else to look at
    for line in complete.split(b"\n"):
        if not line:
            continue
        if line.startswith(RECORD_PREFIX):
            if inspect is not None:
                inspect.add(line)
            continue
        result.last_other_line = line
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        kind = message.get("type")
        if kind == "STATE":
            result.states.append(message["state"])
        elif kind == "TRACE" and message["trace"].get("type") == "ERROR":
            result.errors.append(message["trace"]["error"].get("message") or "error")
