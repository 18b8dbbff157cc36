"""One parse per page: the body of an answer parsed once, checked once, counted once.

Why not the CDK's `JsonDecoder`: the error handler (to check the page), the extractor (for the records) and
the paginator (for the next token and the page's size) all read the same page, and the decoder would parse it
once for each of them with the standard library. The parse is kept on the response object itself, so it lives
exactly as long as the answer does, whichever thread reads it.
"""

from __future__ import annotations

from typing import Any, Optional

import orjson
import requests

_PARSED = "_source_8x8_cdr_parsed_body"
_PAGE_SIZE = "_source_8x8_cdr_page_size"
NOT_JSON = object()


def parsed_body(response: requests.Response) -> Any:
    """The response body parsed once with orjson and kept on the response; `NOT_JSON` for a body that is not
    JSON (an HTML error page, a cut-off answer)."""
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        try:
            cached = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            cached = NOT_JSON
        response.__dict__[_PARSED] = cached
    return cached


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
    parsed records once it has them."""
    known = response.__dict__.get(_PAGE_SIZE)
    if known is None:
        records = page_records(response, records_field)
        known = len(records) if isinstance(records, list) else 0
        response.__dict__[_PAGE_SIZE] = known
    return known


def describe_malformed_page(body: Any, records_field: str) -> Optional[str]:
    """Why `body` is not a page of records, or None when it is one.

    With a `records_field` the page is an object holding the list there (`data`, `records`); without one
    the body itself is the list (the contact-center reference lists).
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
        if not isinstance(records, list):
            return f"a JSON {type(body).__name__} instead of a list"
    if any(not isinstance(record, dict) for record in records):
        return "a list with entries that are not objects"
    return None
