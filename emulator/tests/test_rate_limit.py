"""The rate limit switch: N requests per API in any window of W seconds, 429 beyond, counted."""

from __future__ import annotations

import time

import pytest

from emulator import Emulator

from .clients import ContactCenterClient, WorkAnalyticsClient
from .conftest import config

RECORDS_PARAMS = dict(pbxId="allpbxes", startTime="2024-03-09 00:00:00", endTime="2024-03-10 00:00:00",
                      timeZone="UTC", pageSize=50)


def test_given_a_limit_with_retry_after_when_one_request_too_many_then_429_with_whole_seconds_until_a_place_frees() -> None:
    with Emulator(config(rate_limit_requests=3, rate_limit_window_s=30)) as emu:
        wa = WorkAnalyticsClient(emu)
        statuses = [wa.login().status_code] + [wa.get("call-records", **RECORDS_PARAMS).status_code for _ in range(3)]

        refused = wa.get("call-records", **RECORDS_PARAMS)

        assert statuses == [200, 200, 200, 429]
        assert refused.status_code == 429
        assert refused.json() == {"status": 429, "error": "Too Many Requests", "message": "Rate limit exceeded"}
        assert 29 <= int(refused.headers["Retry-After"]) <= 30
        counts = emu.stats()["rate_limit"]["work_analytics"]
        assert (counts["requests"], counts["limited"], counts["limited_until_resumed"]) == (5, 2, 2)


def test_given_a_limit_without_retry_after_when_refused_then_429_has_no_retry_after() -> None:
    with Emulator(config(rate_limit_requests=1, rate_limit_window_s=30, rate_limit_retry_after=False)) as emu:
        cc = ContactCenterClient(emu)
        cc.get()

        refused = cc.get()

        assert refused.status_code == 429
        assert refused.json() == {"error": "rate limit is exceeded"}
        assert "Retry-After" not in refused.headers


def test_given_a_full_window_when_it_slides_past_the_oldest_request_then_one_more_is_admitted() -> None:
    with Emulator(config(rate_limit_requests=2, rate_limit_window_s=0.5)) as emu:
        cc = ContactCenterClient(emu)
        assert [cc.get().status_code for _ in range(3)] == [200, 200, 429]

        time.sleep(0.6)

        assert [cc.get().status_code for _ in range(3)] == [200, 200, 429]
        counts = emu.stats()["rate_limit"]["contact_center"]
        assert (counts["requests"], counts["limited"]) == (6, 2)
        assert counts["limited_until_resumed"] == 1  # the first 429; the second came after the API admitted again
        assert 0.6 <= counts["span_s"] < 5  # from the first request to the last


def test_given_two_apis_when_one_is_at_its_limit_then_the_other_still_answers() -> None:
    with Emulator(config(rate_limit_requests=1, rate_limit_window_s=30)) as emu:
        cc, wa = ContactCenterClient(emu), WorkAnalyticsClient(emu)
        assert [cc.get().status_code for _ in range(2)] == [200, 429]

        assert wa.login().status_code == 200


def test_given_no_limit_when_many_requests_then_none_refused_and_all_counted(emu: Emulator) -> None:
    emu.rate_limiter.reset()
    cc = ContactCenterClient(emu)

    assert {cc.get().status_code for _ in range(20)} == {200}
    counts = emu.stats()["rate_limit"]["contact_center"]
    assert (counts["requests"], counts["limited"], counts["limited_until_resumed"]) == (20, 0, 0)


def test_given_a_limit_set_while_running_when_requests_then_it_applies_at_once(emu: Emulator) -> None:
    emu.rate_limiter.reset()
    emu.config.rate_limit_requests, emu.config.rate_limit_window_s = 1, 30
    cc = ContactCenterClient(emu)

    assert [cc.get().status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize("requests_, window", [(-1, 60), (1, 0)])
def test_given_a_bad_limit_when_configured_then_refused(requests_: int, window: float) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        config(rate_limit_requests=requests_, rate_limit_window_s=window)
