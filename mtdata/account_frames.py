"""The live side of a :class:`~mtdata.session.Session`: trading state, market data, latency and health as frames.

Everything here comes from one streaming connection (``account.get_streaming_connection()``), opened and
synchronized on first use and closed with the session: positions, orders and the account from its
terminal state, deals and history orders from its history storage, prices from its market-data
subscriptions, books and specifications through it, latency from the client's latency monitor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from . import arguments, frames, market_hours, symbol_names
from .client import checks

if TYPE_CHECKING:
    import pandas as pd

    from ._loop import LoopThread
    from .client import MetaApi
    from .client.rest.accounts import MetatraderAccount

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREVER = datetime(2100, 1, 1, tzinfo=UTC)
#: Seconds to wait for the first synchronization of the streaming connection.
SYNC_TIMEOUT = 60
#: Seconds the session's repr waits for the server's clock.
MARKETS_TIMEOUT = 5


def _scalars(record: dict[str, Any]) -> dict[str, Any]:
    """The fields of a record that fit a cell (nested sessions and lists left out)."""
    return {key: value for key, value in record.items() if not isinstance(value, dict | list)}


def latency_frame(report: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> pd.DataFrame:
    """``{kind: {latency: {window: {statistic: value}}}}`` as a tidy frame: kind, latency, window, statistic, value."""
    import pandas as pd

    rows = [
        (kind, latency, window, statistic, value)
        for kind, latencies in report.items()
        for latency, windows in latencies.items()
        for window, statistics in windows.items()
        for statistic, value in statistics.items()
    ]
    columns = ["kind", "latency", "window", "statistic", "value"]
    frame = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame({name: [] for name in columns})
    for name in columns[:-1]:
        frame[name] = frame[name].astype("category")
    frame["value"] = frame["value"].astype("float64")
    return frame


class AccountFrames:
    """The streaming-connection methods of :class:`~mtdata.session.Session` (a base class, not used alone)."""

    _loop: LoopThread
    _api: MetaApi
    _account: MetatraderAccount
    _streaming: Any = None

    async def _run(self, coro: Any) -> Any:  # provided by Session
        raise NotImplementedError

    # -- the connection -----------------------------------------------------------------------------

    async def _connection(self) -> Any:
        """The synchronized streaming connection (opened on first use, on the session's loop)."""
        if self._streaming is None:
            connection = self._account.get_streaming_connection()
            await connection.connect()
            self._streaming = connection
            self._api.latency_monitor.track_sessions(connection.route.account_id, connection.terminal_state)
        if not self._streaming.synchronized:
            await self._streaming.wait_synchronized({"timeoutInSeconds": SYNC_TIMEOUT})
        return self._streaming

    async def connection_async(self) -> Any:
        """The account's streaming connection, connected and synchronized (its coroutines run on the session's loop)."""
        return await self._run(self._connection())

    def connection(self) -> Any:
        """Blocking :meth:`connection_async`; use ``session.run(connection.some_coroutine(...))`` with it."""
        return self._loop.run(self.connection_async())

    async def _close_connection(self) -> None:
        if self._streaming is not None:
            connection, self._streaming = self._streaming, None
            self._api.latency_monitor.track_sessions(connection.route.account_id, None)
            await connection.close()

    async def _symbol(self, name: str, symbol: Any) -> tuple[Any, str]:
        """The connection and ``symbol`` as the account spells it (``eurusd``: ``EURUSD``), else
        :class:`~mtdata.symbol_names.UnknownSymbol` suggesting the closest names."""
        checks.text(name, symbol)
        connection = await self._connection()
        if connection.terminal_state.specification(symbol) is not None:
            return connection, symbol
        known = [spec["symbol"] for spec in connection.terminal_state.specifications]
        return connection, symbol_names.resolve(name, symbol, known)

    async def _by_name(self, names: list[str], call: Callable[[list[str]], Awaitable[T]]) -> T:
        """``await call(names)``; when the server knows a name not, it is looked up among the account's symbols (the
        streaming connection's specifications) and the call made again with its spelling, or refused with the
        closest names."""
        while True:
            try:
                return await call(names)
            except symbol_names.UnknownSymbol as error:
                if error.symbol not in names:
                    raise
                _, fixed = await self._symbol(error.argument, error.symbol)
                if fixed == error.symbol:  # the account has it, the history server not: nothing to fix
                    raise
                names = [fixed if name == error.symbol else name for name in names]

    # -- trading state --------------------------------------------------------------------------------

    async def positions_async(self) -> pd.DataFrame:
        """Open positions (``time`` = open time): volume, prices, profit, swap, ids."""
        return await self._run(self._state("positions"))

    def positions(self) -> pd.DataFrame:
        """Blocking :meth:`positions_async`."""
        return self._loop.run(self.positions_async())

    async def orders_async(self) -> pd.DataFrame:
        """Pending orders (``time`` = placing time)."""
        return await self._run(self._state("orders"))

    def orders(self) -> pd.DataFrame:
        """Blocking :meth:`orders_async`."""
        return self._loop.run(self.orders_async())

    async def _state(self, kind: str) -> pd.DataFrame:
        connection = await self._connection()
        return frames.df(getattr(connection.terminal_state, kind), kind).sort_index(kind="stable")

    async def account_async(self) -> pd.Series:
        """The account information (balance, equity, margin, leverage ...) as a Series with snake_case names."""
        return await self._run(self._account_info())

    def account(self) -> pd.Series:
        """Blocking :meth:`account_async`."""
        return self._loop.run(self.account_async())

    async def _account_info(self) -> pd.Series:
        connection = await self._connection()
        info = connection.terminal_state.account_information or {}
        return frames.df([info]).iloc[0].rename(info.get("login"))

    async def deals_async(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        """Deals with time in [start, end) (default: all the history storage holds), oldest first."""
        first, last = arguments.moment("start", start), arguments.moment("end", end)
        arguments.ordered(first, last)
        return await self._run(self._history("deals", first or _EPOCH, arguments.last_ms(last) or _FOREVER))

    def deals(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        """Blocking :meth:`deals_async`."""
        return self._loop.run(self.deals_async(start, end))

    async def history_orders_async(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        """History orders with time in [start, end) (default: all the history storage holds), oldest first."""
        first, last = arguments.moment("start", start), arguments.moment("end", end)
        arguments.ordered(first, last)
        return await self._run(self._history("history_orders", first or _EPOCH, arguments.last_ms(last) or _FOREVER))

    def history_orders(self, start: Any = None, end: Any = None) -> pd.DataFrame:
        """Blocking :meth:`history_orders_async`."""
        return self._loop.run(self.history_orders_async(start, end))

    async def _history(self, kind: str, start: datetime, end: datetime) -> pd.DataFrame:
        storage = (await self._connection()).history_storage
        records = (storage.get_deals_by_time_range if kind == "deals" else storage.get_history_orders_by_time_range)(
            start, end
        )
        return frames.df(records, kind).sort_index(kind="stable")

    # -- market data ----------------------------------------------------------------------------------

    async def price_async(self, symbols: str | list[str]) -> pd.DataFrame:
        """The current quote of each symbol (subscribing to its quotes if needed): ``bid``, ``ask``, tick values;
        ``stale`` is True when its market closed after it was quoted (a weekend's Friday quote: see :meth:`symbols`)."""
        names = arguments.symbol_list("symbols", symbols)
        return await self._run(self._prices(names))

    def price(self, symbols: str | list[str]) -> pd.DataFrame:
        """Blocking :meth:`price_async`."""
        return self._loop.run(self.price_async(symbols))

    async def _prices(self, names: list[str]) -> pd.DataFrame:
        records = []
        for name in names:
            connection, symbol = await self._symbol("symbols", name)
            state = connection.terminal_state
            if symbol not in connection.subscribed_symbols():
                await connection.subscribe_to_market_data(symbol)
            records.append(state.price(symbol) or await state.wait_for_price(symbol))
        clock = await market_hours.server_clock(connection)
        rows = [
            {**_scalars(record), "stale": market_hours.is_stale(state.specification(record["symbol"]), record, clock)}
            for record in records
        ]
        return frames.df(rows, "prices")

    async def book_async(self, symbol: str) -> pd.DataFrame:
        """The order book of ``symbol``, long: one row per level (``side``, ``level`` 0 = best, price, volume)."""
        return await self._run(self._book(symbol))

    def book(self, symbol: str) -> pd.DataFrame:
        """Blocking :meth:`book_async`."""
        return self._loop.run(self.book_async(symbol))

    async def _book(self, symbol: str) -> pd.DataFrame:
        connection, name = await self._symbol("symbol", symbol)
        return frames.book(await connection.get_book(name))

    async def specifications_async(self, symbols: str | list[str] | None = None) -> pd.DataFrame:
        """Symbol specifications (all, or ``symbols``) indexed by symbol; sessions and lists left out."""
        names = None if symbols is None else arguments.symbol_list("symbols", symbols)
        return await self._run(self._specifications(names))

    def specifications(self, symbols: str | list[str] | None = None) -> pd.DataFrame:
        """Blocking :meth:`specifications_async`."""
        return self._loop.run(self.specifications_async(symbols))

    async def _specifications(self, names: list[str] | None) -> pd.DataFrame:
        connection = await self._connection()
        state = connection.terminal_state
        for symbol in names or ():
            if state.specification(symbol) is None:
                raise checks.fail("symbols", "must be symbols of the account", symbol)
        specs = state.specifications if names is None else [state.specification(s) for s in names]
        frame = frames.df([_scalars(spec) for spec in specs])
        frame = frame.assign(symbol=frame["symbol"].astype(str)) if len(frame) else frame
        return frame.set_index("symbol") if "symbol" in frame else frame

    async def symbols_async(self) -> pd.DataFrame:
        """The account's symbols: ``market_open`` (now, by the trade server's clock), ``next_open`` and ``next_close``
        (UTC; NaT when none within 8 days, e.g. no close for crypto), then their specification (see
        :mod:`mtdata.market_hours`)."""
        return await self._run(self._symbols())

    def symbols(self) -> pd.DataFrame:
        """Blocking :meth:`symbols_async`."""
        return self._loop.run(self.symbols_async())

    async def _symbols(self) -> pd.DataFrame:
        connection = await self._connection()
        clock = await market_hours.server_clock(connection)
        specs = await self._specifications(None)
        return market_hours.symbols_frame(specs, connection.terminal_state.specifications, clock)

    # -- latency and health ---------------------------------------------------------------------------

    async def latency_async(self) -> pd.DataFrame:
        """The client's latency statistics, tidy: ``kind`` (``request:<type>``, ``price``, ``update``, ``trade``),
        ``latency`` (client/server/broker), ``window`` (1h/1d/1w), ``statistic`` (p50 … max), ``value`` (ms)."""
        return await self._run(self._latency())

    def latency(self) -> pd.DataFrame:
        """Blocking :meth:`latency_async`."""
        return self._loop.run(self.latency_async())

    async def _latency(self) -> pd.DataFrame:
        monitor = self._api.latency_monitor
        report = {f"request:{kind}": figures for kind, figures in monitor.request_latencies().items()}
        report.update(
            price=monitor.price_latencies(), update=monitor.update_latencies(), trade=monitor.trade_latencies()
        )
        return latency_frame(report)

    async def health_async(self) -> pd.Series:
        """The streaming connection's health (connected, synchronized, quotes healthy, message) and uptime (%)."""
        return await self._run(self._health())

    def health(self) -> pd.Series:
        """Blocking :meth:`health_async`."""
        return self._loop.run(self.health_async())

    async def _health(self) -> pd.Series:
        import pandas as pd

        monitor = (await self._connection()).health_monitor
        status = {frames.snake(key): value for key, value in monitor.health_status.items()}
        status.update({f"uptime_{window}": value for window, value in monitor.uptime.items()})
        return pd.Series(status, name="health", dtype=object)

    def _connection_state(self) -> str:
        """One line for the session's repr: how the streaming connection stands."""
        connection = self._streaming
        if connection is None:
            return "REST only (the streaming connection opens on first use)"
        if connection.closed:
            return "streaming connection closed"
        status = connection.health_monitor.health_status
        synced = "synchronized" if connection.synchronized else "synchronizing"
        broker = "broker connected" if status.get("connectedToBroker") else "broker disconnected"
        return f"streaming, {synced}, {broker}: {status.get('message')}"

    def _markets_state(self) -> str:
        """One line for the session's repr: which markets are closed (asks the server's clock, 5 s at most)."""
        connection = self._streaming
        if connection is None or connection.closed or not connection.synchronized or self._loop.on_loop():
            return "unknown until the streaming connection opens (s.symbols() opens it)"

        async def line() -> str:
            clock = await asyncio.wait_for(market_hours.server_clock(connection), MARKETS_TIMEOUT)
            return market_hours.summary(connection.terminal_state.specifications, clock)

        try:
            return self._loop.run(line())
        except Exception as error:  # a repr must not raise
            return f"unknown ({type(error).__name__})"
