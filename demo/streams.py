"""What the demo knows about each of the connector's nine streams, to summarise them.

Column names are lower-cased because PyAirbyte's DuckDB cache lower-cases them (`startTimeUTC` is
stored as `starttimeutc`). Cursor values are compared as epoch milliseconds, read from typed columns:
`startTimeUTC` is a BIGINT of epoch milliseconds, the CDR `timestamp` a TIMESTAMP holding UTC (PyAirbyte
declares instants without a time zone, so the connector sends them in UTC: docs/8x8-cdr.md, "Loading with
PyAirbyte").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

WORK_ANALYTICS = "Work Analytics"
CONTACT_CENTER = "Contact center"


@dataclass(frozen=True)
class StreamInfo:
    name: str
    api: str
    primary_key: str
    cursor: Optional[str] = None  # the incremental cursor field; None for the reference lists
    top_field: Optional[str] = None  # the field whose most common values the summary shows

    @property
    def incremental(self) -> bool:
        return self.cursor is not None

    @property
    def key_column(self) -> str:
        return self.primary_key.lower()

    @property
    def cursor_ms_sql(self) -> Optional[str]:
        """An SQL expression giving the cursor of a cached row in epoch milliseconds (UTC)."""
        if self.cursor is None:
            return None
        column = f'"{self.cursor.lower()}"'
        return column if self.api == WORK_ANALYTICS else f"epoch_ms({column})"


STREAMS = (
    StreamInfo("call_records", WORK_ANALYTICS, "callId", cursor="startTimeUTC", top_field="direction"),
    StreamInfo("call_legs", WORK_ANALYTICS, "legId", cursor="startTimeUTC", top_field="direction"),
    StreamInfo("contact_center_cdrs", CONTACT_CENTER, "uuid", cursor="timestamp", top_field="disposition"),
    StreamInfo("contact_center_agents", CONTACT_CENTER, "id"),
    StreamInfo("contact_center_queues", CONTACT_CENTER, "id"),
    StreamInfo("contact_center_teams", CONTACT_CENTER, "id"),
    StreamInfo("contact_center_campaigns", CONTACT_CENTER, "id"),
    StreamInfo("contact_center_deleted_agents", CONTACT_CENTER, "id"),
    StreamInfo("contact_center_wrapup_codes", CONTACT_CENTER, "code"),
)
BY_NAME = {info.name: info for info in STREAMS}
