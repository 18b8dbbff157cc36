"""The facts the Python code reads from the manifest (`source_8x8_cdr/manifest_facts.py`), stated here by hand once."""

from __future__ import annotations

import pytest
import yaml

from source_8x8_cdr import manifest_facts
from source_8x8_cdr.config import ConfigError, validate_config
from source_8x8_cdr.manifest_facts import CURSOR_FIELDS, NUMBER_RANGES, SECRET_PATHS, STREAMS_BY_API, NumberRange

_SUMMARIES = (
    "work_analytics_extension_daily",
    "work_analytics_ring_group_daily",
    "work_analytics_ring_group_member_daily",
    "work_analytics_company_daily",
)


class TestManifestAsWritten:
    def test_given_the_manifest_when_read_with_libyaml_then_it_equals_what_the_pure_python_safe_loader_reads(self) -> None:
        written = manifest_facts.MANIFEST_PATH.read_text()

        assert manifest_facts.manifest_as_written() == yaml.load(written, Loader=yaml.SafeLoader)  # noqa: S506

    def test_given_pyyaml_with_libyaml_when_the_manifest_is_read_then_libyaml_s_loader_reads_it(self) -> None:
        assert manifest_facts._YAML_LOADER is yaml.CSafeLoader

    def test_given_two_reads_when_one_is_changed_then_the_other_is_not(self) -> None:
        first, second = manifest_facts.manifest_as_written(), manifest_facts.manifest_as_written()
        first.pop("api_budget")

        assert "api_budget" in second


class TestStreamsByApi:
    def test_given_the_manifest_when_read_then_each_stream_is_under_the_api_block_its_url_base_reads(self) -> None:
        assert STREAMS_BY_API == {
            "work_analytics": ("call_records", "call_legs", "work_analytics_pbxes", *_SUMMARIES),
            "contact_center": (
                "contact_center_cdrs",
                "contact_center_agents",
                "contact_center_queues",
                "contact_center_teams",
                "contact_center_campaigns",
                "contact_center_deleted_agents",
                "contact_center_wrapup_codes",
            ),
        }

    def test_given_the_manifest_when_read_then_every_stream_is_listed_once(self) -> None:
        names = [name for group in STREAMS_BY_API.values() for name in group]

        assert sorted(names) == sorted(stream["name"] for stream in manifest_facts.manifest()["streams"])

    @pytest.mark.parametrize("url_base", ["https://example.com", "{{ config.get('start_date') }}", "{{ config['work_analytics'] }}{{ config['contact_center'] }}"])
    def test_given_a_url_base_reading_no_single_api_block_when_read_then_the_stream_is_refused_by_name(self, url_base: str) -> None:
        stream = {"name": "probe", "retriever": {"requester": {"url_base": url_base}}}

        with pytest.raises(ValueError, match="stream probe must read one API block"):
            manifest_facts._api_of(stream)


class TestCursorFields:
    def test_given_the_manifest_when_read_then_each_incremental_stream_has_its_cursor_field(self) -> None:
        assert CURSOR_FIELDS == {
            "call_records": "startTimeUTC",
            "call_legs": "startTimeUTC",
            "contact_center_cdrs": "timestamp",
            **dict.fromkeys(_SUMMARIES, "day"),
        }


class TestSpecFacts:
    def test_given_the_spec_when_read_then_the_secrets_are_its_airbyte_secret_fields(self) -> None:
        assert SECRET_PATHS == (("work_analytics", "api_key"), ("work_analytics", "password"), ("contact_center", "api_key"))

    def test_given_the_spec_when_read_then_every_bounded_number_has_its_range(self) -> None:
        assert NUMBER_RANGES == {
            ("work_analytics", "page_size"): NumberRange(True, 1, 7000),
            ("contact_center", "per_page"): NumberRange(True, 1, 10000),
            ("lookback_window_minutes",): NumberRange(True, 0, 10080),
            ("summary_lookback_days",): NumberRange(True, 0, 31),
            ("slice_hours",): NumberRange(True, 1, 744),
            ("concurrency",): NumberRange(True, 1, 16),
            ("max_retries",): NumberRange(True, 0, 10),
            ("request_timeout_seconds",): NumberRange(True, 1, 600),
            ("retry_backoff_seconds",): NumberRange(False, 0, 60),
            ("requests_per_minute",): NumberRange(True, 1, 10000),
        }

    def test_given_a_narrower_spec_range_when_validate_then_the_config_check_follows_the_spec(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(NUMBER_RANGES, ("slice_hours",), NumberRange(True, 1, 12))
        config = {"start_date": "2026-01-01T00:00:00Z", "contact_center": {"api_key": "k", "base_url": "https://cc.example.com"}, "slice_hours": 13}

        with pytest.raises(ConfigError, match=r"^`slice_hours` must be a whole number from 1 to 12, got 13\.$"):
            validate_config(config)


class TestSharedDefinitions:
    def test_given_the_cdr_requester_when_resolved_then_it_differs_from_the_shared_contact_center_requester_only_in_window_paging_path_and_timeout(self) -> None:
        shared = manifest_facts.manifest()["definitions"]["contact_center_requester"]
        cdrs = next(stream for stream in manifest_facts.manifest()["streams"] if stream["name"] == "contact_center_cdrs")["retriever"]["requester"]

        differing = sorted(key for key in shared.keys() | cdrs.keys() if shared.get(key) != cdrs.get(key))

        assert differing == sorted([
            "class_name", "path", "read_timeout_in_seconds", "start_parameter", "end_parameter", "time_format", "time_zone",
            "start_padding_minutes", "request_parameters", "error_handler",
        ])
        assert cdrs["request_parameters"]["key"] == shared["request_parameters"]["key"]
        assert {key for key in shared["error_handler"].keys() | cdrs["error_handler"].keys() if shared["error_handler"].get(key) != cdrs["error_handler"].get(key)} == {
            "records_field", "sliced", "single_object_is_record"
        }
