"""The contact-center reference lists: `GET {base_url}/api/v2/cdr/<list>`, read through mocked HTTP.

Manifest settings under test (`definitions.contact_center_reference_stream`): `contact_center_requester`
(only `key` in the query, no paging), `JsonPageExtractor` over the whole body (a JSON array), full refresh
only, primary key `id` (`code` for wrap-up codes), and `contact_center_status_rules`.
"""

from __future__ import annotations

import json
from typing import Any, List
from unittest import TestCase

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from freezegun import freeze_time

from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.fault_cases import RetriedFaultCases
from unit_tests.mock_server.helpers import read_streams, stream_error
from unit_tests.mock_server.contact_center import (
    REFERENCE_LIST_PATHS,
    ContactCenterRequestBuilder,
    html_response,
    invalid_key_response,
    rate_limited_response,
    reference_list_response,
    reference_list_template,
    server_error_response,
)

_NOW = "2026-06-05T00:00:00Z"
_AGENTS = "contact_center_agents"
_ID_KEYED = [name for name in REFERENCE_LIST_PATHS if name != "contact_center_wrapup_codes"]

# Retries ask to wait; the waits are skipped and listed in `self.waits` (see unit_tests/conftest.py).
pytestmark = pytest.mark.usefixtures("instant_sleep")


def _config() -> ConfigBuilder:
    return ConfigBuilder().with_contact_center()


def _read(stream_name: str, expecting_exception: bool = False) -> EntrypointOutput:
    return read_streams([stream_name], _config(), expecting_exception=expecting_exception)


def _discovered_streams() -> dict:
    config = _config().build()
    output = discover(SourceEightByEightCdr(config=config), config)
    return {stream.name: stream for stream in output.catalog.catalog.streams}


def _request(stream_name: str = _AGENTS) -> Any:
    return ContactCenterRequestBuilder.reference_list(stream_name).build()


def _stream_error(output: EntrypointOutput, stream_name: str = _AGENTS) -> Any:
    return stream_error(output, stream_name)


@freeze_time(_NOW)
class FullRefreshTest(TestCase):
    def test_given_each_list_when_read_then_one_request_with_only_the_key_and_every_record_with_unknown_fields(self) -> None:
        # The templates carry fields the schemas do not declare (email, language, dialer_mode, ...).
        for stream_name in REFERENCE_LIST_PATHS:
            with self.subTest(stream_name), HttpMocker() as http_mocker:
                request = _request(stream_name)
                http_mocker.get(request, reference_list_response(stream_name))

                output = _read(stream_name)

                assert [message.record.data for message in output.records] == reference_list_template(stream_name)
                assert {message.record.stream for message in output.records} == {stream_name}
                http_mocker.assert_number_of_calls(request, 1)

    @HttpMocker()
    def test_given_a_single_object_instead_of_a_list_when_read_then_it_is_one_record(self, http_mocker: HttpMocker) -> None:
        team = reference_list_template("contact_center_teams")[0]
        http_mocker.get(_request("contact_center_teams"), HttpResponse(json.dumps(team), 200))

        output = _read("contact_center_teams")

        assert [message.record.data for message in output.records] == [team]
        assert not output.errors

    @HttpMocker()
    def test_given_empty_list_when_read_then_no_records_and_no_error(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_request(), reference_list_response(_AGENTS, records=[]))

        output = _read(_AGENTS)

        assert output.records == []
        assert not output.errors


@freeze_time(_NOW)
class DiscoverTest(TestCase):
    def test_given_config_when_discover_then_every_list_is_full_refresh_only(self) -> None:
        streams = _discovered_streams()

        for stream_name in REFERENCE_LIST_PATHS:
            assert streams[stream_name].supported_sync_modes == [SyncMode.full_refresh]

    def test_given_config_when_discover_then_wrapup_codes_keyed_by_code(self) -> None:
        assert _discovered_streams()["contact_center_wrapup_codes"].source_defined_primary_key == [["code"]]

    def test_given_config_when_discover_then_other_lists_keyed_by_id(self) -> None:
        streams = _discovered_streams()

        assert {name: streams[name].source_defined_primary_key for name in _ID_KEYED} == {name: [["id"]] for name in _ID_KEYED}

    def test_given_only_contact_center_configured_when_discover_then_only_contact_center_streams(self) -> None:
        config = ConfigBuilder().with_contact_center().build()

        output = discover(SourceEightByEightCdr(config=config), config)

        assert {stream.name for stream in output.catalog.catalog.streams} == set(REFERENCE_LIST_PATHS) | {"contact_center_cdrs"}


@freeze_time(_NOW)
class ErrorTest(RetriedFaultCases, TestCase):
    """With the 429/500 cases both APIs share (`fault_cases.py`), for the agents list."""

    stream = _AGENTS
    records_in_good_answer = 2  # the template's agents

    def fault_config(self) -> ConfigBuilder:
        return _config()

    def mock_data_call(self, http_mocker: HttpMocker, responses: List[HttpResponse]) -> None:
        http_mocker.get(_request(), responses)

    def a_good_answer(self) -> HttpResponse:
        return reference_list_response(_AGENTS)

    def rate_limited_response(self, retry_after_seconds: int) -> HttpResponse:
        return rate_limited_response(retry_after_seconds)

    def server_error_response(self) -> HttpResponse:
        return server_error_response()

    @HttpMocker()
    def test_given_invalid_user_api_key_with_401_when_read_then_config_error_naming_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_request(), invalid_key_response(401))

        output = _read(_AGENTS, expecting_exception=True)

        _assert_config_error(output, "contact_center.api_key")

    @HttpMocker()
    def test_given_invalid_user_api_key_with_403_when_read_then_config_error_naming_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_request(), invalid_key_response(403))

        output = _read(_AGENTS, expecting_exception=True)

        _assert_config_error(output, "contact_center.api_key")

    @HttpMocker()
    def test_given_404_html_page_when_read_then_config_error_naming_base_url(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_request(), html_response(404))

        output = _read(_AGENTS, expecting_exception=True)

        _assert_config_error(output, "contact_center.base_url")

    @HttpMocker()
    def test_given_html_page_with_200_when_read_then_error_not_an_empty_list(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(_request(), html_response(200))

        output = _read(_AGENTS, expecting_exception=True)

        assert output.errors

    @HttpMocker()
    def test_given_an_empty_object_twice_when_read_then_transient_error_that_speaks_of_the_stream_not_of_slices_or_state(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(_request(), HttpResponse("{}", 200))

        output = _read(_AGENTS, expecting_exception=True)

        error = _stream_error(output)
        assert error.failure_type == FailureType.transient_error
        assert error.message == (
            "The contact-center API answered an empty JSON object instead of a list, 2 times in a row; the stream was not read, "
            "and the next sync asks for it again."
        )
        assert output.records == []


def _assert_config_error(output: EntrypointOutput, field: str) -> None:
    error = _stream_error(output)
    assert error.failure_type == FailureType.config_error, error
    assert field in error.message
    assert output.records == []
