"""The two APIs' paging: Work Analytics' `scrollId` and the contact-center search with `search_token`."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union

import requests
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record

from source_8x8_cdr.components.interpolation import interpolate
from source_8x8_cdr.components.page_body import parsed_body, records_in_page


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
    rules are those of FACTS.md: a scrollId "No Data" (any case), a missing or empty scrollId, or an empty
    `data` list. A short page is *not* the end: the API may still return a real scrollId after it.
    """

    page_size: Union[int, str] = 7000

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
    ) -> Optional[Any]:
        body = parsed_body(response)
        if not isinstance(body, dict) or not records_in_page(response, "data"):
            return None
        meta = body.get("meta")
        scroll_id = meta.get("scrollId") if isinstance(meta, dict) else None
        if not isinstance(scroll_id, str) or not scroll_id.strip() or scroll_id.strip().lower() == "no data":
            return None
        return scroll_id


SEARCH_CAP = 10_000


@dataclass
class SearchTokenPagination(PagedBySize):
    """Pages the contact-center CDR search with `page`/`per_page` and continues past its 10,000-record cap
    with `search_token`.

    Why not `PageIncrement`: it knows nothing of the cap (it would stop, or read empty pages, at 10,000
    records: the HubSpot and Pardot bug) nor of tokens. The API does not publish whether the token comes on
    every page of a capped search or only on the page that reaches the cap, so the rule holds for both:

    * a page that reaches the cap and carries a token: the next search (same query, `search_token`, page 1);
    * a full page below the cap: the next page of this search, whether or not a token is already shown;
    * a short or empty page: the next search when it carries a token, otherwise the end;
    * at the cap without a token: the end (the API gives a token whenever more records match).

    `total` is never read (its meaning is not published). The token value is `{"page", "read"}`, plus
    `search_token` once a search is continued; `read` counts the records of the current search. The
    manifest sends `page` and `search_token` from it. Several slices page at once, so all state is in the token.
    """

    page_size: Union[int, str] = 10_000
    search_cap: int = SEARCH_CAP

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
    ) -> Optional[Any]:
        body = parsed_body(response)
        count = records_in_page(response, "records")
        new_token = body.get("search_token") if isinstance(body, dict) else None
        new_token = new_token if isinstance(new_token, str) and new_token else None
        current = last_page_token_value if isinstance(last_page_token_value, dict) else {}
        page = int(current.get("page", 1))
        read = int(current.get("read", 0)) + count
        per_page = page_size_override or int(self.page_size)

        if read >= self.search_cap or count < per_page:
            if new_token:
                return {"page": 1, "search_token": new_token, "read": 0}
            return None
        following = {"page": page + 1, "read": read}
        if current.get("search_token"):
            following["search_token"] = current["search_token"]
        return following
