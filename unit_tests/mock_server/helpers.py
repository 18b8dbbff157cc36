"""Reading a source in a mock-server test, and what a test reads back: the helpers every `test_<stream>.py` shares.

Request and response builders are per API (`work_analytics.py`, `work_analytics_reports.py`, `contact_center.py`);
configs are built with `config.ConfigBuilder`; waits are skipped by the `instant_sleep` fixture (`unit_tests/conftest.py`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Optional

from airbyte_cdk.models import AirbyteErrorTraceMessage, AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker

from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder


def read_streams(
    stream_names: List[str],
    config: ConfigBuilder,
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
    debug: bool = False,
) -> EntrypointOutput:
    """`read` of the source built as the entrypoint builds it (catalog, config and state given to its constructor)."""
    built = config.build()
    catalog_builder = CatalogBuilder()
    for name in stream_names:
        catalog_builder.with_stream(name, sync_mode)
    catalog = catalog_builder.build()
    return read(
        SourceEightByEightCdr(catalog, built, state), built, catalog, state, expecting_exception=expecting_exception, debug=debug
    )


def stream_error(output: EntrypointOutput, stream_name: str) -> AirbyteErrorTraceMessage:
    """The stream's own error trace (the CDK follows it with a sync summary that is always typed config_error)."""
    errors = [
        message.trace.error
        for message in output.errors
        if message.trace.error.stream_descriptor and message.trace.error.stream_descriptor.name == stream_name
    ]
    assert errors, f"no error trace for {stream_name}; errors: {[message.trace.error.message for message in output.errors]}"
    return errors[0]


def emitted_states(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [dict(message.state.stream.stream_state.__dict__) for message in output.state_messages]


def record_values(output: EntrypointOutput, field: str) -> List[Any]:
    """`field` of every record read, in order (`record_values(output, "callId")`)."""
    return [message.record.data[field] for message in output.records]


def http_mocked(test: Callable[..., Any]) -> Callable[..., Any]:
    """`@HttpMocker()` with a fresh mocker for every run, for cases that several test classes inherit.

    An `HttpMocker` keeps its mocked requests after a test: one created at class definition, as `@HttpMocker()`
    does, would meet the first class's requests again in the second ("already mocked").
    """

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        return HttpMocker()(test)(*args, **kwargs)

    return run
