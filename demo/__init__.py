"""The demo: sync a week of 8x8 calls into DuckDB with PyAirbyte, twice, and explain what happened.

    python3 dev.py demo                              # an emulated account (see emulator/)
    python3 dev.py demo --config secrets/config.json # a real account

Run 1 reads everything from `start_date`; run 2 is incremental and reports, per stream, how many records
were new and how many were read again in the lookback window. Modules, in the order they run:

- `cli`: the command line and the two-run story.
- `emulated`: the emulated account (dates, emulator settings, connector config, ground truth).
- `offline`: the environment PyAirbyte needs to stay off the network (set before it is imported).
- `sync`: PyAirbyte itself: the local connector, the DuckDB cache, one sync.
- `progress`: what is shown while a sync runs.
- `summary`: what the cache holds after a run, and the tables that say so (`tables` aligns them).
- `streams`: what the demo knows about each stream; `output`: printing, with secrets blanked out.
"""

from demo.cli import main

__all__ = ["main"]
