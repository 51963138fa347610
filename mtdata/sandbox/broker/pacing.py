"""Per-account trade pacing: a broker refuses trades sent faster than it allows (``TRADE_RETCODE_TOO_MANY_REQUESTS``).

A token bucket per account on the wall clock (rate limits are real time, whatever the market clock does);
a refused trade takes no token, so pacing never changes anything but the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TradePacer:
    """Allows ``rate`` trades per second per account with bursts of up to ``burst``; ``rate`` 0 allows everything."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # account id -> (tokens, at)

    def allow(self, account_id: str) -> bool:
        """Take a token for one trade of ``account_id``; False (and nothing taken) when the account is too fast."""
        if self.rate <= 0:
            return True
        now = self._clock()
        tokens, at = self._buckets.get(account_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[account_id] = (tokens, now)
            return False
        self._buckets[account_id] = (tokens - 1.0, now)
        return True
