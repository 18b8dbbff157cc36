"""`parsed_body` (`components/page_body.py`): a page's body parsed once, however often it is read."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from source_8x8_cdr.components import page_body, page_json
from source_8x8_cdr.components.page_body import parsed_body
from unit_tests.component_inputs import a_response


class TestParsedBody:
    def test_given_a_response_read_twice_when_parsed_then_parsed_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loads = Mock(side_effect=page_json.loads)
        monkeypatch.setattr(page_body.page_json, "loads", loads)
        response = a_response({"records": [{"uuid": "a"}]})

        first, second = parsed_body(response), parsed_body(response)

        assert first is second and first == {"records": [{"uuid": "a"}]}
        assert loads.call_count == 1

    def test_given_body_not_json_when_parsed_twice_then_parsed_once_and_marked_not_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loads = Mock(side_effect=page_json.loads)
        monkeypatch.setattr(page_body.page_json, "loads", loads)
        response = a_response("<html>Bad Gateway</html>")

        assert parsed_body(response) is parsed_body(response) is page_body.NOT_JSON
        assert loads.call_count == 1
