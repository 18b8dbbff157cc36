"""The CDK internals the fast path relies on, checked before it is installed.

The fast path replaces a few private steps of the CDK's read (see this package's `__init__.py`). A CDK release
may rename, move or re-sign any of them without notice; then the fast path must not run at all, rather than
write one record per page or state in the wrong zone. Each entry below names one internal and how it must
look: present, callable with the expected parameters, or set by its class's `__init__` (instance attributes
cannot be seen on the class, so the constructor's source is read). `missing_internals` returns the entries
this CDK does not satisfy; any one of them keeps the whole read on the CDK's stock path.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, List, Tuple

from airbyte_cdk import entrypoint as cdk_entrypoint
from airbyte_cdk import logger as cdk_logger
from airbyte_cdk.sources.concurrent_source.concurrent_read_processor import ConcurrentReadProcessor
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.declarative.extractors.record_selector import RecordSelector
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.retrievers import SimpleRetriever
from airbyte_cdk.sources.declarative.stream_slicers.declarative_partition_generator import (
    DeclarativePartition,
    DeclarativePartitionFactory,
    StreamSlicerPartitionGenerator,
)
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.concurrent.partition_reader import PartitionReader
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)
from airbyte_cdk.sources.streams.http.http_client import HttpClient
from airbyte_cdk.sources.utils.transform import TypeTransformer


def _parameters(owner: Any, name: str) -> List[str]:
    return [each for each in inspect.signature(getattr(owner, name)).parameters if each != "self"]


def _takes(owner: Any, name: str, *expected: str) -> Callable[[], bool]:
    """`owner.name` is callable and takes exactly these parameters, in this order."""
    return lambda: callable(getattr(owner, name, None)) and _parameters(owner, name) == list(expected)


def _sets(owner: type, *attributes: str) -> Callable[[], bool]:
    """`owner.__init__` assigns these instance attributes."""
    return lambda: all(f"self.{attribute} =" in inspect.getsource(owner.__init__) for attribute in attributes)


def _fields(owner: type, *names: str) -> Callable[[], bool]:
    """The dataclass `owner` has these fields."""
    return lambda: set(names) <= set(getattr(owner, "__dataclass_fields__", {}))


def _reads(owner: Any, name: str, *expressions: str) -> Callable[[], bool]:
    """The source of `owner.name` uses these expressions (what a page must offer to pass for a record)."""
    return lambda: all(expression in inspect.getsource(getattr(owner, name)) for expression in expressions)


CONTRACT: Tuple[Tuple[str, Callable[[], bool]], ...] = (
    ("SimpleRetriever._read_pages(records_generator_fn, stream_slice)", _takes(SimpleRetriever, "_read_pages", "records_generator_fn", "stream_slice")),
    ("SimpleRetriever fields record_selector, post_pagination_filter", _fields(SimpleRetriever, "record_selector", "post_pagination_filter")),
    ("RecordSelector fields extractor, record_filter, transformations, schema_normalization, file_uploader",
     _fields(RecordSelector, "extractor", "record_filter", "transformations", "schema_normalization", "file_uploader")),
    ("TypeTransformer._config", _sets(TypeTransformer, "_config")),
    ("DefaultStream._stream_partition_generator", _sets(DefaultStream, "_stream_partition_generator")),
    ("StreamSlicerPartitionGenerator._partition_factory", _sets(StreamSlicerPartitionGenerator, "_partition_factory")),
    ("DeclarativePartitionFactory.create(stream_slice), _retriever, _max_records_limit",
     lambda: _takes(DeclarativePartitionFactory, "create", "stream_slice")() and _sets(DeclarativePartitionFactory, "_retriever", "_max_records_limit")()),
    ("Partition's abstract methods are read, to_slice, stream_name, __hash__",
     lambda: set(Partition.__abstractmethods__) == {"read", "to_slice", "stream_name", "__hash__"} and issubclass(DeclarativePartition, Partition)),
    ("PartitionReader.process_partition puts each item of partition.read() on the queue and observes it",
     _reads(PartitionReader, "process_partition", "partition.read()", "self._queue.put(record)", "cursor.observe(record)")),
    ("ConcurrentCursor.observe reads record.associated_slice", _reads(ConcurrentCursor, "observe", "record.associated_slice")),
    ("ConcurrentCursor._connector_state_converter, stream_slices()",
     lambda: _sets(ConcurrentCursor, "_connector_state_converter")() and _takes(ConcurrentCursor, "stream_slices")()),
    ("ConcurrentCursor._end_provider, _lookback_window, start", 
     lambda: _sets(ConcurrentCursor, "_end_provider", "_lookback_window")() and _reads(ConcurrentCursor, "__init__", "self.start")()),
    ("CustomFormatConcurrentStreamStateConverter._get_latest_complete_time(slices), merge_intervals(intervals), END_KEY",
     lambda: _takes(CustomFormatConcurrentStreamStateConverter, "_get_latest_complete_time", "slices")()
     and _takes(CustomFormatConcurrentStreamStateConverter, "merge_intervals", "intervals")()
     and isinstance(getattr(CustomFormatConcurrentStreamStateConverter, "END_KEY", None), str)),
    ("CustomFormatConcurrentStreamStateConverter._parser parses and formats",
     lambda: _sets(CustomFormatConcurrentStreamStateConverter, "_parser")()
     and _reads(CustomFormatConcurrentStreamStateConverter, "output_format", "self._parser.format")()
     and _reads(CustomFormatConcurrentStreamStateConverter, "parse_timestamp", "self._parser.parse")()),
    ("ConcurrentSource.read(streams), _handle_item(queue_item, concurrent_stream_processor), _logger, _message_repository",
     lambda: _takes(ConcurrentSource, "read", "streams")()
     and _takes(ConcurrentSource, "_handle_item", "queue_item", "concurrent_stream_processor")()
     and _sets(ConcurrentSource, "_logger", "_message_repository")()),
    ("ConcurrentReadProcessor._record_counter, _stream_name_to_instance", _sets(ConcurrentReadProcessor, "_record_counter", "_stream_name_to_instance")),
    ("HttpClient._session", _sets(HttpClient, "_session")),
    ("HttpRequester._http_client, an HttpClient built by __post_init__ (whose session the pacer and retries wrap)",
     _reads(HttpRequester, "__post_init__", "self._http_client = HttpClient(")),
    ("AirbyteEntrypoint.run, read, handle_record_counts, _emit_queued_messages, airbyte_message_to_string",
     lambda: _takes(cdk_entrypoint.AirbyteEntrypoint, "run", "parsed_args")()
     and _takes(cdk_entrypoint.AirbyteEntrypoint, "read", "source_spec", "config", "catalog", "state")()
     and _takes(cdk_entrypoint.AirbyteEntrypoint, "handle_record_counts", "message", "stream_message_count")()
     and _takes(cdk_entrypoint.AirbyteEntrypoint, "_emit_queued_messages", "source")()
     and callable(getattr(cdk_entrypoint.AirbyteEntrypoint, "airbyte_message_to_string", None))
     and hasattr(cdk_entrypoint, "ENV_REQUEST_CACHE_PATH")),
    ("airbyte_cdk.logger.PRINT_BUFFER with lock and flush()",
     lambda: hasattr(getattr(cdk_logger, "PRINT_BUFFER", None), "lock") and callable(getattr(cdk_logger.PRINT_BUFFER, "flush", None))),
)


def missing_internals() -> List[str]:
    """The entries of `CONTRACT` this CDK does not satisfy (empty when the fast path may be installed)."""
    missing = []
    for name, holds in CONTRACT:
        try:
            satisfied = holds()
        except (AttributeError, TypeError, ValueError, OSError):  # gone, not a function, or no source to read
            satisfied = False
        if not satisfied:
            missing.append(name)
    return missing
