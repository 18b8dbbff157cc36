"""The faults both APIs meet the same way, written once: HTTP 429 and 5xx.

Every requester of the manifest applies `retry_rules` (Retry-After honoured, otherwise an exponential backoff;
`max_retries` tries again; then a transient error), so these cases hold for every stream of both APIs. A stream's
`ErrorTest` mixes `RetriedFaultCases` into a `unittest.TestCase` and says how its data call is mocked:

    class ErrorTest(RetriedFaultCases, TestCase):
        def mock_data_call(self, http_mocker, responses): http_mocker.get(request, responses)
        def a_good_answer(self): return a page with one record
        ...

The module must skip waits with `pytestmark = pytest.mark.usefixtures("instant_sleep")` (the waits asked for are
then in `self.waits`). What differs between the APIs (a 401 logs in again for Work Analytics and is a config error
for the contact center; each API's 400s and 403s) stays in each stream's module.
"""

from __future__ import annotations

from typing import List

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.helpers import http_mocked, read_streams, stream_error


class RetriedFaultCases:
    """Set `stream` and override the hooks; `ConfigBuilder` configs retry twice (`max_retries: 2`)."""

    stream: str
    records_in_good_answer: int = 1
    waits: List[float]  # set by the `instant_sleep` fixture

    # -- hooks ------------------------------------------------------------------------------------------------

    def fault_config(self) -> ConfigBuilder:
        raise NotImplementedError

    def mock_data_call(self, http_mocker: HttpMocker, responses: List[HttpResponse]) -> None:
        """Mock the stream's (first) data request with `responses`, and whatever comes before it (a login)."""
        raise NotImplementedError

    def a_good_answer(self) -> HttpResponse:
        """An answer with `records_in_good_answer` records."""
        raise NotImplementedError

    def mock_what_follows_a_good_answer(self, http_mocker: HttpMocker) -> None:
        """The requests the stream sends after a good answer (the end of a search); none by default."""

    def rate_limited_response(self, retry_after_seconds: int) -> HttpResponse:
        raise NotImplementedError

    def server_error_response(self) -> HttpResponse:
        raise NotImplementedError

    def read_for_faults(self, config: ConfigBuilder, expecting_exception: bool = False) -> EntrypointOutput:
        return read_streams([self.stream], config, expecting_exception=expecting_exception)

    # -- cases ------------------------------------------------------------------------------------------------

    @http_mocked
    def test_given_429_with_retry_after_then_200_when_read_then_wait_and_return_records(self, http_mocker: HttpMocker) -> None:
        self.mock_data_call(http_mocker, [self.rate_limited_response(retry_after_seconds=7), self.a_good_answer()])
        self.mock_what_follows_a_good_answer(http_mocker)

        output = self.read_for_faults(self.fault_config())

        assert len(output.records) == self.records_in_good_answer
        assert not output.errors
        assert any(wait >= 7 for wait in self.waits)
        assert output.is_in_logs("Retrying in 8.0 seconds")  # Retry-After plus the CDK's extra second

    @http_mocked
    def test_given_500_once_then_200_when_read_then_return_records(self, http_mocker: HttpMocker) -> None:
        self.mock_data_call(http_mocker, [self.server_error_response(), self.a_good_answer()])
        self.mock_what_follows_a_good_answer(http_mocker)

        output = self.read_for_faults(self.fault_config())

        assert len(output.records) == self.records_in_good_answer
        assert not output.errors

    @http_mocked
    def test_given_500_on_every_try_when_read_then_transient_error_after_max_retries(self, http_mocker: HttpMocker) -> None:
        # max_retries 2: one try and two retries, each answered (HttpMocker checks that all three were asked).
        self.mock_data_call(http_mocker, [self.server_error_response()] * 3)

        output = self.read_for_faults(self.fault_config(), expecting_exception=True)

        assert output.records == []
        assert stream_error(output, self.stream).failure_type == FailureType.transient_error

    @http_mocked
    def test_given_500_and_no_retries_when_read_then_transient_error(self, http_mocker: HttpMocker) -> None:
        self.mock_data_call(http_mocker, [self.server_error_response()])

        output = self.read_for_faults(self.fault_config().with_field("max_retries", 0), expecting_exception=True)

        assert output.records == []
        assert stream_error(output, self.stream).failure_type == FailureType.transient_error
