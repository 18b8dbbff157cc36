"""Every form in which a secret could reach an output stream, registered with the CDK's secret filter, and
masking that changes the text people read but never the protocol's JSON.

The CDK masks the raw values of `airbyte_secret` fields, but a contact-center key travels in the query
string and a password in a form body, and debug logs show headers as a Python `repr` inside JSON, so the
same secret also appears percent-encoded, `repr`-escaped, and JSON-escaped once or twice (with non-ASCII
characters kept or written as `\\u` escapes). Each of these forms is registered (`secret_forms`).

Masking applies to text values only (`mask_line`): replacing a secret such as `type`, `e` or `1` in a
serialized message would rewrite its keys and values (`{"ty****e":...}`), which no Airbyte consumer can
read.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, List, Mapping
from urllib.parse import quote, quote_plus

import orjson
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, update_secrets

from source_8x8_cdr.manifest_facts import SECRET_PATHS  # the spec's `airbyte_secret` fields

_registered: set[str] = set()


def secret_forms(value: str) -> Iterable[str]:
    """The raw value and the forms it takes in URLs, Python reprs and JSON (once or twice), longest first."""
    forms = {
        value,
        repr(value)[1:-1],  # in a dict's repr (request headers in debug logs)
        ascii(value)[1:-1],
        repr(value.encode("utf-8", "backslashreplace"))[2:-1],  # in a body shown as bytes
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
    }
    forms |= {quote(form, safe="") for form in list(forms)}  # a URL inside a URL (redirects, error bodies)
    for _ in range(2):  # JSON-escaped once and twice (a JSON dump inside a log message), with and without ensure_ascii
        forms |= {json.dumps(form, ensure_ascii=ascii_only)[1:-1] for form in list(forms) for ascii_only in (True, False)}
    return sorted(forms, key=len, reverse=True)  # longest first, so no form is left half-masked


def register_secret(value: Any) -> None:
    """Mask `value` (a token, a key) from now on, in all its forms."""
    if not isinstance(value, str) or not value:
        return
    forms = {value} if len(value) < 2 else set(secret_forms(value))
    if not forms <= _registered:
        _registered.update(forms)
        _give_filter_all_forms()


def config_secrets(config: Mapping[str, Any]) -> List[str]:
    """The values of a config's secret fields (the spec's `airbyte_secret` ones) that are set."""
    found: List[str] = []
    for path in SECRET_PATHS:
        value: Any = config
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            found.append(value)
    return found


def register_config_secrets(config: Mapping[str, Any]) -> None:
    """Register the secrets of a config (call after the entrypoint has set its own list)."""
    _registered.clear()
    for value in config_secrets(config):
        register_secret(value)


def _give_filter_all_forms() -> None:
    """The CDK's filter replaces its secrets in list order: longest first, no secret is cut by a shorter one.

    In the order of registration, a one-letter password would be replaced inside a longer key first and leave
    the rest of the key readable. The list set here holds the raw values the entrypoint had set (the same
    `airbyte_secret` fields) and every other form.
    """
    update_secrets(sorted(_registered, key=len, reverse=True))


def mask(text: str) -> str:
    return filter_secrets(text)


# The text a person reads in each kind of message, by path; everything else (keys, types, enums, records,
# state, catalogs, numbers) is protocol and stays as it is.
_TEXT_FIELDS = {
    "LOG": (("log", "message"),),
    "TRACE": (("trace", "error", "message"), ("trace", "error", "internal_message"), ("trace", "error", "stack_trace"),
              ("trace", "analytics", "value")),
    "CONNECTION_STATUS": (("connectionStatus", "message"),),
    "DEBUG": (("message",),),  # the CDK's `--debug` lines, not protocol messages but JSON all the same
}


def mask_line(line: str) -> str:
    """A serialized message with the secrets of its text values masked; its JSON structure unchanged.

    Most lines hold no secret and are returned as they are, after one scan of the whole line.
    """
    if mask(line) == line:
        return line
    try:
        message = json.loads(line)  # not orjson: a state may hold integers beyond 64 bits
    except ValueError:
        return mask(line)  # not JSON: no structure to keep
    if not isinstance(message, dict):
        return line
    kind = message.get("type")
    for path in _TEXT_FIELDS.get(kind, ()):  # type: ignore[arg-type]
        _mask_at(message, path)
    if kind == "DEBUG" and isinstance(message.get("data"), dict):
        message["data"] = {key: mask(value) if isinstance(value, str) else value for key, value in message["data"].items()}
    try:
        return orjson.dumps(message).decode()
    except TypeError:  # what orjson cannot write (integers beyond 64 bits), as the CDK's own fallback writes it
        return json.dumps(message)


def _mask_at(message: dict, path: tuple) -> None:
    parent = message
    for key in path[:-1]:
        parent = parent.get(key)
        if not isinstance(parent, dict):
            return
    value = parent.get(path[-1])
    if isinstance(value, str):
        parent[path[-1]] = mask(value)
