"""Fault rules: run-time switchable misbehaviour of the vendor APIs.

A rule is ``{"kind": ..., "path": prefix (optional), "after": n (default 0), "times": k (default 1,
-1 = forever)}`` plus the kind's own fields. Rules are tried in order for every vendor request whose
path starts with ``path``; each counts the requests that reach it, skips the first ``after`` and
fires on the next ``times``. ``slow``, ``expire_token`` and ``expire_scroll`` act and let the
request go on (to later rules and the API); the other kinds decide the answer and stop.

Kinds: ``status`` (``status``, optional ``retry_after`` seconds), ``expire_token``, ``slow``
(``seconds``), ``reset``, ``html`` (optional ``status``, default 200), ``truncated_json``,
``missing_data``, ``wrong_types``, ``odd_values``, ``future_cursor`` (``seconds``), ``expire_scroll``,
``repeat_token``, ``empty_new_token``.

``odd_values`` gives the first record of a page two valid but unusual JSON values: ``odd_text``, a string
ending in an escaped lone UTF-16 surrogate (half an emoji, as JavaScript's ``JSON.stringify`` writes a
text cut between the halves), and ``odd_number``, an integer beyond 64 bits. ``future_cursor`` stamps the
last record of a page ``seconds`` after the emulator clock (a PBX with a wrong clock).

The two paging kinds play a server that never lets a client finish, and act only on a request that
continues (one with a ``scrollId`` or a ``search_token``; others are counted and pass unchanged):
``repeat_token`` answers the API's own page but gives the request's token again as the next one (the
same scrollId again and again; the same search_token, so the same search comes back), and
``empty_new_token`` answers an empty page with a new token for the same position, forever.

Server-side paging state is immutable (a scrollId or search token always names the same position),
so a request answered by a fault never moves a client's paging forward.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any

import orjson

from .messages import Response, html_response, json_response
from .timeutil import iso_utc

ACTIONS = ("slow", "expire_token", "expire_scroll")  # act, then the request goes on
ANSWERS = ("status", "reset", "html")  # answer instead of the API
REWRITES = ("truncated_json", "missing_data", "wrong_types", "odd_values", "future_cursor")  # spoil the API's own 200 answer
PAGING = ("repeat_token", "empty_new_token")  # continued requests only: a server that never lets a client finish
KINDS = ACTIONS + ANSWERS + REWRITES + PAGING


@dataclass
class FaultRule:
    kind: str
    path: str | None = None
    after: int = 0
    times: int = 1
    status: int | None = None
    retry_after: float | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs a status")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError(f"bad status {self.status!r}")
        if self.after < 0 or self.times < -1:
            raise ValueError("after must be >= 0 and times >= -1")

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> "FaultRule":
        known = {f.name for f in fields(cls)}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**spec)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class FaultPlan:
    """The active rules, in order, each with its count of requests seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[tuple[FaultRule, list[int]]] = []

    def set(self, rules: list[dict[str, Any] | FaultRule]) -> None:
        parsed = [rule if isinstance(rule, FaultRule) else FaultRule.from_dict(rule) for rule in rules]
        with self._lock:
            self._rules = [(rule, [0]) for rule in parsed]

    def clear(self) -> None:
        self.set([])

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**rule.to_dict(), "seen": seen[0]} for rule, seen in self._rules]

    def firing(self, path: str):
        """Yield, in order, the rules that fire for this request (stop iterating to stop counting)."""
        for rule, seen in list(self._rules):
            if rule.path and not path.startswith(rule.path):
                continue
            with self._lock:
                n = seen[0]
                seen[0] += 1
            if n >= rule.after and (rule.times < 0 or n < rule.after + rule.times):
                yield rule


# ---- answers


def _family(path: str) -> str:
    if path.startswith("/analytics/work"):
        return "work_analytics"
    if path.startswith("/api/v2/cdr"):
        return "contact_center"
    return "other"


def status_response(rule: FaultRule, path: str, timestamp: str) -> Response:
    """A realistic answer with ``rule.status``: JSON from the API, HTML from a gateway for 502-504."""
    status = int(rule.status)
    headers = {"Retry-After": f"{rule.retry_after:g}"} if rule.retry_after is not None else {}
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    family = _family(path)
    if status in (502, 503, 504) or family == "other":
        return html_response(status, f"{status} {phrase}", "The upstream server is not available.", headers)
    if family == "work_analytics":
        if status == 401:
            body: dict = {"error": "invalid_token", "error_description": "Access token expired: "}
        elif status == 429:
            body = {"status": 429, "error": "Too Many Requests", "message": "Rate limit exceeded"}
        else:
            body = {"timestamp": timestamp, "status": status, "error": phrase, "message": "", "path": path}
        return json_response(status, body, headers)
    if status in (401, 403):
        body = {"error": "Invalid User API Key"}
    elif status == 429:
        body = {"error": "rate limit is exceeded"}
    else:
        body = {"error": phrase}
    return json_response(status, body, headers)


def html_fault_response(rule: FaultRule) -> Response:
    status = int(rule.status or 200)
    return html_response(status, "Service Maintenance",
                         "We are performing scheduled maintenance. Please sign in again later.")


# ---- paging faults


def continued_token(params: dict[str, str]) -> str | None:
    """The scrollId or search_token a request continues with (None for a first page)."""
    return params.get("scrollId") or params.get("search_token") or None


def repeat_token(response: Response, token: str) -> Response:
    """The API's answer, with ``token`` (the request's own) as the token to continue with."""
    if response.status != 200 or not response.content_type.startswith("application/json"):
        return response
    payload = orjson.loads(response.body)
    if isinstance(payload.get("meta"), dict):
        payload["meta"]["scrollId"] = token
    else:
        payload["search_token"] = token
    return Response(200, orjson.dumps(payload), response.content_type, response.headers)


def empty_page(contact_center: bool, new_token: str) -> Response:
    """A page with no records that continues with ``new_token``."""
    if contact_center:
        return json_response(200, {"records": [], "total": 0, "page": 1, "search_token": new_token})
    return json_response(200, {"meta": {"totalRecordCount": 0, "scrollId": new_token}, "data": []})


# ---- rewrites of the API's answer


_PAYLOAD_KEYS = ("data", "records", "access_token")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def rewrite(kind: str, response: Response) -> Response:
    """Spoil a 200 JSON answer; any other answer passes unchanged."""
    if response.status != 200 or not response.content_type.startswith("application/json"):
        return response
    if kind == "truncated_json":
        return Response(200, response.body[: len(response.body) // 2], response.content_type, response.headers)
    payload = orjson.loads(response.body)
    if kind == "odd_values":  # written by the standard library: orjson can write neither value
        return Response(200, json.dumps(_with_odd_values(payload)).encode(), response.content_type, response.headers)
    if kind == "missing_data":
        payload = {k: v for k, v in payload.items() if k not in _PAYLOAD_KEYS} if isinstance(payload, dict) else {}
    else:
        payload = _wrong_types(payload)
    return Response(200, orjson.dumps(payload), response.content_type, response.headers)


ODD_TEXT = "half an emoji: \ud83d"
ODD_NUMBER = 123456789012345678901234567890


def _with_odd_values(payload: Any) -> Any:
    """The first record (if any) with ``odd_text`` and ``odd_number`` added."""
    records = payload if isinstance(payload, list) else payload.get("data", payload.get("records"))
    if isinstance(records, list) and records:
        records[0] = {**records[0], "odd_text": ODD_TEXT, "odd_number": ODD_NUMBER}
    return payload


def future_cursor(response: Response, stamp_ms: int) -> Response:
    """The last record of a 200 answer stamped at ``stamp_ms`` (a PBX with a wrong clock, a scheduled callback)."""
    if response.status != 200 or not response.content_type.startswith("application/json"):
        return response
    payload = orjson.loads(response.body)
    if payload.get("data"):
        payload["data"][-1]["startTimeUTC"] = stamp_ms
    elif payload.get("records"):
        payload["records"][-1]["timestamp"] = iso_utc(stamp_ms)
    return Response(200, orjson.dumps(payload), response.content_type, response.headers)


def _wrong_types(payload: Any) -> Any:
    """One record with values in other forms than documented, each of a kind a client must convert, and one
    value no client can read as its type (a Work Analytics `callTime` of "n/a", a CDR `num_segments` of "two")."""
    if isinstance(payload, list):  # a reference list
        return [{**payload[0], "id": str(payload[0].get("id"))}] + payload[1:] if payload else [{"id": "1"}]
    if "data" in payload:
        rows = payload["data"] or [{"callId": "1", "startTimeUTC": 0}]
        first = dict(rows[0])
        first["startTimeUTC"] = str(first.get("startTimeUTC"))  # a number as a string
        first["callId"] = int(first.get("callId") or 0)  # a numeric string as a number
        if "legId" in first:
            first["legId"] = int(first["legId"])
        if "talkTimeMS" in first:
            first["talkTimeMS"] = str(first["talkTimeMS"])
        if "departments" in first:
            first["departments"] = ",".join(first["departments"] or [])  # a list as a string
        if "disconnectedTimeUTC" in first:
            first["disconnectedTimeUTC"] = float(first["disconnectedTimeUTC"])  # an integer as 1.0e12-style float
        if "recordServiceOn" in first:
            first["recordServiceOn"] = str(first["recordServiceOn"]).lower()  # a boolean as "true"/"false"
        first["callTime"] = "n/a"  # not a number at all
        payload["data"] = [first] + rows[1:]
    elif "records" in payload:
        rows = payload["records"] or [{"uuid": "00000000-0000-4000-8000-000000000000", "timestamp": "2024-07-31T12:43:09.000-03:00"}]
        first = dict(rows[0])
        moment = datetime.fromisoformat(first["timestamp"])
        first.update({"timestamp": (moment - _EPOCH) // timedelta(milliseconds=1),  # the same instant, epoch ms
                      "agent_id": "" if first.get("agent_id") is None else str(first["agent_id"]),
                      "cpc": str(first.get("cpc")), "duration": 79, "num_segments": "two"})
        if isinstance(first.get("sla"), dict):
            first["sla"] = [first["sla"]]  # the documented array around the object
        payload["records"] = [first] + rows[1:]
    elif "expires_in" in payload:
        payload["expires_in"] = str(payload["expires_in"])
    return payload
