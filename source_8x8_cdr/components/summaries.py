"""Work Analytics' PBX directory and daily summaries: only what `manifest.yaml` cannot declare.

The streams themselves (one request per day in `work_analytics.report_time_zone`, the `day` and `timeZone`
fields, the lookback, the shared login and status rules) are declared in the manifest. What is here:

* `SummaryErrorHandler`: reads the bodies the vendor's own reference shows, which are not always strict JSON
  (the ring-group summary example ends an object with a trailing comma), and checks the PBX directory's
  HAL page (`_embedded.pbxList`);
* `PbxPagination`: pages the PBX directory by `page`/`size` until a short or empty page;
* `unknown_pbx_ids`: the sentence `check` answers when `work_analytics.pbx_ids` names a PBX the account does
  not have.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Sequence, Union

import orjson
import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Record

from source_8x8_cdr.components.errors import PageCheckingErrorHandler
from source_8x8_cdr.components.page_body import keep_parsed_body, parsed_body
from source_8x8_cdr.components.pagination import PagedBySize

PBX_STREAM = "work_analytics_pbxes"
DAILY_SUMMARY_STREAMS = (
    "work_analytics_extension_daily",
    "work_analytics_ring_group_daily",
    "work_analytics_ring_group_member_daily",
    "work_analytics_company_daily",
)
LISTED_PBXES = 10  # `check` lists the account's PBXes up to this many

# A JSON string (kept as it is), or a comma followed only by blanks and a closing bracket (dropped).
_STRING_OR_TRAILING_COMMA = re.compile(rb'("(?:[^"\\]|\\.)*")|,(\s*[\]}])')


def without_trailing_commas(body: bytes) -> bytes:
    """`body` with every comma that directly precedes a `]` or `}` removed, except inside strings."""
    return _STRING_OR_TRAILING_COMMA.sub(lambda match: match.group(1) or match.group(2), body)


def repair_trailing_commas(response: requests.Response) -> bool:
    """Makes the body of `response` strict JSON when its only fault is trailing commas; says whether it did.

    A body that is strict JSON already, or that is malformed in any other way, is left as it is (the error
    handler then reports it).
    """
    try:
        orjson.loads(response.content)
        return False
    except orjson.JSONDecodeError:
        pass
    try:
        keep_parsed_body(response, orjson.loads(without_trailing_commas(response.content)))
    except orjson.JSONDecodeError:
        return False
    return True


def pbx_list(body: Any, field: str) -> Optional[List[Any]]:
    """The PBXes of a directory page (`_embedded.<field>`): [] when `_embedded` or the list is missing (Spring's
    HAL pages leave `_embedded` out when they are empty), None when the page is not shaped like one."""
    if not isinstance(body, dict):
        return None
    embedded = body.get("_embedded")
    if embedded is None:
        return []
    if not isinstance(embedded, dict):
        return None
    entries = embedded.get(field, [])
    return entries if isinstance(entries, list) else None


@dataclass
class SummaryErrorHandler(PageCheckingErrorHandler):
    """`PageCheckingErrorHandler` for the summary reports and the PBX directory.

    Why not `PageCheckingErrorHandler` alone: the vendor's reference shows a ring-group summary whose last
    object ends with a trailing comma, which no JSON parser accepts, so a body that fails to parse is first
    repaired by dropping such commas (and only such commas: any other fault stays a fault). The page is then
    checked as its parent checks it (a list of objects for the summaries), and a body that is still not a
    page restarts the day once and then fails it, the state not advanced past it. With `embedded_list` set
    (the PBX directory), the page is a HAL object whose records are `_embedded.<embedded_list>`, a shape the
    parent's `records_field` cannot name.

    Attributes (YAML): those of `PageCheckingErrorHandler`, plus
        embedded_list: e.g. `pbxList`; empty for the summaries, whose body is the list itself
    """

    embedded_list: str = ""

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and 200 <= response_or_exception.status_code < 300:
            repair_trailing_commas(response_or_exception)
            if self.embedded_list:
                entries = pbx_list(parsed_body(response_or_exception), self.embedded_list)
                if entries is None or any(not isinstance(entry, dict) for entry in entries):
                    return self._restart_or_fail(
                        response_or_exception,
                        f"{self.api_name} answered a PBX page that is not a JSON object with `_embedded.{self.embedded_list}` objects",
                    )
                return ErrorResolution(response_action=ResponseAction.SUCCESS)
        return super().interpret_response(response_or_exception)


@dataclass
class PbxListExtractor(RecordExtractor):
    """The PBXes of a directory page, `_embedded.<embedded_list>`.

    Why not `DpathExtractor` with `field_path: [_embedded, pbxList]`: it decodes the body again with the standard
    library, which refuses the trailing commas `SummaryErrorHandler` has repaired; this reads the page as the
    error handler parsed it (`parsed_body`).
    """

    parameters: InitVar[Mapping[str, Any]]
    embedded_list: str = ""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        yield from pbx_list(parsed_body(response), self.embedded_list) or []


@dataclass
class PbxPagination(PagedBySize):
    """Pages the PBX directory (`GET /v2/pbxes/`) with `page` (from 0) until a short or an empty page.

    Why not `PageIncrement`: it counts a page's records as the retriever hands them over, which is one item per
    page when records are passed on a page at a time (`pages.py`), so it would stop after the first page; and an
    API that ignores `page` would make it ask for ever. Here the page's size is read from its body, and a page
    whose last PBX is the last PBX of the page before ends the read too. `_links.next` and `page.totalPages`
    are not read: the reference's own example puts them inside `_embedded`, so neither can be trusted to be
    where the schema says. The token is `{"page": n, "last_id": ...}`; the manifest sends `page` from it.

    Attributes (YAML):
        page_size: PBXes per page, 1 to 100 (the API's maximum)
        embedded_list: the list under `_embedded`, `pbxList`
    """

    page_size: Union[int, str] = 100
    embedded_list: str = "pbxList"

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
    ) -> Optional[Any]:
        entries = pbx_list(parsed_body(response), self.embedded_list) or []
        if len(entries) < (page_size_override or int(self.page_size)):
            return None
        current = last_page_token_value if isinstance(last_page_token_value, dict) else {}
        last_id = entries[-1].get("id") if isinstance(entries[-1], dict) else None
        if current and last_id == current.get("last_id"):
            return None  # the API answered the same page again: it does not page
        return {"page": int(current.get("page", 0)) + 1, "last_id": last_id}


def stream_records(stream: Any) -> Iterator[Mapping[str, Any]]:
    """Every record of a stream read on the CDK's record path (the PBX directory always is: `PbxListExtractor`)."""
    for partition in stream.generate_partitions():
        for record in partition.read():
            yield record.data


def unknown_pbx_ids(configured: Sequence[str], directory: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """What `check` says when `work_analytics.pbx_ids` names PBXes that the PBX directory does not list, or None.

    It lists the account's PBXes when there are few; an account with many gets the names closest to the unknown
    ones (or the first few), so that the sentence stays short.
    """
    names = sorted(str(pbx["name"]) for pbx in directory if pbx.get("name") not in (None, ""))
    unknown = [name for name in configured if name not in names]
    if not unknown:
        return None
    problem = (
        f"work_analytics.pbx_ids names {', '.join(repr(name) for name in unknown)}, which "
        f"{'is not a PBX' if len(unknown) == 1 else 'are not PBXes'} of this account."
    )
    if len(names) <= LISTED_PBXES:
        return f"{problem} The account's PBXes: {', '.join(names) or 'none'}."
    close = dict.fromkeys(match for name in unknown for match in difflib.get_close_matches(name, names, n=3))
    shown = list(close)[:LISTED_PBXES] or names[:LISTED_PBXES]
    return f"{problem} The account has {len(names)} PBXes, among them: {', '.join(shown)} (stream {PBX_STREAM} lists them all)."
