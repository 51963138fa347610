"""Market panels on a real sandbox session: shared subscriptions, the forming candle, the ticker, close()."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from live_frontend import Frontend, rendered_source
from test_feed import FAST_MARKET, kinds, listeners_of

import mtdata
from mtdata.errors import ValidationException
from mtdata.live import Stream

MINUTE_MS = 60_000


@pytest.fixture(scope="module")
def session() -> Iterator[mtdata.Session]:
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as opened:
        yield opened


async def until(condition: Any, timeout: float = 30) -> None:
    """Let the loop run (panels redraw on it) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def session_tasks(session: mtdata.Session) -> Counter[str]:
    """What the tasks alive on the session's loop run, counted (the client replaces some, e.g. queue reads)."""

    async def alive() -> Counter[str]:
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        return Counter(task.get_coro().__qualname__ for task in tasks)  # type: ignore[union-attr]

    return session.run(alive())


async def test_two_tickers_share_one_subscription_and_the_last_close_drops_it(
    session: mtdata.Session, frontend: Frontend
):
    session.connection()
    tasks = session_tasks(session)
    one = session.panel.ticker("EURUSD")
    two = session.panel.ticker(["EURUSD", "GBPUSD"])
    feed = session.panel.feed
    assert feed.streams == {Stream("quotes", "EURUSD"): 2, Stream("quotes", "GBPUSD"): 1}
    assert kinds(session, "EURUSD") == [("quotes", None)]
    assert len(listeners_of(session)) == 1
    one.close()
    assert kinds(session, "EURUSD") == [("quotes", None)]
    assert feed.streams == {Stream("quotes", "EURUSD"): 1, Stream("quotes", "GBPUSD"): 1}
    redraws = two.redraws
    await until(lambda: two.redraws > redraws)  # still fed
    two.close()
    assert feed.streams == {} and kinds(session, "EURUSD") == [] and kinds(session, "GBPUSD") == []
    assert session.panel.open == []
    assert listeners_of(session) == [session.panel.feed]  # the feed's one listener stays until the session closes
    await until(lambda: not session_tasks(session) - tasks)  # nothing left running on the session's loop
    assert not one._throttle._timer and not two._throttle._timer  # nor on the kernel's


async def test_the_ticker_shows_the_terminal_states_price_and_flashes_changes(
    session: mtdata.Session, frontend: Frontend
):
    ticker = session.panel.ticker(["EURUSD", "GBPUSD"], rate=50)
    terminal = session.connection().terminal_state

    def follows() -> bool:
        shown = ticker.values().get("EURUSD")
        price = terminal.price("EURUSD")
        return bool(shown) and (shown["bid"], shown["ask"], shown["time"]) == (
            price["bid"],
            price["ask"],
            price["time"],
        )

    await until(follows)
    shown = ticker.values()["EURUSD"]
    assert shown["spread"] == pytest.approx(shown["ask"] - shown["bid"])
    assert shown["points"] == round(shown["spread"] * 100_000) > 0  # EURUSD: 5 digits, a point is 0.00001
    row = ticker.html.split("data-symbol='EURUSD'>")[1].split("</tr>")[0]
    cells = dict(re.findall(r"<td class='mtdata-(\w+)[^']*'>([^<]*)</td>", row))
    assert cells["bid"] == f"{shown['bid']:.5f}"  # 1.05550, never 1.0555
    assert cells["spread"] == str(shown["points"])  # points, like MetaTrader (not 8e-05)
    await until(lambda: "mtdata-up" in ticker.html or "mtdata-down" in ticker.html)  # a flash
    await until(lambda: set(ticker.values()) == {"EURUSD", "GBPUSD"})
    ticker.close()


async def test_the_candles_panel_fills_history_patches_the_forming_bar_and_streams_it_on_close(
    session: mtdata.Session, frontend: Frontend
):
    panel = session.panel.candles("EURUSD", "1m", rollover=40, rate=50)
    widget = panel.children[0]
    frontend.show(widget, views=1)
    data = panel.window.data()
    assert len(data["time"]) == 41  # 40 closed bars of history and the forming one
    assert all(b - a == MINUTE_MS for a, b in zip(data["time"], data["time"][1:], strict=False))
    opened = panel.forming
    assert opened is not None and opened["time"] == data["time"][-1]
    assert kinds(session, "EURUSD") == [("candles", "1m")]

    # a forming bar changes in place (same open time, new values), then a later bar closes it; at 60 simulated
    # seconds a second a bar forms for one second, so the one forming above may be over before the test looks (a
    # loaded machine): the bar watched is whichever is seen changing, each compared with its first version seen
    seen: dict[float, dict[str, Any]] = {}
    changed: list[dict[str, Any]] = []

    def changes_in_place() -> bool:
        bar = panel.forming  # one read (a copy): the feed moves it on, on the session's thread
        if bar != seen.setdefault(bar["time"], bar):
            changed.append(seen[bar["time"]])
        return bool(changed)

    await until(changes_in_place)
    first = changed[0]
    await until(lambda: panel.forming["time"] > first["time"])
    await until(lambda: panel.window.data()["time"][-1] == panel.forming["time"])
    data = panel.window.data()
    assert len(data["time"]) == 41  # rolled over: still 40 closed bars and one forming
    assert all(b > a for a, b in zip(data["time"], data["time"][1:], strict=False))
    assert first["time"] in data["time"][:-1]  # the bar that was forming is now a closed one
    await until(lambda: panel.window.source.data["time"][-1] == panel.forming["time"])
    assert (
        list(panel.window.source.data["time"]) == panel.window.data()["time"][-len(panel.window.source.data["time"]) :]
    )

    newest = panel.window.data()["time"][-1]
    session.run(asyncio.sleep(0))  # the feed's callback that moved the window on has also marked the panel changed
    frontend.show(widget, views=2)  # a second browser view connecting gets the current window
    # (what the kernel shows, the bars come since drawn first; the window read after could hold a newer bar still)
    rendered = rendered_source(widget, "candles")["time"]
    assert rendered == list(panel.window.source.data["time"]) and rendered[-1] >= newest
    assert frontend.document_patches(widget.model_id) >= 2
    panel.close()
    assert kinds(session, "EURUSD") == []


async def test_ticks_and_book_panels_fill_their_sources(session: mtdata.Session, frontend: Frontend):
    ticks = session.panel.ticks("USDJPY", rollover=100, rate=50)
    book = session.panel.book("USDJPY", rate=50)
    await until(lambda: len(ticks.window.source.data["bid"]) >= 3 and len(book.ladder.data["price"]) >= 2)
    assert set(book.ladder.data["side"]) == {"ask", "bid"}
    prices = book.ladder.data["price"]
    assert prices == sorted(prices, reverse=True)  # asks above bids, high to low
    depth = book.depth.data
    assert depth["ask_depth"] == sorted(depth["ask_depth"]) and depth["bid_depth"] == sorted(depth["bid_depth"])
    assert all(a <= b for a, b in zip(ticks.window.data()["bid"], ticks.window.data()["ask"], strict=True))
    charts = [ticks.layout_model.select_one({"name": "ticks_chart"}),
              book.layout_model.select_one({"name": "depth_chart"})]
    assert not any(c.x_range.syncable or c.y_range.syncable for c in charts)  # ranges the page's, not sent back
    ticks.close()
    book.close()
    assert kinds(session, "USDJPY") == []


async def test_bad_arguments_are_refused_and_leave_nothing_subscribed(session: mtdata.Session, frontend: Frontend):
    for call, name in (
        (lambda: session.panel.ticker([]), "symbols"),
        (lambda: session.panel.ticker(["EURUSD", "EURUSD"]), "symbols"),
        (lambda: session.panel.candles("EURUSD", "7m"), "timeframe"),
        (lambda: session.panel.ticker(["EURUSD", "NOSUCH"]), "symbol"),
    ):
        with pytest.raises(ValidationException) as caught:
            call()
        assert caught.value.details[0]["parameter"] == name
    assert session.panel.feed.streams == {} and kinds(session, "EURUSD") == []
    assert session.panel.open == []


async def test_closing_the_session_closes_its_panels_and_the_feed(frontend: Frontend):
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as own:
        ticker = own.panel.ticker("EURUSD")
        candles = own.panel.candles("EURUSD", "1m", rollover=10)
        feed = own.panel.feed
        assert feed.listening
    assert ticker.closed and candles.closed and not feed.listening and feed.streams == {}
    assert own.panel.open == []
