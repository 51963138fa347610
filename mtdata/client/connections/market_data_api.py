"""Market data of a streaming connection (protocol §5.3): subscribing, unsubscribing, keeping the server in step.

:class:`MarketDataApi`, a base of :class:`~mtdata.client.StreamingMetaApiConnection`, checks the subscriptions
(:mod:`.market_data`), keeps them in the connection's book and sends them; the book is re-sent every few
minutes and on every ``synchronizationStarted``, and a ``downgradeSubscription`` is followed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any

from ...errors import MetaApiException, NotSynchronizedException
from .. import checks
from ..listeners import Record
from ..models import MarketDataSubscription, MarketDataUnsubscription
from . import market_data
from .rpc import timeframes_of

if TYPE_CHECKING:
    from ..rest.accounts import MetatraderAccount
    from ..rest.context import ClientContext
    from ..state.terminal import TerminalState
    from .synchronization import Synchronizer

log = logging.getLogger("mtdata.client")


class MarketDataApi:
    """The market-data methods of a streaming connection (it provides the attributes and ``_request``)."""

    account: MetatraderAccount  #: The account connected to (the connection's).
    closed: bool  #: True once the last instance closed the connection (the connection's).
    _context: ClientContext
    _terminal: TerminalState
    _sync: Synchronizer
    _market_data: market_data.MarketDataSubscriptions

    def _require_open(self) -> None:
        raise NotImplementedError

    async def _request(self, payload: dict[str, Any], instance_number: int | None = None) -> dict[str, Any]:
        raise NotImplementedError

    async def subscribe_to_market_data(
        self,
        symbol: str,
        subscriptions: list[MarketDataSubscription] | MarketDataSubscription | None = None,
        timeout_in_seconds: float | None = None,
        wait_for_quote: bool = True,
    ) -> dict[str, Any] | None:
        """Subscribe to quotes (default), candles, ticks or books of ``symbol``; returns its first price.

        The symbol must be in the synchronized specifications (``NotSynchronizedException`` before the first
        synchronization). With ``wait_for_quote`` and a quotes subscription it waits for the first price
        (up to ``timeout_in_seconds``, default the request timeout).
        """
        checks.text("symbol", symbol)
        subs = market_data.subscriptions(subscriptions, timeframes_of(self.account))
        timeout = checks.number("timeout_in_seconds", timeout_in_seconds, minimum=0, optional=True)
        checks.flag("wait_for_quote", wait_for_quote)
        self._require_open()
        if self._terminal.specification(symbol) is None:
            if not self._terminal.specifications:
                raise NotSynchronizedException(
                    f"no symbol specifications yet for account {self.account.id}: await wait_synchronized() first"
                )
            raise checks.fail("symbol", "is not a symbol of this account", symbol)
        self._market_data.add(symbol, subs)
        await self._request({"type": "subscribeToMarketData", "symbol": symbol, "subscriptions": subs})
        if wait_for_quote and any(sub["type"] == "quotes" for sub in subs):
            wait = timeout if timeout is not None else self._context.options.request_timeout
            return await self._terminal.wait_for_price(symbol, wait)
        return None

    async def unsubscribe_from_market_data(
        self, symbol: str, unsubscriptions: list[MarketDataUnsubscription] | MarketDataUnsubscription | None = None
    ) -> None:
        """Drop some (``[{type, timeframe?}]``) or all market-data subscriptions of ``symbol``."""
        checks.text("symbol", symbol)
        drops = market_data.subscriptions(unsubscriptions, timeframes_of(self.account), "unsubscriptions", True)
        self._require_open()
        held = self._market_data.get(symbol)
        self._market_data.remove(symbol, drops)
        payload: dict[str, Any] = {"type": "unsubscribeFromMarketData", "symbol": symbol}
        if drops:
            payload["subscriptions"] = market_data.explicit(drops, held)
        await self._request(payload)

    async def unsubscribe_from_all_market_data(self) -> None:
        """Drop every market-data subscription."""
        for symbol in self._market_data.symbols():
            await self.unsubscribe_from_market_data(symbol)

    async def refresh_market_data_subscriptions(self, instance_number: int | None = None) -> None:
        """Send the full subscription list to the server (done on every ``synchronizationStarted``)."""
        checks.integer("instance_number", instance_number, minimum=0, optional=True)
        self._require_open()
        await self._request({"type": "refreshMarketDataSubscriptions", "subscriptions": self._market_data.wire()},
                            instance_number)  # fmt: skip

    async def _refresh_market_data_loop(self) -> None:
        """Re-send the subscription list every uniform(min, max) seconds (``refreshSubscriptionsOpts``)."""
        delays = self._context.options.refresh_subscriptions_opts
        # ``closed`` ends the loop even if a cancellation is lost (asyncio.wait_for may swallow one before 3.12)
        while not self.closed:
            await asyncio.sleep(random.uniform(delays["minDelayInSeconds"], delays["maxDelayInSeconds"]))
            if self.closed or not self._market_data.symbols() or not self._sync.is_synchronized():
                continue
            try:
                await self.refresh_market_data_subscriptions()
            except MetaApiException as error:
                if not self.closed:
                    log.warning("refreshing the market data subscriptions of %s failed: %s", self.account.id, error)

    async def apply_downgrade(self, symbol: str, updates: list[Record] | None, drops: list[Record] | None) -> None:
        """Follow a ``downgradeSubscription``: drop ``drops``, re-subscribe ``updates`` (no quote wait)."""
        if drops:
            await self.unsubscribe_from_market_data(symbol, drops)
        if updates:
            self._market_data.add(symbol, updates)
            await self._request({"type": "subscribeToMarketData", "symbol": symbol, "subscriptions": updates})
