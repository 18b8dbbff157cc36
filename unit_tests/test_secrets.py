"""Secret masking that changes the text people read and never the protocol around it (`secrets.py`, `output.py`)."""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stdout
from typing import Any, Iterator, List
from urllib.parse import quote, quote_plus

import orjson
import pytest
from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    FailureType,
    Level,
    Status,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr import secrets
from source_8x8_cdr.output import TextMaskingLogFormatter, report_uncaught_exception

# Secrets that occur in the JSON frame of every message: masking the frame would corrupt it.
FRAME_SECRETS = ["p", "e", "1", "true", "type", "RECORD", "status", "message", "LOG"]
AWKWARD = "k\\ey\"7'Z-é"
# Unique to these tests: registered secrets stay registered for the whole process.
_SECRET = 'unit "test"/secret+key=1 \\ é'


@pytest.fixture
def registered() -> Iterator[None]:
    """Lets a test register secrets in the CDK's real filter; the registered set is put back afterwards."""
    saved = set(secrets._registered)
    yield
    secrets._registered.clear()
    secrets._registered.update(saved)
    secrets._give_filter_all_forms()


def _line(message: AirbyteMessage) -> str:
    return orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()


def _messages(text: str) -> list[AirbyteMessage]:
    stream = StreamDescriptor(name="contact_center_cdrs")
    error = AirbyteTracedException(message=f"failed: {text}", internal_message=f"internal {text}",
                                   failure_type=FailureType.transient_error, stream_descriptor=stream)
    state = AirbyteStateMessage(type=AirbyteStateType.STREAM,
                                stream=AirbyteStreamState(stream_descriptor=stream, stream_state=AirbyteStateBlob(timestamp="2026-01-01T00:00:00.000000Z")))
    return [
        AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message=f"Request to {text} took 1 s")),
        error.as_airbyte_message(),
        AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=f"rejected {text}")),
        AirbyteMessage(type=Type.STATE, state=state),
    ]


class TestSecretForms:
    def test_given_backslash_quotes_and_non_ascii_when_forms_then_every_escaping_a_log_line_can_hold(self) -> None:
        forms = set(secrets.secret_forms(AWKWARD))

        in_repr = repr(AWKWARD)[1:-1]
        assert {AWKWARD, in_repr, ascii(AWKWARD)[1:-1], quote(AWKWARD, safe=""), quote_plus(AWKWARD)} <= forms
        for text in (AWKWARD, in_repr):
            for outer in (True, False):
                once = json.dumps(text, ensure_ascii=outer)[1:-1]
                assert once in forms
                for inner in (True, False):
                    assert json.dumps(json.dumps(text, ensure_ascii=inner)[1:-1], ensure_ascii=outer)[1:-1] in forms

    def test_given_headers_logged_as_repr_inside_json_when_masked_then_the_key_is_gone(self, registered: None) -> None:
        secrets.register_secret(AWKWARD)
        headers = str({"Authorization": "Bearer abc", "8x8-apikey": AWKWARD})
        debug_line = json.dumps({"message": "Making outbound API request", "data": {"headers": headers}})
        platform_line = json.dumps(f"Extra logs: {json.dumps({'headers': headers})}")

        for text in (headers, debug_line, platform_line, json.dumps(debug_line)):
            assert "'8x8-apikey': '****'" in secrets.mask(text).replace("\\", "").replace('"', "'")
            assert "ey" not in secrets.mask(text).split("8x8-apikey")[1]

    def test_given_a_value_when_forms_then_raw_percent_encoded_and_json_escaped(self) -> None:
        forms = set(secrets.secret_forms(_SECRET))

        assert {_SECRET, quote(_SECRET, safe=""), quote(_SECRET), quote_plus(_SECRET), json.dumps(_SECRET)[1:-1]} <= forms

    def test_given_a_value_when_forms_then_url_inside_a_url_included(self) -> None:
        assert quote(quote_plus(_SECRET), safe="") in secrets.secret_forms(_SECRET)

    def test_given_a_value_when_forms_then_longest_first(self) -> None:
        forms = list(secrets.secret_forms(_SECRET))

        assert [len(form) for form in forms] == sorted((len(form) for form in forms), reverse=True)


def _filter_lists(monkeypatch: pytest.MonkeyPatch) -> List[List[str]]:
    """The lists given to the CDK's secret filter from now on, starting from no registered secret."""
    given: List[List[str]] = []
    monkeypatch.setattr(secrets, "_registered", set())
    monkeypatch.setattr(secrets, "update_secrets", given.append)
    return given


class TestRegisterSecret:
    def test_given_registered_secret_when_filtering_any_form_then_masked(self) -> None:
        secrets.register_secret(_SECRET)
        text = " | ".join(
            [
                f"raw {_SECRET}",
                f"https://host/api?key={quote_plus(_SECRET)}&page=1",
                f"path /{quote(_SECRET)}/",
                f"encoded {quote(_SECRET, safe='')}",
                json.dumps({"message": f"key was {_SECRET}"}),
            ]
        )

        masked = filter_secrets(text)

        for form in (_SECRET, quote_plus(_SECRET), quote(_SECRET), quote(_SECRET, safe=""), json.dumps(_SECRET)[1:-1]):
            assert form not in masked
        assert "https://host/api?key=" in masked and "&page=1" in masked

    def test_given_same_secret_twice_when_registered_then_added_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        given = _filter_lists(monkeypatch)
        value = "twice/registered+secret"

        secrets.register_secret(value)
        secrets.register_secret(value)

        assert given == [list(secrets.secret_forms(value))]

    @pytest.mark.parametrize("value", [None, "", 12345, ["a-list"]], ids=["none", "empty", "int", "list"])
    def test_given_nothing_worth_masking_when_registered_then_ignored(self, value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        given = _filter_lists(monkeypatch)

        secrets.register_secret(value)

        assert given == []

    def test_given_a_one_character_secret_when_registered_then_only_its_raw_value_as_the_cdk_does(self, monkeypatch: pytest.MonkeyPatch) -> None:
        given = _filter_lists(monkeypatch)

        secrets.register_secret('"')

        assert given == [['"']]

    def test_given_a_short_secret_inside_a_longer_one_when_registered_then_the_longer_is_replaced_first(self, monkeypatch: pytest.MonkeyPatch) -> None:
        given = _filter_lists(monkeypatch)

        secrets.register_secret("e")
        secrets.register_secret("key-of-realistic-length")

        assert given[-1][0] == "key-of-realistic-length" and given[-1][-1] == "e"

    def test_given_config_when_registered_then_keys_and_password_registered_not_username(self, monkeypatch: pytest.MonkeyPatch) -> None:
        given = _filter_lists(monkeypatch)
        config = {
            "work_analytics": {"api_key": "wa-key-1", "username": "analyst@example.com", "password": "wa-pass-1"},
            "contact_center": {"api_key": "cc-key-1", "base_url": "https://cc.example.com"},
        }

        secrets.register_config_secrets(config)

        assert {"wa-key-1", "wa-pass-1", "cc-key-1"} <= set(given[-1])
        assert not any("analyst" in form or "cc.example.com" in form for form in given[-1])


    def test_given_a_config_without_some_secrets_when_its_secrets_are_listed_then_only_the_set_ones_in_spec_order(self) -> None:
        config = {"work_analytics": {"api_key": "wa-key-1", "username": "analyst@example.com", "password": ""}, "contact_center": {"api_key": "cc-key-1"}}

        assert secrets.config_secrets(config) == ["wa-key-1", "cc-key-1"]
        assert secrets.config_secrets({"work_analytics": "not an object"}) == []


class TestMaskLine:
    @pytest.mark.parametrize("secret", FRAME_SECRETS)
    def test_given_a_secret_found_in_the_json_frame_when_masking_each_kind_of_message_then_it_still_parses(self, secret: str, registered: None) -> None:
        secrets.register_secret(secret)

        for message in _messages(f"secret {secret} here"):
            line = _line(message)

            masked = secrets.mask_line(line)

            parsed = AirbyteMessageSerializer.load(orjson.loads(masked))
            assert parsed.type == message.type
            assert set(orjson.loads(masked)) == set(orjson.loads(line))

    def test_given_a_secret_in_text_values_when_masking_then_only_the_text_changes(self, registered: None) -> None:
        secrets.register_secret(AWKWARD)

        log, trace, status, state = (orjson.loads(secrets.mask_line(_line(m))) for m in _messages(f"secret {AWKWARD} here"))

        assert log["log"]["message"] == "Request to secret **** here took 1 s"
        assert trace["trace"]["error"]["message"] == "failed: secret **** here"
        assert trace["trace"]["error"]["internal_message"] == "internal secret **** here"
        assert status["connectionStatus"] == {"status": "FAILED", "message": "rejected secret **** here"}
        assert state["state"]["stream"]["stream_state"] == {"timestamp": "2026-01-01T00:00:00.000000Z"}

    def test_given_a_secret_equal_to_a_state_value_when_masking_then_the_state_is_unchanged(self, registered: None) -> None:
        state = _line(_messages("x")[3])
        secrets.register_secret("2026-01-01T00:00:00.000000Z")

        assert secrets.mask_line(state) == state

    def test_given_no_secret_in_a_line_when_masking_then_it_is_returned_as_it_is(self, registered: None) -> None:
        secrets.register_secret("not-in-the-line")
        line = '{"type":"LOG","log":{"level":"INFO","message":"Starting syncing"}}'

        assert secrets.mask_line(line) is line

    def test_given_a_state_with_an_integer_beyond_64_bits_when_masking_then_it_is_kept_exact(self, registered: None) -> None:
        secrets.register_secret("status")
        line = '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"status"},"stream_state":{"id":123456789012345678901234567890}}}}'

        assert json.loads(secrets.mask_line(line)) == json.loads(line)


class TestTextMaskingLogFormatter:
    def _debug_record(self, headers: str) -> logging.LogRecord:
        record = logging.LogRecord("airbyte", logging.DEBUG, __file__, 1, "Making outbound API request", None, None)
        record.headers = headers
        return record

    @pytest.mark.parametrize("secret", FRAME_SECRETS)
    def test_given_debug_flag_and_a_secret_in_the_frame_when_formatting_then_the_debug_line_keeps_its_keys(self, secret: str, registered: None, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("LOG_LEVEL", raising=False)
        secrets.register_secret(secret)

        line = TextMaskingLogFormatter("%(message)s").format(self._debug_record(f"{{'8x8-apikey': '{secret}'}}"))

        assert set(json.loads(line)) == {"type", "message", "data"}
        assert json.loads(line)["type"] == "DEBUG" and "headers" in json.loads(line)["data"]

    def test_given_debug_flag_and_a_key_in_the_headers_when_formatting_then_masked(self, registered: None, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("LOG_LEVEL", raising=False)
        secrets.register_secret(AWKWARD)

        line = TextMaskingLogFormatter("%(message)s").format(self._debug_record(str({"8x8-apikey": AWKWARD})))

        assert json.loads(line)["data"]["headers"] == "{'8x8-apikey': '****'}"

    def test_given_the_cdk_formatter_when_a_secret_is_in_the_frame_then_it_corrupts_the_line(self, registered: None, monkeypatch: pytest.MonkeyPatch) -> None:
        # Why `TextMaskingLogFormatter` exists: the CDK masks the serialized `--debug` line as a whole.
        monkeypatch.delenv("LOG_LEVEL", raising=False)
        secrets.register_secret("type")

        line = AirbyteLogFormatter("%(message)s").format(self._debug_record("{}"))

        assert '"type"' not in line


class TestUncaughtExceptionHook:
    @pytest.mark.parametrize("secret", ["type", "true", "e"])
    def test_given_a_secret_in_the_frame_when_an_error_escapes_then_its_trace_still_parses(self, secret: str, registered: None) -> None:
        secrets.register_secret(secret)
        hook = report_uncaught_exception(logging.getLogger("test_secrets"))
        error = AirbyteTracedException(message=f"failed with {secret}", failure_type=FailureType.system_error)
        printed = io.StringIO()

        with redirect_stdout(printed):
            hook(AirbyteTracedException, error, None)

        lines = printed.getvalue().splitlines()  # the FATAL log (when the log goes to stdout), then the trace
        message = AirbyteMessageSerializer.load(orjson.loads(lines[-1]))
        assert message.type == Type.TRACE and message.trace.error.message == secrets.mask(f"failed with {secret}")
        assert "****" in message.trace.error.message
