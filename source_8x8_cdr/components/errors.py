"""Answers that are not pages, and the bounded restart of a slice (see `PageCheckingErrorHandler`)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union
from urllib.parse import parse_qsl, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_8x8_cdr.components.page_body import describe_malformed_page, parsed_page, records_in_page, skip_null_entries

logger = logging.getLogger("airbyte")


_PAGING_PARAMETERS = {"scrollId", "page", "search_token"}


def _request_window(answer: Any) -> Optional[tuple]:
    """What identifies the slice a response belongs to: its path and query without the paging parameters."""
    request = getattr(answer, "request", None)
    url = getattr(request, "url", None)
    if not url:
        return None
    parts = urlsplit(url)
    query = tuple(sorted(pair for pair in parse_qsl(parts.query) if pair[0] not in _PAGING_PARAMETERS))
    return parts.path, query


@dataclass
class PageCheckingErrorHandler(ErrorHandler):
    """Adds body checks and a bounded slice restart to the manifest's status-code rules.

    Why not `DefaultErrorHandler` alone: its `predicate` and `error_message_contains` re-parse every
    successful page with the standard library (a 7,000-record page, twice), and a 200 with an HTML page,
    a cut-off body or no `data` list would pass as an empty page, silently ending the slice. Here a 2xx body
    is parsed once (see `parsed_body`) and, when it is not a page of records, the slice is read again from
    its first page (`RESET_PAGINATION`; `ExactlyOnceSliceFilter` drops what was already emitted). Expired
    scroll ids and search tokens (mapped to `RESET_PAGINATION` by the manifest rules) restart the same way.
    The CDK reads a slice at most twice, so a second restart of the same slice (recognised by its request
    window, per thread) fails the stream with a transient error (`max_restarts` is 1); the state never moves
    past the slice, so the next sync reads it again. Everything else is decided by `status_rules`. A stream
    read whole, without slices or state (`sliced: false`: the reference lists), is asked again and fails in
    words of its own. With `single_object_is_record` (the reference lists), a body that is one object instead
    of a list is read as one record.
    """

    status_rules: ErrorHandler
    records_field: str
    api_name: str
    parameters: InitVar[Mapping[str, Any]]
    max_restarts: int = 1
    restart_pause_seconds: float = 1.0
    sliced: bool = True
    single_object_is_record: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._restarts = threading.local()

    @property
    def max_retries(self) -> Optional[int]:
        return self.status_rules.max_retries

    @property
    def max_time(self) -> Optional[int]:
        return self.status_rules.max_time

    @property
    def backoff_strategies(self) -> Any:
        return getattr(self.status_rules, "backoff_strategies", None)

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and 200 <= response_or_exception.status_code < 300:
            body = parsed_page(response_or_exception, self.records_field)
            problem = describe_malformed_page(body, self.records_field, self.single_object_is_record)
            if problem is None:
                records_in_page(response_or_exception, self.records_field)  # counted before a reader drops the records
                skip_null_entries(body, self.records_field, self.api_name)
                return ErrorResolution(response_action=ResponseAction.SUCCESS)
            return self._restart_or_fail(response_or_exception, f"{self.api_name} answered {problem}")
        resolution = self.status_rules.interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.RESET_PAGINATION:
            return self._restart_or_fail(response_or_exception, resolution.error_message or f"{self.api_name} asked to restart paging")
        return resolution

    def _restart_or_fail(self, answer: Any, reason: str) -> ErrorResolution:
        window = _request_window(answer)
        count = getattr(self._restarts, "count", 0) + 1 if getattr(self._restarts, "window", None) == window else 1
        self._restarts.window, self._restarts.count = window, count
        if count > self.max_restarts:
            self._restarts.window, self._restarts.count = None, 0
            if self.sliced:
                outcome = f"{count} times while reading one slice; the slice was not completed and the state was not advanced past it."
            else:
                outcome = f"{count} times in a row; the stream was not read, and the next sync asks for it again."
            return ErrorResolution(response_action=ResponseAction.FAIL, failure_type=FailureType.transient_error, error_message=f"{reason}, {outcome}")
        again = "reading the slice again from its first page" if self.sliced else "asking for it again"
        logger.warning(f"{reason}; {again} (restart {count} of {self.max_restarts}).")
        time.sleep(self.restart_pause_seconds * count)
        return ErrorResolution(response_action=ResponseAction.RESET_PAGINATION, error_message=reason)
