"""Types of the C extension `record_scan.c` (a page's records checked and rewritten in one pass; see as_sent.py)."""

from typing import Any, List, NewType, Optional, Tuple, Union

# What `plan` makes of a stream's declared members: opaque, read only by `scan`.
Plan = NewType("Plan", object)
# (name as sent, kind, detail): detail is the nested members of an object, the item kind of an array, else None.
Member = Tuple[bytes, int, Union["Members", int, None]]
Members = Tuple[Member, ...]

def plan(members: Members, cursor: int, key: int) -> Plan: ...
def scan(page: bytearray, entries: List[Any], plan: Plan) -> Optional[Tuple[List[Any], List[Any]]]: ...
