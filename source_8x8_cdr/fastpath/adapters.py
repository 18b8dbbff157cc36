"""What `install` changes on a source built by the CDK, once `contract.py` has found what it relies on."""

from __future__ import annotations

import logging
from typing import Any, Iterator, List, Mapping

from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.http_config import MAX_CONNECTION_POOL_SIZE
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

from source_8x8_cdr.components.network_errors import retry_network_errors
from source_8x8_cdr.components.pacing import PACERS, pace
from source_8x8_cdr.fastpath.cursor import tune_cursor
from source_8x8_cdr.fastpath.memory import place_pages_first
from source_8x8_cdr.fastpath.pages import RecordPageMessage, can_read_by_page, read_by_page, read_pages_in, record_messages


def adapt_source(source: Any) -> None:
    """The source's concurrent reader takes pages, each stream it builds reads by page where it can, and `read`
    yields a page as one message only to the fast entrypoint (`emits_record_pages`), records to anyone else."""
    read_pages_in(source._concurrent_source)
    source.emits_record_pages = False
    build_streams, read = source.streams, source.read

    def streams(config: Mapping[str, Any]) -> List[Any]:
        built = build_streams(config)
        reads_up_to_now = not source.effective_config.get("end_date")
        for stream in built:
            _adapt_stream(stream, reads_up_to_now)
        return built

    def read_records(logger: logging.Logger, config: Mapping[str, Any], catalog: Any, state: Any = None) -> Iterator[AirbyteMessage]:
        for message in read(logger, config, catalog, state):
            if isinstance(message, RecordPageMessage) and not source.emits_record_pages:
                yield from record_messages(message)
            else:
                yield message

    source.streams = streams
    source.read = read_records


def _adapt_stream(stream: Any, reads_up_to_now: bool) -> None:
    factory = getattr(getattr(stream, "_stream_partition_generator", None), "_partition_factory", None)
    retriever = getattr(factory, "_retriever", None)
    requester = getattr(retriever, "requester", None)
    policy = getattr(requester, "network_policy", None)
    if policy is not None:
        retry_network_errors(requester._http_client._session, policy)
    converter = getattr(getattr(stream, "cursor", None), "_connector_state_converter", None)
    if isinstance(converter, CustomFormatConcurrentStreamStateConverter):
        slice_filter = getattr(getattr(retriever, "record_selector", None), "record_filter", None)
        tune_cursor(stream, slice_filter, reads_up_to_now)
    if can_read_by_page(stream):
        retriever = read_by_page(stream)
        place_pages_first(retriever.requester._http_client._session, MAX_CONNECTION_POOL_SIZE)
    if isinstance(requester, HttpRequester):
        pace_requester(requester)


def pace_requester(requester: HttpRequester) -> None:
    """Sends the requester's requests at the pace of all requests to its API (`components/pacing.py`), keyed by
    its base URL, so that the Work Analytics login (paced by itself) shares it.

    Mounted after `place_pages_first`, which replaces the session's adapters: the pacer wraps whatever adapter
    is mounted, so a 429 is retried before an answer takes a place for its page. `retry_network_errors` wraps
    the session's `send`, above the adapters: a refused connection passes through the pacer (which lets its
    turn go) and still ends in the network-error sentence."""
    name = getattr(requester.error_handler, "api_name", None) or requester.get_url_base()
    pace(requester._http_client._session, PACERS.for_api(requester.get_url_base(), name))
