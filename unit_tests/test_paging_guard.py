"""`PagingLoopGuard` (`components/paging_guard.py`): a server repeating a page is caught, a scroll that moves on is not."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import List

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr.components import page_body
from source_8x8_cdr.components.paging_guard import PagingLoopGuard
from unit_tests.component_inputs import a_response


_SLICE = {"start_time": "2026-06-01T00:00:00.000000Z", "end_time": "2026-06-01T23:59:59.999000Z"}


def _arrived(records: List[dict]) -> requests.Response:
    """A page as the error handler leaves it: counted (and fingerprinted) before the extractor empties it."""
    response = a_response({"records": records})
    page_body.records_in_page(response, "records")
    return response


class TestPagingLoopGuard:
    def test_given_a_page_the_slice_already_had_when_paged_then_transient_failure_naming_api_and_slice(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}, {"uuid": "b"}]), True, _SLICE)

        with pytest.raises(AirbyteTracedException) as failure:
            guard.page(_arrived([{"uuid": "a"}, {"uuid": "b"}]), False, _SLICE)

        assert failure.value.failure_type == FailureType.transient_error
        assert failure.value.message.startswith(
            "The API answered a page of records it had already sent in the slice 2026-06-01T00:00:00.000000Z to 2026-06-01T23:59:59.999000Z"
        )

    def test_given_the_same_first_page_after_a_restart_when_paged_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)
        guard.follow("token-1", _SLICE)

        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)  # the slice read again from its first page
        guard.follow("token-1", _SLICE)

    def test_given_pages_sharing_first_and_last_records_but_not_their_size_when_paged_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}, {"uuid": "z"}]), True, _SLICE)

        guard.page(_arrived([{"uuid": "a"}, {"uuid": "m"}, {"uuid": "z"}]), False, _SLICE)

    def test_given_pages_of_one_size_and_first_record_but_another_last_when_paged_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}, {"uuid": "b"}, {"uuid": "c"}]), True, _SLICE)

        guard.page(_arrived([{"uuid": "a"}, {"uuid": "b"}, {"uuid": "d"}]), False, _SLICE)

    def test_given_a_token_followed_twice_when_repeats_fail_then_transient_failure(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)
        guard.follow("token-1", _SLICE)

        with pytest.raises(AirbyteTracedException, match="answered a search_token that was already followed"):
            guard.follow("token-1", _SLICE)

    def test_given_a_scroll_id_followed_twice_with_new_pages_when_repeats_allowed_then_accepted(self) -> None:
        guard = PagingLoopGuard(api_name="Work Analytics", token_name="scrollId", fail_on_repeated_token=False)
        for number, first in enumerate((True, False, False)):
            guard.page(_arrived([{"callId": str(number)}]), first, _SLICE)
            guard.follow("scroll", _SLICE)

    def test_given_more_empty_searches_than_the_bound_when_counted_then_transient_failure(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token", max_empty_searches=2)
        guard.page(_arrived([]), True, _SLICE)
        guard.empty_search(_SLICE)
        guard.empty_search(_SLICE)

        with pytest.raises(AirbyteTracedException, match="answered 3 continued searches with no records and a new search_token each"):
            guard.empty_search(_SLICE)

    def test_given_two_threads_on_two_slices_when_paged_then_each_has_its_own_memory(self) -> None:
        guard = PagingLoopGuard(api_name="The API", token_name="search_token")
        guard.page(_arrived([{"uuid": "a"}]), True, _SLICE)

        with ThreadPoolExecutor(max_workers=1) as other_thread:
            other_thread.submit(guard.page, _arrived([{"uuid": "a"}]), True, _SLICE).result()
            other_thread.submit(guard.page, _arrived([{"uuid": "b"}]), False, _SLICE).result()

        guard.page(_arrived([{"uuid": "b"}]), False, _SLICE)
