"""Positions, orders and account panels on a real sandbox session: live rows, selection, buttons, refusals, close()."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets
import pytest
from live_frontend import Frontend, rendered_source
from test_market_panels import session_tasks

import mtdata
from mtdata.errors import ValidationException
from mtdata.live import clock
from mtdata.live.account_panel import AccountPanel
from mtdata.live.feed import ACCOUNT
from mtdata.live.table_rows import table_height
from mtdata.live.trade_tables import OrdersPanel, PositionsPanel, TradeTable

#: A Wednesday morning, 60 simulated seconds a second: prices (and floating profits) move fast.
MARKET = {"start": "2026-11-18T09:00:00Z", "speed": 60}


@pytest.fixture(scope="module")
def s() -> Iterator[mtdata.Session]:
    """A session on a sandbox of this module's own (its tests trade)."""
    with mtdata.connect(sandbox=MARKET, progress=False) as session:
        yield session


@pytest.fixture(autouse=True)
async def flat(s: mtdata.Session, frontend: Frontend) -> AsyncIterator[None]:
    """Every test starts and ends without positions or pending orders, the broker reachable."""
    yield
    box = s.sandbox
    assert box is not None
    box.call(box.server.faults.clear())
    s.close_all()
    for order in s.orders()["id"] if len(s.orders()) else []:
        s.cancel(order)


async def until(condition: Callable[[], Any], timeout: float = 30) -> None:
    """Let the loop run (panels redraw and buttons act on it) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def browser_selects(panel: TradeTable, indices: list[int]) -> None:
    """Select table rows as the browser does: a jsevent on the BokehModel's comm changing the selection."""
    selected = panel.source.selected
    event = {
        "event": "jsevent",
        "kind": "ModelChanged",
        "model": {"id": selected.id},
        "attr": "indices",
        "new": indices,
    }
    widget = panel._bokeh
    data = {"method": "custom", "content": event}
    widget.comm.handle_msg({"content": {"comm_id": widget.model_id, "data": data}, "buffers": []})


async def finish(panel: TradeTable) -> str:
    """Wait for the action a button started; its status line."""
    await until(lambda: not panel.busy)
    return panel.message


def enabled(panel: TradeTable) -> bool:
    return not panel.selected_button.disabled and not panel.all_button.disabled


async def test_positions_follow_buys_prices_and_closes(s: mtdata.Session, frontend: Frontend):
    panel = PositionsPanel(s, s.panel.feed, rate=50)
    state = s.connection().terminal_state
    one = s.buy("EURUSD", 0.1).position_id
    two = s.sell("GBPUSD", 0.2, sl=None).position_id
    await until(lambda: panel.ids == [one, two])
    data = panel.source.data
    rows = {row_id: {name: data[name][i] for name in data} for i, row_id in enumerate(data["id"])}
    assert rows[one]["symbol"] == "EURUSD" and rows[one]["type"] == "buy" and rows[one]["volume"] == 0.1
    assert rows[two]["type"] == "sell" and rows[two]["volume"] == 0.2
    first = {pid: row["profit"] for pid, row in rows.items()}

    def follows() -> bool:  # the floating profit shown is the terminal state's, and it moved since it opened
        live = {p["id"]: p["unrealizedProfit"] for p in state.positions}
        shown = dict(zip(panel.source.data["id"], panel.source.data["profit"], strict=True))
        return shown == live and shown != first

    await until(follows)
    assert panel.total_profit() == round(sum(panel.source.data["profit"]), 2)
    assert f"{panel.total_profit():+,.2f}" in panel.footer.value and "2 positions" in panel.footer.value
    colors = dict(zip(panel.source.data["profit"], panel.source.data["profit_color"], strict=True))
    assert all((color == "#b71c1c") == (profit < 0) for profit, color in colors.items())
    frontend.show(panel._bokeh, 1)  # a browser view connects: it gets the rows shown
    assert rendered_source(panel._bokeh, "positions")["id"] == [one, two]

    s.close_position(one)
    await until(lambda: panel.ids == [two])
    assert frontend.document_patches(panel._bokeh.model_id) >= 1  # the closed row left the view as a patch
    panel.close()


async def test_close_selected_acts_on_the_rows_the_browser_selected(s: mtdata.Session, frontend: Frontend):
    panel = PositionsPanel(s, s.panel.feed)
    ids = [s.buy(symbol, 0.1).position_id for symbol in ("EURUSD", "GBPUSD", "EURUSD", "USDJPY")]
    await until(lambda: panel.ids == ids)

    browser_selects(panel, [2])
    assert panel.selected == [ids[2]]
    s.close_position(ids[0])  # the rows above the selected one move: the selection follows its id
    await until(lambda: panel.ids == ids[1:])
    assert panel.selected == [ids[2]] and panel.source.selected.indices == [1]

    browser_selects(panel, [0, 1])
    panel.selected_button.click()
    assert not enabled(panel)  # no double click while closing
    assert await finish(panel) == f"2 positions closed: {ids[1]}, {ids[2]}."
    assert enabled(panel)
    await until(lambda: panel.ids == [ids[3]])
    assert panel.selected == [] and "1 position," in panel.footer.value
    panel.selected_button.click()
    assert panel.message == "Select the positions to close first."
    panel.close()


async def test_close_all_closes_the_positions_shown(s: mtdata.Session, frontend: Frontend):
    eurusd = PositionsPanel(s, s.panel.feed, "EURUSD")
    every = PositionsPanel(s, s.panel.feed)
    kept = s.buy("GBPUSD", 0.1).position_id
    closing = [s.buy("EURUSD", 0.1).position_id, s.sell("EURUSD", 0.3).position_id]
    await until(lambda: eurusd.ids == closing and every.ids == [kept, *closing])
    eurusd.all_button.click()
    assert await finish(eurusd) == f"2 positions closed: {closing[0]}, {closing[1]}."
    await until(lambda: eurusd.ids == [] and every.ids == [kept])
    assert "0 positions" in eurusd.footer.value and "+0.00" in eurusd.footer.value
    every.all_button.click()
    assert await finish(every) == f"1 position closed: {kept}."
    await until(lambda: every.ids == [])
    eurusd.close()
    every.close()


async def test_a_rejected_close_is_told_in_the_status_line_and_the_position_stays(
    s: mtdata.Session, frontend: Frontend
):
    panel = PositionsPanel(s, s.panel.feed)
    opened = s.buy("EURUSD", 0.1).position_id
    await until(lambda: panel.ids == [opened])
    box = s.sandbox
    assert box is not None
    box.call(box.server.faults.set_broker(box.account_id, False))
    panel.select([opened])
    panel.selected_button.click()
    message = await finish(panel)
    assert message.startswith(f"Position {opened} was not closed: rejected: ")
    assert "TRADE_RETCODE_CONNECTION" in message and "color:#b71c1c" in panel.status.value
    panel.all_button.click()
    assert "Could not close every position: rejected: " in await finish(panel)
    assert enabled(panel) and panel.ids == [opened]
    box.call(box.server.faults.set_broker(box.account_id, True))

    s.close_position(opened)  # a row closed elsewhere while still selected: refused before sending
    panel.selected_button.click()
    assert await finish(panel) == (
        f"Position {opened} was not closed: refused: position {opened} is not open on this account."
    )
    panel.close()


async def test_highlight_selects_a_position_now_or_when_it_appears(s: mtdata.Session, frontend: Frontend):
    panel = PositionsPanel(s, s.panel.feed)
    first = s.buy("EURUSD", 0.1).position_id
    panel.highlight(first)  # not shown yet: selected when it appears
    await until(lambda: panel.selected == [first])
    second = s.buy("EURUSD", 0.1).position_id
    await until(lambda: panel.ids == [first, second])
    panel.highlight(second)
    assert panel.selected == [second]
    with pytest.raises(ValidationException):
        panel.highlight(None)  # type: ignore[arg-type]
    panel.close()


async def test_orders_panel_shows_pending_orders_and_cancels_them(s: mtdata.Session, frontend: Frontend):
    panel = OrdersPanel(s, s.panel.feed, rate=50)
    bid = s.price("EURUSD")["bid"].iloc[0]
    ids = [
        s.buy_limit("EURUSD", 0.1, round(bid - 0.01, 5)).order_id,
        s.sell_stop("EURUSD", 0.2, round(bid - 0.02, 5), sl=round(bid - 0.01, 5)).order_id,
        s.sell_limit("GBPUSD", 0.1, round(s.price("GBPUSD")["bid"].iloc[0] + 0.02, 5)).order_id,
    ]
    await until(lambda: panel.ids == ids)
    data = panel.source.data
    assert data["type"] == ["buy limit", "sell stop", "sell limit"] and data["volume"] == [0.1, 0.2, 0.1]
    assert data["stopLoss"][1] == round(bid - 0.01, 5) and all(t > 0 for t in data["time"])
    assert data["digits"] == [5, 5, 5]  # the price columns show each symbol's digits (1.05550, not 1.0555)
    by_digits = {c.field for c in panel.table.columns if "digits" in getattr(c.formatter, "template", "")}
    assert by_digits == {"openPrice", "currentPrice", "stopLoss", "takeProfit"}
    assert "3 pending orders" in panel.footer.value
    assert panel.table.height == table_height(3, panel.table.row_height)  # as high as its rows, no blank grid
    await until(lambda: panel.source.data["currentPrice"][0] != data["currentPrice"][0])  # follows the market

    browser_selects(panel, [1])
    panel.selected_button.click()
    assert await finish(panel) == f"1 order cancelled: {ids[1]}."
    await until(lambda: panel.ids == [ids[0], ids[2]])
    panel.all_button.click()
    assert await finish(panel) == f"2 orders cancelled: {ids[0]}, {ids[2]}."
    await until(lambda: panel.ids == [])
    panel.close()


async def test_account_panel_matches_the_account_and_keeps_a_bounded_equity_curve(
    s: mtdata.Session, frontend: Frontend
):
    panel = AccountPanel(s, s.panel.feed, rollover=5, rate=50)
    s.buy("EURUSD", 1.0)

    def matches() -> bool:  # (the frame has NaN where the terminal has no value: no margin level when flat)
        account = s.account().to_dict()
        wanted = {name: None if account[name] != account[name] else account[name] for name in panel.values()}
        return panel.values() == wanted

    await until(lambda: panel.values() and matches())
    assert set(panel.values()) == {"balance", "equity", "margin", "free_margin", "margin_level", "currency"}
    assert panel.values()["currency"] == "USD" and panel.values()["margin"] > 0
    await until(lambda: panel.redraws > 10)  # prices stream: one equity sample per redraw, 5 kept and the newest
    curve = panel.window.source.data
    assert len(curve["equity"]) == 6 and curve["time"] == sorted(set(curve["time"]))  # one sample per market time
    assert len(panel.window) == 6
    s.close_all()
    await until(lambda: panel.values()["margin"] == 0 and matches())
    assert "<td class='mtdata-margin_level'>—</td>" in panel.figures.value  # flat: no margin level
    panel.close()


async def test_without_the_servers_clock_the_equity_curve_starts_with_a_price(
    s: mtdata.Session, frontend: Frontend, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    box = s.sandbox
    assert box is not None
    monkeypatch.setattr(clock, "START_TIMEOUT", 0.5)
    s.buy("EURUSD", 0.1)  # prices stream
    box.server.faults.add_delay(2.0, scope="socket", count=1)  # the panel's getServerTime answers too late
    panel = AccountPanel(s, s.panel.feed, rate=50)
    assert "the server's clock could not be read" in caplog.text
    await until(lambda: len(panel.window) >= 2)
    connection = s.connection()
    server = s.run(connection.get_server_time())["time"].timestamp() * 1000
    times = panel.window.data()["time"]
    assert times == sorted(times) and server - 600_000 < times[0] <= times[-1] <= server  # the prices' time
    panel.close()


async def test_redraws_read_a_copy_and_never_wait_for_a_busy_session_loop(
    s: mtdata.Session, frontend: Frontend, monkeypatch: pytest.MonkeyPatch
):
    feed = s.panel.feed

    def blocking(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a redraw waited for the session's loop")

    monkeypatch.setattr(feed, "account_state", blocking)
    positions, account = PositionsPanel(s, feed, rate=50), AccountPanel(s, feed, rate=50)
    opened = s.buy("EURUSD", 0.1).position_id
    await until(lambda: positions.ids == [opened] and account.values().get("margin", 0) > 0)
    assert positions._copy.copies >= 1 and positions.redraws >= 1
    started, release = threading.Event(), threading.Event()

    async def busy() -> None:
        started.set()
        release.wait(30)  # blocks the session's loop, as a burst of packets on a loaded machine would

    blocked = threading.Thread(target=s.run, args=(busy(),))
    blocked.start()
    try:
        assert started.wait(30)
        copies = positions._copy.copies  # none can be taken while the loop is stuck
        positions.changed()
        before = positions.redraws
        await until(lambda: positions.redraws > before)  # redrawn on this loop while the session's is stuck
        positions.redraw()
        account.redraw()
        assert positions.ids == [opened] and positions._copy.copies == copies  # the last copy, shown again
    finally:
        release.set()
        blocked.join()
    s.close_position(opened)
    await until(lambda: positions.ids == [])  # copies resume with the loop
    positions.close()
    account.close()


async def test_snapshots_hold_the_figures_above_and_the_totals_below(
    s: mtdata.Session, frontend: Frontend, tmp_path: Path
):
    positions, account = PositionsPanel(s, s.panel.feed, rate=50), AccountPanel(s, s.panel.feed, rate=50)
    s.buy("EURUSD", 0.1)
    await until(lambda: "1 position," in positions.footer.value and account.values().get("margin", 0) > 0)
    page = positions.snapshot(tmp_path / "positions.html").read_text(encoding="utf-8")
    assert page.index("data-root-id") < page.index(positions.footer.value) < page.rindex("</body>")
    page = account.snapshot(tmp_path / "account.html").read_text(encoding="utf-8")
    assert page.index("</head>") < page.index(account.figures.value) < page.index("data-root-id")
    positions.close()
    account.close()


async def test_close_leaves_no_sink_task_or_listener(s: mtdata.Session, frontend: Frontend):
    feed = s.panel.feed
    subscribed = {name: s.connection().subscriptions(name) for name in s.connection().subscribed_symbols()}
    tasks = session_tasks(s)
    panels = [PositionsPanel(s, feed), OrdersPanel(s, feed), AccountPanel(s, feed)]
    assert feed.streams == {ACCOUNT: 3} and ACCOUNT not in feed.owned
    now = {name: s.connection().subscriptions(name) for name in s.connection().subscribed_symbols()}
    assert now == subscribed  # the account stream subscribes no market data
    opened = s.buy("EURUSD", 0.1).position_id
    await until(lambda: panels[0].ids == [opened])
    panels[0].select([opened])
    panels[0].selected_button.click()  # closed while closing: the action is cancelled, nothing left running
    for panel in panels:
        panel.close()
        panel.close()  # idempotent
    assert feed.streams == {}
    assert all(p._throttle.closed and p._throttle._timer is None for p in panels)
    assert all(p._copy._throttle.closed for p in panels)  # no more copies on the session's loop
    assert panels[0]._action is not None and panels[0]._action.done()
    controls: list[ipywidgets.Widget] = [panels[0].selected_button, panels[1].all_button, panels[0].status]
    assert all(widget.comm is None for widget in controls)
    redraws = [p.redraws for p in panels]
    s.buy("EURUSD", 0.1)
    await asyncio.sleep(0.3)
    assert [p.redraws for p in panels] == redraws
    await until(lambda: not session_tasks(s) - tasks)  # nothing left running on the session's loop


async def test_bad_arguments_are_refused_before_anything_is_attached(s: mtdata.Session, frontend: Frontend):
    with pytest.raises(ValidationException) as caught:
        PositionsPanel(s, s.panel.feed, 42)  # type: ignore[arg-type]
    assert caught.value.details[0]["parameter"] == "symbol"
    with pytest.raises(ValidationException, match="must be a symbol of the account"):
        OrdersPanel(s, s.panel.feed, "NOSUCH")
    opened = set(frontend.logs)
    with pytest.raises(ValidationException):
        OrdersPanel(s, s.panel.feed, rate=0)
    made = [frontend.sent(comm_id) for comm_id in set(frontend.logs) - opened]
    controls = [log for log in made if log[0][1]["state"]["_model_name"] in ("ButtonModel", "HTMLModel", "HBoxModel")]
    assert len(controls) == 5 and all(log[-1][0] == "comm_close" for log in controls)  # closed again, footer too
    with pytest.raises(ValidationException):
        AccountPanel(s, s.panel.feed, rollover=0)
    assert ACCOUNT not in s.panel.feed.streams
