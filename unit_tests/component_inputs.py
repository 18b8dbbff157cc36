"""Inputs the component tests build by hand (no HTTP, no source): a `requests.Response` and the zones they use."""

from __future__ import annotations

import json
from datetime import timezone
from typing import Any
from zoneinfo import ZoneInfo

import requests

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def a_response(body: Any, status_code: int = 200, url: str = "https://api.test/v2/call-records?startTime=day-1") -> requests.Response:
    """A `requests.Response` whose body is `body` as JSON, or as it is when it is bytes (a `bytearray`, as the fast
    path reads a page) or a string."""
    response = requests.Response()
    response.status_code = status_code
    response.request = requests.Request("GET", url).prepare()
    if isinstance(body, (bytes, bytearray)):
        response._content = body
    elif isinstance(body, str):
        response._content = body.encode()
    else:
        response._content = json.dumps(body).encode()
    return response
