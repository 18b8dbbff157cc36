"""Benchmark of source-8x8-cdr against raw-HTTP baselines and a stock declarative build.

    python3 dev.py bench [--records N] [--quick] [--skip-memory] [--skip-latency]

See README.md for what is measured, how, and the results so far.
"""
