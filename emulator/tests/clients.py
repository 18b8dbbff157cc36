"""Minimal reference clients used by the tests: they follow the stop rules the FACTS file states."""

from __future__ import annotations

import orjson
import requests

from emulator import Emulator


class WorkAnalyticsClient:
    def __init__(self, emu: Emulator) -> None:
        self.base = emu.work_analytics_base_url
        self.creds = emu.credentials
        self.session = requests.Session()
        self.token: str | None = None

    def login(self) -> requests.Response:
        form = {"username": self.creds["wa_username"], "password": self.creds["wa_password"]}
        response = self.session.post(self.base + "/v1/oauth/token", headers={"8x8-apikey": self.creds["wa_api_key"]},
                                     data=form)
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def get(self, stream: str, timeout: float | None = None, **params: object) -> requests.Response:
        if self.token is None:
            self.login()
        headers = {"8x8-apikey": self.creds["wa_api_key"], "Authorization": f"Bearer {self.token}"}
        return self.session.get(f"{self.base}/v2/{stream}", params=params, headers=headers, timeout=timeout)

    def read_all(self, stream: str, start: str, end: str, time_zone: str = "UTC", pbx: str = "allpbxes",
                 page_size: int = 100) -> tuple[list[dict], list[dict]]:
        """All rows, following scrollId; stops on "No Data" (any case), a missing/empty scrollId or empty data."""
        params = {"pbxId": pbx, "startTime": start, "endTime": end, "timeZone": time_zone, "pageSize": page_size}
        rows: list[dict] = []
        pages: list[dict] = []
        for _ in range(10_000):
            response = self.get(stream, **params)
            assert response.status_code == 200, response.text
            page = orjson.loads(response.content)
            pages.append(page)
            rows.extend(page["data"])
            scroll_id = page["meta"].get("scrollId")
            if not page["data"] or not scroll_id or scroll_id.lower() == "no data":
                return rows, pages
            params["scrollId"] = scroll_id
        raise AssertionError("paging did not end")


class ContactCenterClient:
    def __init__(self, emu: Emulator) -> None:
        self.url = emu.contact_center_base_url + "/api/v2/cdr"
        self.key = emu.credentials["cc_api_key"]
        self.session = requests.Session()

    def get(self, path: str = "", **params: object) -> requests.Response:
        return self.session.get(self.url + path, params={"key": self.key, **params})

    def read_all(self, per_page: int = 1000, **params: object) -> tuple[list[dict], list[dict]]:
        """All records: page until a short or empty page, then continue with the last search_token seen."""
        records: list[dict] = []
        pages: list[dict] = []
        token, pending, page = None, None, 1
        for _ in range(10_000):
            query = {**params, "per_page": per_page, "page": page}
            if token:
                query["search_token"] = token
            response = self.get(**query)
            assert response.status_code == 200, response.text
            body = orjson.loads(response.content)
            pages.append(body)
            records.extend(body["records"])
            pending = body["search_token"] or pending
            if len(body["records"]) == per_page:
                page += 1
            elif pending and pending != token:
                token, page = pending, 1
            else:
                return records, pages
        raise AssertionError("paging did not end")
