"""Helpers of the connection tests: waiting on conditions, comparing the local copy with the server's RPC view."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mtdata.client import MetaApi

#: Fields of positions and orders that do not move with prices (profit, currentPrice … do).
STABLE_FIELDS = ("id", "type", "symbol", "volume", "openPrice", "clientId", "magic", "state", "stopLoss", "takeProfit")
#: Account figures that move with prices (the rest of the account information must match exactly). The local copy
#: takes accountCurrencyExchangeRate from each prices packet (as the SDK does) and loses it when an update replaces
#: the account information, while RPC's account information has none: compared, it failed whenever a price came last
MOVING_FIGURES = ("equity", "margin", "freeMargin", "marginLevel", "accountCurrencyExchangeRate")
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def eventually(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Wait (generously) until ``condition()`` holds, checking every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def stable(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Positions or orders by id, reduced to the fields that do not change with prices."""
    return {str(item["id"]): {key: item.get(key) for key in STABLE_FIELDS} for item in items}


def steady(information: dict[str, Any]) -> dict[str, Any]:
    """Account information without the figures that move with prices."""
    return {key: value for key, value in information.items() if key not in MOVING_FIGURES}


async def server_view(rpc: Any) -> dict[str, Any]:
    """What the server says through RPC: positions, orders, account information, deals and history orders."""
    deals = (await rpc.get_deals_by_time_range(EPOCH, FAR))["deals"]
    orders = (await rpc.get_history_orders_by_time_range(EPOCH, FAR))["historyOrders"]
    return {
        "positions": stable(await rpc.get_positions()),
        "orders": stable(await rpc.get_orders()),
        "account": steady(await rpc.get_account_information()),
        "deals": {deal["id"]: deal for deal in deals},
        "history_orders": {order["id"]: order for order in orders},
    }


def local_view(connection: Any) -> dict[str, Any]:
    """The same figures from a streaming connection's terminal state and history storage."""
    state, history = connection.terminal_state, connection.history_storage
    return {
        "positions": stable(state.positions),
        "orders": stable(state.orders),
        "account": steady(state.account_information or {}),
        "deals": {deal["id"]: deal for deal in history.deals},
        "history_orders": {order["id"]: order for order in history.history_orders},
    }


async def assert_same_as_server(connection: Any, rpc: Any, timeout: float = 30) -> None:
    """Wait until the local copy equals the server's view (updates may still be in flight), then compare."""
    expected = await server_view(rpc)
    await eventually(lambda: local_view(connection) == expected, timeout, "the local copy to match the server")
    deals = connection.history_storage.deals
    assert len(deals) == len({deal["id"] for deal in deals}), "duplicate deals"


async def random_trading(connection: Any, seed: int, steps: int = 14) -> None:
    """Market and pending orders on a few symbols, some positions closed and some orders cancelled."""
    rng = random.Random(seed)
    symbols = ("EURUSD", "GBPUSD", "USDJPY")
    for _ in range(steps):
        action = rng.choice(("buy", "sell", "limit", "close", "cancel"))
        symbol = rng.choice(symbols)
        if action in ("buy", "sell"):
            helper = connection.create_market_buy_order if action == "buy" else connection.create_market_sell_order
            await helper(symbol, rng.choice((0.01, 0.1, 0.5)))
        elif action == "limit":
            price = await connection.get_symbol_price(symbol)
            await connection.create_limit_buy_order(symbol, 0.1, round(price["ask"] * 0.9, 3))
        elif action == "close" and connection.terminal_state.positions:
            await connection.close_position(rng.choice(connection.terminal_state.positions)["id"])
        elif action == "cancel" and connection.terminal_state.orders:
            await connection.cancel_order(rng.choice(connection.terminal_state.orders)["id"])


async def streaming_connection(api: MetaApi, account_id: str, **kwargs: Any) -> Any:
    """A connected and synchronized streaming connection."""
    account = await api.metatrader_account_api.get_account(account_id)
    connection = account.get_streaming_connection(**kwargs)
    await connection.connect()
    await connection.wait_synchronized({"timeoutInSeconds": 60})
    return connection


async def rpc_connection(api: MetaApi, account_id: str) -> Any:
    """A connected and synchronized RPC connection."""
    account = await api.metatrader_account_api.get_account(account_id)
    connection = account.get_rpc_connection()
    await connection.connect()
    await connection.wait_synchronized(60)
    return connection


async def hold_still(sandbox: Any, symbols: tuple[str, ...] = ("EURUSD", "GBPUSD", "USDJPY")) -> None:
    """Hold the symbols' prices still (the sandbox hashes positions and orders with their current prices)."""

    async def freeze() -> None:
        market = sandbox.server.market
        now = market.now_ms()
        for symbol in symbols:
            quote = market.price(symbol)
            market.force_path(symbol, [(now - 1000, quote["bid"], quote["ask"]),
                                       (now + 10**9, quote["bid"], quote["ask"])])  # fmt: skip

    await asyncio.to_thread(sandbox.call, freeze())
