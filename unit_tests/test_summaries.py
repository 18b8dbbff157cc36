"""`source_8x8_cdr/components/summaries.py` on its own: trailing commas, the PBX page shape and the `pbx_ids` check sentence.

The streams that use them are tested against mocked HTTP in `mock_server/test_work_analytics_pbxes.py` and
`mock_server/test_work_analytics_daily_summaries.py`.
"""

from __future__ import annotations

import json

import pytest
import requests

from source_8x8_cdr.components.page_body import parsed_body
from source_8x8_cdr.components.summaries import pbx_list, repair_trailing_commas, unknown_pbx_ids, without_trailing_commas


def _response(body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    return response


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'[{"a": 1,}]', [{"a": 1}]),
        (b'[\n    {\n        "totalRingTime": 0,\n    }\n    \n]', [{"totalRingTime": 0}]),
        (b'[{"a": [1, 2,],}, {"b": {},},]', [{"a": [1, 2]}, {"b": {}}]),
        (b'[{"name": "a,]b", "x": "q\\",}",}]', [{"name": "a,]b", "x": 'q",}'}]),
    ],
    ids=["object", "reference-example", "nested-lists-and-objects", "commas-and-brackets-inside-strings"],
)
def test_given_trailing_commas_when_removed_then_strict_json_with_strings_untouched(body: bytes, expected: list) -> None:
    assert json.loads(without_trailing_commas(body)) == expected


def test_given_body_with_trailing_commas_when_repaired_then_the_page_parses_without_them() -> None:
    response = _response(b'[{"pbxId": "acmecorp", "totalCalls": 3,}]')

    assert repair_trailing_commas(response) is True
    assert parsed_body(response) == [{"pbxId": "acmecorp", "totalCalls": 3}]


@pytest.mark.parametrize(
    "body",
    [b'[{"pbxId": "acmecorp"}]', b'[{"pbxId": "acmecorp", "totalCalls": 3', b"<html>Bad Gateway</html>", b'[{"a": 1,,}]'],
    ids=["strict-json", "cut-off", "html", "double-comma"],
)
def test_given_body_that_is_strict_json_or_broken_otherwise_when_repaired_then_left_as_it_is(body: bytes) -> None:
    response = _response(body)

    assert repair_trailing_commas(response) is False
    assert response.content == body


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"_embedded": {"pbxList": [{"name": "a"}]}, "page": {}}, [{"name": "a"}]),
        ({"_links": {}, "page": {"totalElements": 0}}, []),
        ({"_embedded": {}}, []),
        ({"_embedded": {"pbxList": "a"}}, None),
        ({"_embedded": []}, None),
        ([{"name": "a"}], None),
    ],
    ids=["page", "empty-page-without-embedded", "embedded-without-list", "list-not-a-list", "embedded-not-an-object", "bare-list"],
)
def test_given_pbx_directory_body_when_listed_then_its_pbxes_or_none_when_not_a_page(body: object, expected: object) -> None:
    assert pbx_list(body, "pbxList") == expected


def test_given_one_unknown_pbx_when_checked_then_name_it_and_list_the_pbxes_in_order() -> None:
    directory = [{"id": "2", "name": "acmesales"}, {"id": "1", "name": "acmecorp"}, {"id": "3", "name": None}]

    assert unknown_pbx_ids(["acmecorp", "AcmeSales"], directory) == (
        "work_analytics.pbx_ids names 'AcmeSales', which is not a PBX of this account. The account's PBXes: acmecorp, acmesales."
    )


def test_given_known_pbxes_when_checked_then_no_problem() -> None:
    assert unknown_pbx_ids(["acmecorp"], [{"id": "1", "name": "acmecorp", "deleted": True}]) is None


def test_given_empty_directory_when_checked_then_say_there_is_none() -> None:
    assert unknown_pbx_ids(["acmecorp"], []) == (
        "work_analytics.pbx_ids names 'acmecorp', which is not a PBX of this account. The account's PBXes: none."
    )


def test_given_many_pbxes_when_checked_then_name_the_closest_ones_and_the_count() -> None:
    directory = [{"name": f"branch{n:03d}"} for n in range(205)]

    assert unknown_pbx_ids(["Branch042"], directory) == (
        "work_analytics.pbx_ids names 'Branch042', which is not a PBX of this account. The account has 205 PBXes, "
        "among them: branch042, branch204, branch142 (stream work_analytics_pbxes lists them all)."
    )


def test_given_many_pbxes_and_no_close_name_when_checked_then_name_the_first_ten() -> None:
    directory = [{"name": f"branch{n:03d}"} for n in range(205)]

    message = unknown_pbx_ids(["headquarters"], directory)

    assert message is not None and "among them: branch000, branch001," in message and "branch009 (stream" in message
