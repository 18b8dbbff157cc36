"""Console entry point: `source-8x8-cdr spec|check|discover|read ...`."""

from __future__ import annotations

import sys
from typing import List

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
import orjson

from source_8x8_cdr.source import SourceEightByEightCdr


def _build_source(args: List[str]) -> SourceEightByEightCdr:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceEightByEightCdr(
        catalog=SourceEightByEightCdr.read_catalog(catalog_path) if catalog_path else None,
        config=SourceEightByEightCdr.read_config(config_path) if config_path else None,
        state=SourceEightByEightCdr.read_state(state_path) if state_path else None,
    )


def _print(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def _report_config_problem(command: str, problem: str) -> int:
    """What the entrypoint would do with a config error, but with our sentence instead of a schema dump."""
    if command == "check":
        status = AirbyteConnectionStatus(status=Status.FAILED, message=problem)
        _print(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=status))
        return 0
    error = AirbyteTracedException(message=problem, internal_message=problem, failure_type=FailureType.config_error)
    _print(error.as_airbyte_message())
    return 1


def _unreadable_file_problem(args: List[str]) -> str | None:
    for flag, reader in (("--config", SourceEightByEightCdr.read_config), ("--state", SourceEightByEightCdr.read_state), ("--catalog", SourceEightByEightCdr.read_catalog)):
        if flag in args:
            path = args[args.index(flag) + 1] if args.index(flag) + 1 < len(args) else ""
            try:
                reader(path)
            except Exception as error:  # unreadable or not JSON: say which file, not a traceback
                return f"The {flag[2:]} file {path!r} could not be read as JSON ({type(error).__name__})."
    return None


def run() -> None:
    args = sys.argv[1:]
    command = args[0] if args else ""
    if command in ("check", "discover", "read"):
        problem = _unreadable_file_problem(args)
        if problem:
            sys.exit(_report_config_problem(command, problem))
    source = _build_source(args)
    if command in ("check", "discover", "read") and source.config_problem:
        sys.exit(_report_config_problem(command, source.config_problem))
    launch(source, args)


if __name__ == "__main__":
    run()
