"""Command line: serve the emulator until Ctrl-C or SIGTERM.

    python -m emulator --port 8765 --seed 42 --days 7 --calls-per-day 2000 --cc-records-per-day 2000

Prints one JSON line (base URLs and credentials) once the server is listening.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from .config import CC_SELECT_BY, CC_TOKEN_PLACEMENTS, WA_LAST_PAGE_MODES, EmulatorConfig
from .server import Emulator


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emulator", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--days", type=int, default=7, help="dataset length when --start/--end are not both given")
    p.add_argument("--start", help="dataset start, ISO 8601 (default: --days before --end)")
    p.add_argument("--end", help="dataset end, ISO 8601 (default: the UTC midnight ending today)")
    p.add_argument("--now", help="freeze the emulator clock here, ISO 8601 (default: real time)")
    p.add_argument("--calls-per-day", type=int, default=500)
    p.add_argument("--cc-records-per-day", type=int, default=500)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--token-lifetime", type=float, default=1800.0, help="seconds")
    p.add_argument("--scroll-ttl", type=float, default=300.0, help="seconds")
    p.add_argument("--end-time-inclusive", dest="end_time_inclusive", action="store_true", default=False)
    p.add_argument("--end-time-exclusive", dest="end_time_inclusive", action="store_false")
    p.add_argument("--wa-last-page", choices=WA_LAST_PAGE_MODES, default="no_data_page")
    p.add_argument("--wa-summary-trailing-comma", action="store_true",
                   help="end each summary object with a comma, as the vendor's published example does")
    p.add_argument("--cc-token-placement", choices=CC_TOKEN_PLACEMENTS, default="every_page")
    p.add_argument("--cc-search-cap", type=int, default=10_000)
    p.add_argument("--cc-select-by", choices=CC_SELECT_BY, default="end_time",
                   help="which time start_/end_datetime select interactions by (start = timestamp - duration)")
    p.add_argument("--cc-max-per-page", type=int, default=None, help="serve at most this many CDRs a page (default: as asked)")
    p.add_argument("--cc-time-zone", default="UTC")
    p.add_argument("--cc-timestamps-without-offset", dest="cc_timestamp_offset", action="store_false", default=True,
                   help="CDR timestamps as wall-clock times in --cc-time-zone, without a UTC offset")
    p.add_argument("--cc-end-inclusive", dest="cc_end_inclusive", action="store_true", default=True)
    p.add_argument("--cc-end-exclusive", dest="cc_end_inclusive", action="store_false")
    p.add_argument("--cc-bad-key-status", type=int, choices=(401, 403), default=401)
    p.add_argument("--rate-limit-requests", type=int, default=0,
                   help="per API, at most this many requests in any --rate-limit-window, HTTP 429 beyond (0: no limit)")
    p.add_argument("--rate-limit-window", type=float, default=60.0, help="seconds")
    p.add_argument("--no-retry-after", dest="rate_limit_retry_after", action="store_false", default=True,
                   help="answer the rate limit's 429s without Retry-After")
    p.add_argument("--cache-mb", type=int, default=2048)
    p.add_argument("--fault", action="extend", nargs="+", default=[], metavar="JSON",
                   help='fault rules, each a JSON object or list, e.g. \'{"kind":"status","status":503}\'')
    p.add_argument("--warm", action="store_true", help="generate all data (UTC rendering) before serving")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rules: list[dict] = []
    for text in args.fault:
        value = orjson.loads(text)
        rules.extend(value if isinstance(value, list) else [value])
    config = EmulatorConfig(
        seed=args.seed, start=args.start, end=args.end, days=args.days, now=args.now, port=args.port,
        calls_per_day=args.calls_per_day, cc_records_per_day=args.cc_records_per_day, latency_ms=args.latency_ms,
        faults=rules, cache_mb=args.cache_mb, token_lifetime_s=args.token_lifetime, scroll_ttl_s=args.scroll_ttl,
        end_time_inclusive=args.end_time_inclusive, wa_last_page=args.wa_last_page,
        wa_summary_trailing_comma=args.wa_summary_trailing_comma,
        cc_bad_key_status=args.cc_bad_key_status, cc_time_zone=args.cc_time_zone,
        cc_timestamp_offset=args.cc_timestamp_offset,
        cc_end_inclusive=args.cc_end_inclusive, cc_token_placement=args.cc_token_placement,
        cc_search_cap=args.cc_search_cap, cc_max_per_page=args.cc_max_per_page, cc_select_by=args.cc_select_by,
        rate_limit_requests=args.rate_limit_requests,
        rate_limit_window_s=args.rate_limit_window, rate_limit_retry_after=args.rate_limit_retry_after,
    )
    emulator = Emulator(config)
    if args.warm:
        emulator.warm()
    start, end = emulator.data_range
    print(orjson.dumps({
        "url": emulator.url,
        "work_analytics_base_url": emulator.work_analytics_base_url,
        "contact_center_base_url": emulator.contact_center_base_url,
        "credentials": emulator.credentials,
        "pbx_ids": list(emulator.pbx_ids),
        "data_start": start.isoformat(), "data_end": end.isoformat(),
    }).decode(), flush=True)
    emulator.serve_until_terminated()
    return 0


if __name__ == "__main__":
    sys.exit(main())
