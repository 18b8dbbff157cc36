"""The Airbyte source: the declarative manifest, plus what differs per config.

A config may set up Work Analytics, the contact center, or both; only the streams of the configured APIs
exist (`discover`), are read, and are checked. The config is validated once, up front (see `config.py`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone, tzinfo
from typing import Any, Iterator, List, Mapping, Optional

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr.checkpoint import bound_state_to_sync
from source_8x8_cdr.components import ExactlyOnceSliceFilter, cursor_moment
from source_8x8_cdr.config import ConfigError, configured_apis, validate_config
from source_8x8_cdr.pages import (
    PageAwareConcurrentSource,
    RecordPageMessage,
    can_read_by_page,
    read_by_page,
    record_messages,
)
from source_8x8_cdr.secrets import mask, register_config_secrets
from source_8x8_cdr.state import usable_state

STREAMS_BY_API = {
    "work_analytics": ("call_records", "call_legs"),
    "contact_center": (
        "contact_center_cdrs",
        "contact_center_agents",
        "contact_center_queues",
        "contact_center_teams",
        "contact_center_campaigns",
        "contact_center_deleted_agents",
        "contact_center_wrapup_codes",
    ),
}
API_TITLES = {"work_analytics": "Work Analytics", "contact_center": "Contact center"}
# `check` reads one page of these, with one record per page.
CHECK_STREAMS = {"work_analytics": "call_records", "contact_center": "contact_center_cdrs"}
CHECK_PAGE_SIZE = {"work_analytics": "page_size", "contact_center": "per_page"}


class UtcDatetimeParser(DatetimeParser):
    """Parses cursor values to UTC, so that state is written in UTC.

    The CDK keeps the offset a record's timestamp came with (`2024-07-31T12:43:09.000-03:00`) and then
    formats state with `strftime`, which writes that wall-clock time followed by the literal `Z`: three
    hours off. Comparisons between offsets are right either way; only the written state was not.

    It is also the cursor's hot path (every record is parsed): epoch milliseconds and ISO 8601 are read
    by `cursor_moment` (`fromisoformat`, ~0.4 µs) before the CDK's `strptime` (~15 µs) is tried. A value
    without a UTC offset is a wall-clock time in `zone` (the contact-center account's, for its CDRs).
    """

    def __init__(self, zone: tzinfo = timezone.utc) -> None:
        self._zone = zone

    def parse(self, date: Any, format: str) -> datetime:
        moment = cursor_moment(date, self._zone)
        if moment is not None:
            return moment
        return super().parse(date, format).astimezone(timezone.utc)


class HashOnceStreamSlice(StreamSlice):
    """A slice that computes its hash once.

    The concurrent cursor looks up the slice of every record in a dict (twice per record), and
    `StreamSlice.__hash__` serializes the slice to JSON each time: about a tenth of the CPU of a read.
    Slices are immutable, so the hash can be kept.
    """

    def __init__(self, stream_slice: StreamSlice) -> None:
        super().__init__(
            partition=stream_slice.partition,
            cursor_slice=stream_slice.cursor_slice,
            extra_fields=stream_slice.extra_fields,
        )
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


def _slice_filter(stream: Any) -> Optional[ExactlyOnceSliceFilter]:
    factory = getattr(getattr(stream, "_stream_partition_generator", None), "_partition_factory", None)
    record_filter = getattr(getattr(getattr(factory, "_retriever", None), "record_selector", None), "record_filter", None)
    return record_filter if isinstance(record_filter, ExactlyOnceSliceFilter) else None


def _tune_cursor(stream: Any, reads_up_to_now: bool) -> None:
    """Adapts the CDK cursor of an incremental stream: state written in UTC (cursors without an offset read in
    the filter's zone), never past the sync (`checkpoint.py`), slices hashed once."""
    cursor = getattr(stream, "cursor", None)
    converter = getattr(cursor, "_connector_state_converter", None)
    if converter is None or not isinstance(getattr(converter, "_parser", None), DatetimeParser):
        return
    slice_filter = _slice_filter(stream)
    converter._parser = UtcDatetimeParser(slice_filter.zone if slice_filter else timezone.utc)
    sync_end = bound_state_to_sync(cursor)
    if slice_filter and reads_up_to_now:
        slice_filter.owns_records_after(converter.output_format(sync_end))
    make_slices = cursor.stream_slices
    cursor.stream_slices = lambda: (HashOnceStreamSlice(each) for each in make_slices())


# The CDK's words when a request is refused again right after a new login (only Work Analytics logs in).
_CDK_SECOND_401 = "Refreshed OAuth access token is rejected by the API."
_SECOND_401 = (
    "Work Analytics refused a fresh access token (HTTP 401 right after a new login): the user can log in but "
    "may not read reports. Check that work_analytics.username has access to Analytics for 8x8 Work."
)


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


class SourceEightByEightCdr(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Any = None,
        **kwargs: Any,
    ) -> None:
        self.config_problem: Optional[str] = None
        effective: Optional[Mapping[str, Any]] = None
        if config is not None:
            try:
                effective = validate_config(config)
            except ConfigError as problem:
                self.config_problem = str(problem)
        # The CDK reads the state as it builds itself: it gets it in the connector's own form (see `state.py`).
        self.state_problem: Optional[str] = None
        try:
            state = usable_state(state)
        except ConfigError as problem:
            self.state_problem, state = str(problem), None
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=effective, state=state, **kwargs)
        self._concurrent_source = PageAwareConcurrentSource(self._concurrent_source)
        # `read` yields a page of records as one `RecordPageMessage` only to a consumer that writes them
        # itself (the connector's entrypoint); anyone else gets the usual one message per record.
        self.emits_record_pages = False

    # -- guards ---------------------------------------------------------------------------------------------

    def _usable_config(self) -> Mapping[str, Any]:
        if self.config_problem:
            raise config_error(self.config_problem)
        register_config_secrets(self._config)
        return self._config

    def streams(self, config: Mapping[str, Any]) -> List[Any]:  # type: ignore[override]
        wanted = {name for api in configured_apis(self._usable_config()) for name in STREAMS_BY_API[api]}
        streams = [stream for stream in super().streams(config) if stream.name in wanted]
        for stream in streams:
            _tune_cursor(stream, reads_up_to_now=not self._config.get("end_date"))
            if can_read_by_page(stream):
                read_by_page(stream)
        return streams

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog, state: Any = None) -> Iterator[AirbyteMessage]:
        """The CDK's read, with stream error traces passed through the secret filter.

        A failed stream's trace quotes the request URL, and with it the contact-center key; the CDK
        emits it unfiltered (its own uncaught-error path filters). A config error that every slice meets
        is reported once.
        """
        self._refuse_streams_of_unconfigured_apis(catalog)
        if self.state_problem:
            raise config_error(self.state_problem)
        reported = set()
        for message in super().read(logger, config, catalog, state):
            if isinstance(message, RecordPageMessage):
                if self.emits_record_pages:
                    yield message
                else:
                    yield from record_messages(message)
                continue
            if message.type == Type.TRACE and message.trace is not None and message.trace.error is not None:
                error = message.trace.error
                error.message = mask(error.message) if error.message else error.message
                error.internal_message = mask(error.internal_message) if error.internal_message else error.internal_message
                error.stack_trace = mask(error.stack_trace) if error.stack_trace else error.stack_trace
                if error.message == _CDK_SECOND_401:
                    error.message = _SECOND_401
                if error.failure_type == FailureType.config_error:
                    # Every slice of a stream meets the same refused config: say it once, without a stack.
                    if error.message in reported:
                        continue
                    reported.add(error.message)
                    error.stack_trace = None
            yield message

    def _refuse_streams_of_unconfigured_apis(self, catalog: ConfiguredAirbyteCatalog) -> None:
        configured = configured_apis(self._usable_config())
        for api, names in STREAMS_BY_API.items():
            selected = [each.stream.name for each in catalog.streams if each.stream.name in names]
            if selected and api not in configured:
                raise config_error(
                    f"The catalog selects {', '.join(selected)}, but `{api}` is not configured: "
                    f"add the `{api}` block to the config or deselect these streams."
                )

    # -- check ------------------------------------------------------------------------------------------------

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Reads one record of each configured API; names each API that failed and why."""
        if self.config_problem:
            return AirbyteConnectionStatus(status=Status.FAILED, message=self.config_problem)
        usable = self._usable_config()
        failures = []
        for api in sorted(configured_apis(usable)):
            problem = self._probe(api)
            if problem:
                failures.append(f"{API_TITLES[api]}: {problem}")
        if failures:
            return AirbyteConnectionStatus(status=Status.FAILED, message=mask(" ".join(failures)))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _probe(self, api: str) -> Optional[str]:
        original = self._config
        block = dict(original[api])
        block[CHECK_PAGE_SIZE[api]] = 1
        self._config = {**original, api: block, "max_retries": min(int(original.get("max_retries", 5)), 2)}
        try:
            stream = next(s for s in self.streams(self._config) if s.name == CHECK_STREAMS[api])
            for partition in stream.generate_partitions():
                for _ in partition.read():
                    break
                break
            return None
        except AirbyteTracedException as error:
            return error.message or "the request failed."
        except Exception as error:  # a check must answer in a sentence, whatever went wrong
            return f"unexpected {type(error).__name__}: {error}"
        finally:
            self._config = original
