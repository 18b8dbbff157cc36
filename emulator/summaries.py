"""Plays Work Analytics' PBX directory (``/v2/pbxes/``) and its summary reports, computed from the calls.

The four reports (``/v2/extsum``, ``/v2/rgsum-groups``, ``/v2/rgsum-members``, ``/v1/compsum``) are
aggregates of the same call records and legs that ``/v2/call-records`` and ``/v2/call-legs`` serve for
the same ``pbxId``, interval and ``timeZone``, at the same emulator clock (so the current day has its
figures so far). ``startTime`` and ``endTime`` are read in ``timeZone`` and both are included: the
interval ends at the end of the second ``endTime`` names, so ``00:00:00`` to ``23:59:59`` is the whole
day (23 or 25 hours on a DST change). The reference publishes the fields, not how 8x8 counts them;
the emulator's rules are below and in the emulator README.

* A row is *answered* when its ``connectTimeUTC`` is not 0; *abandoned* when its ``abandoned`` label is
  "Abandoned". Its ring time is from its start to its connect (or, unanswered, to its disconnect).
* Extension summary, per PBX and extension: inbound are the **legs** whose callee is the extension
  (``calleeSvcType`` USER; external when ``direction`` is Incoming, else internal); outbound are the
  **call records** whose caller is the extension (external when Outgoing, internal when Internal). An
  inbound leg not answered is missed, and went to voicemail when it is an external call's last leg
  (``cause`` Normal); an outbound call not answered is abandoned.
* Ring-group summary, per PBX and ring group: the **call records** whose callee is the ring group
  (``callee`` "RingGroup", ``calleeName`` its name). ``totalAdvanced`` counts the legs after the first
  (``callLegCount`` - 1), ``totalCallsToVM`` the calls whose ``lastLegDisposition`` is Voicemail, and
  ``totalMembers`` the member rows of that group in the member summary.
* Ring-group member summary, per PBX, ring group and member: the **legs** (in the interval) of ring-group
  calls that rang a user; a leg not answered is advanced when the call went on (``cause`` not Normal).
  The published example repeats the group summary's, so the member is named by ``memberExtension`` and
  ``memberName`` next to the group's ``name`` and ``extension``.
* Company summary: one object for the request's ``pbxId``, from the **call records**: Incoming calls are
  inbound (missed when not answered), Outgoing calls outbound (abandoned when not answered), Internal
  calls extension-to-extension (missed and abandoned when not answered).

Averages are whole milliseconds, rounded down; percentages are whole percents, rounded down.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Iterable

import orjson

from .data import pools
from .data.calls import MAX_CALL_MS, User
from .messages import Request, Response, json_response
from .timeutil import local_wall_to_ms
from .work_analytics import BadRequest, WorkAnalyticsAPI, parse_window

PBX_PATHS = ("/analytics/work/v2/pbxes/", "/analytics/work/v2/pbxes")
SUMMARY_PATHS = {
    "/analytics/work/v2/extsum": "work_analytics_extension_daily",
    "/analytics/work/v2/rgsum-groups": "work_analytics_ring_group_daily",
    "/analytics/work/v2/rgsum-members": "work_analytics_ring_group_member_daily",
    "/analytics/work/v1/compsum": "work_analytics_company_daily",
}
SUMMARY_STREAMS = tuple(SUMMARY_PATHS.values())
PBX_STREAM = "work_analytics_pbxes"
MAX_PBX_PAGE_SIZE = 100
DEFAULT_PBX_PAGE_SIZE = 20  # Spring Data's default
RING_GROUP_EXTENSIONS = {name: str(2001 + n) for n, name in enumerate(pools.RING_GROUPS)}
RING_GROUP_SITES = {name: pools.BRANCHES[n % len(pools.BRANCHES)] for n, name in enumerate(pools.RING_GROUPS)}
_DOMAIN = "acme-corp.example"


# ---- the aggregates, from rows as the call-records and call-legs endpoints serve them


def _answered(row: dict) -> bool:
    return bool(row.get("connectTimeUTC"))


def _abandoned(row: dict) -> bool:
    return row.get("abandoned") == "Abandoned"


def _ring_ms(row: dict) -> int:
    return (row.get("connectTimeUTC") or row["disconnectedTimeUTC"]) - row["startTimeUTC"]


def _avg(total: int, count: int) -> int:
    return total // count if count else 0


def _percent(part: int, whole: int) -> int:
    return 100 * part // whole if whole else 0


EXTENSION_COUNTERS = (
    "External_Inbound_Total", "External_Inbound_Answered", "External_Inbound_Abandoned", "Percent_External_Inbound_Answered",
    "External_Inbound_Missed", "External_Outbound_Total", "External_Outbound_Answered", "Percent_External_Outbound_Answered",
    "External_Outbound_Abandoned", "Internal_Inbound_Total", "Internal_Inbound_Answered", "Internal_Inbound_Abandoned",
    "Internal_Inbound_Missed", "Internal_Outbound_Total", "Internal_Outbound_Answered", "Internal_Outbound_Abandoned",
    "Inbound_Total", "Inbound_Answered", "Inbound_Abandoned", "Inbound_Missed", "Total_Calls_To_VM", "Outbound_Total",
    "Outbound_Answered", "Outbound_Abandoned", "Total_Answered", "Total_Abandoned", "Total_Missed", "Total_Ring_Time",
    "Total_Talk_Time", "Total_Abandoned_Time", "Total_Call_Time", "Avg_Ring_Time", "Avg_Talk_Time", "Inbound_Talk_Time",
    "Outbound_Talk_Time", "Avg_Abandoned_Time",
)


def _person(user: User) -> dict:
    first, _, last = user.name.partition(" ")
    plain = re.sub(r"[^A-Za-z]", "", first), re.sub(r"[^A-Za-z]", "", last)
    return {"FirstName": first, "LastName": last, "Branch": user.branch, "Department": user.department,
            "Email": f"{plain[0]}.{plain[1]}@{_DOMAIN}", "UserName": f"{plain[0]}{plain[1]}@{_DOMAIN}".lower()}


def _tally(count: Counter, side: str, name: str) -> None:
    """One more `name` for the extension, in its `External_`/`Internal_` count and in the total."""
    count[f"{side}_{name}"] += 1
    count[name] += 1


def _times(count: Counter, row: dict) -> None:
    """The ring and call time of a leg or record the extension took part in, and one more row for the averages."""
    count["Total_Ring_Time"] += _ring_ms(row)
    count["Total_Call_Time"] += row["callTime"]
    count["rows"] += 1


def extension_summary(records: list[dict], legs: list[dict], users: Iterable[User]) -> list[dict]:
    """One object per PBX and extension that rang or called in the interval (see the module docstring)."""
    tallies: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for leg in legs:
        if leg.get("calleeSvcType") != "USER":
            continue
        count = tallies[(leg["pbxId"], leg["callee"])]
        side = "External" if leg["direction"] == "Incoming" else "Internal"
        _tally(count, side, "Inbound_Total")
        if _answered(leg):
            _tally(count, side, "Inbound_Answered")
            count["Inbound_Talk_Time"] += leg["talkTimeMS"]
        else:
            _tally(count, side, "Inbound_Missed")
            count["Total_Calls_To_VM"] += side == "External" and leg["cause"] == "Normal"
        if _abandoned(leg):
            _tally(count, side, "Inbound_Abandoned")
            count["Total_Abandoned_Time"] += leg["callTime"]
        _times(count, leg)
    by_extension = {user.ext: user for user in users}
    for record in records:
        if record["direction"] == "Incoming" or record["caller"] not in by_extension:
            continue
        count = tallies[(record["pbxId"], record["caller"])]
        side = "External" if record["direction"] == "Outgoing" else "Internal"
        _tally(count, side, "Outbound_Total")
        if _answered(record):
            _tally(count, side, "Outbound_Answered")
            count["Outbound_Talk_Time"] += record["talkTimeMS"]
        else:
            _tally(count, side, "Outbound_Abandoned")
            count["Total_Abandoned_Time"] += record["callTime"]
        _times(count, record)
    rows = []
    for (pbx_id, extension), count in sorted(tallies.items()):
        count["Percent_External_Inbound_Answered"] = _percent(count["External_Inbound_Answered"], count["External_Inbound_Total"])
        count["Percent_External_Outbound_Answered"] = _percent(count["External_Outbound_Answered"], count["External_Outbound_Total"])
        count["Total_Answered"] = count["Inbound_Answered"] + count["Outbound_Answered"]
        count["Total_Abandoned"] = count["Inbound_Abandoned"] + count["Outbound_Abandoned"]
        count["Total_Missed"] = count["Inbound_Missed"]
        count["Total_Talk_Time"] = count["Inbound_Talk_Time"] + count["Outbound_Talk_Time"]
        count["Avg_Ring_Time"] = _avg(count["Total_Ring_Time"], count["rows"])
        count["Avg_Talk_Time"] = _avg(count["Total_Talk_Time"], count["Total_Answered"])
        count["Avg_Abandoned_Time"] = _avg(count["Total_Abandoned_Time"], count["Total_Abandoned"])
        person = _person(by_extension[extension])
        row = {"PbxId": pbx_id, "Extension": extension, "ServiceType": "UE",
               **{name: person[name] for name in ("FirstName", "LastName", "Branch", "Department")}}
        row.update({name: int(count[name]) for name in EXTENSION_COUNTERS})
        row.update({"Email": person["Email"], "UserName": person["UserName"]})
        rows.append(row)
    return rows


RING_GROUP_COUNTERS = (
    "totalMembers", "totalInbound", "totalAbandoned", "totalAnswered", "totalMissed", "totalCallsToVM", "totalAdvanced",
    "totalRgTime", "totalTalkTime", "totalCalls", "avgAbandonedTime", "avgRgTime", "avgRingTime", "avgTalkTime",
    "totalAbandonedTime", "totalRingTime",
)


def _ring_group_row(pbx_id: str, group: str, count: Counter, members: int, member: dict | None = None) -> dict:
    count["avgAbandonedTime"] = _avg(count["totalAbandonedTime"], count["totalAbandoned"])
    count["avgRgTime"] = _avg(count["totalRgTime"], count["totalCalls"])
    count["avgRingTime"] = _avg(count["totalRingTime"], count["totalCalls"])
    count["avgTalkTime"] = _avg(count["totalTalkTime"], count["totalAnswered"])
    count["totalMembers"] = members
    row = {"pbxId": pbx_id, "site": RING_GROUP_SITES[group], "name": group, "extension": RING_GROUP_EXTENSIONS[group]}
    row.update(member or {})
    row.update({name: int(count[name]) for name in RING_GROUP_COUNTERS})
    return row


def _tally_ring_group_row(count: Counter, row: dict) -> None:
    count["totalCalls"] += 1
    count["totalInbound"] += row["direction"] == "Incoming"
    if _answered(row):
        count["totalAnswered"] += 1
        count["totalTalkTime"] += row["talkTimeMS"]
    else:
        count["totalMissed"] += 1
    if _abandoned(row):
        count["totalAbandoned"] += 1
        count["totalAbandonedTime"] += row["callTime"]
    count["totalRgTime"] += row["callTime"]
    count["totalRingTime"] += _ring_ms(row)


def ring_group_members(legs: list[dict], calls: Iterable[dict]) -> dict[tuple[str, str, str], tuple[str, Counter]]:
    """Per (PBX, ring group, member extension): the member's name and counts, from the legs of ring-group calls
    (``calls`` must hold every call that a leg may belong to: those started up to the longest call earlier)."""
    group_calls = {call["callId"]: call for call in calls if call["callee"] == "RingGroup"}
    members: dict[tuple[str, str, str], tuple[str, Counter]] = {}
    for leg in legs:
        call = group_calls.get(leg["callId"])
        if call is None or leg.get("calleeSvcType") != "USER":
            continue
        key = (leg["pbxId"], call["calleeName"], leg["callee"])
        _, count = members.setdefault(key, (leg["calleeName"], Counter()))
        _tally_ring_group_row(count, leg)
        if not _answered(leg):
            advanced = leg["cause"] != "Normal"
            count["totalAdvanced"] += advanced
            count["totalCallsToVM"] += not advanced and call["lastLegDisposition"] == "Voicemail"
    return members


def ring_group_summary(records: list[dict], members: dict[tuple[str, str, str], tuple[str, Counter]]) -> list[dict]:
    tallies: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for record in records:
        if record["callee"] != "RingGroup":
            continue
        count = tallies[(record["pbxId"], record["calleeName"])]
        _tally_ring_group_row(count, record)
        count["totalAdvanced"] += int(record["callLegCount"]) - 1
        count["totalCallsToVM"] += record["lastLegDisposition"] == "Voicemail"
    member_counts = Counter((pbx_id, group) for pbx_id, group, _ in members)
    groups = sorted(set(tallies) | set(member_counts))
    return [_ring_group_row(pbx_id, group, tallies[(pbx_id, group)], member_counts[(pbx_id, group)]) for pbx_id, group in groups]


def ring_group_member_summary(members: dict[tuple[str, str, str], tuple[str, Counter]]) -> list[dict]:
    member_counts = Counter((pbx_id, group) for pbx_id, group, _ in members)
    return [
        _ring_group_row(pbx_id, group, count, member_counts[(pbx_id, group)], {"memberExtension": extension, "memberName": name})
        for (pbx_id, group, extension), (name, count) in sorted(members.items())
    ]


COMPANY_COUNTERS = (
    "inboundTotal", "outboundTotal", "externalInboundTotal", "externalInboundAnswered", "externalInboundAbandoned",
    "percentExternalInboundAnswered", "externalInboundMissed", "externalOutboundTotal", "externalOutboundAnswered",
    "percentExternalOutboundAnswered", "externalOutboundAbandoned", "externalOutboundMissed", "internalInboundTotal",
    "internalInboundAnswered", "internalInboundAbandoned", "internalInboundMissed", "internalOutboundTotal",
    "internalOutboundAnswered", "internalOutboundAbandoned", "inboundAnswered", "inboundAbandoned", "inboundMissed",
    "outboundAnswered", "outboundAbandoned", "totalAnswered", "totalAbandoned", "totalMissed", "totalRingTime",
    "totalTalkTime", "totalCall", "totalAbandonedTime", "totalCallTime", "avgRingTime", "avgTalkTime", "avgCallTime",
    "avgAbandonedTime", "totalVm", "totalExtToExtAbandoned", "totalExtToExtAnswered", "totalExtToExt", "totalExtToExtMissed",
)


def company_summary(records: list[dict], pbx_id: str) -> list[dict]:
    """One object for the whole request (see the module docstring)."""
    count: Counter = Counter()
    abandoned_rows = 0
    for record in records:
        answered = _answered(record)
        kind = {"Incoming": "inbound", "Outgoing": "outbound"}.get(record["direction"], "extToExt")
        count[f"{kind}Total"] += 1
        count[f"{kind}Answered"] += answered
        if kind == "inbound":
            count["inboundMissed"] += not answered
            count["inboundAbandoned"] += _abandoned(record)
        elif kind == "outbound":
            count["outboundAbandoned"] += not answered
        else:
            count["extToExtMissed"] += not answered
            count["extToExtAbandoned"] += not answered
        count["totalVm"] += record["lastLegDisposition"] == "Voicemail"
        count["totalRingTime"] += _ring_ms(record)
        count["totalTalkTime"] += record["talkTimeMS"]
        count["totalCallTime"] += record["callTime"]
        count["totalAbandonedTime"] += record["abandonedTime"]
        abandoned_rows += record["abandonedTime"] > 0
    count.update({
        "externalInboundTotal": count["inboundTotal"], "externalInboundAnswered": count["inboundAnswered"],
        "externalInboundAbandoned": count["inboundAbandoned"], "externalInboundMissed": count["inboundMissed"],
        "percentExternalInboundAnswered": _percent(count["inboundAnswered"], count["inboundTotal"]),
        "externalOutboundTotal": count["outboundTotal"], "externalOutboundAnswered": count["outboundAnswered"],
        "externalOutboundAbandoned": count["outboundAbandoned"],
        "percentExternalOutboundAnswered": _percent(count["outboundAnswered"], count["outboundTotal"]),
        "internalInboundTotal": count["extToExtTotal"], "internalInboundAnswered": count["extToExtAnswered"],
        "internalInboundMissed": count["extToExtMissed"], "internalOutboundTotal": count["extToExtTotal"],
        "internalOutboundAnswered": count["extToExtAnswered"], "internalOutboundAbandoned": count["extToExtAbandoned"],
        "totalExtToExt": count["extToExtTotal"], "totalExtToExtAnswered": count["extToExtAnswered"],
        "totalExtToExtMissed": count["extToExtMissed"], "totalExtToExtAbandoned": count["extToExtAbandoned"],
        "totalCall": count["inboundTotal"] + count["outboundTotal"] + count["extToExtTotal"],
        "totalAnswered": count["inboundAnswered"] + count["outboundAnswered"] + count["extToExtAnswered"],
        "totalMissed": count["inboundMissed"] + count["outboundAbandoned"] + count["extToExtMissed"],
        "totalAbandoned": count["inboundAbandoned"] + count["outboundAbandoned"] + count["extToExtAbandoned"],
    })
    count["avgRingTime"] = _avg(count["totalRingTime"], count["totalCall"])
    count["avgTalkTime"] = _avg(count["totalTalkTime"], count["totalAnswered"])
    count["avgCallTime"] = _avg(count["totalCallTime"], count["totalCall"])
    count["avgAbandonedTime"] = _avg(count["totalAbandonedTime"], abandoned_rows)
    return [{"pbxId": pbx_id, **{name: int(count[name]) for name in COMPANY_COUNTERS}}]


# ---- the endpoints


def pbx_directory_id(name: str) -> str:
    """A stable 22-character id for a PBX name, shaped like the vendor's (``rXp_ceLVQs6RYjUp1Iqqwa``)."""
    return base64.urlsafe_b64encode(hashlib.blake2b(name.encode(), digest_size=16).digest()).decode()[:22]


def interval(params: dict[str, str]) -> tuple[int, int, str]:
    """``[lo_ms, hi_ms)`` of a summary request and its zone: from ``startTime`` to the end of the second
    ``endTime`` names (raises ``BadRequest`` for a missing or malformed parameter)."""
    lo_ms, hi_ms, zone_name = parse_window(params)
    return lo_ms, hi_ms + 1000, zone_name


def day_interval(day: date, zone_name: str) -> tuple[int, int]:
    """``[lo_ms, hi_ms)`` of the request a client makes for a calendar day: 00:00:00 to 23:59:59 in ``zone_name``."""
    midnight = datetime(day.year, day.month, day.day)
    return local_wall_to_ms(midnight, zone_name), local_wall_to_ms(midnight + timedelta(seconds=86_399), zone_name) + 1000


def with_trailing_commas(rows: list[dict]) -> bytes:
    """The rows as a JSON array whose objects each end with a comma, like the vendor's published example."""
    return b"[" + b",".join(orjson.dumps(row)[:-1] + b",}" for row in rows) + b"]"


class SummaryReports:
    """The PBX directory and the four summary reports of one ``WorkAnalyticsAPI``."""

    def __init__(self, api: WorkAnalyticsAPI) -> None:
        self.api = api

    def pbxes(self, request: Request) -> Response:
        refused = self.api.refused(request)
        if refused is not None:
            return refused
        params = request.params
        page_text, size_text = params.get("page") or "0", params.get("size") or str(DEFAULT_PBX_PAGE_SIZE)
        if not page_text.isdigit() or not size_text.isdigit() or int(size_text) < 1:
            return self.api.bad_request(f"Invalid page '{page_text}' or size '{size_text}'", request.path)
        return json_response(200, self.pbx_page(int(page_text), min(int(size_text), MAX_PBX_PAGE_SIZE), params.get("sort", "")))

    def pbx_page(self, page: int, size: int, sort: str = "") -> dict:
        """A HAL page of the directory, as Spring Data REST writes it (no ``_embedded`` when it is empty)."""
        names = list(self.api.config.pbx_ids)
        if sort.lower().startswith("name"):
            names.sort(reverse=sort.lower().endswith(",desc"))
        total_pages = -(-len(names) // size)
        chunk = names[page * size:(page + 1) * size]
        base = f"https://api.8x8.com/analytics/work/v2/pbxes/?size={size}"
        links = {"first": {"href": f"{base}&page=0"}, "self": {"href": f"{base}&page={page}"}}
        if page + 1 < total_pages:
            links["next"] = {"href": f"{base}&page={page + 1}"}
        links["last"] = {"href": f"{base}&page={max(total_pages - 1, 0)}"}
        body: dict = {}
        if chunk:
            body["_embedded"] = {"pbxList": [{"id": pbx_directory_id(name), "name": name, "deleted": False} for name in chunk]}
        body["_links"] = links
        body["page"] = {"size": size, "totalElements": len(names), "totalPages": total_pages, "number": page}
        return body

    def summary(self, request: Request) -> Response:
        refused = self.api.refused(request)
        if refused is not None:
            return refused
        try:
            lo, hi, zone_name = interval(request.params)
        except BadRequest as exc:
            return self.api.bad_request(str(exc), request.path)
        pbx_id = request.params["pbxId"]
        try:
            self.api.pbx_codes(pbx_id)
        except KeyError as exc:
            return self.api.access_denied(exc.args[0])
        rows = self.rows(SUMMARY_PATHS[request.path], lo, hi, zone_name, pbx_id)
        if self.api.config.wa_summary_trailing_comma:
            return Response(200, with_trailing_commas(rows))
        return json_response(200, rows)

    def rows(self, stream: str, lo: int, hi: int, zone_name: str, pbx_id: str) -> list[dict]:
        """What the summary ``stream`` answers for ``[lo, hi)`` in ``zone_name`` (see the module docstring)."""
        calls = self.api.ground_truth("call_records", lo, hi, zone_name, pbx_id)
        if stream == "work_analytics_company_daily":
            return company_summary(calls, pbx_id)
        legs = self.api.ground_truth("call_legs", lo, hi, zone_name, pbx_id)
        if stream == "work_analytics_extension_daily":
            return extension_summary(calls, legs, self.api.dataset.users)
        earlier = self.api.ground_truth("call_records", lo - MAX_CALL_MS, lo, zone_name, pbx_id)
        members = ring_group_members(legs, earlier + calls)
        if stream == "work_analytics_ring_group_daily":
            return ring_group_summary(calls, members)
        return ring_group_member_summary(members)

    def daily(self, stream: str, first_day: date, last_day: date, zone_name: str, pbx_id: str) -> list[dict]:
        """The rows of ``stream`` for each calendar day from ``first_day`` to ``last_day``,
        each asked as a client does (00:00:00 to 23:59:59 in ``zone_name``) and tagged with the ``day`` and
        ``timeZone`` it was asked for, as the connector tags them."""
        out = []
        day = first_day
        while day <= last_day:
            lo, hi = day_interval(day, zone_name)
            out += [{**row, "day": day.isoformat(), "timeZone": zone_name} for row in self.rows(stream, lo, hi, zone_name, pbx_id)]
            day += timedelta(days=1)
        return out
