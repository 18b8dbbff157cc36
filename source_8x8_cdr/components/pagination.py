"""The two APIs' paging: Work Analytics' `scrollId` and the contact-center search with `search_token`."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union

import requests
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_8x8_cdr.components.interpolation import interpolate
from source_8x8_cdr.components.page_body import parsed_page, records_in_page
from source_8x8_cdr.components.paging_guard import PagingLoopGuard


@dataclass
class PagedBySize(PaginationStrategy):
    """What both paginators share: a page size that may come from the config, and no token before page 1."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: Union[int, str] = 0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.page_size = int(interpolate(self.page_size, self.config, parameters))

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def get_page_size(self) -> Optional[int]:
        return int(self.page_size)


@dataclass
class ScrollIdPagination(PagedBySize):
    """Follows Work Analytics' `meta.scrollId` until the API says there is no more data.

    Why not `CursorPagination` with a `stop_condition`: it decodes the page again with the standard library
    to read one field, and its Jinja stop condition is evaluated per page against that second parse. The stop
    rules are those of docs/BEHAVIOR.md (3, 4), from 8x8's Work Analytics pagination example: a scrollId
    "No Data" (any case), a missing or empty scrollId, or an empty `data` list. A short page is *not* the end: the API may still return a real scrollId after it. A page the
    slice had already received fails the slice (`PagingLoopGuard`); the same scrollId on every page does not,
    as long as the pages move on.
    """

    page_size: Union[int, str] = 7000

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._guard = PagingLoopGuard(api_name="Work Analytics", token_name="scrollId", fail_on_repeated_token=False)

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        body = parsed_page(response, "data")
        if not isinstance(body, dict) or not records_in_page(response, "data"):
            return None
        self._guard.page(response, last_page_token_value is None, stream_slice)
        meta = body.get("meta")
        scroll_id = meta.get("scrollId") if isinstance(meta, dict) else None
        if not isinstance(scroll_id, str) or not scroll_id.strip() or scroll_id.strip().lower() == "no data":
            return None
        self._guard.follow(scroll_id, stream_slice)
        return scroll_id


@dataclass
class SearchTokenPagination(PagedBySize):
    """Pages the contact-center CDR search with `page`/`per_page` and continues past its 10,000-record cap
    with `search_token`.

    Why not `PageIncrement`: it ends at the first page shorter than `per_page` and knows nothing of the cap
    (it would stop, or read empty pages, at 10,000 records: the HubSpot and Pardot bug) nor of tokens.

    The rule is Work Analytics' (`ScrollIdPagination`): a short page is not the last. A server may serve
    fewer records per page than asked (the stated maximum is not a contract), its search cap may differ from
    the published 10,000, and where the token appears is not published (on every page of a capped search,
    or only on the page that reaches the cap). So:

    * a page with records: the next page of the same search;
    * an empty page: the end of this search. When any of its pages showed a `search_token`, the next search
      (same query, that token, page 1); otherwise the end.

    That costs one request per search (its empty page), and no record is lost at any page size or cap.
    `total` is never read (its meaning is not published). The token value is `{"page"}`, plus
    `search_token` once a search is continued and `shown` once the current search has shown a token; the
    manifest sends `page` and `search_token` from it. Several slices page at once, so the paging state is in
    the token. A server that repeats itself (the same token, the same page, or empty searches with ever new
    tokens) fails the slice (`PagingLoopGuard`).
    """

    page_size: Union[int, str] = 10_000

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._guard = PagingLoopGuard(api_name="The contact-center API", token_name="search_token")

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        body = parsed_page(response, "records")
        if not isinstance(body, dict):
            return None
        current = last_page_token_value if isinstance(last_page_token_value, dict) else {}
        self._guard.page(response, last_page_token_value is None, stream_slice)
        new_token = body.get("search_token")
        shown = new_token if isinstance(new_token, str) and new_token else current.get("shown")
        page = int(current.get("page", 1))

        if records_in_page(response, "records"):
            following = {"page": page + 1}
            if current.get("search_token"):
                following["search_token"] = current["search_token"]
            if shown:
                following["shown"] = shown
            return following
        if not shown:
            return None
        if page == 1 and current.get("search_token"):
            self._guard.empty_search(stream_slice)
        self._guard.follow(shown, stream_slice)
        return {"page": 1, "search_token": shown}
