"""The broker engine: the hub's trade executor (dispatch, idempotency, margin, one transaction, update packets)
and the trigger loop that fills pending orders, expires them, closes positions at SL/TP as prices move,
charges swap at rollover and stops out accounts whose margin level falls below the stop-out level."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import TradeError
from ..timeutil import parse_iso_ms
from . import pending, swap, trades
from .checkpoint import Checkpointer
from .codes import mt4_error, mt4_response, reject
from .ledger import Changes, Ledger
from .money import mark
from .pacing import TradePacer
from .positions import Context, platform_of

if TYPE_CHECKING:
    from ..realtime import Call
    from ..server import SandboxServer

log = logging.getLogger("mtdata.sandbox.broker")

Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]

#: actionType -> handler; the ones that can add margin are checked for free margin.
ACTIONS: dict[str, Handler] = {
    "ORDER_TYPE_BUY": lambda ctx, t: trades.market_order(ctx, t, True),
    "ORDER_TYPE_SELL": lambda ctx, t: trades.market_order(ctx, t, False),
    "POSITION_CLOSE_ID": lambda ctx, t: trades.close_position(ctx, t, False),
    "POSITION_PARTIAL": lambda ctx, t: trades.close_position(ctx, t, True),
    "POSITIONS_CLOSE_SYMBOL": trades.close_symbol,
    "POSITION_MODIFY": trades.modify_position,
    "POSITION_CLOSE_BY": trades.close_by,
    "ORDER_MODIFY": pending.modify,
    "ORDER_CANCEL": pending.cancel,
    **{kind: (lambda k: lambda ctx, t: pending.place(ctx, t, k))(kind) for kind in pending.PENDING},
}
_OPENING = frozenset({"ORDER_TYPE_BUY", "ORDER_TYPE_SELL"})

#: Trades remembered by request id (the same requestId arrives on instance 0 and 1 with high reliability).
_RECENT = 10_000
#: Margin level (%) below which positions are stopped out, unless the account's ``_trading.stopOutLevel`` says.
STOP_OUT_LEVEL = 50.0
#: A trailing stop loss moves at most this often (simulated ms), as MetaApi's server-side trailing does.
TRAIL_EVERY_MS = 15_000
#: Seconds between two passes of the trigger loop.
TRIGGER_INTERVAL = 0.05
#: SQLite's default WAL auto-checkpoint threshold (pages), given back when the broker stops.
_AUTO_CHECKPOINT = 1000


class Broker:
    """Executes the trades of one sandbox server against its market and store."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.market = server.market
        self.store = server.store
        self.ledger = Ledger(server.store)
        self.hub = server.hub
        self._recent: OrderedDict[tuple[str, str], dict[str, Any] | TradeError] = OrderedDict()
        self._checked: dict[str, int] = {}
        self._day = self.market.clock.day_of(self.market.now_ms())
        self._task: asyncio.Task[None] | None = None
        self._checkpointer = Checkpointer(server.store.path)
        self._pacer = TradePacer(server.config.max_trades_per_second)

    # trades --------------------------------------------------------------------------------------

    async def execute(self, call: Call, trade: dict[str, Any]) -> dict[str, Any]:
        """Execute one validated trade request; returns its §6.3 response or raises TradeError/ValidationError."""
        account_id = call.doc["_id"]
        key = (account_id, call.request_id)
        if key in self._recent:
            return self._answer(self._recent[key])
        mt4 = platform_of(call.doc) == "mt4"
        try:
            response, changes = self._run(call.doc, trade, call.account_id)
        except TradeError as error:
            error = mt4_error(error) if mt4 else error
            self._keep(key, error)
            raise error from None
        response = mt4_response(response) if mt4 else response
        self._keep(key, response)
        if changes:
            await self.publish(changes, connected=True)  # _run refuses trades while the broker is disconnected
        return response

    def _answer(self, kept: dict[str, Any] | TradeError) -> dict[str, Any]:
        if isinstance(kept, TradeError):
            raise kept
        return kept

    def _keep(self, key: tuple[str, str], result: dict[str, Any] | TradeError) -> None:
        self._recent[key] = result
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def _run(self, doc: dict[str, Any], trade: dict[str, Any], requested_id: str) -> tuple[dict[str, Any], Changes]:
        """Run the handler and commit its changes in one transaction (a rejection rolls everything back)."""
        account_id = doc["_id"]
        client_id = trade.get("clientId") if isinstance(trade.get("clientId"), str) else None
        if client_id is not None and (prior := self.ledger.recalled(account_id, client_id)) is not None:
            return prior, Changes(account_id)
        if not self.hub.broker_connected(requested_id):
            raise reject("TRADE_RETCODE_CONNECTION", "No connection to the trade server")
        if not self._pacer.allow(account_id):
            raise reject("TRADE_RETCODE_TOO_MANY_REQUESTS", "Too frequent requests: the broker paces this account")
        action = trade["actionType"]
        handler = ACTIONS.get(action)
        if handler is None:
            raise reject("TRADE_RETCODE_INVALID", f"{action} is not supported by the sandbox")
        self.hub.terminal.ensure_initial_deposit(doc)  # the deposit deal records the balance before any trade
        changes = Changes(account_id)
        ctx = self._context(doc, self.market.now_ms(), changes)
        with self.store.transaction():
            response = handler(ctx, trade)
            if action in _OPENING:
                self._check_margin(ctx)
            if client_id is not None:
                changes.remember = (client_id, response)
            self.ledger.commit(changes)
        return response, changes

    def _context(self, doc: dict[str, Any], at_ms: int, changes: Changes) -> Context:
        """The context a trade or trigger of account ``doc`` runs in at ``at_ms``."""
        commission = float(self.server.config.commission_per_lot)
        return Context(self.market, self.ledger, doc, at_ms, changes, self.hub.terminal.quotes,
                       commission_per_lot=commission)  # fmt: skip

    def _lacks_money(self, ctx: Context) -> str | None:
        """Why the change set cannot be afforded (the free margin after it is negative and its margin grew), or None."""
        terminal = self.hub.terminal
        trading = {**ctx.trading, "balance": float(ctx.trading.get("balance", 0.0)) + ctx.changes.balance}
        after = terminal.figures({**ctx.doc, "_trading": trading},
                                 [mark(terminal.quotes, p, ctx.currency) for p in ctx.positions()])  # fmt: skip
        if after["freeMargin"] >= 0:
            return None
        before = terminal.figures(ctx.doc, [mark(terminal.quotes, p, ctx.currency) for p in ctx.stored_positions()])
        if after["margin"] <= before["margin"]:
            return None
        return f"Not enough money: free margin would be {after['freeMargin']}"

    def _check_margin(self, ctx: Context) -> None:
        """Reject (10019) a trade after which the free margin would be negative with more margin used."""
        if (why := self._lacks_money(ctx)) is not None:
            raise reject("TRADE_RETCODE_NO_MONEY", why)

    async def publish(self, changes: Changes, connected: bool | None = None) -> None:
        """Send the change set as one ``update`` packet (full objects) to the account's streams
        (``connected``: the broker connection state when the caller knows it)."""
        account_id = changes.account_id
        doc = self.store.get("accounts", account_id)
        if doc is None:
            return
        terminal = self.hub.terminal
        info = terminal.account_information(doc)
        info["connected"] = self.hub.broker_connected(account_id) if connected is None else connected
        currency = info["currency"]
        update = {"accountInformation": info,
                  "updatedPositions": [mark(terminal.quotes, p, currency) for p in changes.positions.values()],
                  "removedPositionIds": changes.removed_positions, "updatedOrders": list(changes.orders.values()),
                  "completedOrderIds": changes.completed_orders, "historyOrders": changes.history_orders,
                  "deals": changes.deals}  # fmt: skip
        await self.hub.publish_update(account_id, update)

    # triggers ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the trigger loop (runs whether or not a client is connected) and the WAL checkpoint thread."""
        self.store.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it, off the loop
        self._checkpointer.start()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop the trigger loop and the checkpoint thread."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
            await asyncio.to_thread(self._checkpointer.stop)
            self.store.execute(f"PRAGMA wal_autocheckpoint={_AUTO_CHECKPOINT}")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(TRIGGER_INTERVAL)
            try:
                for changes in self.check_triggers():
                    await self.publish(changes)
            except Exception:
                log.exception("trigger pass failed")

    def check_triggers(self) -> list[Changes]:
        """One pass: walk the ticks since the last pass of every symbol with pending orders or stops."""
        watched: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for account_id, order in self.ledger.all_orders():
            watched.setdefault(order["symbol"], []).append((account_id, "order", order))
        for account_id, position in self.ledger.all_positions():
            if any(position.get(n) is not None for n in ("stopLoss", "takeProfit", "trailingStopLoss")):
                watched.setdefault(position["symbol"], []).append((account_id, "position", position))
        now = self.market.now_ms()
        out: list[Changes] = []
        for symbol, items in watched.items():
            born = {id(item): parse_iso_ms(item.get("updateTime") or item["time"], "time") for _, _, item in items}
            after = self._checked.get(symbol, min(born.values()))
            self._checked[symbol] = now
            done: set[str] = set()
            ticks = self.market.ticks_between(symbol, after, now)
            for tick in ticks:
                at = parse_iso_ms(tick["time"], "time")
                for account_id, kind, item in items:
                    if item["id"] in done or born[id(item)] >= at:
                        continue
                    changes = self._trigger(account_id, kind, item, at, tick["bid"], tick["ask"])
                    if changes:
                        done.add(item["id"])
                        out.append(changes)
            for account_id, kind, item in items:  # orders expire without a tick too
                if kind == "order" and item["id"] not in done and pending.expired(item, now):
                    out.append(self._trigger(account_id, kind, item, now, 0.0, 0.0))
                trails = kind == "position" and "trailingStopLoss" in item and item["id"] not in done
                if trails and ticks and born[id(item)] + TRAIL_EVERY_MS <= now:
                    out.append(self._trigger(account_id, "trail", item, now, ticks[-1]["bid"], ticks[-1]["ask"]))
        for symbol in set(self._checked) - set(watched):
            del self._checked[symbol]
        return out + self._rollover(now) + self._stop_outs(now)

    def _rollover(self, now: int) -> list[Changes]:
        """Charge swap for every broker midnight passed since the last pass."""
        day, self._day = self._day, self.market.clock.day_of(now)
        out: list[Changes] = []
        by_account: dict[str, list[dict[str, Any]]] = {}
        for account_id, position in self.ledger.all_positions() if self._day != day else ():
            by_account.setdefault(account_id, []).append(position)
        for account_id, positions in by_account.items():
            doc = self.store.get("accounts", account_id)
            if doc is None:
                continue
            changes = Changes(account_id)
            ctx = self._context(doc, now, changes)
            for ended in range(day, self._day):
                for position in positions:
                    swap.charge(ctx, changes.positions.get(position["id"], position), ended)
            with self.store.transaction():
                self.ledger.commit(changes)
            out.append(changes)
        return out

    def _stop_outs(self, now: int) -> list[Changes]:
        """Close the most losing position of every account whose margin level fell below its stop-out level."""
        out: list[Changes] = []
        for account_id in {account_id for account_id, _ in self.ledger.all_positions()}:
            doc = self.store.get("accounts", account_id)
            if doc is None:
                continue
            level = float(doc.get("_trading", {}).get("stopOutLevel", STOP_OUT_LEVEL))
            positions = self.hub.terminal.positions(doc)
            figures = self.hub.terminal.figures(doc, positions)
            if figures["marginLevel"] is None or figures["marginLevel"] >= level:
                continue
            worst = min(positions, key=lambda p: float(p.get("unrealizedProfit", 0)))
            changes = Changes(account_id)
            ctx = self._context(doc, now, changes)
            comment = f"[so {figures['marginLevel']:.2f}%]"
            extras = {"magic": worst.get("magic", 0), "comment": comment}
            try:
                with self.store.transaction():
                    trades.close_volume(ctx, worst, float(worst["volume"]), extras, "SO", worst.get("currentPrice"))
                    self.ledger.commit(changes)
            except TradeError as error:  # e.g. the market of the position is closed: try again next pass
                log.debug("stop-out of %s deferred: %s", account_id, error)
                continue
            out.append(changes)
        return out

    def _trigger(self, account_id: str, kind: str, item: dict[str, Any], at: int, bid: float, ask: float) -> Changes:
        doc = self.store.get("accounts", account_id)
        changes = Changes(account_id)
        if doc is None:
            return changes
        ctx = self._context(doc, at, changes)
        with self.store.transaction():
            if kind == "order" and pending.expired(item, at):
                pending.finish(ctx, item, "ORDER_STATE_EXPIRED")
            elif kind == "order" and pending.order_due(item, bid, ask):
                pending.fill(ctx, item, bid, ask)
                if ctx.changes.deals and self._lacks_money(ctx) is not None:  # the order is canceled instead
                    ctx = self._context(doc, at, Changes(account_id))
                    pending.finish(ctx, item, "ORDER_STATE_CANCELED", "[no money]")
                    changes = ctx.changes
            elif kind == "position" and (reason := pending.stop_hit(item, bid, ask)) is not None:
                pending.close_at_stop(ctx, item, reason, bid, ask)
            elif kind == "trail":
                pending.trail(ctx, item, bid, ask)
            self.ledger.commit(changes)
        return changes


__all__ = ["Broker"]
