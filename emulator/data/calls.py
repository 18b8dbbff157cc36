"""8x8 Work Analytics data: calls (``/v2/call-records``) and their legs (``/v2/call-legs``).

Generation has two layers so a query can be counted without rendering records:

* ``CallDay``: the calls that start on one UTC day -- ids, timing, PBX and leg timing only. Seeded
  per (seed, day), independent of request order, cheap, and independent of the time zone.
* rendering: the JSON rows of one day in one requested time zone (``startTime`` etc. are local
  strings). Party names, devices and other details come from ``Draw(seed, callId)`` so that a
  call and its legs agree however they are generated.

Each full day holds exactly ``calls_per_day`` calls, including slice-boundary cases: calls at
00:00:00.000, 12:00:00.000, 23:59:59.500 and 23:59:59.999, and three calls in the same
millisecond. About 3% of calls last 1-2 hours, so late-ending calls matter.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left
from dataclasses import dataclass

import orjson

from ..timeutil import MS_PER_DAY, hms, local_text, offset_ms
from . import pools
from .common import Draw, stable_seed

CALL_ID_BASE = 1_500_000_000_000  # callIds are 13-digit numeric strings, like the vendor's
CALL_ID_DAY_STRIDE = 10_000_000  # callId = base + day * stride + rank in the day
MAX_CALL_MS = 7_200_000
LEG_WEIGHTS = (45, 25, 15, 10, 5)  # 1..5 legs
PBX_WEIGHTS = (6, 3, 1, 1, 1, 1, 1, 1)


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

    @property
    def index(self) -> RowIndex:
        return RowIndex(self.start, self.end, self.pbx, max(self.end, default=0))

    def nbytes(self) -> int:
        return 8 * (5 * len(self.start) + 3 * len(self.leg_start)) + 200


def _start_offsets(rng: random.Random, n: int) -> list[int]:
    """Millisecond offsets in the day: boundary cases first, then mostly business hours."""
    tie = rng.randrange(MS_PER_DAY)
    special = [0, MS_PER_DAY - 1, MS_PER_DAY - 500, 12 * 3_600_000, tie, tie, tie]
    offsets = special[:n]
    for _ in range(n - len(offsets)):
        if rng.random() < 0.7:
            offsets.append(rng.randrange(13 * 3_600_000, 23 * 3_600_000))
        else:
            offsets.append(rng.randrange(MS_PER_DAY))
    offsets.sort()
    return offsets


def _duration_ms(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(3_000, 300_000)
    if roll < 0.92:
        return rng.randint(300_000, 1_800_000)
    if roll < 0.97:
        return rng.randint(1_800_000, 3_600_000)
    return rng.randint(3_600_000, MAX_CALL_MS)


def generate_call_day(seed: int, day: int, per_day: int, lo_ms: int, hi_ms: int, n_pbx: int) -> CallDay:
    """The calls of ``day`` whose start lies in the dataset range ``[lo_ms, hi_ms)``."""
    rng = random.Random(stable_seed(seed, "wa-calls", day))
    base = day * MS_PER_DAY
    pbx_choices = list(range(n_pbx))
    pbx_weights = PBX_WEIGHTS[:n_pbx] + (1,) * max(0, n_pbx - len(PBX_WEIGHTS))
    cd = CallDay(day, array("q"), array("q"), array("q"), array("q"), b"", array("q", [0]),
                 array("q"), array("q"), array("q"))
    pbx = bytearray()
    for rank, offset in enumerate(_start_offsets(rng, per_day)):
        start = base + offset
        duration = _duration_ms(rng)
        end = start + duration
        n_legs = rng.choices((1, 2, 3, 4, 5), LEG_WEIGHTS)[0]
        leg_offsets = [0]
        for _ in range(n_legs - 1):
            fork = rng.random() < 0.3  # ring-group members ring at the same moment
            step = 0 if fork else rng.randint(0, min(duration // 3, 60_000))
            leg_offsets.append(min(leg_offsets[-1] + step, duration - 1))
        last_leg_start = start + leg_offsets[-1]
        ring = rng.randint(2_000, 30_000)
        connect = last_leg_start + ring if rng.random() < 0.7 and last_leg_start + ring < end else 0
        for k, leg_offset in enumerate(leg_offsets):
            leg_start = start + leg_offset
            if k == n_legs - 1:
                leg_end, leg_connect = end, connect
            else:
                leg_end = min(end, leg_start + rng.randint(2_000, 30_000))
                transferred = connect and rng.random() < 0.15 and leg_start + 1_500 < leg_end
                leg_connect = leg_start + 1_500 if transferred else 0
            cd.leg_start.append(leg_start)
            cd.leg_connect.append(leg_connect)
            cd.leg_end.append(leg_end)
        cd.leg_first.append(len(cd.leg_start))
        cd.callnum.append(CALL_ID_BASE + day * CALL_ID_DAY_STRIDE + rank)
        cd.start.append(start)
        cd.connect.append(connect)
        cd.end.append(end)
        pbx.append(rng.choices(pbx_choices, pbx_weights)[0])
    cd.pbx = bytes(pbx)
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
    """Legs starting on one UTC day, sorted by (startTimeUTC, legId), with where each comes from."""

    index: RowIndex
    source: list  # (CallDay, call position, leg number) per row

    def nbytes(self) -> int:
        return 100 * len(self.source) + 200


def collect_leg_day(day: int, previous: CallDay, current: CallDay) -> LegDay:
    lo, hi = day * MS_PER_DAY, (day + 1) * MS_PER_DAY
    rows = []
    for cd, first in ((previous, bisect_left(previous.start, lo - MAX_CALL_MS)), (current, 0)):
        for i in range(first, len(cd.start)):
            a, b = cd.leg_first[i], cd.leg_first[i + 1]
            for k in range(b - a):
                leg_start = cd.leg_start[a + k]
                if lo <= leg_start < hi:
                    rows.append((leg_start, cd.callnum[i] * 10 + k, cd, i, k))
    rows.sort(key=lambda row: (row[0], row[1]))
    pbx = bytes(cd.pbx[i] for _, _, cd, i, _ in rows)
    visible = array("q", (cd.end[i] for _, _, cd, i, _ in rows))
    index = RowIndex(array("q", (row[0] for row in rows)), visible, pbx, max(visible, default=0))
    return LegDay(index, [(cd, i, k) for _, _, cd, i, k in rows])


# ---- rendering


@dataclass(slots=True)
class Party:
    number: str
    name: str
    svc_name: str
    svc_type: str
    user: User | None


class CallProfile:
    """Who called whom, through which PBX features: shared by a call's record and its legs."""

    __slots__ = ("direction", "caller", "callee", "dnis", "sip", "aa_path", "aa_destination", "account_code",
                 "to_queue", "draw")

    def __init__(self, seed: int, callnum: int, users: tuple[User, ...]) -> None:
        d = Draw(seed, "call", callnum)
        user = d.pick(users)
        me = Party(user.ext, user.name, user.ext, "USER", user)
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
                self.callee = Party("CallQueue", d.pick(pools.QUEUE_NAMES), "CallQueue", "CALL_QUEUE", None)
            else:
                self.callee = Party("RingGroup", d.pick(pools.RING_GROUPS), "RingGroup", "RING_GROUP", None)
            self.caller = outside
            self.dnis = "1202555" + d.digits(4)
        elif roll < 90:
            self.direction = "Outgoing"
            self.caller, self.callee = me, outside
            self.dnis = number[1:]
        else:
            other = d.pick(users)
            self.direction = "Internal"
            self.caller, self.callee = me, Party(other.ext, other.name, other.ext, "USER", other)
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

    def call_records(self, cd: CallDay) -> list[bytes]:
        return [orjson.dumps(self.call_record(cd, i)) for i in range(len(cd.start))]

    def call_legs(self, legs: LegDay) -> list[bytes]:
        profiles: dict[int, CallProfile] = {}
        out = []
        for cd, i, k in legs.source:
            callnum = cd.callnum[i]
            profile = profiles.get(callnum)
            if profile is None:
                profile = profiles[callnum] = CallProfile(self.seed, callnum, self.users)
            out.append(orjson.dumps(self.call_leg(cd, i, k, profile)))
        return out

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
            callee = Party("AutoAttendant", p.aa_path.split(">")[0], "AutoAttendant", "AUTO_ATTENDANT", None)
        elif not final or callee.svc_type in ("CALL_QUEUE", "RING_GROUP"):
            member = d.pick(self.users)
            callee = Party(member.ext, member.name, member.ext, "USER", member)
        cause = "Normal" if final else d.pick(("Ring No Answer", "Ring No Answer", "Redirected", "Transfer", "Conference"))
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
