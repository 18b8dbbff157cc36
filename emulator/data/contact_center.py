"""Contact-center CDR data: interaction records and the reference lists they point into.

Records of one UTC day (by ``timestamp``, the moment the interaction ended) are indexed together
(timestamp, uuid, type, disposition), seeded per (seed, day) and sorted by (timestamp, uuid); the
rest of each record comes from ``Draw(seed, uuid)`` when it is rendered. Every full day holds
exactly ``cc_records_per_day`` records, including one at exactly 00:00:00.000 UTC and three that
end in the same millisecond. Types and dispositions cover the published lists; about 1 in 1000
records carries a value not in them (type "rcs", disposition "voicemail_left") and about 3 in 1000
an undocumented extra field.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect_left
from dataclasses import dataclass

import orjson

from ..timeutil import MS_PER_DAY, hms, local_text
from . import pools
from .common import Draw, RowBlock, cumulative, stable_seed

TYPE_WEIGHTS = {
    "inbound": 300, "outbound": 180, "dialer": 120, "click_to_call": 50, "outbound_sms": 80,
    "whatsapp": 50, "facebook": 20, "instagram": 20, "telegram": 10, "viber": 10, "web_chat": 30,
    "chat": 40, "hlr_lookup": 20, "queue_callback": 20, "scheduled_callback": 20,
    "rcs": 1,  # not in the published list: a type added after the documentation
}
VOICE_IN = ("inbound", "queue_callback", "scheduled_callback")
VOICE_OUT = ("outbound", "dialer", "click_to_call")
DIGITAL = ("whatsapp", "facebook", "instagram", "telegram", "viber", "web_chat", "chat")
DISPOSITIONS = {
    "inbound": ("answered",) * 6 + ("abandoned", "missed", "no_answer", "system_abandoned", "rejected"),
    "queue_callback": ("answered",) * 4 + ("no_answer", "busy", "failed"),
    "scheduled_callback": ("answered",) * 4 + ("no_answer", "busy", "failed"),
    "outbound": ("answered",) * 5 + ("failed", "busy", "no_answer", "rejected", "answered_by_VM",
                                      "route_unavailable", "system_reject"),
    "click_to_call": ("answered",) * 4 + ("no_answer", "busy", "failed"),
    "dialer": ("answered",) * 4 + ("dialer_abandoned", "no_answer", "busy", "machine_answered", "failed"),
    "outbound_sms": ("sent", "delivered", "delivered", "not_sent", "not_delivered"),
    "hlr_lookup": ("delivered", "delivered", "failed", "not_delivered"),
    "rcs": ("delivered", "sent"),
}
DIGITAL_DISPOSITIONS = ("archived",) * 4 + ("active", "waiting", "missed", "answered")
HANDLED = {"answered", "answered_by_VM", "machine_answered", "archived", "active", "sent", "delivered",
           "not_delivered", "voicemail_left"}
UNKNOWN_DISPOSITION = "voicemail_left"  # not in the published list
OFFSET_MINUTES = (-180, 330, 0, -300, 60, 120, -420, 540, 345)  # UTC offsets the timestamps are shown in
MAX_DIGITAL_SECONDS = 180_000  # a chat or social conversation lasts 60 s plus up to this long
MAX_DURATION_MS = (60 + MAX_DIGITAL_SECONDS) * 1000  # no interaction lasts longer (voice: at most 1,810 s)


@dataclass
class Reference:
    """The account's reference lists (``/api/v2/cdr/agents`` etc.), fixed by the seed."""

    agents: list[dict]
    deleted_agents: list[dict]
    queues: list[dict]
    teams: list[dict]
    campaigns: list[dict]
    wrapup_codes: list[dict]

    def as_lists(self) -> dict[str, list[dict]]:
        return {name: getattr(self, name) for name in
                ("agents", "deleted_agents", "queues", "teams", "campaigns", "wrapup_codes")}


def make_reference(seed: int) -> Reference:
    rng = random.Random(stable_seed(seed, "cc-reference"))

    def person() -> str:
        return f"{rng.choice(pools.FIRST_NAMES)} {rng.choice(pools.LAST_NAMES)}"

    teams = [{"name": name, "id": 5915 + 7 * n, "description": f"{name} agents"}
             for n, name in enumerate(pools.TEAM_NAMES)]
    agents = []
    for n in range(40):
        name = person()
        agents.append({"id": 52700 + 13 * n, "name": name,
                       "email": name.lower().replace(" ", ".").replace("'", "") + f"{n}@acme-corp.example",
                       "team_id": rng.choice(teams)["id"], "status": rng.choice(("active", "active", "away")),
                       "extension": str(2001 + n)})
    deleted = [{"id": 28900 + 41 * n, "name": person(), "deleted_at": f"2023-0{n + 1}-15T10:00:00.000Z"}
               for n in range(6)]
    queues = [{"id": 199 + 2 * n, "name": name, "type": "inbound", "language": rng.choice(("en", "pt", "es"))}
              for n, name in enumerate(pools.QUEUE_NAMES)]
    campaigns = [{"id": 13 + 2 * n, "name": name, "status": rng.choice(("running", "paused", "finished")),
                  "lead_source": rng.choice(pools.LEAD_SOURCES)}
                 for n, name in enumerate(pools.CAMPAIGN_NAMES)]
    wrapup_codes = [{"description": f"{code}: {text}", "code": code} for code, text in pools.WRAPUP_CODES]
    return Reference(agents, deleted, queues, teams, campaigns, wrapup_codes)


@dataclass
class CdrIndex:
    """Records whose timestamp falls on one UTC day, sorted by (timestamp, uuid): what queries filter on."""

    ts: array
    uuid: list[str]
    type: list[str]
    disposition: list[str]

    def __len__(self) -> int:
        return len(self.ts)

    def nbytes(self) -> int:
        return 150 * len(self.ts) + 200


def _timestamps(rand, n: int, day: int) -> list[tuple[int, str]]:
    """(timestamp ms, type) pairs: the boundary cases first, then mostly business hours."""
    kinds, cdf = list(TYPE_WEIGHTS), cumulative(list(TYPE_WEIGHTS.values()))
    base = day * MS_PER_DAY
    tie = base + int(rand() * 86_400) * 1000
    rows = [(base, "inbound"), (tie, "inbound"), (tie, "outbound"), (tie, "dialer")][:n]
    for _ in range(n - len(rows)):
        kind = kinds[bisect_left(cdf, rand())]
        second = 12 * 3600 + int(rand() * 11 * 3600) if rand() < 0.7 else int(rand() * 86_400)
        millis = 0 if kind in VOICE_IN or kind in VOICE_OUT else int(rand() * 1000)
        rows.append((base + second * 1000 + millis, kind))
    return rows


def generate_cdr_index(seed: int, day: int, per_day: int, lo_ms: int, hi_ms: int) -> CdrIndex:
    """The records of ``day`` with a timestamp in the dataset range ``[lo_ms, hi_ms)``."""
    rng = random.Random(stable_seed(seed, "cc-cdrs", day))
    rand, bits = rng.random, rng.getrandbits
    rows = sorted((ts, _uuid4(bits(128)), kind) for ts, kind in _timestamps(rand, per_day, day))
    dispositions = []
    for _, _, kind in rows:
        options = DIGITAL_DISPOSITIONS if kind in DIGITAL else DISPOSITIONS[kind]
        dispositions.append(UNKNOWN_DISPOSITION if rand() < 0.001 else options[int(rand() * len(options))])
    a, b = bisect_left(rows, (lo_ms,)), bisect_left(rows, (hi_ms,))
    return CdrIndex(array("q", (row[0] for row in rows[a:b])), [row[1] for row in rows[a:b]],
                    [row[2] for row in rows[a:b]], dispositions[a:b])


def render_cdrs(seed: int, index: CdrIndex, a: int, b: int, ref: Reference) -> RowBlock:
    """Records ``a .. b-1`` of a day, serialized."""
    return RowBlock(orjson.dumps(render_cdr(seed, index.ts[i], index.uuid[i], index.type[i],
                                            index.disposition[i], ref)) for i in range(a, b))


def _uuid4(n: int) -> str:
    """A version-4 UUID string from 128 random bits."""
    h = f"{n & ~(0xF << 76) & ~(0x3 << 62) | (0x4 << 76) | (0x2 << 62):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _number(d: Draw, prefix: str = "1555") -> str:
    return prefix + d.digits(7)


def render_cdr(seed: int, ts: int, uid: str, kind: str, disposition: str, ref: Reference) -> dict:
    """One record, shaped by its interaction type (voice, SMS, digital), as in the Records table."""
    d = Draw(seed, "cdr", uid)
    off_minutes = 0 if ts % MS_PER_DAY == 0 else d.pick(OFFSET_MINUTES)  # midnight UTC shows as +00:00
    outgoing = kind in VOICE_OUT or kind in ("outbound_sms", "rcs")
    if disposition in HANDLED or outgoing:
        agent = d.pick(ref.deleted_agents) if d.chance(5) else d.pick(ref.agents)
        agent_name, agent_id = agent["name"], agent["id"]
    else:
        agent_name = agent_id = None
    answered = disposition in ("answered", "answered_by_VM", "machine_answered", UNKNOWN_DISPOSITION)
    wrapup = d.pick(ref.wrapup_codes)["code"] if agent_id and d.chance(70) else None
    customer, account = _number(d), _number(d, "3120811")

    record: dict = {"agent": agent_name}
    if kind in DIGITAL:
        record.update({
            "from": d.pick(pools.SOCIAL_HANDLES), "disposition": disposition,
            "duration": hms(60 + d.below(MAX_DIGITAL_SECONDS)), "to": "Acme Support",
        })
    elif kind in VOICE_IN or kind in VOICE_OUT:
        seconds = 10 + d.below(1_800) if answered else d.below(60)
        caller, callee = (customer, account) if kind in VOICE_IN else (account, customer)
        record.update({
            "from": caller, "disposition": disposition, "duration": hms(seconds),
            "queue": d.pick(ref.queues)["name"] if kind in VOICE_IN else None, "to": callee,
        })
    else:  # outbound_sms, hlr_lookup, and the undocumented rcs
        record.update({
            "from": "ACME" if kind != "hlr_lookup" else "HLR", "disposition": disposition,
            "duration": "00:00:00", "queue": None, "to": customer,
        })
    record.update({
        "timestamp": local_text(ts, off_minutes * 60_000, colon=True),
        "uuid": uid,
        "wrapup_code": wrapup,
        "type": kind,
        "agent_id": agent_id,
    })
    if kind in ("outbound_sms", "rcs"):
        text = d.pick(pools.SMS_TEXTS)
        segments = math.ceil(len(text) / 160)
        record["cpc"] = round(0.0075 * segments, 4)
        if kind == "outbound_sms":
            record["sid"] = "SM" + f"{d.below(1 << 128):032x}"
        record.update({
            "text": text,
            "related_call": _uuid4(d.below(1 << 128)) if d.chance(30) else None,
            "template": d.pick(pools.SMS_TEMPLATES) if d.chance(50) else None,
            "num_segments": segments,
        })
    elif kind in DIGITAL:
        record["cpc"] = 0.0
        record["sla"] = {
            "time_to_first_response": hms(d.below(600)),
            "time_to_resolution": hms(d.below(200_000)),
            "time_to_reply": hms(d.below(120)),
        }
        record["queue"] = d.pick(ref.queues)["name"] if d.chance(50) else None
    else:
        record["cpc"] = round(d.below(5_000) / 10_000, 4) if kind != "hlr_lookup" else 0.005
    if kind in VOICE_OUT:
        record["destination_name"] = d.pick(pools.COUNTRIES)
    if d.chance(0.3):
        record["recording_url"] = f"https://recordings.invalid/{uid}.mp3"  # undocumented field
    return record
