"""`ScrollIdPagination` and `SearchTokenPagination` (`components/pagination.py`): when each stops, and the token it sends next."""

from __future__ import annotations

from typing import Any, Optional

import pytest
import requests

from source_8x8_cdr.components.pagination import ScrollIdPagination, SearchTokenPagination
from unit_tests.component_inputs import a_response


class TestScrollIdPagination:
    _PAGE_SIZE = 3

    def _next(self, body: Any) -> Optional[Any]:
        strategy = ScrollIdPagination(config={}, parameters={}, page_size=self._PAGE_SIZE)
        records = body.get("data", []) if isinstance(body, dict) else []
        return strategy.next_page_token(a_response(body), len(records or []), None, None)

    @pytest.mark.parametrize("scroll_id", ["No Data", "no data", "NO DATA", " No Data "])
    def test_given_no_data_scroll_id_in_any_case_when_next_page_then_none(self, scroll_id: str) -> None:
        assert self._next({"data": [{"callId": 1}] * 3, "meta": {"scrollId": scroll_id}}) is None

    @pytest.mark.parametrize(
        "meta",
        [None, {}, {"scrollId": None}, {"scrollId": ""}, {"scrollId": "   "}, {"scrollId": 42}, "scroll-1"],
        ids=["no_meta", "empty_meta", "null", "empty", "whitespace", "not_a_string", "meta_not_an_object"],
    )
    def test_given_missing_or_blank_scroll_id_when_next_page_then_none(self, meta: Any) -> None:
        body = {"data": [{"callId": 1}] * 3}
        if meta is not None:
            body["meta"] = meta

        assert self._next(body) is None

    @pytest.mark.parametrize("data", [[], None], ids=["empty_list", "null"])
    def test_given_no_data_with_real_scroll_id_when_next_page_then_none(self, data: Any) -> None:
        assert self._next({"data": data, "meta": {"scrollId": "scroll-2"}}) is None

    def test_given_short_page_with_real_scroll_id_when_next_page_then_continues(self) -> None:
        assert self._next({"data": [{"callId": 1}], "meta": {"scrollId": "scroll-2"}}) == "scroll-2"

    def test_given_full_page_with_real_scroll_id_when_next_page_then_continues(self) -> None:
        assert self._next({"data": [{"callId": 1}] * 3, "meta": {"scrollId": "scroll-2"}}) == "scroll-2"

    def test_given_body_not_json_when_next_page_then_none(self) -> None:
        assert self._next("<html>Bad Gateway</html>") is None

    def test_given_interpolated_page_size_when_get_page_size_then_config_value(self) -> None:
        strategy = ScrollIdPagination(
            config={"work_analytics": {"page_size": 500}},
            parameters={},
            page_size="{{ config['work_analytics'].get('page_size', 7000) }}",
        )

        assert strategy.get_page_size() == 500
        assert strategy.initial_token is None


def _page(count: int, search_token: Optional[str] = None, total: Optional[int] = None) -> requests.Response:
    body: dict = {"records": [{"uuid": f"r{index}"} for index in range(count)], "search_token": search_token, "page": 1}
    if total is not None:
        body["total"] = total
    return a_response(body)


def _token(page: int, search_token: Optional[str] = None, shown: Optional[str] = None) -> dict:
    token: dict = {"page": page}
    if search_token:
        token["search_token"] = search_token
    if shown:
        token["shown"] = shown
    return token


class TestSearchTokenPagination:
    """Pages of 3 records asked for; the server may serve fewer."""

    def _next(self, response: requests.Response, last_token: Optional[dict] = None) -> Optional[dict]:
        strategy = SearchTokenPagination(config={}, parameters={}, page_size=3)
        return strategy.next_page_token(response, 0, None, last_token)

    def test_given_full_first_page_when_next_page_then_page_two_of_same_search(self) -> None:
        assert self._next(_page(3)) == _token(2)

    @pytest.mark.parametrize("count", [1, 2], ids=["one", "two"])
    def test_given_short_page_without_token_when_next_page_then_page_two_not_the_end(self, count: int) -> None:
        assert self._next(_page(count)) == _token(2)

    def test_given_page_showing_a_token_when_next_page_then_next_page_of_same_search_remembering_the_token(self) -> None:
        assert self._next(_page(2, search_token="token-1")) == _token(2, shown="token-1")

    def test_given_token_shown_earlier_when_page_without_token_then_still_remembered(self) -> None:
        assert self._next(_page(3), _token(2, shown="token-1")) == _token(3, shown="token-1")

    def test_given_full_page_in_a_continued_search_when_next_page_then_keeps_that_search_token(self) -> None:
        assert self._next(_page(3), _token(1, "token-1")) == _token(2, "token-1")

    def test_given_empty_page_after_a_token_was_shown_when_next_page_then_next_search_from_page_one(self) -> None:
        assert self._next(_page(0), _token(4, shown="token-1")) == _token(1, "token-1")

    def test_given_empty_page_showing_a_token_when_next_page_then_next_search(self) -> None:
        assert self._next(_page(0, search_token="token-2"), _token(3, "token-1")) == _token(1, "token-2")

    def test_given_empty_page_and_no_token_shown_when_next_page_then_end(self) -> None:
        assert self._next(_page(0)) is None
        assert self._next(_page(0), _token(3, "token-1")) is None

    def test_given_empty_string_token_when_next_page_then_treated_as_no_token(self) -> None:
        assert self._next(_page(1, search_token="")) == _token(2)
        assert self._next(_page(0, search_token=""), _token(2)) is None

    @pytest.mark.parametrize("total", [0, 1, 3, 10**6], ids=["zero", "one", "page_size", "huge"])
    def test_given_any_total_when_next_page_then_total_is_ignored(self, total: int) -> None:
        assert self._next(_page(3, total=total)) == _token(2)
        assert self._next(_page(0, total=total), _token(2)) is None

    def test_given_body_not_json_when_next_page_then_end(self) -> None:
        assert self._next(a_response("<html>oops</html>")) is None

    def test_given_interpolated_page_size_when_get_page_size_then_config_value(self) -> None:
        strategy = SearchTokenPagination(
            config={"contact_center": {"per_page": 500}},
            parameters={},
            page_size="{{ config['contact_center'].get('per_page', 10000) }}",
        )

        assert strategy.get_page_size() == 500
        assert strategy.initial_token is None
