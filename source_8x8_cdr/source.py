"""The Airbyte source: the declarative manifest, plus what differs per config.

A config may set up Work Analytics, the contact center, or both; only the streams of the configured APIs
exist (`discover`), are read, and are checked. The config is validated once, up front (see `config.py`).
"""

from __future__ import annotations

import logging
from typing import AbstractSet, Any, Iterator, List, Mapping, Optional

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr import fastpath
from source_8x8_cdr.components.conversion import StreamTypes, meta_of, take_changes
from source_8x8_cdr.config import ConfigError, configured_apis, validate_config
from source_8x8_cdr.manifest_facts import STREAMS_BY_API, manifest, manifest_as_written  # each stream under the API block its url_base reads
from source_8x8_cdr.components.network_errors import CHECKING_CONNECTION
from source_8x8_cdr.components.pacing import CHECK_PATIENCE_SECONDS, PACERS, PATIENCE_SECONDS
from source_8x8_cdr.secrets import mask, register_config_secrets
from source_8x8_cdr.state import usable_state
from source_8x8_cdr.components.summaries import PBX_STREAM, stream_records, unknown_pbx_ids

API_TITLES = {"work_analytics": "Work Analytics", "contact_center": "Contact center"}
# `check` reads one page of these, with one record per page.
CHECK_STREAMS = {"work_analytics": "call_records", "contact_center": "contact_center_cdrs"}
CHECK_PAGE_SIZE = {"work_analytics": "page_size", "contact_center": "per_page"}


# The CDK's words when a request is refused again right after a new login (only Work Analytics logs in).
_CDK_SECOND_401 = "Refreshed OAuth access token is rejected by the API."
_SECOND_401 = (
    "Work Analytics refused a fresh access token (HTTP 401 right after a new login): the user can log in but "
    "may not read reports. Check that work_analytics.username has access to Analytics for 8x8 Work."
)


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def source_manifest(with_budget: bool, selected: AbstractSet[str] = frozenset()) -> dict:
    """The manifest the CDK builds the source from: its `api_budget` only when the config sets
    `requests_per_minute` (its rate reads that field); without it the pacer finds the pace (`pacing.py`).

    With `selected` (the streams of a read's catalog), only those of its streams are listed: the CDK builds every
    stream listed before it picks the catalog's, which took 0.14 s of each read's start-up for the thirteen streams a
    read of one does not need. A catalog that names none of them keeps them all, so that the CDK reports its names."""
    definition = manifest_as_written()
    if not with_budget:
        definition.pop("api_budget", None)
    names = [stream["name"] for stream in manifest()["streams"]]  # resolved, in the order written
    if selected & set(names):
        definition["streams"] = [entry for entry, name in zip(definition["streams"], names) if name in selected]
    return definition


class SourceEightByEightCdr(ConcurrentDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Any = None,
        **kwargs: Any,
    ) -> None:
        self.config_problem: Optional[str] = None
        effective: Optional[Mapping[str, Any]] = None
        if config is not None:
            try:
                effective = validate_config(config)
            except ConfigError as problem:
                self.config_problem = str(problem)
        # The CDK reads the state as it builds itself: it gets it in the connector's own form (see `state.py`).
        self.state_problem: Optional[str] = None
        try:
            state = usable_state(state)
        except ConfigError as problem:
            self.state_problem, state = str(problem), None
        super().__init__(
            catalog=catalog or ConfiguredAirbyteCatalog(streams=[]),
            config=effective or {},
            state=state or [],
            source_config=source_manifest(
                with_budget=bool((effective or {}).get("requests_per_minute")),
                selected={each.stream.name for each in catalog.streams} if catalog is not None else frozenset(),
            ),
            **kwargs,
        )
        self.effective_config: Mapping[str, Any] = effective or {}
        self.reads_by_page = fastpath.install(self)

    # -- guards ---------------------------------------------------------------------------------------------

    def _usable_config(self) -> Mapping[str, Any]:
        if self.config_problem:
            raise config_error(self.config_problem)
        register_config_secrets(self.effective_config)
        return self.effective_config

    def streams(self, config: Mapping[str, Any]) -> List[Any]:  # type: ignore[override]
        wanted = {name for api in configured_apis(self._usable_config()) for name in STREAMS_BY_API[api]}
        PACERS.forget()  # the streams built now start from APIs that have refused nothing yet
        return [stream for stream in super().streams(config) if stream.name in wanted]

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog, state: Any = None) -> Iterator[AirbyteMessage]:
        """The CDK's read, with stream error traces passed through the secret filter.

        A failed stream's trace quotes the request URL, and with it the contact-center key; the CDK
        emits it unfiltered (its own uncaught-error path filters). A config error that every slice meets
        is reported once.
        """
        self._refuse_streams_of_unconfigured_apis(catalog)
        if self.state_problem:
            raise config_error(self.state_problem)
        reported = set()
        StreamTypes.failure_reports(each.stream.name for each in catalog.streams)  # count this read's failures only
        try:
            for message in super().read(logger, config, catalog, state):
                if message.type == Type.RECORD and message.record is not None:
                    # The CDK's record-by-record path: `TypedValues.transform` left the record's changes in it.
                    changes = take_changes(message.record.data)
                    if changes:
                        message.record.meta = meta_of(changes)
                if message.type == Type.TRACE and message.trace is not None and message.trace.error is not None:
                    error = message.trace.error
                    error.message = mask(error.message) if error.message else error.message
                    error.internal_message = mask(error.internal_message) if error.internal_message else error.internal_message
                    error.stack_trace = mask(error.stack_trace) if error.stack_trace else error.stack_trace
                    if error.message == _CDK_SECOND_401:
                        error.message = _SECOND_401
                    if error.failure_type == FailureType.config_error:
                        # Every slice of a stream meets the same refused config: say it once, without a stack.
                        if error.message in reported:
                            continue
                        reported.add(error.message)
                        error.stack_trace = None
                yield message
        finally:
            # Values that could not be converted: one warning per stream and field, with their count.
            for sentence in StreamTypes.failure_reports(each.stream.name for each in catalog.streams):
                logger.warning(sentence)

    def _refuse_streams_of_unconfigured_apis(self, catalog: ConfiguredAirbyteCatalog) -> None:
        configured = configured_apis(self._usable_config())
        for api, names in STREAMS_BY_API.items():
            selected = [each.stream.name for each in catalog.streams if each.stream.name in names]
            if selected and api not in configured:
                raise config_error(
                    f"The catalog selects {', '.join(selected)}, but `{api}` is not configured: "
                    f"add the `{api}` block to the config or deselect these streams."
                )

    # -- check ------------------------------------------------------------------------------------------------

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Reads one record of each configured API; names each API that failed and why."""
        if self.config_problem:
            return AirbyteConnectionStatus(status=Status.FAILED, message=self.config_problem)
        usable = self._usable_config()
        failures = []
        for api in sorted(configured_apis(usable)):
            problem = self._probe(api)
            if problem:
                failures.append(f"{API_TITLES[api]}: {problem}")
        if failures:
            return AirbyteConnectionStatus(status=Status.FAILED, message=mask(" ".join(failures)))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _probe(self, api: str) -> Optional[str]:
        """The first record of the API's check stream, read by a source built for it: one record a page, fewer
        retries. None when it was read (or there was none), else why not."""
        config = self.effective_config
        probe_config = {**config, api: {**config[api], CHECK_PAGE_SIZE[api]: 1}, "max_retries": min(int(config.get("max_retries", 5)), 2), CHECKING_CONNECTION: True}
        PACERS.patience_seconds = CHECK_PATIENCE_SECONDS  # a check does not wait an hour for a rate limit
        try:
            probe = SourceEightByEightCdr(config=probe_config)
            streams = {stream.name: stream for stream in probe.streams(probe_config)}
            if api == "work_analytics" and config[api].get("pbx_ids"):
                problem = unknown_pbx_ids(config[api]["pbx_ids"], stream_records(streams[PBX_STREAM]))
                if problem:
                    return problem
            stream = streams[CHECK_STREAMS[api]]
            for partition in stream.generate_partitions():
                for _ in partition.read():
                    break
                break
            return None
        except AirbyteTracedException as error:
            return error.message or "the request failed."
        except Exception as error:  # a check must answer in a sentence, whatever went wrong
            return f"unexpected {type(error).__name__}: {error}"
        finally:
            PACERS.patience_seconds = PATIENCE_SECONDS
