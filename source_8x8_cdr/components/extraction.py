"""The records of a page (see `JsonPageExtractor`)."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, MutableMapping

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor

from source_8x8_cdr.components import page_json
from source_8x8_cdr.components.page_body import has_odd_strings, page_records


@dataclass
class JsonPageExtractor(RecordExtractor):
    """Yields the records of a page from one parse of the body (`page_json`).

    Why not `DpathExtractor`: it decodes the body with the standard library and walks the path with `dpath`
    for each page, which is most of the time spent per record on a 7,000-record page; and it would decode
    the page a second time after the error handler and the paginator. The page shape was already checked
    by `PageCheckingErrorHandler`, so this only reads the list at `field` (the whole body when empty). On a
    page whose strings may hold lone surrogates (`page_json`), they are replaced in the records that hold them.
    """

    parameters: InitVar[Mapping[str, Any]]
    field: str = ""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        records = page_records(response, self.field)
        odd = has_odd_strings(response)
        if isinstance(records, list):
            if odd:
                records[:] = map(page_json.without_lone_surrogates, records)
            yield from records
        elif isinstance(records, dict):
            yield page_json.without_lone_surrogates(records) if odd else records
