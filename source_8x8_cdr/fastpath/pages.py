"""Records travel from the API to stdout a page at a time.

The CDK's concurrent read hands records over one by one: per record, a `Record` from the selector, a queue
put and get between a worker and the main thread, an `AirbyteMessage` with its record message, a count and
one serialization. That is 12-15 µs a record, three to four times what reading the record from the API
costs (`benchmark/README.md`). Here the unit of that pipeline is the page of records an API answer holds:

* `PagedPartition` reads a slice with the stream's own retriever (requests, retries, paginator, restarts:
  all as the manifest declares them) and turns each answer into one `RecordPage`: the records the
  stream's `ExactlyOnceSliceFilter` keeps, in the API's order, their values in the schema's types, before the
  filter as the manifest declares (`transform_before_filtering`). A page whose values already have those types
  travels as the API sent it, each record's own bytes (`as_sent.py`); any other page is parsed and converted by
  the stream's `TypedValues` a page at a time (`conversion.py`).
* The page goes through the CDK's queue as one item. The stream's cursor observes it as its latest record
  (`RecordPage.data`), which is all the cursor keeps of a record, so state is what it was record by record.
* On the main thread, the concurrent source (`read_pages_in`) does for a page what the CDK does for a record (the
  stream is marked RUNNING at its first record, records are counted) and yields one `RecordPageMessage`.
* The records are written as RECORD messages: a page kept as sent as stdout takes it, with a join of its records'
  bytes per 64 KiB (`SentLines`), any other in the worker, with one orjson call per page (`records_to_json`). The connector's entrypoint counts them for the state's `sourceStats` and writes the
  bytes to stdout as they are; any other consumer of `read` gets ordinary record messages
  (`record_messages`).

At most `PAGES_IN_MEMORY.limit` pages are received, parsed or wait between the workers and stdout, so
memory follows that limit, not the records read nor the requests in flight, however slow the destination is
(`memory.py`); while stdout is slow, the pages read meanwhile wait on disk instead (`spill.py`), so that the
workers go on reading their scrolls. A slice's keys (`ExactlyOnceSliceFilter`) are dropped once the slice is
read.

Why not the manifest: the record pipeline between a retriever and stdout is the CDK's concurrent source, not a
declarative component. `install` (this package's `__init__.py`) applies this to every stream whose selector has
no transformation but `TypedValues` (run here a page at a time) and no normalization (`can_read_by_page`), once `contract.py` has found the CDK internals it
relies on. A page is not a `Record`: should one reach the CDK's own handling of a record, the CDK refuses it
("Unknown queue item type") instead of writing one record for a page.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

import orjson
import requests
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, AirbyteStreamStatus, Type
from airbyte_cdk.sources.concurrent_source.concurrent_read_processor import ConcurrentReadProcessor
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.declarative.extractors.record_selector import RecordSelector
from airbyte_cdk.sources.declarative.retrievers import SimpleRetriever
from airbyte_cdk.sources.declarative.stream_slicers.declarative_partition_generator import (
    DeclarativePartition,
    DeclarativePartitionFactory,
)
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.partitions.types import QueueItem
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.sources.utils.transform import TransformConfig, TypeTransformer
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as stream_status_as_airbyte_message

from source_8x8_cdr.components import page_json
from source_8x8_cdr.components.extraction import JsonPageExtractor
from source_8x8_cdr.components.filtering import ExactlyOnceSliceFilter
from source_8x8_cdr.components.page_body import parsed_page, records_as_sent
from source_8x8_cdr.fastpath.as_sent import AsSentPage, AsSentReader, SentLines
from source_8x8_cdr.fastpath.memory import PAGES_IN_MEMORY
from source_8x8_cdr.fastpath.spill import SpilledPage
from source_8x8_cdr.components.conversion import Change as ChangeJson
from source_8x8_cdr.components.conversion import StreamTypes, TypedValues, meta_of


class RecordPage:
    """The records one API answer contributes to a stream, as one item of the CDK's pipeline: `count`
    RECORD messages as JSON lines (`lines`, pieces of UTF-8: written already, a third of the memory of the parsed
    records, or made as they are written from the records' bytes as sent).

    To the cursor's `observe` it looks like its latest record (`data`, `associated_slice`): the cursor keeps, per
    slice, only the greatest cursor value it has seen. A page read while stdout was slow waits on disk until its
    turn (`load`).
    """

    def __init__(self, lines: "JsonLines", count: int, latest: Mapping[str, Any], stream_name: str, stream_slice: StreamSlice) -> None:
        self.data = latest
        self.stream_name = stream_name
        self.associated_slice = stream_slice
        self.count = count
        self.lines: JsonLines = lines
        self.holds_place = False  # whether it holds one of the `PAGES_IN_MEMORY` places
        self.on_disk: Optional[SpilledPage] = PAGES_IN_MEMORY.keep_on_disk(self.lines) if PAGES_IN_MEMORY.spills() else None
        if self.on_disk is not None:
            self.lines = ()

    @classmethod
    def of_records(
        cls,
        records: List[Mapping[str, Any]],
        latest: Mapping[str, Any],
        stream_name: str,
        stream_slice: StreamSlice,
        changes: Optional[Mapping[int, List[ChangeJson]]] = None,
    ) -> "RecordPage":
        """The page of these records (Python objects), written as JSON lines now."""
        return cls(records_to_json(records, stream_name, changes), len(records), latest, stream_name, stream_slice)

    def load(self) -> None:
        """Its turn to be written has come: a page that waited on disk is read back (its file removed)."""
        if self.on_disk is not None:
            self.lines, self.on_disk = (PAGES_IN_MEMORY.back_from_disk(self.on_disk),), None

    def passed_on(self) -> None:
        """The main thread has passed the page on: its lines are dropped (the worker that read it keeps a
        reference until its next page) and its place is free."""
        self.lines = ()
        if self.holds_place:
            self.holds_place = False
            PAGES_IN_MEMORY.release()


@dataclass
class RecordPageMessage(AirbyteMessage):
    """The RECORD messages of a page, as one message between the source and the entrypoint."""

    page: Optional[RecordPage] = None


class PagedPartition(Partition):
    """A slice of a stream as the CDK built it (`built`), read page by page (see the module docstring)."""

    def __init__(self, built: DeclarativePartition, retriever: SimpleRetriever) -> None:
        self._built = built
        self._retriever = retriever
        self._stream_slice = built.to_slice()
        selector = retriever.record_selector
        self._extractor = selector.extractor
        self._filter = selector.record_filter
        self._types = stream_types(selector)
        self._as_sent = as_sent_reader(self._types, self._filter)

    def read(self) -> Iterable[RecordPage]:  # type: ignore[override]  # pages, which the CDK's cursor observes
        # The retriever's page loop: the requests, the paginator, the error handler's retries and restarts.
        with PAGES_IN_MEMORY.reading_pages():
            yield from self._retriever._read_pages(self._page_of_records, self._stream_slice)
        if self._filter is not None:
            self._filter.forget_slice()

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return self._built.to_slice()

    def stream_name(self) -> str:
        return self._built.stream_name()

    def __hash__(self) -> int:
        return hash(self._built)

    def _page_of_records(self, response: Optional[requests.Response]) -> Iterable[RecordPage]:
        if response is None:
            return
        sent = records_as_sent(response, self._extractor.field) if self._as_sent is not None else None
        if sent is not None:
            response._content = b""  # from here on only its records read it: they hold the body until the page is dropped
        as_sent = self._as_sent.read(sent) if sent is not None else None  # type: ignore[union-attr]
        if as_sent is not None:
            yield from self._page_as_sent(response, as_sent)
        else:
            yield from self._converted_page(response)

    def _page_as_sent(self, response: requests.Response, page: AsSentPage) -> Iterable[RecordPage]:
        """The records of a page whose values are in their declared types, written as the API sent them."""
        cursors, records = page.cursors, page.records
        if "start_time" in self._stream_slice:
            kept, latest = self._filter.owned_checked(cursors, page.keys, self._stream_slice)  # type: ignore[union-attr]
        else:
            kept, latest = list(range(len(records))), None
        _drop_parsed_page(response, self._extractor.field)
        if not kept:
            PAGES_IN_MEMORY.give_back()
            return
        cursor = {self._filter.cursor_field: cursors[kept[-1] if latest is None else latest]}  # type: ignore[union-attr]
        lines = SentLines([records[position] for position in kept], self.stream_name())
        del page, records
        yield self._passed_on(RecordPage(lines, len(kept), cursor, self.stream_name(), self._stream_slice))

    def _converted_page(self, response: requests.Response) -> Iterable[RecordPage]:
        """The records of a page parsed into Python objects and converted to their declared types."""
        records: Iterable[Any] = self._extractor.extract_records(response)
        changes = None
        if self._types is not None:
            records = list(records)
            changes = self._types.convert_page(records)
        if self._filter is not None:  # an `ExactlyOnceSliceFilter`: `can_read_by_page` admits no other
            kept, latest = self._filter.keep(records, self._stream_slice)
        else:
            kept, latest = list(records), None
        _drop_parsed_page(response, self._extractor.field)
        if not kept:
            PAGES_IN_MEMORY.give_back()
            return
        page = RecordPage.of_records(kept, kept[-1] if latest is None else latest, self.stream_name(), self._stream_slice, changes)
        del kept, records  # the page's JSON lines are what waits
        yield self._passed_on(page)

    @staticmethod
    def _passed_on(page: RecordPage) -> RecordPage:
        page.holds_place = PAGES_IN_MEMORY.pass_on()
        return page


def _drop_parsed_page(response: requests.Response, records_field: str) -> None:
    """Frees what the answer held once its kept records are taken: the parsed records (the paginator reads the
    page's size counted by the error handler, `records_in_page`) and the raw body. A worker keeps its last
    answer until its next one arrives, and would otherwise hold a whole page (up to 10 MB) while it waits."""
    body = parsed_page(response, records_field)
    if records_field and isinstance(body, dict) and isinstance(body.get(records_field), list):
        body[records_field] = []  # records kept as sent (`SentRecords`) hold the body's bytes: they go too
    elif isinstance(body, list):
        body.clear()
    response._content = b""


class PagedPartitionFactory:
    """Wraps the partitions the CDK's own factory creates for a stream (`built`) as `PagedPartition`s."""

    def __init__(self, built: DeclarativePartitionFactory) -> None:
        self._built = built

    def create(self, stream_slice: StreamSlice) -> PagedPartition:
        return PagedPartition(self._built.create(stream_slice), self._built._retriever)


def stream_types(selector: Any) -> Optional[StreamTypes]:
    """The conversions of the stream's `TypedValues` transformation, if the manifest declares one."""
    return next((each.types for each in getattr(selector, "transformations", ()) if type(each) is TypedValues), None)


def as_sent_reader(types: Optional[StreamTypes], record_filter: Any) -> Optional[AsSentReader]:
    """The stream's `AsSentReader` when its pages can travel as sent: it converts its records' types and filters
    them by slice (the filter's cursor and key are what a page as sent yields)."""
    if types is None or not isinstance(record_filter, ExactlyOnceSliceFilter):
        return None
    return AsSentReader.of(types, record_filter.cursor_field, record_filter.primary_key)


def can_read_by_page(stream: Any) -> bool:
    """Whether the stream's records can skip the selector's per-record steps: its extractor is `JsonPageExtractor`
    (whose page parse the fast path frees), and the manifest declares no transformation but `TypedValues` (run
    here a page at a time), no normalization or file upload for it, no record filter but `ExactlyOnceSliceFilter`,
    nor a record limit (the connector builder's)."""
    generator = getattr(stream, "_stream_partition_generator", None)
    factory = getattr(generator, "_partition_factory", None)
    if type(factory) is not DeclarativePartitionFactory or factory._max_records_limit is not None:
        return False
    retriever = factory._retriever
    if type(retriever) is not SimpleRetriever or retriever.post_pagination_filter is not None:
        return False
    selector = retriever.record_selector
    normalization = selector.schema_normalization
    return (
        type(selector) is RecordSelector
        and isinstance(selector.extractor, JsonPageExtractor)
        and (selector.record_filter is None or isinstance(selector.record_filter, ExactlyOnceSliceFilter))
        and all(type(each) is TypedValues for each in selector.transformations)
        and selector.file_uploader is None
        and isinstance(normalization, TypeTransformer)
        and TransformConfig.NoTransform in normalization._config
    )


def read_by_page(stream: Any) -> SimpleRetriever:
    """Makes a stream built by the CDK read its slices as `PagedPartition`s; returns the stream's retriever."""
    generator = stream._stream_partition_generator
    built = generator._partition_factory
    generator._partition_factory = PagedPartitionFactory(built)
    return built._retriever


def read_pages_in(concurrent_source: ConcurrentSource) -> None:
    """Makes the CDK's concurrent source (the instance the source built) take `RecordPage`s off its queue too,
    and bound the pages in memory while it reads (timing how long stdout takes each message, which decides
    whether pages wait on disk). The instance keeps everything it was built with."""
    stock_read, stock_handle_item = concurrent_source.read, concurrent_source._handle_item

    def read(streams: List[Any]) -> Iterator[AirbyteMessage]:
        with PAGES_IN_MEMORY.reading():
            for message in stock_read(streams):
                PAGES_IN_MEMORY.stdout_takes()
                yield message  # the consumer writes it to stdout before it asks for the next one
                PAGES_IN_MEMORY.stdout_took()

    def handle_item(queue_item: QueueItem, processor: ConcurrentReadProcessor) -> Iterable[AirbyteMessage]:
        if isinstance(queue_item, RecordPage):
            return _page_messages(concurrent_source, queue_item, processor)
        return stock_handle_item(queue_item, processor)

    concurrent_source.read = read  # type: ignore[method-assign]
    concurrent_source._handle_item = handle_item  # type: ignore[method-assign]


def _page_messages(concurrent_source: ConcurrentSource, page: RecordPage, processor: ConcurrentReadProcessor) -> Iterator[AirbyteMessage]:
    """What `ConcurrentReadProcessor.on_record` does for one record, for the page's records."""
    name = page.stream_name
    counts = processor._record_counter
    if counts[name] == 0:
        concurrent_source._logger.info(f"Marking stream {name} as RUNNING")
        stream = processor._stream_name_to_instance[name]
        yield stream_status_as_airbyte_message(stream.as_airbyte_stream(), AirbyteStreamStatus.RUNNING)
    counts[name] += page.count
    page.load()
    yield RecordPageMessage(type=Type.RECORD, page=page)
    page.passed_on()
    yield from concurrent_source._message_repository.consume_queue()


def record_messages(message: RecordPageMessage) -> Iterator[AirbyteMessage]:
    """The page as the RECORD messages the CDK would have emitted one by one."""
    for line in b"".join(message.page.lines).split(b"\n"):
        record = json.loads(line)["record"]  # not orjson: it would read an integer beyond 64 bits as a float
        meta = record.get("meta")
        yield AirbyteMessage(
            type=Type.RECORD,
            record=AirbyteRecordMessage(
                stream=record["stream"],
                data=record["data"],
                emitted_at=record["emitted_at"],
                meta=meta_of(meta["changes"]) if meta else None,
            ),
        )


# A page's lines as pieces of UTF-8 to be written one after the other (so that the page is never copied whole):
# a tuple, or the pieces made as they are written (`as_sent.SentLines`). Iterated once.
JsonLines = Union[Tuple[Union[bytes, memoryview], ...], SentLines]


def records_to_json(records: List[Mapping[str, Any]], stream: str, changes: Optional[Mapping[int, List[ChangeJson]]] = None) -> JsonLines:
    """RECORD messages as JSON lines (UTF-8, no final newline), as the CDK writes them, with one orjson call.

    A record with `changes` (by `id`, from `StreamTypes.convert_page`) is written on its own with its `meta`;
    the records between such records are written as below.
    """
    if not records:
        return ()
    emitted_at = time.time_ns() // 1_000_000
    if not changes:
        return _records_json(records, stream, emitted_at)
    pieces: List[Union[bytes, memoryview]] = []
    start = 0
    for index, record in enumerate(records):
        record_changes = changes.get(id(record))
        if record_changes is None:
            continue
        if index > start:
            pieces += (*_records_json(records[start:index], stream, emitted_at), b"\n")
        pieces += (page_json.record_message_json(record, stream, emitted_at, record_changes), b"\n")
        start = index + 1
    if start < len(records):
        pieces += _records_json(records[start:], stream, emitted_at)
    else:
        pieces.pop()  # no newline after the last line
    return tuple(pieces)


def _records_json(records: List[Mapping[str, Any]], stream: str, emitted_at: int) -> JsonLines:
    """One orjson call per page costs a quarter of one per record, so the page is written as one JSON array of
    its records with a marker string between them, and each `,<marker>,` is then replaced by the end of one
    message and the start of the next. The marker holds NUL characters, which JSON escapes
    (`"\\u0000page\\u0000"`): within a record that text can only appear as an element of a list holding that
    very string, in which case the count of replacements (read from the length) differs and each record is
    written on its own, as it is when orjson
    refuses the page (an integer beyond 64 bits)."""
    items = list(chain.from_iterable(zip(records, repeat(_MARKER))))
    items.pop()  # no marker after the last record
    try:
        body = orjson.dumps(items, default=page_json.refuse_all, option=orjson.OPT_PASSTHROUGH_SUBCLASS)
    except TypeError:
        body = b""
    del items
    if body:
        start, end = page_json.record_message_ends(stream, emitted_at)
        between = end + b"\n" + start
        lines = body.replace(_MARKER_JSON, between)
        # As many markers replaced as there are records between records (the length says it without a second scan).
        if len(lines) - len(body) == (len(records) - 1) * (len(between) - len(_MARKER_JSON)):
            return (start, memoryview(lines)[1:-1], end)
    return (b"\n".join(page_json.record_message_json(record, stream, emitted_at) for record in records),)


_MARKER = "\x00page\x00"
_MARKER_JSON = b',"\\u0000page\\u0000",'
