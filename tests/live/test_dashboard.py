"""``s.dashboard`` and ``s.order_ticket`` on a real sandbox session: five shared-feed panels, failures, close()."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from bokeh.models import Plot
from live_frontend import Frontend
from test_feed import FAST_MARKET, kinds, listeners_of
from test_market_panels import session_tasks, until

import mtdata
from mtdata.errors import ValidationException
from mtdata.live import (
    CHART_RATE,
    DEFAULT_RATE,
    MIXED_RATE,
    AccountPanel,
    CandlesPanel,
    Dashboard,
    LatencyPanel,
    OrderTicket,
    PositionsPanel,
    Stream,
    TickerPanel,
    TradingDesk,
)
from mtdata.live.clock import TIME_LABEL
from mtdata.live.feed import ACCOUNT


@pytest.fixture(scope="module")
def session() -> Iterator[mtdata.Session]:
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as opened:
        yield opened


async def test_dashboard_lays_out_five_live_panels_on_one_feed_and_closes_them_all(
    session: mtdata.Session, frontend: Frontend
):
    session.connection()
    tasks = session_tasks(session)
    board = session.dashboard(["EURUSD", "GBPUSD"], "1m")
    assert isinstance(board, Dashboard)
    kinds_of = {name: type(panel) for name, panel in board.panels.items()}
    assert kinds_of == {
        "ticker": TickerPanel,
        "account": AccountPanel,
        "candles": CandlesPanel,
        "positions": PositionsPanel,
        "latency": LatencyPanel,
    }
    assert [[panel for panel in row.children] for row in board.children] == [
        [board["ticker"], board["account"]],
        [board["candles"]],
        [board["positions"]],
        [board["latency"]],
    ]
    feed = session.panel.feed
    assert feed.streams == {
        Stream("quotes", "EURUSD"): 1,
        Stream("quotes", "GBPUSD"): 1,
        Stream("candles", "EURUSD", "1m"): 1,
        ACCOUNT: 2,
    }
    assert len(listeners_of(session)) == 1
    rates = {name: panel.rate for name, panel in board.panels.items()}  # at most 10 comm messages per panel a second
    assert rates == {"ticker": DEFAULT_RATE, "account": MIXED_RATE, "candles": CHART_RATE, "positions": MIXED_RATE,
                     "latency": MIXED_RATE}  # fmt: skip
    ticker = board["ticker"]
    assert isinstance(ticker, TickerPanel)
    await until(lambda: set(ticker.values()) == {"EURUSD", "GBPUSD"})
    assert all(not panel.closed for panel in board.panels.values())
    assert repr(board) == "<Dashboard of ticker, account, candles, positions, latency live>"  # one line, no tree
    assert repr(ticker) == "<TickerPanel 'ticker EURUSD GBPUSD' live>"

    board.close()
    board.close()  # idempotent
    assert board.closed and all(panel.closed for panel in board.panels.values())
    assert repr(board) == "<Dashboard of ticker, account, candles, positions, latency closed>"
    assert feed.streams == {}
    assert kinds(session, "EURUSD") == [] and kinds(session, "GBPUSD") == []
    await until(lambda: not session_tasks(session) - tasks)  # the latency poll ended too


def server_ms(session: mtdata.Session) -> float:
    """The trade server's clock now (ms since the epoch, UTC)."""
    connection = session.connection()
    return session.run(connection.get_server_time())["time"].timestamp() * 1000


async def test_every_chart_of_the_dashboard_runs_on_the_market_clock(session: mtdata.Session, frontend: Frontend):
    before = server_ms(session)
    board = session.dashboard(["EURUSD"])
    equity, latency, candles = (board[name].window for name in ("account", "latency", "candles"))
    await until(lambda: len(equity) >= 3 and len(latency) >= 1)
    times = {"equity": equity.data()["time"], "latency": latency.data()["time"], "candles": candles.data()["time"]}
    after, wall = server_ms(session), time.time() * 1000
    board.close()
    # the sandbox runs 60 times faster than this machine, from a Wednesday in the past: its clock, not this one
    assert after - before > 60_000 and not before <= wall <= after
    for name in ("equity", "latency"):
        assert before <= times[name][0] and times[name][-1] <= after, (name, before, times[name], after)
    # one range for all: the candles' hours of history end where the equity and latency samples are
    assert times["candles"][0] < before and times["equity"][-1] < times["candles"][-1] + 3 * 60_000
    assert times["latency"][-1] < times["candles"][-1] + 3 * 60_000
    charts = {"candles": "volume_chart", "account": "equity_chart", "latency": "latency_chart"}  # x axes at the bottom
    labels = {board[p].layout_model.select_one({"name": c}).xaxis[0].axis_label for p, c in charts.items()}
    assert labels == {TIME_LABEL}
    # every chart's ranges are the page's: the browser sends none of its auto-ranging, pans or zooms back
    figures = [f for panel in board.panels.values() if hasattr(panel, "layout_model")
               for f in panel.layout_model.select({"type": Plot})]  # fmt: skip
    assert len(figures) == 4 and not any(f.x_range.syncable or f.y_range.syncable for f in figures)


async def test_a_panel_opened_before_any_price_draws_at_the_servers_time(frontend: Frontend):
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as own:
        before = server_ms(own)
        assert own.run(_last_quote(own)) is None  # nothing subscribed yet: no price has come
        panel = own.panel.account()
        await until(lambda: len(panel.window) == 1)
        assert before <= panel.window.data()["time"][0] <= server_ms(own)


async def _last_quote(session: mtdata.Session) -> object:
    return (await session.connection_async()).terminal_state.last_quote_time


async def test_a_panel_that_cannot_be_made_closes_the_ones_already_made(session: mtdata.Session, frontend: Frontend):
    with pytest.raises(ValidationException) as caught:
        session.dashboard(["EURUSD"], "7q")  # the candles panel refuses the timeframe after ticker and account
    assert caught.value.details[0]["parameter"] == "timeframe"
    assert session.panel.feed.streams == {}
    assert session.panel.open == []
    with pytest.raises(ValidationException) as caught:
        session.dashboard([])
    assert caught.value.details[0]["parameter"] == "symbols"


async def test_a_dashboard_rate_applies_to_every_panel(session: mtdata.Session, frontend: Frontend):
    board = session.dashboard("EURUSD", rate=5)
    assert {panel.rate for panel in board.panels.values()} == {5}
    board.close()


def test_a_dashboard_places_every_panel_once(frontend: Frontend):
    with pytest.raises(ValidationException) as caught:
        Dashboard({}, [["ticker"]])
    assert caught.value.details[0]["parameter"] == "rows"


async def test_order_ticket_sits_over_a_positions_panel_of_every_symbol_and_closes_with_the_session(
    frontend: Frontend,
):
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as own:
        ticket = own.order_ticket("EURUSD")
        assert isinstance(ticket, OrderTicket)
        positions = [panel for panel in own.panel.open if isinstance(panel, PositionsPanel)]
        assert len(positions) == 1 and positions[0] in ticket.children and positions[0].symbol is None
        with pytest.raises(ValidationException):
            own.order_ticket("NOSUCH")
        assert len(own.panel.open) == 1  # the refused ticket's positions panel was closed again
    assert positions[0].closed


async def test_the_desks_ticket_follows_the_symbol_picked_and_keeps_a_typed_volume(
    session: mtdata.Session, frontend: Frontend
):
    desk = session.panel.desk(["EURUSD", "GBPUSD"])
    ticket, first = desk.ticket, desk.dashboard
    assert isinstance(desk, TradingDesk) and isinstance(ticket, OrderTicket) and desk.children[2] is ticket
    assert ticket.symbol.value == "EURUSD" and first["ticker"].symbols == ["EURUSD", "GBPUSD"]
    assert set(desk.picker.options) == set(session.specifications().index)
    ticket.volume.value = 0.37  # typed, not reviewed yet

    assert repr(desk) == "<TradingDesk EURUSD GBPUSD live>"
    desk.picker.value = ("USDJPY",)  # a pick: a new dashboard, the ticket on USDJPY, the volume as typed
    assert first.closed and desk.dashboard["candles"].symbol == "USDJPY" and not desk.dashboard.closed
    assert (ticket.symbol.value, ticket.volume.value, ticket._stream) == ("USDJPY", 0.37, Stream("quotes", "USDJPY"))
    ask = float(session.price("USDJPY").iloc[0]["ask"])
    await until(lambda: abs(ticket.price.value - ask) < 0.5)  # USDJPY's ask (EURUSD's is near 1), to its 3 digits
    assert round(ticket.price.value, 3) == ticket.price.value

    ticket.review_button.click()
    await until(lambda: ticket.state == "review")
    assert "0.37 lots of USDJPY" in ticket.summary.value
    desk.picker.value = ("GBPUSD", "USDJPY")  # under review: the order of the first symbol picked is reviewed
    await until(lambda: ticket.state == "review" and "0.37 lots of GBPUSD" in ticket.summary.value)
    assert desk.dashboard["ticker"].symbols == ["GBPUSD", "USDJPY"]
    ticket.confirm_button.click()  # the position opened is selected beneath the ticket, whatever symbol was picked
    await until(lambda: ticket.state == "edit" and ticket.result is not None)
    opened = ticket.result.position_id
    assert ticket.positions.symbol is None and opened
    await until(lambda: ticket.positions.selected == [opened])
    session.close_position(opened)
    desk.picker.value = ()  # nothing picked: nothing changes
    assert ticket.symbol.value == "GBPUSD" and not desk.dashboard.closed

    panels = [*desk.dashboard.panels.values(), ticket.positions]
    desk.close()
    desk.close()  # idempotent
    assert desk.closed and ticket.closed and all(panel.closed for panel in panels)
    assert session.panel.feed.streams == {}
    with pytest.raises(ValidationException) as caught:
        session.panel.desk(["EURUSD", "NOPE"])
    assert caught.value.details[0]["parameter"] == "symbol" and session.panel.open == []
