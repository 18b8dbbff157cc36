"""`JsonPageExtractor` (`components/extraction.py`): the records of a page, from the body parsed once."""

from __future__ import annotations

from typing import Any

import pytest

from source_8x8_cdr.components.extraction import JsonPageExtractor
from source_8x8_cdr.components.pagination import ScrollIdPagination
from unit_tests.component_inputs import a_response


class TestJsonPageExtractor:
    def test_given_records_field_when_extracted_then_its_list(self) -> None:
        extractor = JsonPageExtractor(parameters={}, field="records")

        assert list(extractor.extract_records(a_response({"records": [{"uuid": "a"}], "total": 1}))) == [{"uuid": "a"}]

    def test_given_no_field_and_a_list_body_when_extracted_then_the_list(self) -> None:
        extractor = JsonPageExtractor(parameters={})

        assert list(extractor.extract_records(a_response([{"id": 1}, {"id": 2}]))) == [{"id": 1}, {"id": 2}]

    def test_given_a_page_when_extracted_then_the_paginator_still_reads_it(self) -> None:
        response = a_response({"data": [{"callId": 1}, {"callId": 2}], "meta": {"scrollId": "next"}})

        records = list(JsonPageExtractor(parameters={}, field="data").extract_records(response))

        assert records == [{"callId": 1}, {"callId": 2}]
        assert ScrollIdPagination(config={}, parameters={}, page_size=2).next_page_token(response, 0, None, None) == "next"

    @pytest.mark.parametrize("body", ["<html></html>", {"total": 0}], ids=["not_json", "field_missing"])
    def test_given_no_records_list_when_extracted_then_nothing(self, body: Any) -> None:
        assert list(JsonPageExtractor(parameters={}, field="records").extract_records(a_response(body))) == []
