"""Every form in which a secret could reach an output stream, registered with the CDK's secret filter.

The CDK masks the raw values of `airbyte_secret` fields, but a contact-center key travels in the query
string and a password in a form body, so the same secret can also appear percent-encoded (`quote`,
`quote_plus`) in a URL or JSON-escaped in a serialized message. Each form is registered here.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping
from urllib.parse import quote, quote_plus

from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets

SECRET_FIELDS = {
    "work_analytics": ("api_key", "password"),
    "contact_center": ("api_key",),
}

_registered: set[str] = set()


def secret_forms(value: str) -> Iterable[str]:
    """The raw value and its percent-encoded and JSON-escaped forms."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    forms |= {quote(form, safe="") for form in list(forms)}  # a URL inside a URL (redirects, error bodies)
    return sorted(forms, key=len, reverse=True)  # longest first, so no form is left half-masked


def register_secret(value: Any) -> None:
    if not isinstance(value, str) or len(value) < 2:
        return
    for form in secret_forms(value):
        if form not in _registered:
            _registered.add(form)
            add_to_secrets(form)


def register_config_secrets(config: Mapping[str, Any]) -> None:
    """Register the secrets of a config (call after the entrypoint has set its own list)."""
    _registered.clear()
    for block, fields in SECRET_FIELDS.items():
        section = config.get(block)
        if isinstance(section, Mapping):
            for name in fields:
                register_secret(section.get(name))


def mask(text: str) -> str:
    return filter_secrets(text)
