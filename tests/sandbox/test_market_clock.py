"""The broker clocks' cached per-day string tables equal formatting every minute, DST days included."""

from __future__ import annotations

import numpy as np
import pytest

from mtdata.sandbox.market import clock

# 2024-03-31 and 2024-10-27 are EU clock-change Sundays, 2024-03-10 and 2024-11-03 US ones; the others are
# ordinary days around them.
DAYS = [19_812, 19_813, 19_814, 19_657, 20_023, 20_024, 20_025, 20_390, 19_792, 20_030]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("broker", [None, "ny", "eu"])
def test_minute_table_matches_per_minute_formatting(day: int, broker: str | None) -> None:
    ms = day * clock.DAY + np.arange(0, clock.DAY, clock.MINUTE, dtype=np.int64)
    zone = clock.CLOCKS[broker] if broker else None
    expected = clock._format(ms + zone.offsets(ms), clock._CLOCK_BROKER, "") if zone else clock._format(
        ms, clock._CLOCK_ISO, "Z")  # fmt: skip
    assert clock._minute_table(day, zone) == expected
    if zone:
        assert zone.broker_times(ms) == expected


@pytest.mark.parametrize(("broker", "changes"), [("ny", [19_792, 20_030]), ("eu", [19_813, 20_023])])
def test_each_clock_changes_on_its_own_days(broker: str, changes: list[int]) -> None:
    zone = clock.CLOCKS[broker]
    assert [d for d in DAYS if zone.offset(d * clock.DAY) != zone.offset((d + 1) * clock.DAY - 1)] == changes


@pytest.mark.parametrize("broker", ["ny", "eu"])
def test_bucket_open_is_the_wall_clock_start_at_its_own_offset(broker: str) -> None:
    """Every broker midnight of 1990-2100, and every hour of the change days, maps back to its own wall clock."""
    zone = clock.CLOCKS[broker]
    days = np.arange(-11_000, 29_000)
    opens = zone.bucket_open(days + clock.ORIGIN_LOCAL_MS // clock.DAY, "1d")
    assert ((opens + zone.offsets(opens)) % clock.DAY == 0).all()
    assert opens.tolist() == [zone.day_start(int(d)) for d in days]
    hours = np.arange(DAYS[0] * 24 - 48, DAYS[-1] * 24 + 48, dtype=np.int64) * clock.HOUR
    keys = zone.bucket_keys(hours, "1h")
    assert (zone.bucket_keys(zone.bucket_open(keys, "1h"), "1h") == keys).all()
