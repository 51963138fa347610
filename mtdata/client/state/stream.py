"""The state one stream of a terminal built (used by :mod:`.terminal`): collections, indexes and price maths.

Prices are the hot path: :meth:`StreamState.apply_prices` touches only the positions and orders of the symbols
in the packet (indexes by symbol), and the equity is a running sum of integer cents per position, so no price
scans the whole account.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..listeners import Record
from .hash_manager import Collection

BUY_ORDER_TYPES = frozenset(
    {"ORDER_TYPE_BUY", "ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_BUY_STOP", "ORDER_TYPE_BUY_STOP_LIMIT"}
)
COLLECTIONS: tuple[Collection, ...] = ("specifications", "positions", "orders")
#: The key of each collection's items.
ID_KEYS: dict[Collection, str] = {"specifications": "symbol", "positions": "id", "orders": "id"}


def _cents(position: Record) -> list[int]:
    """``[unrealizedProfit, swap, commission]`` of a position in integer cents (each rounded as the SDK does)."""
    return [
        round((position.get("unrealizedProfit") or 0) * 100),
        round((position.get("swap") or 0) * 100),
        round((position.get("commission") or 0) * 100),
    ]


def _derive_profits(position: Record, open_price: float, volume: float, tick_size: float, multiplier: int) -> None:
    """Split a position's profit into unrealized (from its current price and tick value) and realized parts."""
    profit = position.get("profit")
    if profit is not None:
        profit = position["profit"] = round(profit * multiplier) / multiplier
    current, tick_value = position.get("currentPrice"), position.get("currentTickValue")
    unrealized = profit or 0
    if current is not None and tick_value is not None:
        change = (current - open_price) if position.get("type") == "POSITION_TYPE_BUY" else -(current - open_price)
        unrealized = round(change * tick_value * volume / tick_size * multiplier) / multiplier
    position["unrealizedProfit"] = unrealized
    position["realizedProfit"] = (profit or 0) - unrealized


class StreamState:
    """Account information, collections and prices of one stream, with per-symbol indexes and running sums."""

    def __init__(self, instance_index: str, holder: str) -> None:
        self.instance_index = instance_index
        self.holder = holder  # this state's reference key in the hash manager
        self.connected = False
        self.connected_to_broker = False
        self.retired = False  # no longer the live state of its stream (kept only as the combined view)
        self.account_information: Record | None = None
        self.specifications: dict[str, Record] = {}
        self.positions: dict[str, Record] = {}
        self.orders: dict[str, Record] = {}
        self.prices: dict[str, Record] = {}
        self.last_quote: Record | None = None
        self.positions_by_symbol: dict[Any, dict[str, Record]] = {}
        self.orders_by_symbol: dict[Any, dict[str, Record]] = {}
        self.unpriced: set[Any] = set()  # symbols of positions with no price yet
        self.cents: dict[str, list[int]] = {}
        self.sum_profit_swap = 0  # cents: unrealized profit + swap of every position
        self.sum_commission = 0  # cents
        self.hashes: dict[Collection, str | None] = dict.fromkeys(COLLECTIONS)
        self.expected: set[Collection] = set(COLLECTIONS)  # sent in full by the synchronization (no hash reused)
        self.dirty: set[Collection] = set()  # changed by updates before the orders phase completed
        self.positions_initialized = self.orders_initialized = False
        self.updated_at = 0.0

    # ---- collections with their indexes --------------------------------------------------------------------------

    def collection(self, kind: Collection) -> dict[str, Record]:
        """The items of one collection by key."""
        return (
            self.specifications if kind == "specifications" else self.positions if kind == "positions" else self.orders
        )

    def replace(self, kind: Collection, items: Iterable[Record]) -> None:
        """Replace a whole collection (indexes rebuilt)."""
        if kind == "specifications":
            self.specifications = {item["symbol"]: item for item in items}
        elif kind == "positions":
            self.positions, self.positions_by_symbol, self.cents = {}, {}, {}
            self.unpriced = set()
            self.sum_profit_swap = self.sum_commission = 0
            for position in items:
                self.put_position(position)
        else:
            self.orders, self.orders_by_symbol = {}, {}
            for order in items:
                self.put_order(order)

    def merge(self, kind: Collection, items: Iterable[Record], removed: Iterable[str]) -> None:
        """Merge changed items by key, then drop the removed keys."""
        if kind == "specifications":
            for item in items:
                self.specifications[item["symbol"]] = item
            for symbol in removed:
                self.specifications.pop(symbol, None)
        elif kind == "positions":
            for item in items:
                self.put_position(item)
            for key in removed:
                self.drop_position(key)
        else:
            for item in items:
                self.put_order(item)
            for key in removed:
                self.drop_order(key)

    def put_position(self, position: Record) -> None:
        position_id = position["id"]
        if position_id in self.positions:
            self.drop_position(position_id)
        symbol = position.get("symbol")
        self.positions[position_id] = position
        self.positions_by_symbol.setdefault(symbol, {})[position_id] = position
        if symbol not in self.prices:
            self.unpriced.add(symbol)
        cents = self.cents[position_id] = _cents(position)
        self.sum_profit_swap += cents[0] + cents[1]
        self.sum_commission += cents[2]

    def drop_position(self, position_id: str) -> None:
        position = self.positions.pop(position_id, None)
        if position is None:
            return
        symbol = position.get("symbol")
        bucket = self.positions_by_symbol[symbol]
        del bucket[position_id]
        if not bucket:
            del self.positions_by_symbol[symbol]
            self.unpriced.discard(symbol)
        cents = self.cents.pop(position_id)
        self.sum_profit_swap -= cents[0] + cents[1]
        self.sum_commission -= cents[2]

    def put_order(self, order: Record) -> None:
        order_id = order["id"]
        if order_id in self.orders:
            self.drop_order(order_id)
        self.orders[order_id] = order
        self.orders_by_symbol.setdefault(order.get("symbol"), {})[order_id] = order

    def drop_order(self, order_id: str) -> None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return
        symbol = order.get("symbol")
        bucket = self.orders_by_symbol[symbol]
        del bucket[order_id]
        if not bucket:
            del self.orders_by_symbol[symbol]

    # ---- prices --------------------------------------------------------------------------------------------------

    def apply_prices(self, prices: list[Record]) -> bool:
        """Store the newer prices and reprice their symbols' positions and orders; True if any price was newer."""
        known = self.prices
        updated = False
        for price in prices:
            symbol = price["symbol"]
            current = known.get(symbol)
            if current is not None and current["time"] > price["time"]:
                continue
            known[symbol] = price
            updated = True
            last = self.last_quote
            if last is None or last["time"] <= price["time"]:
                self.last_quote = price
            positions = self.positions_by_symbol.get(symbol)
            if positions:
                specification = self.specifications.get(symbol)
                if specification is not None:
                    self.reprice(positions.values(), price, specification)
                if self.unpriced:
                    self.unpriced.discard(symbol)
            orders = self.orders_by_symbol.get(symbol)
            if orders:
                bid, ask = price.get("bid"), price.get("ask")
                for order in orders.values():
                    order["currentPrice"] = ask if order.get("type") in BUY_ORDER_TYPES else bid
        return updated

    def reprice(self, positions: Iterable[Record], price: Record, specification: Record) -> None:
        """Current price, tick value, unrealized profit and profit of one symbol's positions at ``price`` (as the SDK
        does): ``±(price - openPrice) * tickValue * volume / tickSize`` rounded to the symbol's digits, the tick
        value being the price's ``profitTickValue`` for a winning position and ``lossTickValue`` for a losing one;
        profit = unrealized + realized profit."""
        tick_size = specification.get("tickSize")
        if not tick_size:
            return
        multiplier = 10 ** int(specification.get("digits") or 0)
        bid, ask = price.get("bid"), price.get("ask")
        winning, losing = price.get("profitTickValue"), price.get("lossTickValue")
        all_cents = self.cents
        delta = 0
        for position in positions:
            open_price, volume = position.get("openPrice"), position.get("volume")
            if open_price is None or volume is None:
                continue
            if "unrealizedProfit" not in position or "realizedProfit" not in position:
                _derive_profits(position, open_price, volume, tick_size, multiplier)
            if position.get("type") == "POSITION_TYPE_BUY":
                current = bid
                change = current - open_price if current is not None else None
            else:
                current = ask
                change = -(current - open_price) if current is not None else None
            if change is None:
                continue
            tick_value = winning if change > 0 else losing
            realized = position.get("realizedProfit")
            unrealized = None
            if tick_value is not None:
                unrealized = round(change * tick_value * volume / tick_size * multiplier) / multiplier
            if unrealized is not None and realized is not None:
                position["profit"] = round((unrealized + realized) * multiplier) / multiplier
            elif position.get("profit") is not None:
                position["profit"] = round(position["profit"] * multiplier) / multiplier
            position["unrealizedProfit"] = unrealized
            position["currentPrice"] = current
            position["currentTickValue"] = tick_value
            cents = all_cents.get(position["id"])
            if cents is not None:
                new_cents = round(unrealized * 100) if unrealized is not None else 0
                delta += new_cents - cents[0]
                cents[0] = new_cents
        self.sum_profit_swap += delta

    def update_account(
        self,
        prices: list[Record],
        equity: float | None,
        margin: float | None,
        free_margin: float | None,
        margin_level: float | None,
        rate: float | None,
    ) -> None:
        """Account figures after a prices packet: the packet's when given, else the equity from the positions
        (MT5: balance + profit + swap; MT4 also + commission; each rounded to cents) once every position is priced."""
        info = self.account_information
        if info is None:
            return
        if self.positions_initialized and not self.unpriced:
            if equity is None:
                cents = self.sum_profit_swap + (0 if info.get("platform") == "mt5" else self.sum_commission)
                equity = round((info.get("balance") or 0) * 100 + cents) / 100
            info["equity"] = round(equity * 100) / 100
        elif equity is not None:
            info["equity"] = equity
        if rate is None and prices:
            rate = prices[0].get("accountCurrencyExchangeRate")
        if rate is not None:
            info["accountCurrencyExchangeRate"] = rate
        if margin is not None:
            info["margin"] = margin
        if free_margin is not None:
            info["freeMargin"] = free_margin
        if margin_level is not None:
            info["marginLevel"] = margin_level
