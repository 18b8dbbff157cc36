"""PyAirbyte, driven offline: the connector installed in this virtualenv, a local DuckDB cache.

Import this module only after `demo.offline.prepare()`; it imports `airbyte`.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from demo import offline
from demo.output import Console, DemoError
from demo.progress import StatusLine, TrackerFactory, is_live
from demo.streams import BY_NAME

offline.check()

import airbyte  # noqa: E402  (after the offline check, on purpose)
import airbyte.sources.base as pyairbyte_sources  # noqa: E402
from airbyte.caches import DuckDBCache  # noqa: E402

CONNECTOR = "source-8x8-cdr"


def connector_executable() -> Path:
    """The `source-8x8-cdr` command installed next to this Python (`pip install -e .` puts it there)."""
    beside = Path(sys.executable).with_name(CONNECTOR)
    found = beside if beside.exists() else shutil.which(CONNECTOR)
    if not found:
        raise DemoError(f"`{CONNECTOR}` is not installed in this environment: run `python3 dev.py demo`.")
    return Path(found)


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Captures what PyAirbyte prints around a sync.

    Its chatter is the log file's path, `Using local executable`, `Completed ... sync at` and a hint
    about `force_full_refresh` on the second run. The demo prints its own account of the sync; the
    captured text is shown if a sync fails.
    """
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        yield captured


@contextlib.contextmanager
def _tracked_by(factory: TrackerFactory) -> Iterator[None]:
    """Makes `Source.read` build its progress tracker with `factory`.

    `Source.read` has no parameter for a tracker; it calls the `ProgressTracker` name of its module.
    """
    original = pyairbyte_sources.ProgressTracker
    pyairbyte_sources.ProgressTracker = factory  # type: ignore[misc, assignment]
    try:
        yield
    finally:
        pyairbyte_sources.ProgressTracker = original  # type: ignore[misc]


@dataclass
class SyncRun:
    """What one sync read, and how long it took."""

    read_counts: dict[str, int]
    seconds: float
    reading_seconds: float
    writing_seconds: float

    @property
    def records(self) -> int:
        return sum(self.read_counts.values())


class DemoSync:
    """The connector as a PyAirbyte source with all its streams selected, and the DuckDB cache."""

    def __init__(self, config: Mapping[str, Any], db_path: Path, console: Console) -> None:
        self.console = console
        self._workdir = tempfile.TemporaryDirectory(prefix="8x8-demo-")
        with quiet() as captured:
            try:
                self.source = airbyte.get_source(
                    CONNECTOR, config=dict(config), local_executable=connector_executable(), install_if_missing=False
                )
                self.source.select_all_streams()
            except airbyte.exceptions.PyAirbyteError as error:
                raise _failure(error, captured.getvalue()) from error
        self.streams = list(self.source.get_selected_streams())
        self._use_known_primary_keys()
        self.cache = DuckDBCache(db_path=str(db_path), cache_dir=Path(self._workdir.name))

    def _use_known_primary_keys(self) -> None:
        """Warns about, and overrides, a primary key the connector declares differently from the demo.

        The cache deduplicates on the declared key, and the demo counts new records by it.
        """
        declared = {s.name: s.source_defined_primary_key for s in self.source.discovered_catalog.streams}
        for name in self.streams:
            info = BY_NAME.get(name)
            if info and declared.get(name) != [[info.primary_key]]:
                self.console.problem(
                    f"warning: the connector declares primary key {declared.get(name)} for {name}; "
                    f"the demo uses {info.primary_key!r}."
                )
                self.source.set_primary_key(name, info.primary_key)

    def set_config(self, config: Mapping[str, Any]) -> None:
        with quiet():
            self.source.set_config(dict(config), validate=False)

    def check(self) -> None:
        with quiet() as captured:
            try:
                self.source.check()
            except airbyte.exceptions.PyAirbyteError as error:
                raise _failure(error, captured.getvalue()) from error

    def run(self) -> SyncRun:
        """One sync of every selected stream into the cache: incremental where the cache holds state.

        PyAirbyte's own config validation is skipped: it would start the connector once more for its
        spec, and the connector checks its config anyway (`source_8x8_cdr/config.py`), naming the field.
        """
        status = StatusLine(self.console.err, self.console.redact, live=is_live(self.console.err))
        factory = TrackerFactory(status, expected_streams_count=len(self.streams))
        started = time.monotonic()
        try:
            with quiet() as captured, _tracked_by(factory):
                self.source.read(cache=self.cache, skip_validation=True)
        except airbyte.exceptions.PyAirbyteError as error:
            raise _failure(error, captured.getvalue()) from error
        finally:
            if factory.tracker:
                factory.tracker.finish()
        tracker = factory.tracker
        assert tracker is not None
        return SyncRun(
            read_counts={name: tracker.stream_read_counts.get(name, 0) for name in self.streams},
            seconds=time.monotonic() - started,
            reading_seconds=tracker.reading_seconds,
            writing_seconds=tracker.writing_seconds,
        )

    def close(self) -> None:
        self.cache.close()
        self._workdir.cleanup()

    def __enter__(self) -> "DemoSync":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _failure(error: Exception, captured: str) -> DemoError:
    """A PyAirbyte error as a `DemoError`: what failed, the connector's reason, PyAirbyte's guidance.

    The connector's reason is in the error's context (a failed check), in the error it wraps (a trace
    message during a read), or only in what PyAirbyte printed (`ERROR: ...`, when discover fails).
    Without a reason, the captured output goes along as details.
    """
    reasons = []
    inner = getattr(error, "original_exception", None)
    if isinstance(inner, airbyte.exceptions.PyAirbyteError) and inner.message:
        reasons.append(inner.message)
    reason = (getattr(error, "context", None) or {}).get("failure_reason")
    if reason:
        reasons.append(str(reason))
    if "ERROR: " in captured:  # the last thing printed; Rich wraps it at 80 columns, so unwrap it
        reasons.append(" ".join(captured.split("ERROR: ", 1)[1].split()))
    guidance = getattr(error, "guidance", None)
    parts = [getattr(error, "get_message", lambda: str(error))(), *reasons, guidance]
    message = "\n".join(dict.fromkeys(str(part) for part in parts if part))
    return DemoError(message, details="" if reasons else captured)
