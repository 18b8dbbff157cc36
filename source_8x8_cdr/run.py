"""Console entry point: `source-8x8-cdr spec|check|discover|read ...`."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
from typing import DefaultDict, Iterable, List, Union

from airbyte_cdk.entrypoint import ENV_REQUEST_CACHE_PATH, AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
import orjson

from source_8x8_cdr.memory import tune_memory_allocator
from source_8x8_cdr.pages import JsonLines, RecordPageMessage
from source_8x8_cdr.network_errors import HostUnreachable
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


class FastRecordEntrypoint(AirbyteEntrypoint):
    """The CDK entrypoint, writing the records of `read` a page at a time (`source_8x8_cdr/pages.py`).

    Why: per record, the stock path builds a message, counts it and serializes it through serpyco and orjson;
    here a page of records is counted at once and written with one orjson call. The JSON written is the
    same; every other message, and every other command, goes through the CDK unchanged.
    """

    def run(self, parsed_args: argparse.Namespace) -> Iterable[Union[str, JsonLines]]:  # type: ignore[override]
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        debug = getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled()
        for each in (self.logger, logging.getLogger("airbyte")):
            each.setLevel(logging.DEBUG if debug else logging.INFO)
        source_spec = self.source.spec(self.logger)
        self.source.emits_record_pages = True
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir
                config = self.source.configure(self.source.read_config(parsed_args.config), temp_dir)
                yield from map(self.airbyte_message_to_string, self._emit_queued_messages(self.source))
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                yield from map(_message_to_json, self.read(source_spec, config, catalog, state))
        finally:
            yield from map(self.airbyte_message_to_string, self._emit_queued_messages(self.source))

    @staticmethod
    def handle_record_counts(message: AirbyteMessage, stream_message_count: DefaultDict[HashableStreamDescriptor, float]) -> AirbyteMessage:
        """The CDK's count of records per stream (written into each state's `sourceStats`), a page at once."""
        if isinstance(message, RecordPageMessage):
            stream_message_count[HashableStreamDescriptor(name=message.page.stream_name, namespace=None)] += message.page.count
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)


def _message_to_json(message: AirbyteMessage) -> Union[str, JsonLines]:
    """A message as its line of JSON; a page of records as its lines, in pieces of UTF-8 ready to be written."""
    if isinstance(message, RecordPageMessage):
        return message.page.lines
    return AirbyteEntrypoint.airbyte_message_to_string(message)


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
    entrypoint = FastRecordEntrypoint(source)
    parsed_args = entrypoint.parse_args(args)
    for handler in logging.getLogger().handlers + logging.getLogger("airbyte").handlers:
        handler.addFilter(ConfigErrorsWithoutTraceback())
    mask_text_only(logging.getLogger("airbyte"))
    with exit_when_stdout_closes(), PRINT_BUFFER:
        try:
            for line in entrypoint.run(parsed_args):
                if type(line) is tuple:
                    _write_bytes(line)
                    continue
                if not line.startswith(_RECORD_LINE):
                    line = mask_line(line)
                print(f"{line}\n", end="")
        except AirbyteTracedException as error:
            if error.failure_type != FailureType.config_error:
                raise  # the uncaught-exception hook reports it, stack trace included, as a system or transient error
            problem = error.message or error.internal_message or "The configuration cannot be used."
            sys.exit(_report_config_problem(parsed_args.command, problem))


def _write_bytes(lines: JsonLines) -> None:
    """Writes lines of records to stdout as they are: not copied into `PRINT_BUFFER`'s text, then encoded.

    What `PRINT_BUFFER` holds (other threads' logs, earlier messages) goes out first, so the order is kept.
    """
    with PRINT_BUFFER.lock:
        PRINT_BUFFER.flush()
        stdout = sys.__stdout__.buffer  # type: ignore[union-attr]
        for piece in lines:
            stdout.write(piece)
        stdout.write(b"\n")
        stdout.flush()


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


def _tune_garbage_collector() -> None:
    """Fewer, cheaper garbage collections while reading.

    A read keeps hundreds of thousands of small objects alive (parsed pages, records in flight), and the
    default thresholds make the collector rescan them every few hundred allocations: about a third of the
    CPU of a read. What exists after start-up (modules, the manifest) is frozen out of collection, and
    the youngest generation is collected every 50,000 allocations instead of 700. Cycles are still freed.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


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
    if command == "read":
        _tune_garbage_collector()
        tune_memory_allocator()
    launch(source, args)


if __name__ == "__main__":
    run()
