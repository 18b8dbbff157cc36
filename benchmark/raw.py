"""The raw-HTTP baseline: `requests` + `orjson` in a plain loop, no framework. Run as a subprocess:

    python -m benchmark.raw '{"stream": "call_records", "base_url": ..., "credentials": {...}, "windows": [...]}'

Reads the same day windows as the connector, one after the other, parses every page with orjson and
counts the records; nothing else. That is the floor for this API on this machine: whatever the connector
adds on top of it is its own cost. Prints one JSON line: records, pages, bytes, seconds, CPU seconds.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any, Iterator

import orjson
import requests

WA_TIME = "%Y-%m-%d %H:%M:%S"
CC_TIME = "%Y-%m-%dT%H:%M:%S"


def work_analytics_pages(session: requests.Session, base_url: str, credentials: dict, windows: list, page_size: int) -> Iterator[tuple[bytes, list]]:
    login = session.post(
        f"{base_url}/v1/oauth/token",
        headers={"8x8-apikey": credentials["wa_api_key"]},
        data={"username": credentials["wa_username"], "password": credentials["wa_password"]},
    )
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", "8x8-apikey": credentials["wa_api_key"]}
    for start, end in windows:
        params: dict[str, Any] = {"pbxId": "allpbxes", "startTime": start, "endTime": end, "timeZone": "UTC", "pageSize": page_size}
        while True:
            response = session.get(f"{base_url}/v2/call-records", params=params, headers=headers)
            response.raise_for_status()
            body = orjson.loads(response.content)
            records = body["data"]
            yield response.content, records
            scroll_id = (body.get("meta") or {}).get("scrollId")
            if not records or not scroll_id or scroll_id.strip().lower() == "no data":
                break
            params["scrollId"] = scroll_id


def contact_center_pages(session: requests.Session, base_url: str, credentials: dict, windows: list, page_size: int) -> Iterator[tuple[bytes, list]]:
    for start, end in windows:
        params: dict[str, Any] = {"key": credentials["cc_api_key"], "start_datetime": start, "end_datetime": end,
                                  "per_page": page_size, "page": 1}
        read = 0
        while True:
            response = session.get(f"{base_url}/api/v2/cdr", params=params)
            response.raise_for_status()
            body = orjson.loads(response.content)
            records = body["records"]
            yield response.content, records
            read += len(records)
            token = body.get("search_token")
            if read >= 10_000 or len(records) < page_size:  # the search is exhausted (or capped)
                if not token:
                    break
                params.update(page=1, search_token=token)
                read = 0
            else:
                params["page"] += 1


def main(argv: list[str]) -> int:
    job = orjson.loads(argv[0])
    stream = job["stream"]
    session = requests.Session()
    pages_of = work_analytics_pages if stream == "call_records" else contact_center_pages
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    records = pages = size = 0
    for content, page in pages_of(session, job["base_url"], job["credentials"], job["windows"], job["page_size"]):
        records += len(page)
        pages += 1
        size += len(content)
    seconds = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(orjson.dumps({"records": records, "pages": pages, "bytes": size, "seconds": seconds, "cpu_seconds": cpu}).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
