"""The busiest extensions of the synced days, from the `work_analytics_extension_daily` table of the cache.

One row per day and extension is what the connector stores; summed over the days it gives what 8x8's
Extension Summary screen shows for a week. Column names are lower-cased by PyAirbyte's DuckDB cache.
"""

from __future__ import annotations

from demo import tables
from demo.summary import Cache

TABLE = "work_analytics_extension_daily"
TOP = 5


def busiest_extensions_table(cache: Cache, limit: int = TOP) -> list[str]:
    """The `limit` extensions with the most calls (in and out) over every day cached; [] when the stream was not
    synced (only the contact center configured)."""
    present = cache.run_sql_query(f"SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '{TABLE}'")
    if not present[0]["n"]:
        return []
    rows = cache.run_sql_query(
        f"""
        SELECT pbxid, extension, max(firstname || ' ' || lastname) AS name,
               count(DISTINCT day) AS days,
               sum(CAST(inbound_total AS BIGINT)) AS inbound, sum(CAST(outbound_total AS BIGINT)) AS outbound,
               sum(CAST(total_answered AS BIGINT)) AS answered, sum(CAST(total_missed AS BIGINT)) AS missed,
               sum(CAST(total_talk_time AS BIGINT)) AS talk_ms
        FROM {TABLE}
        GROUP BY pbxid, extension
        ORDER BY inbound + outbound DESC, pbxid, extension
        LIMIT {int(limit)}
        """
    )
    return tables.render(
        ["pbx", "extension", "name", "days", "calls in", "calls out", "answered", "missed", "talk (h)"],
        [
            [row["pbxid"], row["extension"], row["name"], int(row["days"]), int(row["inbound"]), int(row["outbound"]),
             int(row["answered"]), int(row["missed"]), f"{int(row['talk_ms']) / 3_600_000:.1f}"]
            for row in rows
        ],
    )
