"""Config validation (`source_8x8_cdr.config.validate_config`) and what the config decides: the streams `discover`
lists and the answer of `check` and `read` to an unusable config.

Every `ConfigError` names the field to fix; these tests assert that it does.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, Dict

import pytest
from airbyte_cdk.models import FailureType, Status, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from freezegun import freeze_time

from source_8x8_cdr.config import ConfigError, validate_config
from source_8x8_cdr.source import SourceEightByEightCdr
from unit_tests.mock_server.config import ConfigBuilder

_NOW = datetime(2026, 6, 10, 12, 0, 0, tzinfo=timezone.utc)
_WORK_ANALYTICS_STREAMS = [
    "call_legs",
    "call_records",
    "work_analytics_company_daily",
    "work_analytics_extension_daily",
    "work_analytics_pbxes",
    "work_analytics_ring_group_daily",
    "work_analytics_ring_group_member_daily",
]
_CONTACT_CENTER_STREAMS = [
    "contact_center_agents",
    "contact_center_campaigns",
    "contact_center_cdrs",
    "contact_center_deleted_agents",
    "contact_center_queues",
    "contact_center_teams",
    "contact_center_wrapup_codes",
]


def _validate(config: Any) -> Dict[str, Any]:
    return validate_config(config, now=lambda: _NOW)


def _both_apis() -> Dict[str, Any]:
    return ConfigBuilder().with_work_analytics().with_contact_center().build()


def _with(config: Dict[str, Any], path: str, value: Any) -> Dict[str, Any]:
    """`_with(config, "work_analytics.page_size", 0)`; the value `_DROP` removes the field."""
    *blocks, name = path.split(".")
    target = config
    for block in blocks:
        target = target[block]
    if value is _DROP:
        target.pop(name, None)
    else:
        target[name] = value
    return config


_DROP = object()


# ---------------------------------------------------------------------------------------------------------------------
# Accepted configs
# ---------------------------------------------------------------------------------------------------------------------


def test_given_valid_config_with_both_apis_when_validate_then_return_it_unchanged() -> None:
    config = _both_apis()

    assert _validate(config) == config


@pytest.mark.parametrize(
    "path, value",
    [
        ("work_analytics.pbx_ids", []),
        ("work_analytics.pbx_ids", ["acmecorp", "acmecorp2"]),
        ("work_analytics.base_url", ""),
        ("work_analytics.base_url", "http://localhost:8080/analytics/work"),
        ("work_analytics.base_url", "http://127.0.0.1:18999"),
        ("work_analytics.page_size", 7000),
        ("contact_center.time_zone", "America/Sao_Paulo"),
        ("work_analytics.report_time_zone", "America/New_York"),
        ("lookback_window_minutes", 0),
        ("summary_lookback_days", 0),
        ("summary_lookback_days", 31),
        ("retry_backoff_seconds", 0.5),
        ("end_date", ""),
        ("requests_per_minute", 1),
        ("requests_per_minute", 10000),
    ],
)
def test_given_edge_value_within_the_rules_when_validate_then_accept_it(path: str, value: Any) -> None:
    config = _with(_both_apis(), path, value)

    assert _validate(config)


def test_given_only_work_analytics_and_empty_contact_center_block_when_validate_then_drop_the_empty_block() -> None:
    config = _with(ConfigBuilder().with_work_analytics().build(), "contact_center", {})

    assert "contact_center" not in _validate(config)


def test_given_start_older_than_two_years_when_validate_then_start_at_the_retention_limit_with_a_warning(caplog) -> None:
    config = ConfigBuilder().with_work_analytics().with_start_date("2020-01-01T00:00:00Z").with_end_date(None).build()

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        effective = _validate(config)

    assert effective["start_date"] == "2024-06-10T12:00:00Z"  # _NOW minus 730 days
    assert any("start_date" in record.getMessage() and "2024-06-10T12:00:00Z" in record.getMessage() for record in caplog.records)


# ---------------------------------------------------------------------------------------------------------------------
# Refused configs: each message names the field
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("start_date", _DROP, "start_date"),
        ("start_date", "", "start_date"),
        ("start_date", 20240101, "start_date"),
        ("start_date", "2024-01-01", "start_date"),
        ("start_date", "2024-01-01T00:00:00+02:00", "start_date"),
        ("start_date", "2026-06-10T12:00:01Z", "start_date"),  # one second after now: in the future
        ("end_date", "2026/06/03", "end_date"),
        ("end_date", "2026-06-01T00:00:00Z", "end_date"),  # equal to start_date
        ("end_date", "2026-05-31T00:00:00Z", "end_date"),  # before start_date
    ],
)
def test_given_bad_replication_window_when_validate_then_config_error_naming_the_field(path: str, value: Any, field: str) -> None:
    config = _with(_both_apis(), path, value)

    with pytest.raises(ConfigError, match=re.escape(f"`{field}`")):
        _validate(config)


def test_given_end_older_than_two_years_when_validate_then_config_error_naming_end_date() -> None:
    config = ConfigBuilder().with_work_analytics().with_start_date("2020-01-01T00:00:00Z").with_end_date("2021-01-01T00:00:00Z").build()

    with pytest.raises(ConfigError, match=r"`end_date`.*retention"):
        _validate(config)


@pytest.mark.parametrize("config", [[], "start_date=2026-06-01T00:00:00Z", None], ids=["list", "string", "null"])
def test_given_config_that_is_not_an_object_when_validate_then_config_error(config: Any) -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        _validate(config)


@pytest.mark.parametrize(
    "blocks",
    [{}, {"work_analytics": None}, {"work_analytics": {}, "contact_center": {}}],
    ids=["no_block", "null_block", "empty_blocks"],
)
def test_given_neither_api_configured_when_validate_then_config_error_naming_both_blocks(blocks: Dict[str, Any]) -> None:
    config = {**ConfigBuilder().build(), **blocks}

    with pytest.raises(ConfigError, match=r"`work_analytics`, `contact_center`"):
        _validate(config)


@pytest.mark.parametrize("block", ["work_analytics", "contact_center"])
def test_given_api_block_that_is_not_an_object_when_validate_then_config_error_naming_it(block: str) -> None:
    config = _with(_both_apis(), block, "api-key-here")

    with pytest.raises(ConfigError, match=re.escape(f"`{block}`")):
        _validate(config)


@pytest.mark.parametrize("name", ["api_key", "username", "password"])
@pytest.mark.parametrize("value", [_DROP, "", "   ", 12345], ids=["missing", "empty", "blank", "number"])
def test_given_missing_or_empty_work_analytics_credential_when_validate_then_config_error_naming_it(name: str, value: Any) -> None:
    config = _with(_both_apis(), f"work_analytics.{name}", value)

    with pytest.raises(ConfigError, match=re.escape(f"`work_analytics.{name}` is required")):
        _validate(config)


@pytest.mark.parametrize("value", [_DROP, ""], ids=["missing", "empty"])
def test_given_missing_contact_center_api_key_when_validate_then_config_error_naming_it(value: Any) -> None:
    config = _with(_both_apis(), "contact_center.api_key", value)

    with pytest.raises(ConfigError, match=re.escape("`contact_center.api_key` is required")):
        _validate(config)


@pytest.mark.parametrize(
    "pbx_ids, complaint",
    [
        ("acmecorp", "must be a list"),
        ([1, 2], "must be a list"),
        (["acmecorp", ""], "must be a list"),
        (["acmecorp,acmecorp2"], "without commas"),
    ],
    ids=["string", "numbers", "empty_name", "comma_inside"],
)
def test_given_bad_pbx_ids_when_validate_then_config_error_naming_pbx_ids(pbx_ids: Any, complaint: str) -> None:
    config = _with(_both_apis(), "work_analytics.pbx_ids", pbx_ids)

    with pytest.raises(ConfigError, match=rf"`work_analytics\.pbx_ids`.*{complaint}"):
        _validate(config)


@pytest.mark.parametrize(
    "field, url, complaint",
    [
        ("work_analytics.base_url", "http://api.8x8.com/analytics/work", "must use https"),
        ("work_analytics.base_url", "http://10.0.0.5/analytics/work", "must use https"),
        ("work_analytics.base_url", "ftp://api.8x8.com", "must be a URL"),
        ("work_analytics.base_url", "https://", "must be a URL"),
        ("work_analytics.base_url", "api.8x8.com/analytics/work", "must be a URL"),
        ("work_analytics.base_url", 42, "must be a URL"),
        ("work_analytics.base_url", "https://analyst:hunter2@api.8x8.com", "must not contain a user name or password"),
        ("contact_center.base_url", "http://cc-ams03.voiso.com", "must use https"),
        ("contact_center.base_url", _DROP, "must be a URL"),
        ("contact_center.base_url", "", "must be a URL"),
    ],
)
def test_given_unusable_base_url_when_validate_then_config_error_naming_the_field(field: str, url: Any, complaint: str) -> None:
    config = _with(_both_apis(), field, url)

    with pytest.raises(ConfigError, match=rf"`{re.escape(field)}`.*{complaint}"):
        _validate(config)


def test_given_url_with_password_and_wrong_scheme_when_validate_then_message_does_not_echo_the_password() -> None:
    config = _with(_both_apis(), "work_analytics.base_url", "ftp://analyst:hunter2@api.8x8.com")

    with pytest.raises(ConfigError) as error:
        _validate(config)

    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "UTC+3", "../etc/passwd"])
def test_given_unknown_time_zone_when_validate_then_config_error_naming_contact_center_time_zone(zone: str) -> None:
    config = _with(_both_apis(), "contact_center.time_zone", zone)

    with pytest.raises(ConfigError, match=re.escape("`contact_center.time_zone`")):
        _validate(config)


@pytest.mark.parametrize("zone", ["Eastern Standard Time", "EST+5", "Europe/Londres"])
def test_given_unknown_report_time_zone_when_validate_then_config_error_naming_it(zone: str) -> None:
    config = _with(_both_apis(), "work_analytics.report_time_zone", zone)

    with pytest.raises(ConfigError) as error:
        _validate(config)

    assert str(error.value) == f"`work_analytics.report_time_zone` must be an IANA time zone like UTC or America/New_York, got {zone!r}."


@pytest.mark.parametrize(
    "field, value",
    [
        ("work_analytics.page_size", 0),
        ("work_analytics.page_size", 7001),
        ("work_analytics.page_size", "100"),
        ("work_analytics.page_size", True),
        ("contact_center.per_page", 0),
        ("contact_center.per_page", 10001),
        ("lookback_window_minutes", -1),
        ("lookback_window_minutes", 10081),
        ("lookback_window_minutes", 1.5),
        ("summary_lookback_days", -1),
        ("summary_lookback_days", 32),
        ("summary_lookback_days", "2"),
        ("slice_hours", 0),
        ("slice_hours", 745),
        ("concurrency", 0),
        ("concurrency", 17),
        ("max_retries", -1),
        ("max_retries", 11),
        ("retry_backoff_seconds", -1),
        ("retry_backoff_seconds", 61),
        ("retry_backoff_seconds", "2"),
        ("retry_backoff_seconds", False),
        ("requests_per_minute", 0),
        ("requests_per_minute", 10001),
        ("requests_per_minute", 2.5),
    ],
)
def test_given_out_of_range_number_when_validate_then_config_error_naming_the_field(field: str, value: Any) -> None:
    config = _with(_both_apis(), field, value)

    with pytest.raises(ConfigError, match=re.escape(f"`{field}` must be")):
        _validate(config)


# ---------------------------------------------------------------------------------------------------------------------
# What the config decides at the entry point
# ---------------------------------------------------------------------------------------------------------------------


@freeze_time(_NOW)
@pytest.mark.parametrize(
    "config, expected_streams",
    [
        (ConfigBuilder().with_work_analytics().build(), _WORK_ANALYTICS_STREAMS),
        (ConfigBuilder().with_contact_center().build(), _CONTACT_CENTER_STREAMS),
        (_both_apis(), sorted(_WORK_ANALYTICS_STREAMS + _CONTACT_CENTER_STREAMS)),
    ],
    ids=["work_analytics", "contact_center", "both"],
)
def test_given_configured_apis_when_discover_then_list_only_their_streams(config: Dict[str, Any], expected_streams: list) -> None:
    output = discover(SourceEightByEightCdr(None, config, None), config)

    assert sorted(stream.name for stream in output.catalog.catalog.streams) == expected_streams


@freeze_time(_NOW)
def test_given_work_analytics_streams_when_discover_then_incremental_on_start_time_with_their_primary_keys() -> None:
    config = ConfigBuilder().with_work_analytics().build()

    output = discover(SourceEightByEightCdr(None, config, None), config)

    streams = {stream.name: stream for stream in output.catalog.catalog.streams}
    cdr_streams = ("call_records", "call_legs")
    assert {name: (streams[name].source_defined_primary_key, streams[name].default_cursor_field) for name in cdr_streams} == {
        "call_records": ([["callId"]], ["startTimeUTC"]),
        "call_legs": ([["legId"]], ["startTimeUTC"]),
    }
    assert all(SyncMode.incremental in streams[name].supported_sync_modes for name in cdr_streams)


@freeze_time(_NOW)
def test_given_config_without_start_date_when_check_then_fail_naming_start_date() -> None:
    config = _with(ConfigBuilder().with_work_analytics().build(), "start_date", _DROP)

    status = SourceEightByEightCdr(None, config, None).check(logging.getLogger("airbyte"), config)

    assert status.status == Status.FAILED
    assert "`start_date`" in status.message


@freeze_time(_NOW)
def test_given_http_base_url_when_read_then_config_error_before_any_request() -> None:
    # No HTTP mock: a request would fail with a connection error instead of the config error.
    config = _with(ConfigBuilder().with_work_analytics().build(), "work_analytics.base_url", "http://api.8x8.com/analytics/work")
    catalog = CatalogBuilder().with_stream("call_records", SyncMode.full_refresh).build()

    output = read(SourceEightByEightCdr(catalog, config, None), config, catalog, expecting_exception=True)

    assert output.records == []
    errors = [message.trace.error for message in output.errors]
    assert errors and errors[0].failure_type == FailureType.config_error
    assert "`work_analytics.base_url` must use https" in errors[0].message
