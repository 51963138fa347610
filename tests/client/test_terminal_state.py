"""TerminalState driven through its listener methods: synchronization with and without reused hashes, updates,
removal memory, price maths, waits for prices, several streams."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mtdata.client import MetaApi
from mtdata.client.state.hash_manager import TerminalHashManager
from mtdata.client.state.terminal import TerminalState
from mtdata.errors import TimeoutException, ValidationException
from mtdata.hashing import collection_hash

II = "vint-hill:0:ps-mpa-0"
II1 = "vint-hill:1:ps-mpa-1"
T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
SPECS = [
    {"symbol": "EURGBP", "tickSize": 0.00001, "digits": 5, "contractSize": 100000, "profitCurrency": "GBP"},
    {"symbol": "USDJPY", "tickSize": 0.001, "digits": 3, "contractSize": 100000, "profitCurrency": "JPY"},
]
INFO = {"platform": "mt5", "broker": "Sandbox", "currency": "USD", "server": "Sandbox-Demo", "balance": 10000,
        "equity": 10000, "margin": 0, "freeMargin": 10000, "leverage": 100, "marginLevel": None}  # fmt: skip
#: EURGBP in a USD account: one lot's tick (0.00001 GBP x 100000) is worth about 1.27 USD.
BUY = {"id": "1", "type": "POSITION_TYPE_BUY", "symbol": "EURGBP", "magic": 0, "openPrice": 0.87, "volume": 0.5,
       "currentPrice": 0.87, "currentTickValue": 1.27, "profit": -1.5, "unrealizedProfit": 0, "realizedProfit": -1.5,
       "swap": -0.3, "commission": -1.5}  # fmt: skip
SELL_WINNING = {"id": "2", "type": "POSITION_TYPE_SELL", "symbol": "EURGBP", "magic": 0, "openPrice": 0.873,
                "volume": 1.0, "profit": 0, "unrealizedProfit": 0, "realizedProfit": 0, "swap": 0}  # fmt: skip
SELL_LOSING = {**SELL_WINNING, "id": "3", "openPrice": 0.871, "volume": 2.0}
ORDERS = [
    {"id": "10", "type": "ORDER_TYPE_BUY_LIMIT", "symbol": "EURGBP", "magic": 0, "openPrice": 0.86, "volume": 1},
    {"id": "11", "type": "ORDER_TYPE_SELL_STOP", "symbol": "EURGBP", "magic": 0, "openPrice": 0.86, "volume": 1},
    {"id": "12", "type": "ORDER_TYPE_SELL_LIMIT", "symbol": "USDJPY", "magic": 0, "openPrice": 160, "volume": 1},
]


def price(symbol: str = "EURGBP", bid: float = 0.8715, ask: float = 0.8717, at: datetime = T0, **extra: Any):
    return {"symbol": symbol, "bid": bid, "ask": ask, "profitTickValue": 1.27, "lossTickValue": 1.2702,
            "time": at, "brokerTime": "2026-11-18 11:00:00.000", **extra}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def manager() -> AsyncIterator[TerminalHashManager]:
    api = MetaApi.sandbox("http://127.0.0.1:9", "token")  # never contacted: no ignored field lists are fetched
    yield TerminalHashManager(api.context)
    await api.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(manager: TerminalHashManager, clock: Clock) -> TerminalState:
    return TerminalState("acc", "cloud-g2", "Sandbox-Demo", manager, clock=clock)


async def synchronize(
    state: TerminalState,
    ii: str = II,
    *,
    info: dict[str, Any] | None = None,
    specs: list[dict[str, Any]] | None = None,
    positions: list[dict[str, Any]] | None = None,
    orders: list[dict[str, Any]] | None = None,
    hashes: tuple[str | None, str | None, str | None] = (None, None, None),
    sync_id: str = "sync",
    finish: bool = True,
) -> None:
    """The listener calls of one synchronization (§7.4); collections None are not sent (reused by hash)."""
    await state.on_connected(ii, 1)
    await state.on_synchronization_started(ii, *hashes, sync_id)
    await state.on_account_information_updated(ii, copy.deepcopy(info or INFO))
    if specs is not None:
        await state.on_symbol_specifications_updated(ii, copy.deepcopy(specs), [])
    if positions is not None:
        await state.on_positions_replaced(ii, copy.deepcopy(positions))
    await state.on_positions_synchronized(ii, sync_id)
    if orders is not None:
        await state.on_pending_orders_replaced(ii, copy.deepcopy(orders))
    if finish:
        await state.on_pending_orders_synchronized(ii, sync_id)


def ids(items: list[dict[str, Any]]) -> list[str]:
    return sorted(item.get("id") or item["symbol"] for item in items)


async def test_synchronization_fills_the_state_and_offers_its_collection_hashes(state: TerminalState) -> None:
    assert state.account_information is None and state.positions == [] and state.specification("EURGBP") is None
    await synchronize(state, specs=SPECS, positions=[BUY, SELL_WINNING], orders=ORDERS)
    assert state.connected and not state.connected_to_broker
    await state.on_broker_connection_status_changed(II, True)
    assert state.connected_to_broker
    assert state.account_information == INFO
    assert ids(state.positions) == ["1", "2"] and ids(state.orders) == ["10", "11", "12"]
    assert state.specification("USDJPY") == SPECS[1] and ids(state.specifications) == ["EURGBP", "USDJPY"]
    assert state.get_hashes() == {
        "specificationsHashes": [collection_hash(SPECS, "specification")],
        "positionsHashes": [collection_hash([BUY, SELL_WINNING], "position")],
        "ordersHashes": [collection_hash(ORDERS, "order")],
    }
    await state.on_disconnected(II)
    assert not state.connected and not state.connected_to_broker


async def test_resync_with_reused_hashes_keeps_the_collections(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY], orders=ORDERS[:1])
    offered = state.get_hashes()
    reused = (offered["specificationsHashes"][0], offered["positionsHashes"][0], offered["ordersHashes"][0])
    await synchronize(state, hashes=reused, sync_id="again")
    assert state.positions == [BUY] and state.orders == ORDERS[:1] and ids(state.specifications) == ["EURGBP", "USDJPY"]
    assert state.get_hashes() == offered
    # an update while the next resync runs reaches the visible state at once and the new state's hashes
    await synchronize(state, hashes=reused, sync_id="third", finish=False)
    await state.on_positions_updated(II, [copy.deepcopy(SELL_WINNING)], [])
    assert ids(state.positions) == ["1", "2"]
    await state.on_pending_orders_synchronized(II, "third")
    assert ids(state.positions) == ["1", "2"]
    assert state.get_hashes()["positionsHashes"][0] == collection_hash([BUY, SELL_WINNING], "position")


async def test_the_visible_state_changes_only_when_a_synchronization_completes(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY], orders=[])
    await synchronize(state, specs=SPECS[:1], positions=[SELL_WINNING], orders=ORDERS, finish=False)
    assert state.positions == [BUY] and state.orders == [] and len(state.specifications) == 2
    await state.on_pending_orders_synchronized(II, "sync")
    assert state.positions == [SELL_WINNING] and ids(state.orders) == ["10", "11", "12"]
    assert ids(state.specifications) == ["EURGBP"]


async def test_updates_merge_by_id_and_hashes_follow_incrementally(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY, SELL_WINNING], orders=ORDERS)
    changed = {**BUY, "stopLoss": 0.86}
    await state.on_positions_updated(II, [changed, SELL_LOSING], ["2"])
    await state.on_pending_orders_updated(II, [{**ORDERS[0], "openPrice": 0.85}], ["11"])
    await state.on_symbol_specifications_updated(II, [{**SPECS[1], "digits": 2}], ["EURGBP"])
    assert sorted(state.positions, key=lambda p: p["id"]) == [changed, SELL_LOSING]
    assert [o["openPrice"] for o in sorted(state.orders, key=lambda o: o["id"])] == [0.85, 160]
    assert state.specifications == [{**SPECS[1], "digits": 2}]
    hashes = state.get_hashes()
    assert hashes["positionsHashes"][0] == collection_hash([changed, SELL_LOSING], "position")
    assert hashes["ordersHashes"][0] == collection_hash(state.orders, "order")
    assert hashes["specificationsHashes"][0] == collection_hash(state.specifications, "specification")
    assert len(hashes["positionsHashes"]) == 2  # the synchronized collection, then the updated one
    await state.on_positions_updated(II, [], ["1", "4"])
    await state.on_positions_updated(II, [], ["3"])
    # an empty collection has no hash: the newest offered one is the last non-empty state
    assert state.positions == [] and state.get_hashes()["positionsHashes"][0] == collection_hash(
        [SELL_LOSING], "position"
    )
    await state.on_positions_updated(II, [{**BUY, "id": "8"}], [])
    assert state.get_hashes()["positionsHashes"][0] == collection_hash([{**BUY, "id": "8"}], "position")


async def test_removed_and_completed_ids_are_remembered_for_a_day(state: TerminalState, clock: Clock) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY, SELL_WINNING], orders=ORDERS)
    await state.on_positions_updated(II, [], ["1"])
    await state.on_pending_orders_updated(II, [], ["10"])
    await state.on_positions_updated(II, [BUY], [])  # a late echo of the removed position
    await state.on_pending_orders_updated(II, [ORDERS[0]], [])
    assert ids(state.positions) == ["2"] and ids(state.orders) == ["11", "12"]
    await synchronize(state, specs=SPECS, positions=[BUY, SELL_WINNING], orders=ORDERS, sync_id="later")
    assert ids(state.positions) == ["2"] and ids(state.orders) == ["11", "12"]
    clock.now += 24 * 3600 + 1
    await state.on_positions_updated(II, [BUY], [])
    await state.on_pending_orders_updated(II, [ORDERS[0]], [])
    assert ids(state.positions) == ["1", "2"] and ids(state.orders) == ["10", "11", "12"]


async def test_prices_reprice_positions_and_orders_of_their_symbol(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY, SELL_WINNING, SELL_LOSING], orders=ORDERS)
    await state.on_symbol_prices_updated(II, [price()])
    positions = {p["id"]: p for p in state.positions}
    # buy: (0.8715 - 0.87) / 0.00001 = 150 ticks x 1.27 (winning) x 0.5 lots = 95.25, plus realized -1.5
    assert positions["1"]["unrealizedProfit"] == 95.25 and positions["1"]["profit"] == 93.75
    assert positions["1"]["currentPrice"] == 0.8715 and positions["1"]["currentTickValue"] == 1.27
    # sell winning: (0.873 - 0.8717) / 0.00001 = 130 ticks x 1.27 x 1 lot = 165.1
    assert positions["2"]["profit"] == 165.1 and positions["2"]["currentPrice"] == 0.8717
    # sell losing: (0.871 - 0.8717) / 0.00001 = -70 ticks x 1.2702 (losing) x 2 lots = -177.828
    assert positions["3"]["profit"] == -177.828 and positions["3"]["currentTickValue"] == 1.2702
    # MT5 equity: balance + each position's profit and swap rounded to cents: 10000 + 95.25 - 0.3 + 165.1 - 177.83
    assert state.account_information["equity"] == 10082.22
    assert [o.get("currentPrice") for o in sorted(state.orders, key=lambda o: o["id"])] == [0.8717, 0.8715, None]
    assert state.price("EURGBP")["bid"] == 0.8715
    assert state.last_quote_time == {"time": T0, "brokerTime": "2026-11-18 11:00:00.000"}


async def test_an_older_price_is_ignored(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY], orders=[])
    await state.on_symbol_prices_updated(II, [price()])
    await state.on_symbol_prices_updated(II, [price(bid=0.9, ask=0.9002, at=T0 - timedelta(seconds=1))])
    assert state.price("EURGBP")["bid"] == 0.8715 and state.positions[0]["profit"] == 93.75
    await state.on_symbol_prices_updated(II, [price(bid=0.8701, ask=0.8703, at=T0 + timedelta(seconds=1))])
    # (0.8701 - 0.87) / 0.00001 = 10 ticks x 1.27 x 0.5 = 6.35
    assert state.positions[0]["unrealizedProfit"] == 6.35 and state.positions[0]["profit"] == 4.85


async def test_mt4_equity_includes_commission_and_waits_for_every_symbol(state: TerminalState) -> None:
    yen = {"id": "5", "type": "POSITION_TYPE_BUY", "symbol": "USDJPY", "magic": 0, "openPrice": 150.0,
           "volume": 0.1, "profit": 0, "unrealizedProfit": 0, "realizedProfit": 0, "swap": 0}  # fmt: skip
    await synchronize(state, info={**INFO, "platform": "mt4"}, specs=SPECS, positions=[BUY, yen], orders=[])
    await state.on_symbol_prices_updated(II, [price()])
    assert state.account_information["equity"] == 10000  # USDJPY has no price yet: equity not recomputed
    await state.on_symbol_prices_updated(II, [price("USDJPY", 150.1, 150.12, profitTickValue=0.666)])
    # 10000 + 95.25 - 0.3 - 1.5 (commission) + (150.1 - 150) / 0.001 = 100 ticks x 0.666 x 0.1 = 6.66
    assert state.account_information["equity"] == 10100.11


async def test_account_figures_of_the_prices_packet_win(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[BUY], orders=[])
    await state.on_symbol_prices_updated(II, [price(accountCurrencyExchangeRate=1.0)], 10050.456, 120.5, 9929.95, 8340)
    info = state.account_information
    assert (info["equity"], info["margin"], info["freeMargin"], info["marginLevel"]) == (10050.46, 120.5, 9929.95, 8340)
    assert info["accountCurrencyExchangeRate"] == 1.0
    await state.on_symbol_prices_updated(II, [price(at=T0 + timedelta(seconds=1))], None, 0.0, None, None, 0.9)
    assert info["equity"] == 10000 + 95.25 - 0.3 and info["margin"] == 0.0 and info["freeMargin"] == 9929.95
    assert info["accountCurrencyExchangeRate"] == 0.9


async def test_a_position_without_realized_profit_gets_it_derived_first(state: TerminalState) -> None:
    bare = {"id": "7", "type": "POSITION_TYPE_BUY", "symbol": "EURGBP", "magic": 0, "openPrice": 0.87,
            "volume": 0.1, "profit": 10, "currentPrice": 0.871, "currentTickValue": 1.27}  # fmt: skip
    await synchronize(state, specs=SPECS, positions=[bare], orders=[])
    await state.on_symbol_prices_updated(II, [price()])
    # derived: unrealized (0.871 - 0.87) / 0.00001 x 1.27 x 0.1 = 12.7, realized 10 - 12.7 = -2.7;
    # at 0.8715: unrealized 150 x 1.27 x 0.1 = 19.05, profit 19.05 - 2.7 = 16.35
    assert state.positions[0]["unrealizedProfit"] == 19.05 and state.positions[0]["profit"] == 16.35


async def test_wait_for_price_resolves_on_the_first_price_and_times_out(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[], orders=[])
    waiting = asyncio.create_task(state.wait_for_price("EURGBP", 10))
    await asyncio.sleep(0)
    await state.on_symbol_prices_updated(II, [price()])
    assert (await waiting)["bid"] == 0.8715
    assert (await state.wait_for_price("EURGBP"))["bid"] == 0.8715  # already there
    with pytest.raises(TimeoutException):
        await state.wait_for_price("USDJPY", 0.05)
    assert state._waits.waiters == {}  # the timed-out wait left nothing behind
    with pytest.raises(ValidationException):
        await state.wait_for_price("", 1)
    with pytest.raises(ValidationException):
        await state.wait_for_price("USDJPY", -1)


async def test_the_most_recently_synchronized_stream_wins(state: TerminalState) -> None:
    await synchronize(state, II, specs=SPECS, positions=[BUY], orders=[])
    await synchronize(state, II1, specs=SPECS, positions=[SELL_WINNING], orders=[])
    assert state.positions == [SELL_WINNING]
    await state.on_positions_updated(II, [SELL_LOSING], [])  # stream 0's own state, not the visible one
    assert state.positions == [SELL_WINNING]
    await state.on_stream_closed(II1)
    assert state.connected and state.positions == [SELL_WINNING]  # kept until another stream synchronizes
    await state.on_positions_updated(II, [SELL_LOSING], [])  # and it follows the remaining streams' updates
    assert ids(state.positions) == ["2", "3"]
    await synchronize(state, II, specs=SPECS, positions=[BUY], orders=[], sync_id="again")
    assert state.positions == [BUY]
    await state.on_stream_closed(II)
    assert not state.connected and state.positions == [BUY]
    state.close()


async def test_prices_survive_a_resynchronization(state: TerminalState) -> None:
    await synchronize(state, specs=SPECS, positions=[], orders=[])
    await state.on_symbol_prices_updated(II, [price()])
    await synchronize(state, specs=SPECS, positions=[], orders=[], sync_id="again")
    assert state.price("EURGBP")["bid"] == 0.8715


async def test_a_reused_hash_the_client_no_longer_holds_leaves_the_collection_empty(
    state: TerminalState, caplog
) -> None:
    await synchronize(state, specs=SPECS, positions=[], orders=[], hashes=(None, "0" * 32, None))
    assert state.positions == [] and "no positions kept under the reused hash" in caplog.text
    assert state.get_hashes()["positionsHashes"] == []
