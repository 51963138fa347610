"""Trading state, market data, latency and health frames from the streaming connection, against the sandbox's data."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest

import mtdata
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session

from .conftest import NOW


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, SandboxHandle, dict]]:
    """A session of its own sandbox with one closed position, one open position and one pending order."""
    from mtdata import sandbox as sandboxes

    with (
        sandboxes.start(data_dir=tmp_path_factory.mktemp("sandbox"), start=NOW) as box,
        mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session,
    ):
        connection = session.connection()
        closed = session.run(connection.create_market_buy_order("EURUSD", 0.1))
        session.run(connection.close_position(closed["positionId"]))
        opened = session.run(connection.create_market_sell_order("GBPUSD", 0.2, options={"comment": "kept"}))
        pending = session.run(connection.create_limit_buy_order("EURUSD", 0.3, 0.9))
        ids = {"closed": closed["positionId"], "open": opened["positionId"], "pending": pending["orderId"]}
        _wait(lambda: len(session.deals()) == 4 and len(session.orders()) == 1)  # with the initial deposit
        yield session, box, ids


def _wait(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _stored(box: SandboxHandle, table: str) -> list[dict]:
    return box.server.store.select(table, "account_id = ?", (box.account_id,))


def test_positions_and_orders(traded: tuple[Session, SandboxHandle, dict]) -> None:
    session, box, ids = traded
    positions = session.positions()
    assert list(positions["id"]) == [ids["open"]] and str(positions.index.dtype) == "datetime64[ms, UTC]"
    stored = _stored(box, "positions")[0]
    row = positions.iloc[0]
    assert (row["symbol"], row["type"], row["volume"], row["open_price"], row["comment"]) == (
        "GBPUSD", "POSITION_TYPE_SELL", 0.2, stored["openPrice"], "kept")  # fmt: skip
    assert positions.index[0] == pd.Timestamp(stored["time"])
    assert str(positions["symbol"].dtype) == "category" and positions["profit"].dtype == "float64"
    orders = session.orders()
    assert list(orders["id"]) == [ids["pending"]]
    assert orders.iloc[0]["open_price"] == 0.9 and orders.iloc[0]["type"] == "ORDER_TYPE_BUY_LIMIT"


def test_deals_and_history_orders(traded: tuple[Session, SandboxHandle, dict]) -> None:
    session, box, ids = traded
    deals = session.deals()
    stored = sorted(_stored(box, "deals"), key=lambda d: d["time"])
    assert sorted(deals["id"]) == sorted(d["id"] for d in stored)
    assert deals.index.is_monotonic_increasing and str(deals.index.dtype) == "datetime64[ms, UTC]"
    trades = deals[deals["type"] != "DEAL_TYPE_BALANCE"]
    assert list(trades["entry_type"]) == ["DEAL_ENTRY_IN", "DEAL_ENTRY_OUT", "DEAL_ENTRY_IN"]
    assert list(trades["position_id"]) == [ids["closed"], ids["closed"], ids["open"]]
    by_id = {d["id"]: d for d in stored}
    assert [by_id[i]["profit"] for i in trades["id"]] == list(trades["profit"])
    orders = session.history_orders()
    assert set(orders["id"]) == {d["id"] for d in _stored(box, "history_orders")}
    assert orders["done_time"].dtype == "datetime64[ms, UTC]"
    assert session.deals(end=deals.index[0] - pd.Timedelta(milliseconds=1)).empty
    late = session.deals(start=trades.index[-1])
    assert list(late["id"]) == list(deals[deals.index >= trades.index[-1]]["id"])


def test_account_price_book_specifications(traded: tuple[Session, SandboxHandle, dict]) -> None:
    session, box, _ = traded
    account = session.account()
    assert account["login"] == 50001 and account["currency"] == "USD" and "free_margin" in account.index
    prices = session.price(["EURUSD", "USDJPY"])
    assert list(prices["symbol"]) == ["EURUSD", "USDJPY"] and (prices["ask"] > prices["bid"]).all()
    for time_, row in prices.iterrows():
        quote = box.server.market.price(row["symbol"], int(time_.timestamp() * 1000))
        assert (row["bid"], row["ask"]) == (quote["bid"], quote["ask"])
    book = session.book("EURUSD")
    assert list(book.columns) == ["symbol", "side", "level", "price", "volume"]
    wire = box.server.market.book("EURUSD", int(book.index[0].timestamp() * 1000))["book"]
    assert list(book["price"]) == [level["price"] for level in wire]
    best_bid = book[(book["side"] == "buy") & (book["level"] == 0)]["price"].item()
    assert best_bid == max(level["price"] for level in wire if level["type"] == "BOOK_TYPE_BUY")
    specs = session.specifications()
    assert specs.index.name == "symbol" and "EURUSD" in specs.index and len(specs) == len(box.server.market.symbols())
    assert specs.loc["EURUSD", "digits"] == 5 and specs.loc["EURUSD", "contract_size"] == 100000
    assert list(session.specifications("XAUUSD").index) == ["XAUUSD"]


def test_latency_and_health(traded: tuple[Session, SandboxHandle, dict]) -> None:
    session, _, _ = traded
    latency = session.latency()
    assert list(latency.columns) == ["kind", "latency", "window", "statistic", "value"]
    trade = latency[(latency["kind"] == "trade") & (latency["window"] == "1h") & (latency["statistic"] == "count")]
    assert trade[trade["latency"] == "clientLatency"]["value"].item() >= 3
    assert {"price", "trade"} <= set(latency["kind"]) and any(
        k.startswith("request:") for k in latency["kind"].cat.categories
    )
    health = session.health()
    assert health["connected"] and health["synchronized"] and health["healthy"]
    html = session._repr_html_()
    assert "streaming, synchronized, broker connected" in html


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda s: s.book("NOPE"), "symbol"),
        (lambda s: s.price(["EURUSD", "NOPE"]), "symbols"),
        (lambda s: s.specifications(["NOPE"]), "symbols"),
        (lambda s: s.deals("2026-11-20", "2026-11-10"), "start"),
        (lambda s: s.history_orders(end="soon"), "end"),
    ],
)
def test_bad_input(traded: tuple[Session, SandboxHandle, dict], call, argument: str) -> None:
    with pytest.raises(ValidationException) as caught:
        call(traded[0])
    assert caught.value.details[0]["parameter"] == argument
