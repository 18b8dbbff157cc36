"""Request windows: a slice as the wall-clock window each API reads (see `WallClockWindowRequester`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, MutableMapping, Optional, Union
from zoneinfo import ZoneInfo

from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from airbyte_cdk.sources.types import StreamSlice, StreamState

from source_8x8_cdr.components.interpolation import interpolate
from source_8x8_cdr.components.timeutil import parse_utc


def wall_clock_window(
    start: datetime, end: datetime, zone: ZoneInfo, end_padding: timedelta = timedelta(0), start_padding: timedelta = timedelta(0)
) -> tuple[datetime, datetime]:
    """Naive wall-clock times in `zone` whose window surely covers [start - start_padding, end + end_padding]
    whatever the API does.

    The APIs take second-precision wall-clock times and do not publish whether the end is inclusive;
    records carry milliseconds. So the start is floored and the end is pushed to the next whole second
    (a call at 23:59:59.500 is inside either way). Around a DST fold a wall-clock time means two instants;
    the window is widened by the fold so that both readings still cover the slice. The records outside
    the slice are dropped afterwards by `ExactlyOnceSliceFilter`.
    """

    def to_wall(moment: datetime, widen: int) -> datetime:
        wall = moment.astimezone(zone).replace(tzinfo=None)
        earlier = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
        later = wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
        if earlier != later:
            wall = (moment + widen * abs(later - earlier)).astimezone(zone).replace(tzinfo=None)
        return wall.replace(microsecond=0)

    return to_wall(start - start_padding, -1), to_wall(end + end_padding + timedelta(seconds=1), +1)


@dataclass
class WallClockWindowRequester(HttpRequester):
    """An `HttpRequester` that also sends the slice as a wall-clock window in the API's time zone.

    Why not `DatetimeBasedCursor.start_time_option`/`end_time_option` or Jinja in `request_parameters`: both
    format the slice bound as it is, in UTC. Work Analytics reads its window in `timeZone` and the
    contact-center API in the account's (configured) zone, and the window must be widened as
    `wall_clock_window` explains, which the manifest's interpolation cannot compute.

    Attributes (YAML):
        request_parameters: the other query parameters, interpolated as in `HttpRequester`
        start_parameter / end_parameter: e.g. `startTime` / `endTime`
        time_format: e.g. `"%Y-%m-%d %H:%M:%S"`
        time_zone: an IANA name, may be interpolated, e.g. `"{{ config['contact_center'].get('time_zone', 'UTC') }}"`
        end_padding_minutes: how much further than the slice end to ask, may be interpolated (default 0)
        start_padding_minutes: how much earlier than the slice start to ask, may be interpolated (default 0)
        read_timeout_in_seconds: as in `HttpRequester`, but may be interpolated from the config
    """

    request_parameters: Optional[Union[str, Mapping[str, Any]]] = None
    start_parameter: str = "start_time"
    end_parameter: str = "end_time"
    time_format: str = "%Y-%m-%dT%H:%M:%S"
    time_zone: Union[InterpolatedString, str] = "UTC"
    end_padding_minutes: Union[int, str] = 0
    start_padding_minutes: Union[int, str] = 0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.request_options_provider is None:
            self.request_options_provider = InterpolatedRequestOptionsProvider(
                request_parameters=self.request_parameters or {}, config=self.config, parameters=parameters
            )
        self._zone = ZoneInfo(str(interpolate(self.time_zone, self.config, parameters) or "UTC"))
        self._end_padding = timedelta(minutes=int(interpolate(self.end_padding_minutes, self.config, parameters) or 0))
        self._start_padding = timedelta(minutes=int(interpolate(self.start_padding_minutes, self.config, parameters) or 0))
        if self.read_timeout_in_seconds is not None:  # may come from the config, as a string to interpolate
            self.read_timeout_in_seconds = float(interpolate(self.read_timeout_in_seconds, self.config, parameters))
        super().__post_init__(parameters)

    def get_request_params(
        self,
        *,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        params = super().get_request_params(
            stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
        )
        if stream_slice and "start_time" in stream_slice and "end_time" in stream_slice:
            start, end = wall_clock_window(
                parse_utc(stream_slice["start_time"]), parse_utc(stream_slice["end_time"]), self._zone, self._end_padding, self._start_padding
            )
            params[self.start_parameter] = start.strftime(self.time_format)
            params[self.end_parameter] = end.strftime(self.time_format)
        return params
