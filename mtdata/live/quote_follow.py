"""The order ticket's quote: a market order's price field follows the ask (a buy) or bid (a sell) live.

:class:`QuoteFollower` is the part of :class:`~mtdata.live.order_ticket.OrderTicket` that watches the market: a
sink on the session's :class:`~mtdata.live.feed.LiveFeed` for the quotes of the ticket's symbol, moved when the
symbol changes, keeps the newest; the price field shows it at most :data:`QUOTE_RATE` times a second, on the
kernel's thread. Without a working feed the ticket asks for one quote when it prefills the price instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import ipywidgets

from .feed import LiveFeed, Stream
from .throttle import Throttle

if TYPE_CHECKING:
    import pandas as pd

    from ..session import Session

log = logging.getLogger("mtdata.live")

#: The most updates per second of a market order's price field as it follows the quote (one comm message each).
QUOTE_RATE = 4.0


class QuoteFollower:
    """The quotes of the ticket's symbol, from the feed (or one asked for), shown in a market order's price field.

    A mixin of :class:`~mtdata.live.order_ticket.OrderTicket`, which provides the session (``_session``), the
    symbols' specifications (``_specs``) and the form's ``symbol``, ``side``, ``kind`` and ``price`` fields.
    """

    _session: Session
    _specs: pd.DataFrame
    symbol: ipywidgets.Combobox  #: The ticket's symbol field: the quotes followed are this symbol's.
    side: ipywidgets.ToggleButtons  #: The ticket's buy / sell field: a buy follows the ask, a sell the bid.
    kind: ipywidgets.ToggleButtons  #: The ticket's order type field: only a ``market`` order's price follows.
    price: ipywidgets.FloatText  #: The ticket's price field, where the quote is shown.
    # class defaults for ipywidgets' close() from __del__ after a failed __init__
    _throttle: Throttle | None = None
    _feed: LiveFeed | None = None
    _stream: Stream | None = None
    _latest: dict[str, Any] | None = None  # the newest quote of the symbol followed (set by the feed)

    def _start_quotes(self, feed: LiveFeed, loop: asyncio.AbstractEventLoop) -> None:
        """Show the quotes ``feed`` brings, at most :data:`QUOTE_RATE` times a second on ``loop``'s thread."""
        self._throttle = Throttle(self._show_quote, rate=QUOTE_RATE, loop=loop)
        self._feed = feed

    def _stop_quotes(self) -> None:
        """Stop following the quote: no sink, subscription or pending update left."""
        if self._throttle is not None:
            self._throttle.close()
        self._follow(None)

    def _follow(self, symbol: str | None) -> None:
        """Move the feed's quotes sink to ``symbol`` (None: to none). Without a working feed the price field
        keeps its one-shot prefill."""
        stream, self._stream, self._latest = self._stream, None, None
        if stream is not None and self._feed is not None:
            try:
                self._feed.detach(stream, self._quote)
            except Exception:
                log.warning("the order ticket could not stop following %s", stream.symbol, exc_info=True)
        if symbol is None or self._feed is None:
            return
        stream = Stream("quotes", symbol)
        try:
            self._feed.attach(stream, self._quote)
        except Exception:
            log.warning("the order ticket's price of %s will not follow the market", symbol, exc_info=True)
            return
        self._stream = stream

    def _quote_of(self, symbol: str) -> Any | None:
        """The newest quote of ``symbol``: the feed's, else one asked for now (None when there is none)."""
        quote: Any = self._latest
        if quote is not None and quote.get("symbol") == symbol:
            return quote
        try:
            return self._session.price(symbol).iloc[0]
        except Exception:
            log.warning("no price for the order ticket's %s", symbol, exc_info=True)
            return None

    def _quote(self, price: dict[str, Any]) -> None:
        """A new quote (the session's loop thread): kept, the field updated at most QUOTE_RATE times a second."""
        self._latest = price  # one reference swap: atomic
        if self._throttle is not None:
            self._throttle.poke()

    def _show_quote(self) -> None:
        """A market order's price field shows the newest quote (a pending order's price is the user's)."""
        quote, symbol = self._latest, self.symbol.value
        if quote is not None and self.kind.value == "market" and quote.get("symbol") == symbol:
            self._show_price(self._specs.loc[symbol], quote)

    def _show_price(self, spec: Any, quote: Any) -> None:
        """The ask (a buy) or bid (a sell) of ``quote`` in the price field, to the symbol's digits."""
        self.price.value = round(float(quote["ask" if self.side.value == "buy" else "bid"]), int(spec["digits"]))


__all__ = ["QUOTE_RATE", "QuoteFollower"]
