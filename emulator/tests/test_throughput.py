"""A small serving-throughput self-check: printed, not asserted (run with -s to see it)."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlencode

from .clients import WorkAnalyticsClient

PAGE = 7000


def _get(sock: socket.socket, buffer: memoryview, target: str, headers: dict[str, str]) -> bytes:
    """One keep-alive GET on a raw socket: a client that costs the server as little as possible."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())
    got = 0
    while (end := bytes(buffer[:got]).find(b"\r\n\r\n")) < 0:
        got += sock.recv_into(buffer[got:])
    length = int(re.search(rb"Content-Length: (\d+)", bytes(buffer[:end])).group(1))
    while got < end + 4 + length:
        got += sock.recv_into(buffer[got:end + 4 + length])
    return bytes(buffer[end + 4:end + 4 + length])


def test_serving_throughput_self_check(make_emu, capsys):
    emu = make_emu(calls_per_day=14_000, start="2024-03-09T00:00:00Z", end="2024-03-10T00:00:00Z")
    started = time.perf_counter()
    emu.warm(("call_records",))
    generated = time.perf_counter() - started
    wa = WorkAnalyticsClient(emu)
    wa.login()
    headers = {"8x8-apikey": emu.credentials["wa_api_key"], "Authorization": f"Bearer {wa.token}"}
    params = {"pbxId": "allpbxes", "startTime": "2024-03-09 00:00:00", "endTime": "2024-03-10 00:00:00",
              "timeZone": "UTC", "pageSize": PAGE}
    buffer = memoryview(bytearray(64 << 20))
    with socket.create_connection(("127.0.0.1", emu.port)) as sock:
        best = 0.0
        for _ in range(3):
            query, rows, nbytes, started = dict(params), 0, 0, time.perf_counter()
            while True:
                body = _get(sock, buffer, "/analytics/work/v2/call-records?" + urlencode(query), headers)
                nbytes += len(body)
                scroll = re.search(rb'"scrollId":"([^"]*)"', body[:300]).group(1).decode()
                if scroll == "No Data":
                    break
                rows += body.count(b'{"dnis"')
                query["scrollId"] = scroll
            best = max(best, rows / (time.perf_counter() - started))
    assert rows == 14_000
    with capsys.disabled():
        print(f"\n[throughput] cold generation {14_000 / generated:,.0f} call records/s; "
              f"serving (pageSize {PAGE}, warm cache) {best:,.0f} records/s, {best * nbytes / rows / 1e6:,.0f} MB/s")
