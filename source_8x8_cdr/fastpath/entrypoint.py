"""The CDK entrypoint, writing the records of `read` a page at a time (see `FastRecordEntrypoint`)."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
from typing import Any, DefaultDict, Iterable, Union

from airbyte_cdk.entrypoint import ENV_REQUEST_CACHE_PATH, AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor

from source_8x8_cdr.fastpath.memory import tune_memory_allocator
from source_8x8_cdr.fastpath.pages import JsonLines, RecordPageMessage


class FastRecordEntrypoint(AirbyteEntrypoint):
    """The CDK entrypoint, writing the records of `read` a page at a time (`pages.py`).

    Why: per record, the stock path builds a message, counts it and serializes it through serpyco and orjson;
    here a page of records is counted at once and written with one orjson call. The JSON written is the
    same; every other message, and every other command, goes through the CDK unchanged. `run` yields a page
    as its pieces of UTF-8 (`pages.JsonLines`) and every other message as its line of text; `write_record_lines`
    writes the pieces.
    """

    def run(self, parsed_args: argparse.Namespace) -> Iterable[Union[str, JsonLines]]:  # type: ignore[override]
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        _tune_garbage_collector()
        tune_memory_allocator()
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


def entrypoint_for(source: Any) -> AirbyteEntrypoint:
    """The fast entrypoint for a source that reads by page (`install`), the CDK's own for any other."""
    return FastRecordEntrypoint(source) if getattr(source, "reads_by_page", False) else AirbyteEntrypoint(source)


def _message_to_json(message: AirbyteMessage) -> Union[str, JsonLines]:
    """A message as its line of JSON; a page of records as its lines, in pieces of UTF-8 ready to be written."""
    if isinstance(message, RecordPageMessage):
        return message.page.lines
    return AirbyteEntrypoint.airbyte_message_to_string(message)


def write_record_lines(lines: JsonLines) -> None:
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


def _tune_garbage_collector() -> None:
    """Fewer, cheaper garbage collections while reading.

    A read keeps hundreds of thousands of small objects alive (parsed pages, records in flight), and the
    default thresholds make the collector rescan them every few hundred allocations: about a third of the
    CPU of a read. What exists after start-up (modules, the manifest) is frozen out of collection, and
    the youngest generation is collected every 50,000 allocations instead of 700. Cycles are still freed.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
