"""Subscribe retry loops (protocol §7.3, §4.4, §12.2): keep asking for ``authenticated`` until it comes.

One loop (task) per ``(account, instance number)``: send ``subscribe``, wait, send again with
a doubling interval (3 s to 300 s) until an ``authenticated`` packet cancels it. Re-subscriptions
after a ``disconnected`` packet, a status-timer silence, an ordering timeout or a socket reconnect
go through the same loops after the protocol's random delays. Every delay is in :class:`Timers` so tests
can shrink them (``WebsocketClient(..., timers=Timers(...))`` or by replacing :data:`DEFAULT_TIMERS`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...errors import TooManyRequestsException
from ..dates import parse_date

log = logging.getLogger("mtdata.client.transport.subscriptions")


@dataclass(frozen=True)
class Timers:
    """The socket layer's timers in seconds (protocol §12.2 defaults)."""

    subscribe_retry_start: float = 3.0
    subscribe_retry_max: float = 300.0
    #: silence of a connected stream (no ``status``/``authenticated``) before it counts as disconnected
    status_timeout: float = 60.0
    #: random delay range before re-subscribing after a ``disconnected`` packet / status timeout
    disconnected_resubscribe: tuple[float, float] = (1.0, 5.0)
    #: random delay range before re-subscribing each account after a socket reconnect
    reconnect_resubscribe: tuple[float, float] = (0.0, 5.0)
    #: socket reconnect backoff: first wait, cap (doubling, with jitter)
    reconnect_start: float = 1.0
    reconnect_max: float = 30.0


#: The defaults every new client takes (tests may replace it before building a client).
DEFAULT_TIMERS = Timers()

#: Sends one ``subscribe`` request for (account, instance number); raises what the request raised.
SendSubscribe = Callable[[str, int], Awaitable[None]]


def backoff(start: float, cap: float, attempt: int) -> float:
    """``start * 2**attempt`` capped at ``cap``, with +-20% jitter (so many clients do not retry in step)."""
    return min(cap, start * 2 ** min(attempt, 30)) * random.uniform(0.8, 1.2)


class SubscriptionManager:
    """The subscribe retry loops of one client; nothing runs until :meth:`schedule_subscribe`."""

    def __init__(self, send_subscribe: SendSubscribe, timers: Timers) -> None:
        self._send = send_subscribe
        self.timers = timers
        self._loops: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._retry_mode: set[tuple[str, int]] = set()  # loops started after a disconnection
        self._delayed: set[asyncio.Task[None]] = set()
        self._all: set[asyncio.Task[None]] = set()  # every loop still running, stopped or not
        self._sending: set[asyncio.Task[Any]] = set()  # loops waiting for a subscribe answer
        self._closed = False

    def is_subscribing(self, account_id: str, instance_number: int) -> bool:
        """Whether a subscribe loop runs for this instance."""
        return (account_id, instance_number) in self._loops

    def is_disconnected_retry_mode(self, account_id: str, instance_number: int) -> bool:
        """Whether this instance's loop was started by a disconnection (``disconnected``, silence)."""
        return (account_id, instance_number) in self._retry_mode

    def schedule_subscribe(self, account_id: str, instance_number: int, retry_mode: bool = False) -> None:
        """Start the subscribe loop of an instance unless one runs already."""
        key = (account_id, instance_number)
        if self._closed or key in self._loops:
            return
        if retry_mode:
            self._retry_mode.add(key)
        task = asyncio.get_running_loop().create_task(self._loop(key))
        self._loops[key] = task
        self._all.add(task)
        task.add_done_callback(lambda t, key=key: self._forget(key, t))

    def _forget(self, key: tuple[str, int], task: asyncio.Task[None]) -> None:
        self._all.discard(task)
        if self._loops.get(key) is task:
            del self._loops[key]
            self._retry_mode.discard(key)

    async def _loop(self, key: tuple[str, int]) -> None:
        interval = self.timers.subscribe_retry_start
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        # the mapping check ends a loop whose cancellation was lost (asyncio.wait_for may swallow one before 3.12)
        while not self._closed and self._loops.get(key) is me:
            started = loop.time()
            wait = interval
            self._sending.add(me)  # a stopped loop still takes the answer of the subscribe it sent (latency, logs)
            try:
                async with asyncio.timeout(interval):
                    await self._send(*key)
            except TooManyRequestsException as error:
                wait = max(interval, seconds_until(error.metadata.get("recommendedRetryTime")))
                log.warning("subscribe of %s:%s rate limited, retrying in %.1f s", *key, wait)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: the loop tries again later
                log.info("subscribe of %s:%s failed (%s), retrying", key[0], key[1], error)
            finally:
                self._sending.discard(me)
            if self._closed or self._loops.get(key) is not me:
                return
            await asyncio.sleep(max(0.0, wait - (loop.time() - started)))
            interval = min(interval * 2, self.timers.subscribe_retry_max)

    def cancel_subscribe(self, account_id: str, instance_number: int) -> None:
        """Stop the loop of one instance (its ``authenticated`` arrived)."""
        task = self._loops.pop((account_id, instance_number), None)
        self._retry_mode.discard((account_id, instance_number))
        if task is not None and task not in self._sending:  # a sending loop ends once its answer (or timeout) is in
            task.cancel()

    def cancel_account(self, account_id: str) -> None:
        """Stop every loop of an account (``replicas == 1``, or the account is unsubscribed)."""
        for key in [k for k in self._loops if k[0] == account_id]:
            self.cancel_subscribe(*key)
        for task in list(self._delayed):
            if task.get_name() == f"resubscribe:{account_id}":
                task.cancel()

    def resubscribe_later(self, account_id: str, instance_numbers: tuple[int, ...], delay: tuple[float, float],
                          retry_mode: bool = False) -> None:  # fmt: skip
        """After a random delay in ``delay``, (re)start the subscribe loops of these instances."""
        if self._closed:
            return

        async def later() -> None:
            await asyncio.sleep(random.uniform(*delay))
            for instance_number in instance_numbers:
                self.cancel_subscribe(account_id, instance_number)
                self.schedule_subscribe(account_id, instance_number, retry_mode)

        task = asyncio.get_running_loop().create_task(later(), name=f"resubscribe:{account_id}")
        self._delayed.add(task)
        task.add_done_callback(self._delayed.discard)

    async def close(self) -> None:
        """Cancel every loop and delayed re-subscription and wait for them to end."""
        self._closed = True
        tasks = [*self._all, *self._delayed]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loops.clear()
        self._delayed.clear()


def seconds_until(when: object) -> float:
    """Seconds from now until ``when`` (a datetime or an ISO string; 0 when past or unreadable)."""
    try:
        moment = when if isinstance(when, datetime) else parse_date(when)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return 0.0
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
