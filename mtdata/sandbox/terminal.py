"""The trading state of an account as the socket layer reports it (protocol §9.2-§9.5), read from the store.

Positions and orders live in the ``positions``/``orders`` tables, history orders and
deals in ``history_orders``/``deals`` (``time_ms`` = done time / deal time), all keyed
by the primary account id and filled by the broker engine. The first time an account's
terminal is needed its initial deposit is recorded as a ``DEAL_TYPE_BALANCE`` deal (once:
a setting ``initial_deposit:<account id>`` remembers its ticket), so
the deal history is never empty and the balance is the deposit plus later deal profits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .broker.money import Quotes, account_margin, mark
from .timeutil import iso_ms, parse_iso_ms

if TYPE_CHECKING:
    from .market import Market
    from .store import Store

#: Counter of position, order and deal tickets (shared with the broker engine).
TICKET_COUNTER = "ticket"
TICKET_START = 1000


class Terminal:
    """Reads one sandbox's account trading state; the broker engine writes it."""

    def __init__(self, store: Store, market: Market) -> None:
        self.store = store
        self.market = market
        self.quotes = Quotes(market)
        self._initialized: set[str] = set()

    # history -----------------------------------------------------------------------------------

    def ensure_initial_deposit(self, doc: dict[str, Any]) -> None:
        """Record the account's initial deposit as its first deal, once per account."""
        account_id = doc["_id"]
        if account_id in self._initialized:
            return
        marker = f"initial_deposit:{account_id}"
        with self.store.transaction():
            if self.store.setting(marker) is None:
                # The market clock may be pinned in the past: the deposit must not postdate the first trade.
                now = self.market.now_ms()
                created = min(parse_iso_ms(doc.get("createdAt") or iso_ms(now), "createdAt"), now)
                ticket = str(self.store.next_id(TICKET_COUNTER, start=TICKET_START))
                trading = doc.get("_trading", {})
                deal = {
                    "id": ticket,
                    "platform": trading.get("platform", doc.get("platform", "mt5")),
                    "type": "DEAL_TYPE_BALANCE",
                    "time": iso_ms(created),
                    "brokerTime": self.market.broker_time(created),
                    "profit": float(trading.get("balance", 0.0)),
                    "commission": 0,
                    "swap": 0,
                    "comment": "Initial deposit",
                    "reason": "DEAL_REASON_CLIENT",
                }
                self.store.put("deals", ticket, deal, account_id=account_id, time_ms=created, position_id=None)
                self.store.set_setting(marker, ticket)
        self._initialized.add(account_id)

    def _history(
        self, table: str, account_id: str, where: str = "", params: tuple[Any, ...] = (), **page: Any
    ) -> list[dict[str, Any]]:
        clause = "account_id = ?" + (f" AND {where}" if where else "")
        return self.store.select(table, clause, (account_id, *params), order_by="time_ms, rowid", **page)

    def history_orders(
        self, doc: dict[str, Any], start_ms: int, end_ms: int | None = None, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """History orders done in [start, end), oldest first."""
        self.ensure_initial_deposit(doc)
        where, params = _range(start_ms, end_ms)
        return self._history("history_orders", doc["_id"], where, params, offset=offset, limit=limit)

    def deals(
        self, doc: dict[str, Any], start_ms: int, end_ms: int | None = None, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Deals in [start, end), oldest first (the initial deposit included)."""
        self.ensure_initial_deposit(doc)
        where, params = _range(start_ms, end_ms)
        return self._history("deals", doc["_id"], where, params, offset=offset, limit=limit)

    def history_orders_by(self, doc: dict[str, Any], field: str, value: str) -> list[dict[str, Any]]:
        """History orders with ``id`` (ticket) or ``positionId`` equal to ``value``."""
        self.ensure_initial_deposit(doc)
        return self._by("history_orders", doc["_id"], field, value)

    def deals_by(self, doc: dict[str, Any], field: str, value: str) -> list[dict[str, Any]]:
        """Deals with ``id`` (ticket) or ``positionId`` equal to ``value``."""
        self.ensure_initial_deposit(doc)
        return self._by("deals", doc["_id"], field, value)

    def _by(self, table: str, account_id: str, field: str, value: str) -> list[dict[str, Any]]:
        if field == "id":
            return self._history(table, account_id, "key = ?", (value,))
        return self._history(table, account_id, "position_id = ?", (value,))

    # open state --------------------------------------------------------------------------------

    def positions(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """Open positions of the account, marked to the current market (price, tick value, profits)."""
        currency = doc.get("_trading", {}).get("currency", "USD")
        return [mark(self.quotes, p, currency) for p in self.store.select("positions", "account_id = ?", (doc["_id"],))]

    def orders(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """Pending orders of the account, ``currentPrice`` = ask for buy types and bid for sell types."""
        orders = self.store.select("orders", "account_id = ?", (doc["_id"],))
        for order in orders:
            try:
                quote = self.quotes.price(order["symbol"], None, "USD")
            except Exception:  # no quote: keep the stored current price
                continue
            order["currentPrice"] = quote["ask"] if order["type"].startswith("ORDER_TYPE_BUY") else quote["bid"]
        return orders

    def figures(self, doc: dict[str, Any], positions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """``balance``, ``equity``, ``margin``, ``freeMargin``, ``marginLevel`` from the open positions."""
        trading = doc.get("_trading", {})
        currency = trading.get("currency", "USD")
        leverage = trading.get("leverage", 100)
        balance = float(trading.get("balance", 0.0))
        credit = float(trading.get("credit", 0.0))
        positions = self.positions(doc) if positions is None else positions
        floating = 0.0
        for position in positions:
            floating += round(float(position.get("unrealizedProfit", position.get("profit", 0.0)) or 0.0), 2)
            floating += round(float(position.get("swap", 0.0) or 0.0), 2)
        equity = round(balance + credit + floating, 2)
        margin = account_margin(self.quotes, positions, leverage, currency)
        return {
            "balance": balance,
            "equity": equity,
            "margin": margin,
            "freeMargin": round(equity - margin, 2),
            "marginLevel": round(equity / margin * 100, 2) if margin else None,
        }

    def account_information(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The account information model (§9.2) of ``doc``."""
        self.ensure_initial_deposit(doc)
        trading = doc.get("_trading", {})
        figures = self.figures(doc)
        login = str(doc.get("login", ""))
        return {
            "platform": trading.get("platform", doc.get("platform", "mt5")),
            "broker": "mtdata Sandbox",
            "currency": trading.get("currency", "USD"),
            "server": doc.get("server", ""),
            "balance": figures["balance"],
            "equity": figures["equity"],
            "margin": figures["margin"],
            "freeMargin": figures["freeMargin"],
            "leverage": trading.get("leverage", 100),
            "marginLevel": figures["marginLevel"],
            "tradeAllowed": True,
            "investorMode": False,
            "marginMode": trading.get("marginMode", "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING"),
            "name": doc.get("name", ""),
            "login": int(login) if login.isdigit() else 0,
            "credit": float(trading.get("credit", 0.0)),
            "type": "ACCOUNT_TRADE_MODE_DEMO",
        }


def _range(start_ms: int, end_ms: int | None) -> tuple[str, tuple[int, ...]]:
    if end_ms is None:
        return "time_ms >= ?", (start_ms,)
    return "time_ms >= ? AND time_ms < ?", (start_ms, end_ms)
