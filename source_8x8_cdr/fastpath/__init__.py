"""The plumbing around the CDK that makes a read fast; the connector is complete without it.

`source_8x8_cdr.components` and the manifest say everything about the two APIs, and the CDK's stock read path
runs them as they are. This package changes how the CDK moves records, not which records or state it writes:

- `pages`: records travel from the API to stdout a page at a time (one queue item, one JSON write per page);
- `memory`: at most two pages between the API and stdout, whatever the concurrency; allocator settings;
- `spill`: while stdout is slow, the pages read meanwhile wait on disk, so that no scroll expires;
- `cursor`: the incremental cursor parses record cursors cheaply and hashes slices once;
- `entrypoint`: the CDK entrypoint, writing a page of records in one piece; garbage collector settings;
- `startup`: `import airbyte_cdk` 0.7 s sooner (applied by `source_8x8_cdr/__init__.py`);
- `contract`: the CDK internals all of this relies on, checked before `install` changes anything.

This package is the only place that names a private attribute of the CDK or patches a third-party module.
`install(source)` is its one entry. It changes nothing, logs one line and leaves the read on the CDK's stock
path when `contract.py` finds an internal missing or changed, or when the environment variable
`SOURCE_8X8_CDR_STOCK_PATH` is set (a switch for tests and for ruling the fast path out).

Nothing here is imported before `install` is called: `source_8x8_cdr/__init__.py` imports `startup` before
`airbyte_cdk` may be imported, and this file must not import the CDK.
"""

from __future__ import annotations

import logging
import os
from typing import Any

STOCK_PATH_VARIABLE = "SOURCE_8X8_CDR_STOCK_PATH"

logger = logging.getLogger("airbyte")


def install(source: Any) -> bool:
    """Makes `source` (a `SourceEightByEightCdr`, just built) read a page at a time; False when it reads on the
    CDK's stock path instead (and why is logged once)."""
    if os.environ.get(STOCK_PATH_VARIABLE):
        logger.info(f"Reading on the CDK's stock path: {STOCK_PATH_VARIABLE} is set.")
        return False
    from source_8x8_cdr.fastpath.contract import missing_internals

    missing = missing_internals()
    if missing:
        logger.warning(
            f"Reading on the CDK's stock path (slower, same records and state): this airbyte-cdk release differs from "
            f"the one the fast path was built for in {'; '.join(missing)}."
        )
        return False
    from source_8x8_cdr.fastpath.adapters import adapt_source

    adapt_source(source)
    return True
