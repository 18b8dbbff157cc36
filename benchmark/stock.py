"""Entry point of the "CDK default" variant: `python -m benchmark.stock read --config C --catalog K`.

`stock_manifest.yaml` through the CDK's own `YamlDeclarativeSource` and `launch`, exactly as a
no-code connector would run: no class of source_8x8_cdr is involved (only its call_records JSON schema).
"""

from __future__ import annotations

import sys
from pathlib import Path

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

MANIFEST = Path(__file__).with_name("stock_manifest.yaml")


def main(args: list[str]) -> None:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    source = YamlDeclarativeSource(
        path_to_yaml=str(MANIFEST),
        catalog=YamlDeclarativeSource.read_catalog(catalog_path) if catalog_path else None,
        config=YamlDeclarativeSource.read_config(config_path) if config_path else None,
        state=YamlDeclarativeSource.read_state(state_path) if state_path else None,
    )
    launch(source, args)


if __name__ == "__main__":
    main(sys.argv[1:])
