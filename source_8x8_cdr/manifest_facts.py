"""Facts the manifest states once, read from it once: which API serves each stream, each stream's cursor
field, the config fields the spec marks `airbyte_secret`, and the numeric ranges the spec allows.

The Python code used to repeat these by hand (`STREAMS_BY_API`, `CURSOR_FIELDS`, `SECRET_FIELDS`, a range
check per number field); each was one more place to forget when a stream or a field is added. Here:

* a stream's API is the config block its requester's `url_base` reads (`config.get('work_analytics', ...)`):
  a stream is served from the base URL of that block, so it exists only when that block is configured;
* a stream's cursor is its `incremental_sync.cursor_field`;
* a secret is a spec property with `airbyte_secret: true`, at any depth;
* a number's range is the spec property's `minimum`/`maximum`, its kind the property's `type`.

The manifest is read as the CDK reads it, with every `$ref` resolved.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, NamedTuple, Tuple

import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
# The config block a Jinja expression reads: `config.get('work_analytics', {})` or `config['contact_center']`.
_CONFIG_BLOCK = re.compile(r"config(?:\.get\(|\[)\s*'(\w+)'")


# libyaml's parser where PyYAML was built with it (its wheels are): the same documents as `yaml.safe_load`, ten times
# faster. The pure-Python parser took 0.1 s of every start-up for each of the manifest's two reads.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def manifest_as_written() -> Dict[str, Any]:
    """The manifest as written (`$ref`s unresolved), a new copy at each call."""
    return yaml.load(MANIFEST_PATH.read_text(), Loader=_YAML_LOADER)  # noqa: S506  # a safe loader


@lru_cache(maxsize=None)
def manifest() -> Mapping[str, Any]:
    """The manifest with every `$ref` resolved (read once; do not change it)."""
    return ManifestReferenceResolver().preprocess_manifest(manifest_as_written())


def connection_specification() -> Mapping[str, Any]:
    return manifest()["spec"]["connection_specification"]


def _config_blocks() -> Tuple[str, ...]:
    """The spec's object properties: one per API (`work_analytics`, `contact_center`)."""
    return tuple(name for name, body in connection_specification()["properties"].items() if body.get("type") == "object")


def _api_of(stream: Mapping[str, Any]) -> str:
    url_base = str(stream["retriever"]["requester"]["url_base"])
    blocks = [block for block in _CONFIG_BLOCK.findall(url_base) if block in _config_blocks()]
    if len(set(blocks)) != 1:
        raise ValueError(f"manifest.yaml: the url_base of stream {stream['name']} must read one API block of the spec, got {url_base!r}")
    return blocks[0]


def _streams_by_api() -> Dict[str, Tuple[str, ...]]:
    by_api: Dict[str, Tuple[str, ...]] = {}
    for stream in manifest()["streams"]:
        api = _api_of(stream)
        by_api[api] = (*by_api.get(api, ()), stream["name"])
    return by_api


def _cursor_fields() -> Dict[str, str]:
    return {
        stream["name"]: stream["incremental_sync"]["cursor_field"]
        for stream in manifest()["streams"]
        if stream.get("incremental_sync")
    }


def _properties(properties: Mapping[str, Any], path: Tuple[str, ...] = ()) -> Iterator[Tuple[Tuple[str, ...], Mapping[str, Any]]]:
    """Every spec property with its path in the config, depth first in the spec's order."""
    for name, body in properties.items():
        yield (*path, name), body
        if body.get("type") == "object":
            yield from _properties(body.get("properties", {}), (*path, name))


class NumberRange(NamedTuple):
    whole: bool  # `type: integer`, else `type: number`
    minimum: float
    maximum: float


# Stream name -> the config block of its API, in the order of the manifest's `streams`.
STREAMS_BY_API: Dict[str, Tuple[str, ...]] = _streams_by_api()
# Incremental stream name -> its cursor field.
CURSOR_FIELDS: Dict[str, str] = _cursor_fields()
# Paths in the config of the fields marked `airbyte_secret`, e.g. ("work_analytics", "api_key").
SECRET_PATHS: Tuple[Tuple[str, ...], ...] = tuple(
    path for path, body in _properties(connection_specification()["properties"]) if body.get("airbyte_secret")
)
# Path in the config -> the range of a number field with a `minimum` and a `maximum`.
NUMBER_RANGES: Dict[Tuple[str, ...], NumberRange] = {
    path: NumberRange(body["type"] == "integer", body["minimum"], body["maximum"])
    for path, body in _properties(connection_specification()["properties"])
    if body.get("type") in ("integer", "number") and "minimum" in body and "maximum" in body
}
