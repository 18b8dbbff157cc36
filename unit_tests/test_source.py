"""`source_8x8_cdr/source.py`: the manifest the CDK builds the source from lists the streams a read needs."""

from __future__ import annotations

from typing import Any, List

from airbyte_cdk.models import ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder

from source_8x8_cdr.manifest_facts import manifest
from source_8x8_cdr.source import SourceEightByEightCdr, source_manifest
from unit_tests.mock_server.config import ConfigBuilder

CONFIG = ConfigBuilder().with_work_analytics().with_contact_center().build()
EVERY_STREAM = [stream["name"] for stream in manifest()["streams"]]  # both APIs are configured


def _catalog(*names: str) -> ConfiguredAirbyteCatalog:
    builder = CatalogBuilder()
    for name in names:
        builder.with_stream(name, SyncMode.full_refresh)
    return builder.build()


def _built(catalog: Any) -> List[str]:
    return [stream.name for stream in SourceEightByEightCdr(config=CONFIG, catalog=catalog).streams(CONFIG)]


def test_given_a_catalog_of_one_stream_when_the_source_is_built_then_only_that_stream_is_built() -> None:
    assert _built(_catalog("call_records")) == ["call_records"]


def test_given_a_catalog_of_streams_of_both_apis_when_the_source_is_built_then_those_in_the_manifest_s_order() -> None:
    assert _built(_catalog("contact_center_agents", "call_records", "work_analytics_company_daily")) == [
        "call_records", "contact_center_agents", "work_analytics_company_daily"
    ]


def test_given_no_catalog_when_the_source_is_built_then_every_stream_is_built_as_discover_and_check_need() -> None:
    assert _built(None) == EVERY_STREAM
    assert len(EVERY_STREAM) == 14


def test_given_a_catalog_naming_no_stream_of_the_connector_when_the_source_is_built_then_every_stream_is_listed() -> None:
    # The CDK then meets the unknown name among all the streams and reports it as it always has.
    assert _built(_catalog("no_such_stream")) == EVERY_STREAM


def test_given_a_catalog_with_an_unknown_stream_beside_a_known_one_when_the_manifest_is_made_then_only_the_known_one_is_listed() -> None:
    listed = source_manifest(with_budget=False, selected={"contact_center_cdrs", "no_such_stream"})["streams"]

    assert listed == [{"$ref": "#/definitions/contact_center_cdrs"}]
