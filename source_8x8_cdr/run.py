"""Console entry point: `source-8x8-cdr spec|check|discover|read ...`."""

from __future__ import annotations

import json
import logging
import sys
from typing import List

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
import orjson

from source_8x8_cdr.fastpath.entrypoint import entrypoint_for, write_record_lines
from source_8x8_cdr.components.network_errors import HostUnreachable
from source_8x8_cdr.output import exit_when_stdout_closes, mask_text_only
from source_8x8_cdr.secrets import mask_line
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


_RECORD_LINE = '{"type":"RECORD"'


class ConfigErrorsWithoutTraceback(logging.Filter):
    """Log lines about a refused config or an unreachable host keep their sentence and lose the Python traceback.

    The CDK logs every failed slice with its stack; for a config error (a wrong key, a PBX without access) or
    a host that could not be reached (`network_errors.py`) that is noise in front of the one sentence the user
    needs. Other errors keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HostUnreachable) or (
            isinstance(error, AirbyteTracedException) and error.failure_type == FailureType.config_error
        ):
            record.exc_info, record.exc_text = None, None
        return True


def launch(source: SourceEightByEightCdr, args: List[str]) -> None:
    """Like the CDK's `launch`, and every message but a record passes the secret filter on its way out.

    The CDK filters logs and the traces it raises itself, but a stream's error trace (which quotes the
    request URL, and with it the contact-center key) is written unfiltered. The filter masks text values
    only, never the JSON around them (`secrets.mask_line`, `output.py`). A config error raised while
    reading (bad state, a stream of an unconfigured API) is reported like one found before: one sentence,
    no traceback in the logs. When stdout is closed by its reader, the connector exits at once and quietly.
    """
    entrypoint = entrypoint_for(source)
    parsed_args = entrypoint.parse_args(args)
    for handler in logging.getLogger().handlers + logging.getLogger("airbyte").handlers:
        handler.addFilter(ConfigErrorsWithoutTraceback())
    mask_text_only(logging.getLogger("airbyte"))
    with exit_when_stdout_closes(), PRINT_BUFFER:
        try:
            for line in entrypoint.run(parsed_args):
                if type(line) is not str:  # a page of records from the fast path, in pieces
                    write_record_lines(line)
                    continue
                if not line.startswith(_RECORD_LINE):
                    line = mask_line(line)
                print(f"{line}\n", end="")
        except AirbyteTracedException as error:
            if error.failure_type != FailureType.config_error:
                raise  # the uncaught-exception hook reports it, stack trace included, as a system or transient error
            problem = error.message or error.internal_message or "The configuration cannot be used."
            sys.exit(_report_config_problem(parsed_args.command, problem))


def _print(message: AirbyteMessage) -> None:
    print(mask_line(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()), flush=True)


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
            except Exception as error:  # unreadable, not JSON, or not the protocol's shape: say which file
                try:
                    with open(path) as file:
                        json.load(file)
                except (OSError, ValueError):
                    return f"The {flag[2:]} file {path!r} could not be read as JSON ({type(error).__name__})."
                return f"The {flag[2:]} file {path!r} is JSON but not in the Airbyte protocol's format ({type(error).__name__})."
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
