"""Manifest values for custom components.

The CDK interpolates the fields of its own components, but hands a custom component's extra fields over as
they are written in `manifest.yaml`: a `{{ config[...] }}` there is still a string.
"""

from __future__ import annotations

from typing import Any, Mapping

from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.types import Config


def interpolate(value: Any, config: Config, parameters: Mapping[str, Any]) -> Any:
    """Custom components get manifest strings as they are written: resolve `{{ ... }}` like the CDK does."""
    if isinstance(value, str) and "{{" in value:
        return InterpolatedString.create(value, parameters=parameters).eval(config)
    return value
