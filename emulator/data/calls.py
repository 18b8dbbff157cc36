"""8x8 Work Analytics data: calls (``/v2/call-records``) and their legs (``/v2/call-legs``).

Generation has two layers so a query can be counted without rendering records:

* ``CallDay``: the calls that start on one UTC day -- ids, timing, PBX and leg timing only. Seeded
  per (seed, day), independent of request order, cheap, and independent of the time zone.
* rendering (``Renderer``): JSON rows of a run of a day's calls or legs in one requested time zone
  (``startTime`` etc. are local strings). Party names, devices and other details come from
  ``Draw(seed, callId)``, so a call and its legs agree however and whenever they are rendered.

Each full day holds exactly ``calls_per_day`` calls, including slice-boundary cases: calls at
00:00:00.000, 12:00:00.000, 23:59:59.500 and 23:59:59.999 (whose later legs start the next day),
and three calls in the same millisecond. About 3% of calls last 1-2 hours, so late-ending calls
matter.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property, lru_cache

import orjson

from ..timeutil import MS_PER_DAY, hms, local_text, offset_ms
from . import pools
from .common import Draw, RowBlock, cumulative, stable_seed

CALL_ID_BASE = 1_500_000_000_000  # callIds are 13-digit numeric strings, like the vendor's
CALL_ID_DAY_STRIDE = 10_000_000  # callId = base + day * stride + rank in the day
MAX_CALL_MS = 7_200_000
LEG_WEIGHTS = (45, 25, 15, 10, 5)  # 1..5 legs
PBX_WEIGHTS = (6, 3, 1, 1, 1, 1, 1, 1)
LEG_CAUSES = ("Ring No Answer", "Ring No Answer", "Redirected", "Transfer", "Conference")  # legs before the last


@dataclass(frozen=True)
class User:
    ext: str
    name: str
    department: str
    branch: str
    device_id: str
    device_model: str


def make_directory(seed: int, size: int = 60) -> tuple[User, ...]:
    """The account's users (extensions), fixed by the seed."""
    rng = random.Random(stable_seed(seed, "wa-users"))
    users = []
    for n in range(size):
        users.append(User(
            ext=f"1200{n + 10:02d}",
            name=f"{rng.choice(pools.FIRST_NAMES)} {rng.choice(pools.LAST_NAMES)}",
            department=rng.choice(pools.DEPARTMENTS),
            branch=rng.choice(pools.BRANCHES),
            device_id=f"SEP{rng.getrandbits(48):012X}",
            device_model=rng.choice(pools.DEVICE_MODELS),
        ))
    return tuple(users)


@dataclass
class RowIndex:
    """What a query needs to select rows of one day, in serving order (time, then id)."""

    start: array  # startTimeUTC of each row (ms)
    visible: array  # when the row can be listed: its call's disconnectedTimeUTC (ms)
    pbx: bytes  # index into the account's PBX list
    max_visible: int

    def __len__(self) -> int:
        return len(self.start)


@dataclass
class CallDay:
    """Calls starting on one UTC day, sorted by (startTimeUTC, callId); legs flattened."""

    day: int
    callnum: array
    start: array
    connect: array  # 0: never connected
    end: array
    pbx: bytes
    leg_first: array  # legs of call i are leg_*[leg_first[i]:leg_first[i + 1]]
    leg_start: array
    leg_connect: array
    leg_end: array

    @cached_property
    def index(self) -> RowIndex:
        return RowIndex(self.start, self.end, self.pbx, max(self.end, default=0))

    def nbytes(self) -> int:
        return 8 * (5 * len(self.start) + 3 * len(self.leg_start)) + 200


LEG_CDF = cumulative(LEG_WEIGHTS)


def _start_offsets(rand, n: int) -> list[int]:
    """Millisecond offsets in the day: boundary cases first, then mostly business hours."""
    tie = int(rand() * MS_PER_DAY)
    special = [0, MS_PER_DAY - 1, MS_PER_DAY - 500, 12 * 3_600_000, tie, tie, tie]
    offsets = special[:n]
    business_start, business_span = 13 * 3_600_000, 10 * 3_600_000
    for _ in range(n - len(offsets)):
        if rand() < 0.7:
            offsets.append(business_start + int(rand() * business_span))
        else:
            offsets.append(int(rand() * MS_PER_DAY))
    offsets.sort()
    return offsets


def _duration_ms(rand) -> int:
    roll = rand()
    if roll < 0.6:
        return 3_000 + int(rand() * 297_000)
    if roll < 0.92:
        return 300_000 + int(rand() * 1_500_000)
    if roll < 0.97:
        return 1_800_000 + int(rand() * 1_800_000)
    return 3_600_000 + int(rand() * (MAX_CALL_MS - 3_600_000))


def generate_call_day(seed: int, day: int, per_day: int, lo_ms: int, hi_ms: int, n_pbx: int) -> CallDay:
    """The calls of ``day`` whose start lies in the dataset range ``[lo_ms, hi_ms)``.

    Written for speed (it runs for every call a query counts): one ``random()`` per decision.
    """
    rand = random.Random(stable_seed(seed, "wa-calls", day)).random
    base = day * MS_PER_DAY
    pbx_cdf = cumulative(PBX_WEIGHTS[:n_pbx] + (1,) * max(0, n_pbx - len(PBX_WEIGHTS)))
    callnum, start_ms, connect_ms, end_ms = array("q"), array("q"), array("q"), array("q")
    leg_first, leg_start, leg_connect, leg_end = array("q", [0]), array("q"), array("q"), array("q")
    pbx = bytearray()
    first_callnum = CALL_ID_BASE + day * CALL_ID_DAY_STRIDE
    for rank, offset in enumerate(_start_offsets(rand, per_day)):
        start = base + offset
        duration = _duration_ms(rand)
        end = start + duration
        n_legs = bisect_left(LEG_CDF, rand()) + 1
        spills = offset == MS_PER_DAY - 1  # boundary case: this call's later legs start on the next day
        if spills:
            n_legs = max(n_legs, 2)
        offsets = [0]
        for _ in range(n_legs - 1):
            fork = rand() < 0.3 and not spills  # ring-group members ring at the same moment
            step = 0 if fork else 1 + int(rand() * min(duration // 3, 60_000))
            offsets.append(min(offsets[-1] + step, duration - 1))
        last_leg_start = start + offsets[-1]
        ring = 2_000 + int(rand() * 28_000)
        connect = last_leg_start + ring if rand() < 0.7 and last_leg_start + ring < end else 0
        for leg_offset in offsets[:-1]:
            begin = start + leg_offset
            finish = min(end, begin + 2_000 + int(rand() * 28_000))
            transferred = connect and rand() < 0.15 and begin + 1_500 < finish
            leg_start.append(begin)
            leg_connect.append(begin + 1_500 if transferred else 0)
            leg_end.append(finish)
        leg_start.append(last_leg_start)  # the last leg lasts to the end of the call
        leg_connect.append(connect)
        leg_end.append(end)
        leg_first.append(len(leg_start))
        callnum.append(first_callnum + rank)
        start_ms.append(start)
        connect_ms.append(connect)
        end_ms.append(end)
        pbx.append(bisect_left(pbx_cdf, rand()))
    cd = CallDay(day, callnum, start_ms, connect_ms, end_ms, bytes(pbx), leg_first, leg_start, leg_connect, leg_end)
    return _clip(cd, lo_ms, hi_ms)


def _clip(cd: CallDay, lo_ms: int, hi_ms: int) -> CallDay:
    """Keep the calls starting in ``[lo_ms, hi_ms)`` (a contiguous run: calls are sorted)."""
    a, b = bisect_left(cd.start, lo_ms), bisect_left(cd.start, hi_ms)
    if (a, b) == (0, len(cd.start)):
        return cd
    la, lb = cd.leg_first[a], cd.leg_first[b]
    return CallDay(cd.day, cd.callnum[a:b], cd.start[a:b], cd.connect[a:b], cd.end[a:b], cd.pbx[a:b],
                   array("q", (x - la for x in cd.leg_first[a:b + 1])),
                   cd.leg_start[la:lb], cd.leg_connect[la:lb], cd.leg_end[la:lb])


# ---- call legs: the legs that START on a day (a call near midnight has legs on the next day)


@dataclass
class LegDay:
    """Legs starting on one UTC day, sorted by (startTimeUTC, legId), and the call each belongs to."""

    index: RowIndex
    calls: tuple[CallDay, CallDay]  # the previous day's calls and this day's
    which: bytes  # per row: 0 = previous day, 1 = this day
    call: array  # per row: position of the call in its CallDay
    leg: bytes  # per row: leg number within the call

    def rows(self, a: int, b: int):
        """(CallDay, call position, leg number) of rows ``a .. b-1``."""
        for which, i, k in zip(self.which[a:b], self.call[a:b], self.leg[a:b]):
            yield self.calls[which], i, k

    def nbytes(self) -> int:
        return 30 * len(self.call) + 200


def collect_leg_day(day: int, previous: CallDay, current: CallDay) -> LegDay:
    lo, hi = day * MS_PER_DAY, (day + 1) * MS_PER_DAY
    rows = []
    for which, cd, first in ((0, previous, bisect_left(previous.start, lo - MAX_CALL_MS)), (1, current, 0)):
        for i in range(first, len(cd.start)):
            a, b = cd.leg_first[i], cd.leg_first[i + 1]
            for k in range(b - a):
                leg_start = cd.leg_start[a + k]
                if lo <= leg_start < hi:
                    rows.append((leg_start, cd.callnum[i] * 10 + k, which, i, k))
    rows.sort()
    calls = (previous, current)
    visible = array("q", (calls[row[2]].end[row[3]] for row in rows))
    index = RowIndex(array("q", (row[0] for row in rows)), visible,
                     bytes(calls[row[2]].pbx[row[3]] for row in rows), max(visible, default=0))
    return LegDay(index, calls, bytes(row[2] for row in rows), array("i", (row[3] for row in rows)),
                  bytes(row[4] for row in rows))


# ---- rendering


@dataclass(frozen=True, slots=True)
class Party:
    number: str
    name: str
    svc_name: str
    svc_type: str
    user: User | None


@lru_cache(maxsize=4096)
def _user_party(user: User) -> Party:
    return Party(user.ext, user.name, user.ext, "USER", user)


QUEUES = tuple(Party("CallQueue", name, "CallQueue", "CALL_QUEUE", None) for name in pools.QUEUE_NAMES)
RING_GROUPS = tuple(Party("RingGroup", name, "RingGroup", "RING_GROUP", None) for name in pools.RING_GROUPS)
AUTO_ATTENDANTS = {path: Party("AutoAttendant", path.split(">")[0], "AutoAttendant", "AUTO_ATTENDANT", None)
                   for path in pools.AA_PATHS}


class CallProfile:
    """Who called whom, through which PBX features: shared by a call's record and its legs."""

    __slots__ = ("direction", "caller", "callee", "dnis", "sip", "aa_path", "aa_destination", "account_code",
                 "to_queue", "draw")

    def __init__(self, seed: int, callnum: int, users: tuple[User, ...]) -> None:
        d = Draw(seed, "call", callnum)
        user = d.pick(users)
        me = _user_party(user)
        number = "+1555" + d.digits(7)
        named = d.chance(60)
        outside_name = f"{d.pick(pools.FIRST_NAMES)} {d.pick(pools.LAST_NAMES)}".upper() if named else number[1:]
        outside = Party(number, outside_name, "PSTN", "EXTERNAL", None)
        roll = d.below(100)
        self.to_queue = False
        if roll < 55:
            self.direction = "Incoming"
            target = d.below(10)
            if target < 7:
                self.callee = me
            elif target < 9:
                self.to_queue = True
                self.callee = d.pick(QUEUES)
            else:
                self.callee = d.pick(RING_GROUPS)
            self.caller = outside
            self.dnis = "1202555" + d.digits(4)
        elif roll < 90:
            self.direction = "Outgoing"
            self.caller, self.callee = me, outside
            self.dnis = number[1:]
        else:
            other = d.pick(users)
            self.direction = "Internal"
            self.caller, self.callee = me, _user_party(other)
            self.dnis = other.ext
        self.sip = f"{d.below(10 ** 9)}_{d.below(10 ** 9)}@"
        via_aa = self.direction == "Incoming" and d.chance(30)
        self.aa_path = d.pick(pools.AA_PATHS) if via_aa else ""
        self.aa_destination = self.callee.name if via_aa and d.chance(50) else None
        self.account_code = d.digits(4) if d.chance(5) else ""
        self.draw = d

    @property
    def staff(self) -> User | None:
        return self.callee.user if self.direction == "Incoming" else self.caller.user


def _outcome(direction: str, connected: bool, to_queue: bool, d: Draw) -> tuple[str, str, str]:
    """(missed, abandoned, answered): a label or "-"."""
    if connected:
        return "-", "-", "Answered"
    if direction != "Incoming":
        return "-", "-", "-"
    return "Missed", "Abandoned" if to_queue or d.chance(20) else "-", "-"


class Renderer:
    """Turns CallDay / LegDay rows into serialized JSON rows for one requested time zone."""

    def __init__(self, seed: int, users: tuple[User, ...], pbx_ids: tuple[str, ...], zone_name: str) -> None:
        self.seed, self.users, self.pbx_ids, self.zone = seed, users, pbx_ids, zone_name

    def _local(self, ms: int) -> str:
        return local_text(ms, offset_ms(ms, self.zone), colon=False)

    def call_records(self, cd: CallDay, a: int, b: int) -> RowBlock:
        """Call records ``a .. b-1`` of a day, serialized."""
        return RowBlock(orjson.dumps(self.call_record(cd, i)) for i in range(a, b))

    def call_legs(self, legs: LegDay, a: int, b: int) -> RowBlock:
        """Legs ``a .. b-1`` of a day, serialized."""
        profiles: dict[int, CallProfile] = {}

        def rows():
            for cd, i, k in legs.rows(a, b):
                callnum = cd.callnum[i]
                profile = profiles.get(callnum)
                if profile is None:
                    profile = profiles[callnum] = CallProfile(self.seed, callnum, self.users)
                yield orjson.dumps(self.call_leg(cd, i, k, profile))

        return RowBlock(rows())

    def call_record(self, cd: CallDay, i: int) -> dict:
        callnum, start, connect, end = cd.callnum[i], cd.start[i], cd.connect[i], cd.end[i]
        p = CallProfile(self.seed, callnum, self.users)
        d = p.draw
        n_legs = cd.leg_first[i + 1] - cd.leg_first[i]
        missed, abandoned, answered = _outcome(p.direction, bool(connect), p.to_queue, d)
        talk = end - connect if connect else 0
        hold = d.below(talk // 4) if talk > 60_000 and d.chance(20) else 0
        caller_hold = d.below(talk // 10) if talk > 60_000 and d.chance(5) else 0
        last_leg_start = cd.leg_start[cd.leg_first[i + 1] - 1]
        wait = (connect or end) - start if p.to_queue else 0
        if connect:
            last_disposition = "Answered"
        elif p.direction == "Incoming":
            last_disposition = "Abandoned" if abandoned != "-" else d.pick(("Voicemail", "Missed"))
        else:
            last_disposition = d.pick(("No Answer", "Busy", "Cancelled"))
        staff = p.staff
        return {
            "dnis": p.dnis,
            "aaDestination": p.aa_destination,
            "callId": str(callnum),
            "startTimeUTC": start,
            "startTime": self._local(start),
            "connectTimeUTC": connect,
            "connectTime": self._local(connect) if connect else "0",
            "disconnectedTimeUTC": end,
            "disconnectedTime": self._local(end),
            "talkTimeMS": talk,
            "talkTime": hms(talk // 1000),
            "caller": p.caller.number,
            "callerName": p.caller.name,
            "callee": p.callee.number,
            "calleeName": p.callee.name,
            "direction": p.direction,
            "callerId": f"{p.caller.name},{p.caller.number}",
            "missed": missed,
            "abandoned": abandoned,
            "answered": answered,
            "answeredTime": connect - start if connect else 0,
            "calleeDisconnectOnHold": "",
            "callerDisconnectOnHold": "",
            "pbxId": self.pbx_ids[cd.pbx[i]],
            "sipCallId": p.sip,
            "lastLegDisposition": last_disposition,
            "callLegCount": str(n_legs),
            "callTime": end - start,
            "ringDuration": ((connect or end) - last_leg_start) // 1000,
            "abandonedTime": end - start if abandoned != "-" else 0,
            "calleeHoldDurationMS": hold,
            "calleeHoldDuration": hms(hold // 1000),
            "callerHoldDurationMS": caller_hold,
            "callerHoldDuration": hms(caller_hold // 1000),
            "waitTimeMS": wait,
            "waitTime": hms(wait // 1000),
            "departments": [staff.department] if staff else [],
            "branches": [staff.branch] if staff and d.chance(70) else [],
            "accountCode": p.account_code,
            "aaPath": p.aa_path,
        }

    def call_leg(self, cd: CallDay, i: int, k: int, p: CallProfile) -> dict:
        callnum = cd.callnum[i]
        legnum = callnum * 10 + k
        j = cd.leg_first[i] + k
        n_legs = cd.leg_first[i + 1] - cd.leg_first[i]
        start, connect, end = cd.leg_start[j], cd.leg_connect[j], cd.leg_end[j]
        d = Draw(self.seed, "leg", legnum)
        final = k == n_legs - 1
        callee = p.callee
        if p.aa_path and k == 0 and n_legs > 1:
            callee = AUTO_ATTENDANTS[p.aa_path]
        elif not final or callee.svc_type in ("CALL_QUEUE", "RING_GROUP"):
            callee = _user_party(d.pick(self.users))
        cause = "Normal" if final else d.pick(LEG_CAUSES)
        missed, abandoned, answered = _outcome(p.direction, bool(connect), p.to_queue and final, d)
        talk = end - connect if connect else 0
        hold = d.below(talk // 4) if talk > 60_000 and d.chance(20) else 0
        caller_user, callee_user = p.caller.user, callee.user
        staff = callee_user or caller_user
        return {
            "callId": str(callnum),
            "legId": str(legnum),
            "startTimeUTC": start,
            "startTime": self._local(start),
            "connectTimeUTC": connect,
            "connectTime": self._local(connect) if connect else "0",
            "disconnectedTimeUTC": end,
            "disconnectedTime": self._local(end),
            "talkTimeMS": talk,
            "talkTime": hms(talk // 1000),
            "caller": p.caller.number,
            "callerName": p.caller.name,
            "callee": callee.number,
            "calleeName": callee.name,
            "lra": p.callee.number if k else "",
            "lraType": d.below(4) if k else 0,
            "direction": p.direction,
            "parentCallId": str(callnum) if k else "",
            "transferToCallId": str(callnum + 1) if cause == "Transfer" else None,
            "dnis": p.dnis,
            "status": "In Progress" if d.chance(0.5) else "Completed",
            "callerDeviceId": caller_user.device_id if caller_user else "",
            "calleeDeviceId": callee_user.device_id if callee_user else "",
            "callerDeviceModel": caller_user.device_model if caller_user else "",
            "calleeDeviceModel": callee_user.device_model if callee_user else "",
            "callerId": f"{p.caller.name},{p.caller.number}",
            "missed": missed,
            "abandoned": abandoned,
            "answered": answered,
            "cause": cause,
            "callerSvcName": p.caller.svc_name,
            "callerSvcType": p.caller.svc_type,
            "calleeSvcName": callee.svc_name,
            "calleeSvcType": callee.svc_type,
            "callerHoldDurationMS": 0,
            "callerHoldDuration": "00:00:00",
            "calleeHoldDurationMS": hold,
            "calleeHoldDuration": hms(hold // 1000),
            "pbxId": self.pbx_ids[cd.pbx[i]],
            "sipCallId": f"{p.sip[:-1]}-{k}@",
            "departments": [staff.department] if staff else [],
            "branches": [staff.branch] if staff else [],
            "recordServiceOn": d.chance(25),
            "bargeServiceOn": d.chance(3),
            "masterSlaveExts": "",
            "propsLastPartyDisp": answered if final else "",
            "accountCode": p.account_code,
            "aaPath": p.aa_path,
            "callTime": end - start,
        }
