"""Checks a user's config before anything is built from it, and says in one sentence what is wrong.

The spec's JSON schema catches types, but not the rules between fields (end before start, at least one
API block), nor values that are well-formed yet unusable (an unknown time zone, a key about to travel in
clear text). The ranges of number fields are the spec's own `minimum`/`maximum` (`manifest_facts.NUMBER_RANGES`),
checked here only to word the problem. Each problem is a `ConfigError` naming the field; the entry point turns it into an Airbyte
config error (a failed check, or a trace message for the other commands), never a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from source_8x8_cdr.manifest_facts import NUMBER_RANGES

DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
RETENTION = timedelta(days=730)

logger = logging.getLogger("airbyte")


class ConfigError(ValueError):
    """A config problem, worded for the user who has to fix it."""


def _parse_date(config: Mapping[str, Any], name: str) -> Optional[datetime]:
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"`{name}` must be a string like 2024-01-01T00:00:00Z, got {type(value).__name__}.")
    try:
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise ConfigError(f"`{name}` must be a UTC date and time like 2024-01-01T00:00:00Z, got {value!r}.") from None


def _is_local_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _without_userinfo(value: str) -> str:
    """The URL as it may be echoed in a message: a password typed into it stays out."""
    scheme, _, rest = value.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rsplit('@', 1)[-1]}{slash}{path}" if rest else value.rsplit("@", 1)[-1]


def _check_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"`{field}` must be a URL like https://host, got {value!r}.")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"`{field}` must be a URL like https://host, got {_without_userinfo(value.strip())!r}.")
    if parts.username or parts.password:
        raise ConfigError(f"`{field}` must not contain a user name or password; use the credential fields.")
    if parts.scheme == "http" and not _is_local_host(parts.hostname):
        raise ConfigError(
            f"`{field}` must use https: API keys must not travel in clear text to {parts.hostname}."
        )
    return value.strip()


def _check_string(block: Mapping[str, Any], prefix: str, name: str) -> None:
    value = block.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"`{prefix}.{name}` is required and must be a non-empty string.")


def _check_numbers(section: Mapping[str, Any], block: tuple = ()) -> None:
    """The number fields of a config section (the top level, or an API block) within the spec's ranges."""
    for path, rule in NUMBER_RANGES.items():
        if path[:-1] != block or section.get(path[-1]) is None:
            continue
        value, field = section[path[-1]], ".".join(path)
        kinds = int if rule.whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not rule.minimum <= value <= rule.maximum:
            what = "a whole number" if rule.whole else "a number"
            raise ConfigError(f"`{field}` must be {what} from {rule.minimum} to {rule.maximum}, got {value!r}.")


def _check_time_zone(block: Mapping[str, Any], prefix: str, name: str, example: str) -> None:
    zone = block.get(name)
    if zone in (None, ""):
        return
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"`{prefix}.{name}` must be an IANA time zone like UTC or {example}, got {zone!r}.") from None


def _check_work_analytics(block: Any) -> None:
    if not isinstance(block, Mapping):
        raise ConfigError("`work_analytics` must be an object with api_key, username and password.")
    for name in ("api_key", "username", "password"):
        _check_string(block, "work_analytics", name)
    pbx_ids = block.get("pbx_ids")
    if pbx_ids is not None:
        if not isinstance(pbx_ids, list) or not all(isinstance(pbx, str) and pbx.strip() for pbx in pbx_ids):
            raise ConfigError("`work_analytics.pbx_ids` must be a list of PBX names (leave it empty for all PBXes).")
        if any("," in pbx for pbx in pbx_ids):
            raise ConfigError("`work_analytics.pbx_ids` must list one PBX name per entry, without commas.")
    if block.get("base_url") not in (None, ""):
        _check_url(block["base_url"], "work_analytics.base_url")
    _check_numbers(block, ("work_analytics",))
    _check_time_zone(block, "work_analytics", "report_time_zone", "America/New_York")


def _check_contact_center(block: Any) -> None:
    if not isinstance(block, Mapping):
        raise ConfigError("`contact_center` must be an object with api_key and base_url.")
    _check_string(block, "contact_center", "api_key")
    _check_url(block.get("base_url"), "contact_center.base_url")
    _check_time_zone(block, "contact_center", "time_zone", "America/Sao_Paulo")
    _check_numbers(block, ("contact_center",))


def validate_config(config: Any, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> dict:
    """Returns the config to run with (the start date clamped to the retention, an end date in the future left
    out), or raises `ConfigError`."""
    if not isinstance(config, Mapping):
        raise ConfigError("The config must be a JSON object.")
    if config.get("start_date") in (None, ""):
        raise ConfigError("`start_date` is required (a UTC date and time like 2024-01-01T00:00:00Z).")
    start = _parse_date(config, "start_date")
    end = _parse_date(config, "end_date")
    current = now()
    if start > current:
        raise ConfigError(f"`start_date` {config['start_date']} is in the future.")
    if end is not None and end <= start:
        raise ConfigError(f"`end_date` {config['end_date']} must be after `start_date` {config['start_date']}.")

    has_work_analytics = config.get("work_analytics") not in (None, {})
    has_contact_center = config.get("contact_center") not in (None, {})
    if not has_work_analytics and not has_contact_center:
        raise ConfigError("Configure `work_analytics`, `contact_center`, or both: neither is set.")
    if has_work_analytics:
        _check_work_analytics(config["work_analytics"])
    if has_contact_center:
        _check_contact_center(config["contact_center"])

    _check_numbers(config)

    effective = {key: value for key, value in config.items() if key not in ("work_analytics", "contact_center")}
    if has_work_analytics:
        effective["work_analytics"] = dict(config["work_analytics"])
    if has_contact_center:
        effective["contact_center"] = dict(config["contact_center"])
    if end is not None and end > current:
        # The state never moves past the time of a sync (`checkpoint.py`): read up to now, and to end_date once it has passed.
        logger.info(f"`end_date` {config['end_date']} is in the future: this sync reads up to the time it started.")
        del effective["end_date"]
    oldest = (current - RETENTION).replace(microsecond=0)
    if start < oldest:
        logger.warning(
            f"`start_date` {config['start_date']} is older than the APIs' two-year retention; "
            f"reading from {oldest.strftime(DATE_FORMAT)} instead."
        )
        if end is not None and end <= oldest:
            raise ConfigError(
                f"`end_date` {config['end_date']} is older than the APIs' two-year retention: there is nothing to read."
            )
        effective["start_date"] = oldest.strftime(DATE_FORMAT)
    return effective


def configured_apis(config: Mapping[str, Any]) -> set[str]:
    return {api for api in ("work_analytics", "contact_center") if config.get(api) not in (None, {})}
