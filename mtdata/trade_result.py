"""The answer to a trade (:class:`TradeResult`) and its fill: price, volume and time, as MetaTrader's own result.

The wire's trade response carries the return code and the ids only (protocol §6.3); what the trade filled
at is in its deals, which the streaming connection synchronizes into the history storage just before or just
after the response. :class:`FillWatch` is added to the connection before a trade is sent, so a deal arriving
first is not missed; after the response, :meth:`FillWatch.fill` reads the deals of the response's order (all
of them: a partial fill may have several) and waits for them up to :data:`FILL_WAIT` seconds.
"""

from __future__ import annotations

import asyncio
import html
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from .client import SynchronizationListener

#: How long a filling trade waits for its deals after the response (they normally follow within milliseconds).
FILL_WAIT = 5.0


@dataclass(frozen=True)
class TradeResult:
    """The answer to a trade: MetaTrader's return code and message, the ids it touched and, for a trade that
    filled (a market order, a close), the fill: ``price`` (volume-weighted over its deals), ``volume`` (lots) and
    ``time`` (of the last deal, UTC). The fill is None when nothing filled (a pending order placed, a
    modification, a cancellation) or when its deal did not arrive within :data:`FILL_WAIT` seconds."""

    code: int | None
    string_code: str | None
    message: str | None
    order_id: str | None = None
    position_id: str | None = None
    client_id: str | None = None
    price: float | None = None
    volume: float | None = None
    time: datetime | None = None

    @classmethod
    def from_response(cls, response: dict[str, Any]) -> TradeResult:
        """A result from the trade response of the wire (``numericCode``, ``stringCode``, ``orderId`` ...)."""
        return cls(
            response.get("numericCode"),
            response.get("stringCode"),
            response.get("message"),
            response.get("orderId"),
            response.get("positionId"),
            response.get("clientId"),
        )

    def __str__(self) -> str:
        ids = ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self)[3:6] if getattr(self, f.name))
        text = f"{self.code} {self.string_code}: {self.message}" + (f" ({ids})" if ids else "")
        if self.price is None or self.volume is None:
            return text
        when = f" at {self.time.isoformat(timespec='milliseconds')}" if self.time is not None else ""
        return f"{text}, filled {self.volume:g} lots at {self.price:g}{when}"

    def _repr_html_(self) -> str:
        cell = "style='text-align:left'"
        rows = "".join(
            f"<tr><th {cell}>{f.name}</th><td {cell}>{html.escape(str(getattr(self, f.name)))}</td></tr>"
            for f in fields(self)
            if getattr(self, f.name) is not None
        )
        return f"<table><caption style='text-align:left'><b>TradeResult</b></caption>{rows}</table>"


def filled(result: TradeResult, deals: list[dict[str, Any]]) -> TradeResult:
    """``result`` with the fill of ``deals`` (the deals of its order): total volume, volume-weighted price, last
    time; unchanged when there are none."""
    lots = sum(float(deal["volume"]) for deal in deals)
    if not deals or lots <= 0:
        return result
    if len(deals) == 1:
        price = float(deals[0]["price"])
    else:
        price = round(sum(float(deal["price"]) * float(deal["volume"]) for deal in deals) / lots, 8)
    return replace(result, price=price, volume=round(lots, 8), time=max(deal["time"] for deal in deals))


class FillWatch(SynchronizationListener):
    """Wakes a trade waiting for its deals; add it to the connection before the trade is sent."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._arrived = asyncio.Event()

    async def on_deal_added(self, instance_index: str, deal: dict[str, Any]) -> None:
        """A deal arrived (the history storage already holds it)."""
        self._arrived.set()

    def deals_of(self, result: TradeResult) -> list[dict[str, Any]]:
        """The deals of ``result``'s order in the history storage."""
        history = self._connection.history_storage
        return [d for d in history.get_deals_by_position(result.position_id) if d.get("orderId") == result.order_id]

    async def fill(self, result: TradeResult, wait: float = FILL_WAIT) -> TradeResult:
        """``result`` with its fill, once its deals are in the history storage (at most ``wait`` seconds)."""
        if result.order_id is None or result.position_id is None:
            return result
        deadline = time.monotonic() + wait
        while True:
            self._arrived.clear()
            deals = self.deals_of(result)
            remaining = deadline - time.monotonic()
            if deals or remaining <= 0:
                return filled(result, deals)
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return filled(result, self.deals_of(result))


__all__ = ["FILL_WAIT", "FillWatch", "TradeResult", "filled"]
