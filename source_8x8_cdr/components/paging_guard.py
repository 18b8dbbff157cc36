"""Stops following a server that repeats itself instead of paging on.

Airbyte's own telephony sources have looped forever on an endpoint that always answers with a next-page token
(source-zendesk-talk, airbytehq/airbyte PR #81516). Both paginators of this connector follow the server's
token until the server says the data ends, so a server that answers the same token, the same records, or
empty pages with ever new tokens would keep a sync busy forever. `PagingLoopGuard` notices each of these in
the slice being read and fails that slice with one transient error naming the API and the slice; the state is
not advanced past it (the CDK closes a slice only when it was read to the end), and the records of a
repeated page were already emitted once (`ExactlyOnceSliceFilter` drops them the second time).

Why not the manifest: `DefaultPaginator` offers `maximum_number_of_pages`, a bound on every slice that would
also cut a long, healthy one short; what is needed is to recognise a repetition.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping, Optional

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

_FINGERPRINT = "_source_8x8_cdr_page_fingerprint"


def keep_fingerprint(response: requests.Response, records: Any) -> None:
    """Notes on the response what identifies its page of records, before the extractor empties the list.

    The page's size and its first and last records: two pages with the same ones are the same page (within one
    slice, records do not come twice but when the server repeats itself). Costs two `repr`s per page.
    """
    if isinstance(records, list) and records:
        keep_page_identity(response, (len(records), repr(records[0]), repr(records[-1])))


def keep_page_identity(response: requests.Response, identity: Hashable) -> None:
    """Notes on the response what identifies its page of records (see `keep_fingerprint`)."""
    response.__dict__[_FINGERPRINT] = hash(identity)


@dataclass
class _SliceSeen:
    tokens: set = field(default_factory=set)
    pages: set = field(default_factory=set)
    empty_searches: int = 0


@dataclass
class PagingLoopGuard:
    """What the worker thread has seen in the slice it is reading, and the failure when the server repeats itself.

    A paginator calls `page` for each answer (the first page of a slice, or of a slice read again after a
    restart, starts afresh), `follow` before it follows a token, and `empty_search` when a continued search
    answers its first page with no records but a new token. Each slice is read on one thread, page after page,
    so the memory is per thread and lasts one slice.

    Attributes:
        api_name: as the user knows it, e.g. "The contact-center API"
        token_name: the parameter that is followed, e.g. `search_token`
        fail_on_repeated_token: whether following a token twice in a slice is a loop by itself. True for
            `search_token` (it names the position after a capped search: the same one twice is the same
            search again); False for Work Analytics' `scrollId`, which an Elasticsearch-style scroll may keep
            for all its pages while the data moves on, so there only a repeated page counts.
        max_empty_searches: continued searches per slice that may answer no records and a new token
    """

    api_name: str
    token_name: str
    fail_on_repeated_token: bool = True
    max_empty_searches: int = 3

    def __post_init__(self) -> None:
        self._local = threading.local()

    def page(self, response: requests.Response, first_page: bool, stream_slice: Optional[Mapping[str, Any]]) -> None:
        """A page of the slice arrived: fails when the slice had this very page already."""
        if first_page or getattr(self._local, "seen", None) is None:
            self._local.seen = _SliceSeen()
        fingerprint = response.__dict__.get(_FINGERPRINT)
        if fingerprint is None:
            return
        if fingerprint in self._local.seen.pages:
            raise self._failure("answered a page of records it had already sent", stream_slice, f" (the {self.token_name} did not move on)")
        self._local.seen.pages.add(fingerprint)

    def follow(self, token: str, stream_slice: Optional[Mapping[str, Any]]) -> None:
        """The paginator is about to follow `token`: fails when this slice followed it already."""
        tokens = self._local.seen.tokens
        if token in tokens and self.fail_on_repeated_token:
            raise self._failure(f"answered a {self.token_name} that was already followed", stream_slice)
        tokens.add(token)

    def empty_search(self, stream_slice: Optional[Mapping[str, Any]]) -> None:
        """A continued search answered no records but another token."""
        self._local.seen.empty_searches += 1
        if self._local.seen.empty_searches > self.max_empty_searches:
            raise self._failure(
                f"answered {self._local.seen.empty_searches} continued searches with no records and a new {self.token_name} each",
                stream_slice,
            )

    def _failure(self, what: str, stream_slice: Optional[Mapping[str, Any]], detail: str = "") -> AirbyteTracedException:
        where = "this slice"
        if stream_slice and "start_time" in stream_slice:
            where = f"the slice {stream_slice['start_time']} to {stream_slice.get('end_time')}"
        message = (
            f"{self.api_name} {what} in {where}{detail}: the server repeats itself, so the connector stopped paging it. "
            "The slice was not completed and the state was not advanced past it; the next sync reads it again."
        )
        return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.transient_error)
