"""Builds connector configs for unit tests (both APIs), in the style of source-stripe's ConfigBuilder."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

WA_BASE_URL = "https://api.8x8.test/analytics/work"
CC_BASE_URL = "https://cc-test01.voiso.test"
# Awkward on purpose: these must never appear in any output, in any encoding.
WA_API_KEY = "wa+Key/with=chars"
WA_USERNAME = "analyst@example.com"
WA_PASSWORD = "p@ss word%&+"
CC_API_KEY = "cc+Key/with=chars"


class ConfigBuilder:
    def __init__(self) -> None:
        self._config: Dict[str, Any] = {
            "start_date": "2026-06-01T00:00:00Z",
            "end_date": "2026-06-03T00:00:00Z",
            "retry_backoff_seconds": 0,
            "max_retries": 2,
        }

    def with_work_analytics(
        self, pbx_ids: Optional[List[str]] = None, page_size: Optional[int] = None, report_time_zone: Optional[str] = None
    ) -> "ConfigBuilder":
        block: Dict[str, Any] = {
            "api_key": WA_API_KEY,
            "username": WA_USERNAME,
            "password": WA_PASSWORD,
            "base_url": WA_BASE_URL,
        }
        if pbx_ids is not None:
            block["pbx_ids"] = pbx_ids
        if page_size is not None:
            block["page_size"] = page_size
        if report_time_zone is not None:
            block["report_time_zone"] = report_time_zone
        self._config["work_analytics"] = block
        return self

    def with_contact_center(self, per_page: Optional[int] = None, time_zone: Optional[str] = None) -> "ConfigBuilder":
        block: Dict[str, Any] = {"api_key": CC_API_KEY, "base_url": CC_BASE_URL}
        if per_page is not None:
            block["per_page"] = per_page
        if time_zone is not None:
            block["time_zone"] = time_zone
        self._config["contact_center"] = block
        return self

    def with_start_date(self, value: str) -> "ConfigBuilder":
        self._config["start_date"] = value
        return self

    def with_end_date(self, value: Optional[str]) -> "ConfigBuilder":
        if value is None:
            self._config.pop("end_date", None)
        else:
            self._config["end_date"] = value
        return self

    def with_field(self, key: str, value: Any) -> "ConfigBuilder":
        self._config[key] = value
        return self

    def build(self) -> Dict[str, Any]:
        return {key: (dict(value) if isinstance(value, dict) else value) for key, value in self._config.items()}
