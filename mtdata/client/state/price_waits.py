"""Waits on a terminal state's prices: the first price of a symbol, and the quotes a refresh asked for.

:class:`PriceWaits` belongs to a :class:`~.terminal.TerminalState`, which checks the arguments and hands it
every price packet (:meth:`PriceWaits.saw`); nothing here reads or changes the terminal's data.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ...errors import TimeoutException
from ..listeners import Record

#: Default wait of :meth:`~mtdata.client.TerminalState.refresh_terminal_state` for the refreshed prices.
REFRESH_TIMEOUT_SECONDS = 10.0


class RequestClient(Protocol):
    """What the terminal state needs of the websocket client: one RPC request."""

    async def request(self, account_id: str, payload: dict[str, Any], *, application: str | None = ...) -> Any: ...


class _RefreshCall:
    """One pending refresh: symbols seen and still expected."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future
        self.received: set[str] = set()
        self.expected: set[str] | None = None

    def saw(self, symbol: str) -> None:
        self.received.add(symbol)
        expected = self.expected
        if expected is not None:
            expected.discard(symbol)
            if not expected and not self.future.done():
                self.future.set_result(None)


class PriceWaits:
    """The callers waiting for prices of one terminal state."""

    def __init__(self) -> None:
        self.waiters: dict[str, list[asyncio.Future[Record]]] = {}
        self._refreshes: list[_RefreshCall] = []

    async def first_price(self, symbol: str, timeout: float) -> Record:
        """The next price of ``symbol``; ``TimeoutException`` when none comes within ``timeout`` seconds."""
        future: asyncio.Future[Record] = asyncio.get_running_loop().create_future()
        waiters = self.waiters.setdefault(symbol, [])
        waiters.append(future)
        try:
            async with asyncio.timeout(timeout):  # (wait_for may lose a cancellation before 3.12)
                return await future
        except TimeoutError:
            raise TimeoutException(f"Timed out waiting for the price of {symbol}") from None
        finally:
            waiters = self.waiters.get(symbol, [])
            if future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self.waiters[symbol]

    async def refresh(self, client: RequestClient, account_id: str, timeout: float | None) -> None:
        """Send ``refreshTerminalState`` and wait until a price of every symbol it names arrived (``timeout``
        seconds, default 10; ``TimeoutException`` when exceeded)."""
        call = _RefreshCall(asyncio.get_running_loop().create_future())
        self._refreshes.append(call)
        try:
            async with asyncio.timeout(REFRESH_TIMEOUT_SECONDS if timeout is None else timeout):
                response = await client.request(account_id, {"type": "refreshTerminalState"}, application="RPC")
                symbols = response.get("symbols") or [] if isinstance(response, dict) else []
                call.expected = {s for s in symbols if s not in call.received}
                if call.expected:
                    await call.future
        except TimeoutError:
            raise TimeoutException("refreshing terminal state timed out") from None
        finally:
            self._refreshes.remove(call)

    def saw(self, prices: list[Record]) -> None:
        """Prices arrived: resolve the waits they answer."""
        if self.waiters:
            for price in prices:
                waiters = self.waiters.pop(price["symbol"], None)
                for future in waiters or ():
                    if not future.done():
                        future.set_result(price)
        if self._refreshes:
            for call in self._refreshes:
                for price in prices:
                    call.saw(price["symbol"])
