"""One parse per page: the body of an answer parsed once, checked once, counted once.

Why not the CDK's `JsonDecoder`: the error handler (to check the page), the extractor (for the records) and
the paginator (for the next token and the page's size) all read the same page, and the decoder would parse it
once for each of them with the standard library. The parse is kept on the response object itself, so it lives
exactly as long as the answer does, whichever thread reads it.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import requests

from source_8x8_cdr.components import page_json
from source_8x8_cdr.components.paging_guard import keep_fingerprint

logger = logging.getLogger("airbyte")

_PARSED = "_source_8x8_cdr_parsed_body"
_ODD_STRINGS = "_source_8x8_cdr_odd_strings"
_PAGE_SIZE = "_source_8x8_cdr_page_size"
NOT_JSON = object()


def parsed_body(response: requests.Response) -> Any:
    """The response body parsed once with msgspec (or, where msgspec would not read it, the standard
    library: see `page_json`) and kept on the response; `NOT_JSON` for a body that is not JSON (an HTML error
    page, a cut-off answer)."""
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        try:
            cached, response.__dict__[_ODD_STRINGS] = page_json.loads(response.content)
        except ValueError:
            cached = NOT_JSON
        response.__dict__[_PARSED] = cached
    return cached


def has_odd_strings(response: requests.Response) -> bool:
    """Whether the page's strings may hold lone surrogates (`page_json`), to be replaced in its records."""
    return bool(response.__dict__.get(_ODD_STRINGS))


def keep_parsed_body(response: requests.Response, body: Any) -> None:
    """Keeps `body` as the parse of `response` (a body read by other rules than strict JSON's)."""
    response.__dict__[_PARSED] = body


def page_records(response: requests.Response, records_field: str) -> Any:
    """What the page holds at `records_field` (the whole body when empty): a list of records once the error
    handler has accepted the page."""
    body = parsed_body(response)
    return body.get(records_field) if records_field and isinstance(body, dict) else body


def records_in_page(response: requests.Response, records_field: str) -> int:
    """How many records the page held when it arrived, counted once: the paginators need the page's own size,
    not the number of records the slice filter kept (the CDK's `last_page_size`), and a reader may drop the
    parsed records once it has them. Also notes the page's fingerprint for `PagingLoopGuard`."""
    known = response.__dict__.get(_PAGE_SIZE)
    if known is None:
        records = page_records(response, records_field)
        known = len(records) if isinstance(records, list) else 0
        response.__dict__[_PAGE_SIZE] = known
        keep_fingerprint(response, records)
    return known


def describe_malformed_page(body: Any, records_field: str, single_object_is_record: bool = False) -> Optional[str]:
    """Why `body` is not a page of records, or None when it is one.

    With a `records_field` the page is an object holding the list there (`data`, `records`); without one
    the body itself is the list (the contact-center reference lists), or, with `single_object_is_record`, a
    single object read as one record (an empty object is no record). `null` entries are no problem:
    `skip_null_entries` drops them.
    """
    if body is NOT_JSON:
        return "a body that is not JSON (an HTML page or a cut-off answer)"
    if records_field:
        if not isinstance(body, dict):
            return f"a JSON {type(body).__name__} instead of an object"
        records = body.get(records_field)
        if not isinstance(records, list):
            return f"a JSON object without a `{records_field}` list"
    else:
        records = body
        if single_object_is_record and isinstance(records, dict) and records:
            return None
        if not isinstance(records, list):
            return "an empty JSON object instead of a list" if single_object_is_record and isinstance(records, dict) else f"a JSON {type(body).__name__} instead of a list"
    if not set(map(type, records)) <= _RECORD_OR_NULL:
        return "a list with entries that are not objects"
    return None


_RECORD_OR_NULL = {dict, type(None)}


def skip_null_entries(body: Any, records_field: str, api_name: str) -> None:
    """Drops the `null` entries of a page of records, with a warning: a null is no record, and failing the
    page for it would fail the same slice on every sync."""
    records = body.get(records_field) if records_field else body
    if isinstance(records, list) and None in records:
        records[:] = [record for record in records if record is not None]
        logger.warning(f"{api_name} sent a page with null entries among its records; they were skipped.")
