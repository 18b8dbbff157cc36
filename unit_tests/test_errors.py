"""`PageCheckingErrorHandler` (`components/errors.py`): malformed pages restart the slice, then fail it in words."""

from __future__ import annotations

import threading
from typing import Any, List, Optional
from unittest.mock import Mock

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_8x8_cdr.components.errors import PageCheckingErrorHandler
from source_8x8_cdr.components.extraction import JsonPageExtractor
from source_8x8_cdr.components.page_body import parsed_body
from unit_tests.component_inputs import a_response


_GOOD_PAGE = {"records": [{"uuid": "a"}], "search_token": None}


class TestPageCheckingErrorHandler:
    @pytest.fixture(autouse=True)
    def _pauses(self, instant_sleep: List[float]) -> None:
        self.pauses = instant_sleep  # the waits asked for, skipped (unit_tests/conftest.py)

    def _handler(self, status_resolution: Optional[ErrorResolution] = None, max_restarts: int = 3) -> PageCheckingErrorHandler:
        # Three restarts make the counting visible; the connector runs with the default (one, as the CDK allows).
        status_rules = Mock(spec=ErrorHandler)
        status_rules.interpret_response.return_value = status_resolution or ErrorResolution(response_action=ResponseAction.SUCCESS)
        status_rules.max_retries, status_rules.max_time = 4, 600
        return PageCheckingErrorHandler(
            status_rules=status_rules, records_field="records", api_name="The API", parameters={}, max_restarts=max_restarts
        )

    def test_given_default_bound_when_second_malformed_page_in_a_row_then_transient_failure(self) -> None:
        status_rules = Mock(spec=ErrorHandler)
        handler = PageCheckingErrorHandler(status_rules=status_rules, records_field="records", api_name="The API", parameters={})

        first, second = (handler.interpret_response(a_response("<html>")) for _ in range(2))

        assert first.response_action == ResponseAction.RESET_PAGINATION
        assert second.response_action == ResponseAction.FAIL and second.failure_type == FailureType.transient_error

    def test_given_2xx_page_of_records_when_interpreted_then_success_without_asking_status_rules(self) -> None:
        handler = self._handler()

        assert handler.interpret_response(a_response(_GOOD_PAGE)).response_action == ResponseAction.SUCCESS
        assert handler.interpret_response(a_response({"records": []}, 204)).response_action == ResponseAction.SUCCESS
        handler.status_rules.interpret_response.assert_not_called()

    @pytest.mark.parametrize(
        "body, problem",
        [
            ("<!DOCTYPE html><html></html>", "not JSON"),
            ('{"records": [{"uuid": "a"}', "not JSON"),
            ({"total": 0, "page": 1}, "without a `records` list"),
            ({"records": None}, "without a `records` list"),
            ([{"uuid": "a"}], "JSON list instead of an object"),
            ({"records": [{"uuid": "a"}, "b"]}, "not objects"),
            ({"records": [{"uuid": "a"}, None, 3]}, "not objects"),
        ],
        ids=["html", "truncated_json", "no_records", "null_records", "list_body", "non_object_entry", "null_and_number_entries"],
    )
    def test_given_2xx_that_is_not_a_page_when_interpreted_then_restart_naming_the_problem(self, body: Any, problem: str) -> None:
        resolution = self._handler().interpret_response(a_response(body))

        assert resolution.response_action == ResponseAction.RESET_PAGINATION
        assert problem in resolution.error_message and resolution.error_message.startswith("The API answered")

    def test_given_null_entries_in_a_page_when_interpreted_then_success_and_they_are_dropped_with_a_warning(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        response = a_response({"records": [None, {"uuid": "a"}, None], "search_token": None})

        assert self._handler().interpret_response(response).response_action == ResponseAction.SUCCESS

        assert parsed_body(response)["records"] == [{"uuid": "a"}]
        assert "The API sent a page with null entries among its records; they were skipped." in caplog.text

    def _list_handler(self) -> PageCheckingErrorHandler:
        status_rules = Mock(spec=ErrorHandler)
        return PageCheckingErrorHandler(status_rules=status_rules, records_field="", api_name="The API", parameters={}, sliced=False, single_object_is_record=True)

    def test_given_a_single_object_for_a_list_when_interpreted_then_success(self) -> None:
        response = a_response({"id": 5915, "name": "Dayshift"}, url="https://cc.test/api/v2/cdr/teams")

        assert self._list_handler().interpret_response(response).response_action == ResponseAction.SUCCESS
        assert list(JsonPageExtractor(parameters={}).extract_records(response)) == [{"id": 5915, "name": "Dayshift"}]

    def test_given_a_stream_without_slices_when_failing_then_no_word_of_slices_or_state(self, caplog: pytest.LogCaptureFixture) -> None:
        handler = self._list_handler()

        first, second = (handler.interpret_response(a_response({}, url="https://cc.test/api/v2/cdr/teams")) for _ in range(2))

        assert first.response_action == ResponseAction.RESET_PAGINATION
        assert second.error_message == (
            "The API answered an empty JSON object instead of a list, 2 times in a row; the stream was not read, and the next sync asks for it again."
        )
        assert "asking for it again (restart 1 of 1)" in caplog.text
        assert "slice" not in second.error_message + caplog.text and "state" not in second.error_message + caplog.text

    @pytest.mark.parametrize("status_code", [400, 401, 403, 404, 429, 500])
    def test_given_non_2xx_when_interpreted_then_status_rules_decide(self, status_code: int) -> None:
        decision = ErrorResolution(response_action=ResponseAction.FAIL, failure_type=FailureType.config_error, error_message="rule")
        handler = self._handler(decision)
        response = a_response({"error": "x"}, status_code)

        assert handler.interpret_response(response) is decision
        handler.status_rules.interpret_response.assert_called_once_with(response)

    def test_given_an_exception_when_interpreted_then_status_rules_decide(self) -> None:
        decision = ErrorResolution(response_action=ResponseAction.RETRY, failure_type=FailureType.transient_error)
        handler = self._handler(decision)
        error = requests.ConnectionError("reset by peer")

        assert handler.interpret_response(error) is decision
        handler.status_rules.interpret_response.assert_called_once_with(error)

    def test_given_malformed_pages_in_a_row_when_interpreted_then_three_restarts_then_transient_failure(self) -> None:
        handler = self._handler()

        actions = [handler.interpret_response(a_response("<html>")).response_action for _ in range(4)]
        failure = handler.interpret_response(a_response("<html>"))

        assert actions[:3] == [ResponseAction.RESET_PAGINATION] * 3
        assert actions[3] == ResponseAction.FAIL
        assert failure.response_action == ResponseAction.RESET_PAGINATION  # the count starts again after a failure
        assert self.pauses == [1.0, 2.0, 3.0, 1.0]

    def test_given_fourth_restart_when_interpreted_then_failure_is_transient_and_says_state_kept(self) -> None:
        handler = self._handler()
        for _ in range(3):
            handler.interpret_response(a_response("<html>"))

        failure = handler.interpret_response(a_response("<html>"))

        assert failure.failure_type == FailureType.transient_error
        assert "4 times while reading one slice" in failure.error_message and "state was not advanced" in failure.error_message

    def test_given_a_good_page_between_malformed_ones_of_one_slice_when_interpreted_then_still_counted(self) -> None:
        # The CDK counts every reset of a slice, not only consecutive ones.
        handler = self._handler()
        for _ in range(3):
            handler.interpret_response(a_response("<html>"))
        handler.interpret_response(a_response(_GOOD_PAGE))

        assert handler.interpret_response(a_response("<html>")).response_action == ResponseAction.FAIL

    def test_given_next_page_of_the_same_slice_when_interpreted_then_counted_with_its_slice(self) -> None:
        handler = self._handler(max_restarts=1)
        handler.interpret_response(a_response("<html>"))

        next_page = a_response("<html>", url="https://api.test/v2/call-records?startTime=day-1&scrollId=abc")

        assert handler.interpret_response(next_page).response_action == ResponseAction.FAIL

    def test_given_another_slice_when_interpreted_then_count_starts_again(self) -> None:
        handler = self._handler(max_restarts=1)
        handler.interpret_response(a_response("<html>"))

        other_slice = a_response("<html>", url="https://api.test/v2/call-records?startTime=day-2")

        assert handler.interpret_response(other_slice).response_action == ResponseAction.RESET_PAGINATION

    def test_given_status_rules_ask_for_restart_when_interpreted_then_counted_like_malformed_pages(self) -> None:
        expired = ErrorResolution(response_action=ResponseAction.RESET_PAGINATION, error_message="search_token expired")
        handler = self._handler(expired)
        response = a_response({"error": "Invalid search_token"}, 400)

        resolutions = [handler.interpret_response(response) for _ in range(4)]

        assert [resolution.response_action for resolution in resolutions] == [ResponseAction.RESET_PAGINATION] * 3 + [ResponseAction.FAIL]
        assert resolutions[0].error_message == "search_token expired"
        assert resolutions[3].failure_type == FailureType.transient_error

    def test_given_restarts_on_another_thread_when_interpreted_then_not_counted_here(self) -> None:
        handler = self._handler()
        for _ in range(3):
            handler.interpret_response(a_response("<html>"))
        other_thread: List[ResponseAction] = []
        worker = threading.Thread(target=lambda: other_thread.append(handler.interpret_response(a_response("<html>")).response_action))
        worker.start()
        worker.join()

        assert other_thread == [ResponseAction.RESET_PAGINATION]
        assert handler.interpret_response(a_response("<html>")).response_action == ResponseAction.FAIL

    def test_given_status_rules_when_asked_for_retry_limits_then_theirs(self) -> None:
        handler = self._handler()

        assert (handler.max_retries, handler.max_time) == (4, 600)
