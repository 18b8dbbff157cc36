"""The Work Analytics login (`WorkAnalyticsAuthenticator`), the connection check, and secrets in the output.

The authenticator logs in with `POST /v1/oauth/token` (header `8x8-apikey`, form username/password), signs data
calls with `Authorization: Bearer <token>` and `8x8-apikey`, logs in again `refresh_margin_seconds` (120) before
`expires_in` runs out and when the CDK asks it to after a 401. Its time is `time.monotonic()`, which freezegun moves.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import List
from unittest import TestCase
from urllib.parse import quote, quote_plus

import orjson
import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, FailureType, Status
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from freezegun import freeze_time

from source_8x8_cdr.components.auth import WorkAnalyticsAuthenticator
from unit_tests.mock_server.work_analytics_reports import PbxPage, a_pbx, pbx_request
from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import WA_API_KEY, WA_PASSWORD, ConfigBuilder
from unit_tests.mock_server.helpers import read_streams, stream_error
from unit_tests.mock_server.work_analytics import (
    ACCESS_TOKEN,
    CALL_RECORDS,
    WorkAnalyticsPage,
    WorkAnalyticsRequestBuilder,
    a_call_record,
    access_denied_response,
    epoch_ms,
    html_response,
    invalid_api_key_response,
    invalid_grant_response,
    login_request,
    server_error_response,
    token_response,
    work_analytics_config,
)
from unit_tests.mock_server.work_analytics_reports import PbxPage, a_pbx, pbx_request

_NOW = datetime(2026, 6, 10, 12, 0, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.usefixtures("instant_sleep")


def _authenticator() -> WorkAnalyticsAuthenticator:
    """Built as the manifest builds it, from the config's `work_analytics` block."""
    return WorkAnalyticsAuthenticator(
        config=work_analytics_config().build(),
        parameters={},
        base_url="{{ config['work_analytics'].get('base_url') or 'https://api.8x8.com/analytics/work' }}",
        api_key="{{ config['work_analytics']['api_key'] }}",
        username="{{ config['work_analytics']['username'] }}",
        password="{{ config['work_analytics']['password'] }}",
    )


@freeze_time(_NOW)
class LoginTest(TestCase):
    @HttpMocker()
    def test_given_no_token_when_signing_then_log_in_and_send_bearer_token_and_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), token_response("token-1"))

        headers = _authenticator().get_auth_header()

        assert headers == {"Authorization": "Bearer token-1", "8x8-apikey": WA_API_KEY}

    @HttpMocker()
    def test_given_fresh_token_when_signing_twice_then_log_in_once(self, http_mocker: HttpMocker) -> None:
        login = login_request()
        http_mocker.post(login, token_response())
        authenticator = _authenticator()

        authenticator.get_auth_header()
        authenticator.get_auth_header()

        http_mocker.assert_number_of_calls(login, 1)

    @HttpMocker()
    def test_given_refresh_asked_after_a_401_when_signing_then_use_a_new_token(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), [token_response("token-1"), token_response("token-2")])
        authenticator = _authenticator()
        authenticator.get_auth_header()

        authenticator.refresh_and_set_access_token()

        assert authenticator.get_auth_header()["Authorization"] == "Bearer token-2"

    @HttpMocker()
    def test_given_login_answers_sha001_when_signing_then_config_error_naming_the_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), invalid_api_key_response())

        with pytest.raises(AirbyteTracedException) as raised:
            _authenticator().get_auth_header()

        error = raised.value
        assert error.failure_type == FailureType.config_error
        assert "work_analytics.api_key" in error.message

    @HttpMocker()
    def test_given_login_answers_invalid_grant_when_signing_then_config_error_naming_username_and_password(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.post(login_request(), invalid_grant_response())

        with pytest.raises(AirbyteTracedException) as raised:
            _authenticator().get_auth_header()

        error = raised.value
        assert error.failure_type == FailureType.config_error
        assert "work_analytics.username" in error.message
        assert "work_analytics.password" in error.message

    @HttpMocker()
    def test_given_login_answers_500_when_signing_then_transient_error(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), server_error_response())

        with pytest.raises(AirbyteTracedException) as raised:
            _authenticator().get_auth_header()

        error = raised.value
        assert error.failure_type == FailureType.transient_error

    @HttpMocker()
    def test_given_login_answers_html_when_signing_then_config_error_naming_the_base_url(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), html_response())

        with pytest.raises(AirbyteTracedException) as raised:
            _authenticator().get_auth_header()

        error = raised.value
        assert error.failure_type == FailureType.config_error
        assert "work_analytics.base_url" in error.message

    @HttpMocker()
    def test_given_login_when_token_is_logged_then_it_is_masked(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), token_response("a-secret-access-token"))

        _authenticator().get_auth_header()

        assert "a-secret-access-token" not in filter_secrets("header Authorization: Bearer a-secret-access-token")


class TokenLifetimeTest(TestCase):
    """`expires_in` 1800 s and a 120 s margin: the token is used for 1680 s, then the next call logs in again."""

    @HttpMocker()
    def test_given_token_within_its_last_120_seconds_when_signing_then_log_in_again(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), [token_response("token-1", expires_in=1800), token_response("token-2")])
        with freeze_time(_NOW) as clock:
            authenticator = _authenticator()
            authenticator.get_auth_header()

            clock.tick(timedelta(seconds=1679))
            before_margin = authenticator.get_auth_header()["Authorization"]
            clock.tick(timedelta(seconds=1))
            at_margin = authenticator.get_auth_header()["Authorization"]

        assert (before_margin, at_margin) == ("Bearer token-1", "Bearer token-2")

    @HttpMocker()
    def test_given_expires_in_shorter_than_the_margin_when_signing_then_log_in_again_after_half_of_it(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.post(login_request(), [token_response("token-1", expires_in=60), token_response("token-2")])
        with freeze_time(_NOW) as clock:
            authenticator = _authenticator()
            authenticator.get_auth_header()

            clock.tick(timedelta(seconds=29))
            before_half = authenticator.get_auth_header()["Authorization"]
            clock.tick(timedelta(seconds=1))
            at_half = authenticator.get_auth_header()["Authorization"]

        assert (before_half, at_half) == ("Bearer token-1", "Bearer token-2")


@freeze_time(_NOW)
class ReadLoginTest(TestCase):
    @HttpMocker()
    def test_given_invalid_grant_when_read_then_config_error_and_no_records(self, http_mocker: HttpMocker) -> None:
        # No data call is mocked: the read must not send one without a token.
        http_mocker.post(login_request(), invalid_grant_response())

        output = read_streams([CALL_RECORDS], work_analytics_config(), expecting_exception=True)

        error = stream_error(output, CALL_RECORDS)
        assert output.records == []
        assert error.failure_type == FailureType.config_error
        assert "username or password" in error.message

    @HttpMocker()
    def test_given_sha001_at_login_when_read_then_config_error_naming_the_api_key(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), invalid_api_key_response())

        output = read_streams([CALL_RECORDS], work_analytics_config(), expecting_exception=True)

        error = stream_error(output, CALL_RECORDS)
        assert error.failure_type == FailureType.config_error
        assert "work_analytics.api_key" in error.message


def _check(config: ConfigBuilder) -> tuple:
    built = config.build()
    status = SourceEightByEightCdr(None, built, None).check(logging.getLogger("airbyte"), built)
    return status.status, status.message


@freeze_time(_NOW)
class CheckTest(TestCase):
    @HttpMocker()
    def test_given_valid_credentials_when_check_then_log_in_and_read_one_record(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), token_response())
        http_mocker.get(
            WorkAnalyticsRequestBuilder.call_records().with_page_size(1).build(),
            WorkAnalyticsPage.of([a_call_record("c1", epoch_ms("2026-06-01T10:00:00.000"))]).with_scroll_id("page-2").build(),
        )

        status, message = _check(work_analytics_config())

        assert (status, message) == (Status.SUCCEEDED, None)

    @HttpMocker()
    def test_given_invalid_grant_when_check_then_fail_with_a_work_analytics_message(self, http_mocker: HttpMocker) -> None:
        http_mocker.post(login_request(), invalid_grant_response())

        status, message = _check(work_analytics_config())

        assert status == Status.FAILED
        assert message.startswith("Work Analytics: ")
        assert "work_analytics.username" in message

    @HttpMocker()
    def test_given_403_when_check_then_fail_naming_the_pbx(self, http_mocker: HttpMocker) -> None:
        # The PBX directory lists it (check reads it first), but the user may not read its calls.
        http_mocker.post(login_request(), token_response())
        http_mocker.get(pbx_request(0), PbxPage.of([a_pbx("acmecorp"), a_pbx("acmecorp2")]).build())
        http_mocker.get(
            WorkAnalyticsRequestBuilder.call_records().with_pbx_id("acmecorp2").with_page_size(1).build(),
            access_denied_response(pbx_id="acmecorp2"),
        )

        status, message = _check(work_analytics_config(pbx_ids=["acmecorp2"]))

        assert status == Status.FAILED
        assert message.startswith("Work Analytics: ")
        assert "pbxId(acmecorp2)" in message


def _forms(secret: str) -> List[str]:
    """A secret as it could appear in an output: raw, percent-encoded (`quote`, `quote_plus`) or JSON-escaped."""
    return [secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]]


@freeze_time(_NOW)
class SecretsTest(TestCase):
    @pytest.fixture(autouse=True)
    def _capture_process_output(self, capfd: pytest.CaptureFixture) -> None:
        # Debug lines are printed by the CDK's own handlers, outside the messages `read` returns.
        self._capfd = capfd

    @HttpMocker()
    def test_given_failing_login_and_403_when_read_and_check_then_no_output_contains_a_secret(self, http_mocker: HttpMocker) -> None:
        # The first read and the check are refused at login; the second read logs in and gets a 403.
        http_mocker.post(login_request(), [invalid_grant_response(), invalid_grant_response(), token_response()])
        http_mocker.get(WorkAnalyticsRequestBuilder.call_records().build(), access_denied_response())

        failed_login = read_streams([CALL_RECORDS], work_analytics_config(), expecting_exception=True, debug=True)
        _, check_message = _check(work_analytics_config())
        denied = read_streams([CALL_RECORDS], work_analytics_config(), expecting_exception=True, debug=True)
        printed = self._capfd.readouterr()

        messages = [
            orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()
            for output in (failed_login, denied)
            for message in output.get_message_iterator()
        ]
        everything = "\n".join(messages + [check_message, printed.out, printed.err])
        assert "Making outbound API request" in everything, "the debug log of the requests was not captured"
        assert "invalid_grant" in check_message and "pbxId(acmecorp2)" in stream_error(denied, CALL_RECORDS).message
        for secret in (WA_API_KEY, WA_PASSWORD, ACCESS_TOKEN):
            leaked = [form for form in _forms(secret) if form in everything]
            assert not leaked, f"{secret!r} appears in the output as {leaked}"
