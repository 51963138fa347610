"""The broker clock's cached per-day string tables equal formatting every minute, DST days included."""

from __future__ import annotations

import numpy as np
import pytest

from mtdata.sandbox import market_clock as clock

# 2024-03-31 and 2024-10-27 are EU clock-change Sundays; the others are ordinary days around them.
DAYS = [19_812, 19_813, 19_814, 19_657, 20_023, 20_024, 20_025, 20_390]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("broker", [False, True])
def test_minute_table_matches_per_minute_formatting(day: int, broker: bool) -> None:
    ms = day * clock.DAY + np.arange(0, clock.DAY, clock.MINUTE, dtype=np.int64)
    expected = clock._format(ms + clock.offsets(ms), clock._CLOCK_BROKER, "") if broker else clock._format(
        ms, clock._CLOCK_ISO, "Z")  # fmt: skip
    assert clock._minute_table(day, broker) == expected


def test_a_clock_change_day_is_in_the_cases() -> None:
    changes = [d for d in DAYS if clock.offset(d * clock.DAY) != clock.offset((d + 1) * clock.DAY - 1)]
    assert len(changes) == 2
