"""The connector's streams in real destinations: PyAirbyte loads the emulator into DuckDB and into a PostgreSQL
server (started by the tests, `postgres_server.py`), and the tables are read back.

Per stream, `information_schema.columns` must give each field of the schema contract (issue 13) its SQL type,
and every value in every column must equal the emulator's row converted to that column's type (`"0100"` still
`"0100"`; CDR timestamps the same instants: in UTC where PyAirbyte's column keeps no time zone, as the connector
emits every instant in UTC). Each destination is loaded once per module; the tests read it.

PyAirbyte's loaders themselves alter some values; each such behaviour is pinned by a test that fails, naming
the behaviour, once PyAirbyte changes it (see "Loading with PyAirbyte" in docs/8x8-cdr.md):
- its PostgreSQL cache reads files through pandas, which turns numeric-looking strings into numbers: the
  PostgreSQL values are checked through the workaround the docs give, and the plain cache is pinned;
- it declares instants `TIMESTAMP` without a time zone, in both databases, and drops an offset rather than
  applying it (harmless here: the connector writes instants in UTC).
"""

from __future__ import annotations

import json
import re
import socket
import sys
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest

from demo import offline
from emulator import Emulator
from integration_tests.conftest import connector_config, ground_truth, primary_key
from integration_tests.postgres_server import HOST, PostgresServer, PostgresServerError, running_postgres
from integration_tests.test_reads_emulator import assert_for_each_stream

DOCS = Path(__file__).resolve().parents[1] / "docs" / "8x8-cdr.md"
WORKAROUND_HEADING = "### PostgreSQL: numeric-looking strings become numbers"

# The kinds of type in the contract, and the `information_schema.columns.data_type` PyAirbyte gives each.
STRING, INTEGER, NUMBER, JSON, INSTANT = "string", "integer", "number", "array or object", "date-time"
SQL_TYPES = {
    "duckdb": {STRING: "VARCHAR", INTEGER: "BIGINT", NUMBER: "DECIMAL(38,9)", JSON: "JSON", INSTANT: "TIMESTAMP"},
    "postgres": {STRING: "character varying", INTEGER: "bigint", NUMBER: "numeric", JSON: "json",
                 INSTANT: "timestamp without time zone"},
}

WA_TIMES = ("startTimeUTC", "connectTimeUTC", "disconnectedTimeUTC", "talkTimeMS", "callerHoldDurationMS",
            "calleeHoldDurationMS", "callTime")
WA_LABELS = ("missed", "answered", "abandoned", "direction", "startTime", "connectTime", "disconnectedTime")
REFERENCE_LIST = {"id": INTEGER}
CONTRACT: dict[str, dict[str, str]] = {
    "call_records": {
        "callId": STRING, **dict.fromkeys(WA_LABELS, STRING),
        **dict.fromkeys(WA_TIMES + ("waitTimeMS", "ringDuration", "answeredTime", "abandonedTime", "callLegCount"), INTEGER),
        "departments": JSON, "branches": JSON,
    },
    "call_legs": {
        **dict.fromkeys(("callId", "legId", "parentCallId", "transferToCallId") + WA_LABELS, STRING),
        **dict.fromkeys(WA_TIMES + ("lraType",), INTEGER),
        "departments": JSON, "branches": JSON,
    },
    "contact_center_cdrs": {
        "uuid": STRING, "timestamp": INSTANT, "agent_id": INTEGER, "num_segments": INTEGER, "cpc": NUMBER,
        "sla": JSON, "duration": STRING, "wrapup_code": STRING,
    },
    "contact_center_agents": REFERENCE_LIST,
    "contact_center_queues": REFERENCE_LIST,
    "contact_center_teams": REFERENCE_LIST,
    "contact_center_campaigns": REFERENCE_LIST,
    "contact_center_deleted_agents": REFERENCE_LIST,
    "contact_center_wrapup_codes": {"code": STRING, "description": STRING},
}
# The streams whose types issue 13 made a contract (the summaries are typed the same way, and checked in their own tests).
STREAMS = tuple(CONTRACT)


# ---------------------------------------------------------------------------------------------------------
# Loading: PyAirbyte, offline as the demo runs it, the installed connector, one cache per destination
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pyairbyte(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """PyAirbyte, imported after `demo.offline.prepare` (no registry, no telemetry), its logs in a temp dir."""
    if "airbyte" not in sys.modules:
        offline.prepare(tmp_path_factory.mktemp("pyairbyte-logs"))
    import airbyte

    return airbyte


@pytest.fixture(scope="module")
def source(pyairbyte: ModuleType, emulator: Emulator) -> Any:
    """The connector installed in this environment, as a PyAirbyte source reading the emulator."""
    from demo.sync import CONNECTOR, connector_executable

    return pyairbyte.get_source(CONNECTOR, config=connector_config(emulator), local_executable=connector_executable(),
                                install_if_missing=False)


def load(source: Any, cache: Any, streams: tuple[str, ...] = STREAMS) -> Any:
    source.read(cache=cache, streams=list(streams), skip_validation=True)
    return cache


@pytest.fixture(scope="module")
def duckdb_cache(source: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from airbyte.caches import DuckDBCache

    workdir = tmp_path_factory.mktemp("duckdb")
    cache = DuckDBCache(db_path=str(workdir / "cache.duckdb"), cache_dir=workdir / "files")
    yield load(source, cache)
    cache.close()


def postgres_cache(cache_class: type, server: PostgresServer, schema: str, workdir: Path) -> Any:
    return cache_class(host=server.host, port=server.port, username=server.user, password="",
                       database=server.database, schema_name=schema, cache_dir=workdir)


def documented_workaround() -> dict[str, Any]:
    """Runs the Python block of the docs' workaround section and returns what it defines: the test checks the
    workaround users are given, not a copy of it."""
    section = DOCS.read_text().split(WORKAROUND_HEADING, 1)[1].split("\n#", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, f"no Python block under {WORKAROUND_HEADING!r} in {DOCS.name}"
    names: dict[str, Any] = {}
    exec(compile(code.group(1), f"{DOCS.name} ({WORKAROUND_HEADING})", "exec"), names)
    return names


@pytest.fixture(scope="module")
def postgres_workaround_cache(source: Any, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    cache_class = documented_workaround()["TextKeepingPostgresCache"]
    return load(source, postgres_cache(cache_class, postgres_server, "typed", tmp_path_factory.mktemp("postgres")))


# ---------------------------------------------------------------------------------------------------------
# Reading the tables back
# ---------------------------------------------------------------------------------------------------------


def column_types(cache: Any, stream: str) -> dict[str, str]:
    rows = cache.run_sql_query(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{cache.schema_name}' AND table_name = '{stream}'"
    )
    return {row["column_name"]: row["data_type"] for row in rows if not row["column_name"].startswith("_airbyte")}


def table_rows(cache: Any, stream: str) -> list[dict]:
    return cache.run_sql_query(f'SELECT * FROM "{cache.schema_name}"."{stream}"')


def as_stored(value: Any, data_type: str) -> Any:
    """The emulator's `value` converted to a column of `data_type`, as it should read back from the database.

    Instants: a column with a time zone holds the same instant. PyAirbyte declares instants without one (pinned by
    `test_given_a_date_time_field_when_pyairbyte_creates_its_column_then_it_has_no_time_zone`; docs/8x8-cdr.md,
    "Loading with PyAirbyte"): such a column must hold the same instant in UTC, which is what the connector
    emits."""
    if value is None:
        return None
    kind = data_type.upper()
    if kind in ("VARCHAR", "CHARACTER VARYING", "TEXT"):
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "BIGINT":
        return int(value)
    if kind.startswith(("DECIMAL", "NUMERIC")):
        return Decimal(str(value))
    if kind.startswith("TIMESTAMP"):
        moment = datetime.fromisoformat(value)
        return moment.astimezone(timezone.utc) if "WITH TIME ZONE" in kind else moment.astimezone(timezone.utc).replace(tzinfo=None)
    return value  # JSON and BOOLEAN columns read back as the Python values the emulator serves


def as_read(value: Any, data_type: str) -> Any:
    """A value as the driver returned it, comparable with `as_stored` (drivers may return JSON as text)."""
    if isinstance(value, str) and data_type.upper() == "JSON":
        return json.loads(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return value


def assert_types_follow_the_contract(cache: Any, destination: str) -> None:
    def check(stream: str) -> None:
        columns = column_types(cache, stream)
        wanted = {field.lower(): SQL_TYPES[destination][kind] for field, kind in CONTRACT[stream].items()}
        got = {column: columns.get(column, "(no column)") for column in wanted}
        assert got == wanted, f"columns whose type differs: { {c: got[c] for c in wanted if got[c] != wanted[c]} }"

    assert_for_each_stream(STREAMS, check)


def assert_values_equal_the_emulators(cache: Any, emu: Emulator) -> None:
    def check(stream: str) -> None:
        columns = column_types(cache, stream)
        key = primary_key(stream).lower()
        truth = {str(row[primary_key(stream)]): {field.lower(): value for field, value in row.items()}
                 for row in ground_truth(emu, stream)}
        rows = table_rows(cache, stream)
        stored = {str(row[key]): row for row in rows}
        assert len(stored) == len(rows), "a primary key appears twice"
        assert stored.keys() == truth.keys(), f"{len(stored)} rows, the emulator serves {len(truth)}"
        differences = [
            (key_value, column, truth[key_value].get(column), row[column])
            for key_value, row in stored.items()
            for column, data_type in columns.items()
            if as_read(row[column], data_type) != as_stored(truth[key_value].get(column), data_type)
        ]
        per_column = dict(Counter(column for _, column, _, _ in differences))
        assert not differences, f"values that differ, per column {per_column}; e.g. (key, column, emulator, table) {differences[:3]}"

    assert_for_each_stream(STREAMS, check)


# ---------------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------------


class TestDuckDB:
    def test_given_the_emulator_when_pyairbyte_loads_duckdb_then_each_contract_field_has_its_sql_type(self, duckdb_cache: Any) -> None:
        assert_types_follow_the_contract(duckdb_cache, "duckdb")

    def test_given_the_emulator_when_pyairbyte_loads_duckdb_then_every_value_equals_the_emulators(self, duckdb_cache: Any, emulator: Emulator) -> None:
        assert_values_equal_the_emulators(duckdb_cache, emulator)


class TestPostgres:
    def test_given_the_emulator_when_pyairbyte_loads_postgres_then_each_contract_field_has_its_sql_type(self, postgres_workaround_cache: Any) -> None:
        assert_types_follow_the_contract(postgres_workaround_cache, "postgres")

    def test_given_the_documented_workaround_when_pyairbyte_loads_postgres_then_every_value_equals_the_emulators(self, postgres_workaround_cache: Any, emulator: Emulator) -> None:
        assert_values_equal_the_emulators(postgres_workaround_cache, emulator)


class TestPyAirbyteLoaders:
    """PyAirbyte 0.71's own behaviour, documented in docs/8x8-cdr.md: each test fails once PyAirbyte changes it."""

    def test_given_wrapup_codes_when_pyairbytes_plain_postgres_cache_loads_them_then_pandas_drops_their_leading_zeros(
        self, source: Any, emulator: Emulator, postgres_server: PostgresServer, tmp_path: Path
    ) -> None:
        from airbyte.caches import PostgresCache

        cache = load(source, postgres_cache(PostgresCache, postgres_server, "plain", tmp_path), ("contact_center_wrapup_codes",))
        stored = sorted(row["code"] for row in table_rows(cache, "contact_center_wrapup_codes"))
        served = sorted(row["code"] for row in ground_truth(emulator, "contact_center_wrapup_codes"))
        assert "0100" in served  # the precondition: codes with leading zeros
        assert stored == sorted(str(int(code)) for code in served), (
            f"PyAirbyte's PostgreSQL cache now stores the wrap-up codes {stored} (the API sends {served}): "
            "it no longer turns numeric-looking strings into numbers. Update 'Loading with PyAirbyte' in "
            "docs/8x8-cdr.md (the workaround may be dropped) and this test."
        )

    @pytest.mark.parametrize("destination", ["duckdb", "postgres"])
    def test_given_a_date_time_field_when_pyairbyte_creates_its_column_then_it_has_no_time_zone(
        self, destination: str, request: pytest.FixtureRequest
    ) -> None:
        cache = request.getfixturevalue("duckdb_cache" if destination == "duckdb" else "postgres_workaround_cache")
        declared = column_types(cache, "contact_center_cdrs")["timestamp"]
        assert declared == SQL_TYPES[destination][INSTANT], (
            f"PyAirbyte now declares the CDR timestamp {declared} in {destination}: update SQL_TYPES here and "
            "'Loading with PyAirbyte' in docs/8x8-cdr.md (it may now keep an offset's instant)."
        )


class TestPostgresServer:
    def test_given_a_port_already_taken_when_the_server_starts_then_the_error_names_the_address_and_postgres_reason(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind((HOST, 0))
            taken.listen()
            port = taken.getsockname()[1]
            monkeypatch.setattr("integration_tests.postgres_server._free_port", lambda: port)
            with pytest.raises(PostgresServerError) as raised:
                with running_postgres():
                    pass
        message = str(raised.value)
        assert f"postgres exited (1) while starting on 127.0.0.1:{port}" in message
        assert "could not bind" in message and "Address already in use" in message
