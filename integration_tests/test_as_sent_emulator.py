"""The emulator's pages, as a server sends them, travel as sent (`source_8x8_cdr/fastpath/as_sent.py`), and what
travels is record for record what the converting path makes of the same page."""

from __future__ import annotations

import json

import pytest
import requests

from emulator import Emulator
from integration_tests.conftest import START
from source_8x8_cdr.components.conversion import StreamTypes
from source_8x8_cdr.components.filtering import seen_form
from source_8x8_cdr.components.page_body import page_records, parsed_page, records_as_sent
from source_8x8_cdr.fastpath.as_sent import AsSentReader


def _page(emulator: Emulator, stream: str) -> requests.Response:
    creds = emulator.credentials
    day = START.strftime("%Y-%m-%d")
    if stream == "contact_center_cdrs":
        params = {"key": creds["cc_api_key"], "start_datetime": f"{day}T00:00:00", "end_datetime": f"{day}T23:59:59", "per_page": 500, "page": 1}
        return requests.get(f"{emulator.contact_center_base_url}/api/v2/cdr", params=params, timeout=30)
    session = requests.Session()
    login = session.post(
        f"{emulator.work_analytics_base_url}/v1/oauth/token",
        headers={"8x8-apikey": creds["wa_api_key"]},
        data={"username": creds["wa_username"], "password": creds["wa_password"]},
        timeout=30,
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", "8x8-apikey": creds["wa_api_key"]}
    params = {"pbxId": "allpbxes", "startTime": f"{day} 00:00:00", "endTime": f"{day} 23:59:59", "timeZone": "UTC", "pageSize": 500}
    return session.get(f"{emulator.work_analytics_base_url}/v2/{stream.replace('_', '-')}", params=params, headers=headers, timeout=30)


@pytest.mark.parametrize(
    "stream, field, cursor, key",
    [("contact_center_cdrs", "records", "timestamp", "uuid"), ("call_records", "data", "startTimeUTC", "callId"), ("call_legs", "data", "startTimeUTC", "legId")],
)
def test_given_an_emulator_page_when_read_as_sent_then_accepted_and_equal_to_the_converting_path(
    emulator: Emulator, stream: str, field: str, cursor: str, key: str
) -> None:
    types = StreamTypes.of_stream(stream)
    converted = page_records(_page(emulator, stream), field)
    changes = types.convert_page(converted)  # the first page of a sync: integers sent as text are met here
    reader = AsSentReader.of(types, cursor, key)
    response = _page(emulator, stream)
    parsed_page(response, field)

    page = reader.read(records_as_sent(response, field))  # type: ignore[union-attr, arg-type]

    assert changes == {} and len(converted) > 100
    assert page is not None, "the emulator's page took the converting path"
    assert [json.loads(bytes(record)) for record in page.records] == converted
    assert page.keys == [seen_form(record[key]) for record in converted]  # call IDs as the integers the filter keeps
    assert page.cursors == [record[cursor] for record in converted]
