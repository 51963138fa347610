"""``mtdata.connect()`` and :class:`Session`: an account as DataFrames, in a notebook or a script.

    import mtdata
    session = mtdata.connect()                      # no token: an embedded sandbox and its demo account
    candles = session.candles(["EURUSD", "GBPUSD"], "1m", start="2026-11-02", end="2026-11-06")  # Nov 2 to 5

Every method comes in a pair: ``candles(...)`` blocks, ``await candles_async(...)`` awaits (from any
event loop). Both run the same coroutine on the session's private event loop (:mod:`mtdata._loop`), so
the blocking form works in a script, a Jupyter cell, an ipywidgets callback, on Python 3.11 to 3.13.
Arguments are checked on the caller's side and bad ones raise :class:`~mtdata.errors.ValidationException`
naming the argument before anything is sent. Every range is half-open, [start, end): ``start`` included, ``end``
excluded, and a date alone is midnight (UTC; the broker's for 1d/1w/1mn candles), so ``end="2026-11-06"`` stops
before November 6 and two ranges sharing a bound neither overlap nor leave a gap.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import arguments, broker_dates, frames, sandbox_env
from ._loop import LoopThread
from .account_frames import AccountFrames
from .cache import CandleCache, cache_key, default_root
from .candle_frames import CandleFrames
from .client import MetaApi, checks
from .client.connections.route import route
from .download import Limiter, Progress, TickDownloader
from .orders import Orders

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import xarray as xr

    from .client.rest.accounts import MetatraderAccount
    from .live import Dashboard, OrderTicket, PanelFactory
    from .live.data import LiveData
    from .sandbox import SandboxHandle

log = logging.getLogger("mtdata.client")
T = TypeVar("T")


def connect(
    token: str | None = None,
    account_id: str | None = None,
    *,
    cache: bool | str | Path | None = None,
    progress: bool = True,
    concurrency: int = 8,
    requests_per_second: float | None = None,
    sandbox: dict[str, Any] | None = None,
    **opts: Any,
) -> Session:
    """A :class:`Session` on an account: the cloud's with ``token`` and ``account_id``, else a local sandbox's.

    With no token, an embedded sandbox starts in-process (``sandbox`` holds options of
    :func:`mtdata.sandbox.start`, e.g. ``{"seed": 1}``) and the session uses its demo account; it stops
    with the session. When ``MTDATA_SANDBOX_URL``, ``MTDATA_SANDBOX_TOKEN`` and ``MTDATA_SANDBOX_ACCOUNT_ID`` name a
    sandbox running elsewhere (Binder's, started by ``binder/start``), the session uses it instead and ``sandbox``
    is not applied (:mod:`mtdata.sandbox_env`); the repr's source says "sandbox at <url>".
    ``cache`` (True for the default directory, or a path) keeps downloaded candles on
    disk. ``concurrency`` / ``requests_per_second`` bound history downloads. Other keyword arguments
    are :class:`~mtdata.client.MetaApi` options (``url`` for a sandbox running elsewhere, ``domain`` …;
    latency tracking is on unless ``enableLatencyTracking=False``);
    ``transport`` is an httpx transport seam for tests: every request of the client SDK passes it, except the
    pages of candle downloads of three pages or more (fetched through a private aiohttp session; anything but a
    200 is asked again through the SDK's client, so its retries and errors hold).
    """
    checks.integer("concurrency", concurrency, 1, 64)
    checks.number("requests_per_second", requests_per_second, 0.01, optional=True)
    checks.flag("progress", progress)
    if cache is not None and not isinstance(cache, bool | str | Path):
        raise checks.fail("cache", "must be True, False or a directory", cache)
    box = None
    if token is None:
        if account_id is not None:
            raise checks.fail("token", "must be given with account_id", None)
        elsewhere = sandbox_env.from_environment()
        if elsewhere is not None:  # Binder's background sandbox: the ``sandbox`` options are its own, not ours
            log.info("mtdata.connect: using the sandbox at %s (MTDATA_SANDBOX_URL)", elsewhere.url)
            token, account_id, opts = elsewhere.token, elsewhere.account_id, {**opts, "url": elsewhere.url}
        else:
            from . import sandbox as sandboxes

            box = sandboxes.start(**(sandbox or {}))
            token, account_id, opts = box.token, box.account_id, {**opts, "url": box.url}
    else:
        checks.text("account_id", account_id)
    loop, api = LoopThread(), None
    try:
        transport = opts.pop("transport", None)
        api = MetaApi(token, {"enableLatencyTracking": True, **opts}, transport=transport)
        account = loop.run(api.metatrader_account_api.get_account(account_id))  # type: ignore[arg-type]
        route(account, opts.get("region"))  # outside a pinned region: refused now, not on first use
    except BaseException:
        if api is not None:
            loop.run(api.close())
        loop.close()
        if box is not None:
            box.stop()
        raise
    root = default_root() if cache is True else Path(cache) if cache else None
    key = cache_key(account.server, account.id, account.data.get("marketRevision"))
    store = CandleCache(root, key) if root else None
    return Session(loop, api, account, box, store, progress, Limiter(concurrency, requests_per_second))


async def connect_async(*args: Any, **kwargs: Any) -> Session:
    """:func:`connect` from a coroutine (it starts threads and blocks briefly, so it runs in an executor)."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(connect, *args, **kwargs))


class Session(CandleFrames, AccountFrames, Orders):
    """One account as DataFrames: history, market data, trading state, latency; see :func:`connect`.

    History (``candles``, ``ticks``) comes over REST; trading state, prices, books, specifications and
    health from one streaming connection opened on first use (:mod:`mtdata.account_frames`).

    A context manager (sync and async); :meth:`close` stops everything it started (the loop thread,
    the HTTP pool, the sandbox when it started one).
    """

    def __init__(
        self,
        loop: LoopThread,
        api: MetaApi,
        account: MetatraderAccount,
        sandbox: SandboxHandle | None,
        cache: CandleCache | None,
        progress: bool,
        limiter: Limiter,
    ) -> None:
        self._loop, self._api, self._account, self._sandbox = loop, api, account, sandbox
        self._cache, self._progress, self._limiter = cache, progress, limiter
        self._panels: PanelFactory | None = None

    # -- plumbing -------------------------------------------------------------------------------------

    @property
    def api(self) -> MetaApi:
        """The client SDK underneath (its coroutines must run on :attr:`loop`)."""
        return self._api

    @property
    def metatrader_account(self) -> MetatraderAccount:
        """The client SDK's account object (:meth:`account` gives the account information as a Series)."""
        return self._account

    @property
    def sandbox(self) -> SandboxHandle | None:
        """The embedded sandbox this session started, if any."""
        return self._sandbox

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The session's private event loop."""
        return self._loop.loop

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._loop.closed

    @property
    def panel(self) -> PanelFactory:
        """Live panels of this session: ``s.panel.ticker(["EURUSD"])`` (:mod:`mtdata.live`, imported on first use)."""
        if self._panels is None:
            from .live import PanelFactory

            self._panels = PanelFactory(self)
        return self._panels

    @property
    def live(self) -> LiveData:
        """Live data objects to compute on: ``s.live.quote("EURUSD").bid``, ``s.live.candles("EURUSD", "1m").df``
        (:mod:`mtdata.live.data`, on the panels' feed; closed with the session)."""
        return self.panel.data

    def dashboard(self, symbols: str | list[str], timeframe: str = "1m", **options: Any) -> Dashboard:
        """Ticker, candles, account, positions and latency panels in one live widget (``s.panel.dashboard``)."""
        return self.panel.dashboard(symbols, timeframe, **options)

    def order_ticket(self, symbol: str) -> OrderTicket:
        """An order form for ``symbol`` (side, type, volume, price, SL/TP, review then confirm) over the account's
        positions, of every symbol (``s.panel.order_ticket``)."""
        return self.panel.order_ticket(symbol)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run any coroutine of the client SDK on the session's loop and wait for its result."""
        return self._loop.run(coro)

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await self._loop.call(coro)

    def _downloads(self, what: str) -> Progress:
        return Progress(self._progress, what)

    # -- candles ----------------------------------------------------------------------------------------

    async def candles_async(
        self,
        symbols: str | list[str],
        timeframe: str = "1h",
        start: Any = None,
        end: Any = None,
        limit: int | None = None,
        *,
        as_xarray: bool = False,
        as_dask: bool = False,
        partition: str | None = None,
    ) -> pd.DataFrame | xr.Dataset | dd.DataFrame:
        """Candles of one or many symbols: ``time`` index (open time, UTC), ``symbol`` and OHLCV columns.

        With ``start``: every candle opened in [start, end) (no end: up to now, the candle in progress
        included), paged and fetched concurrently; ``limit`` then keeps the newest ``limit``. Without
        ``start``: the newest ``limit`` (default 1,000) candles opened before ``end``. Times are aware
        datetimes, dates (midnight UTC) or ISO strings; a time of day without a zone is refused. For ``1d``, ``1w``
        and ``1mn`` a date alone is the broker's date (:mod:`mtdata.broker_dates`): ``start="2026-11-02"`` starts
        with that day's candle, whose ``broker_time`` is 2026-11-02 00:00 though it opened the evening before (UTC).
        ``attrs["gaps"]`` lists ``[symbol, last candle before, first candle after]`` (ISO times) wherever
        candles are missing (weekends, session breaks, history before or after a replayed file): reported,
        never filled in; at the edges of [start, end) the requested bound stands for the missing candle.
        ``as_dask=True`` returns the same frame lazily, downloaded by Dask's workers, a partition per ``partition``
        period (:mod:`mtdata.dask`).
        """
        names = arguments.symbol_list("symbols", symbols)
        tf = arguments.timeframe(timeframe)
        first, last = arguments.moment("start", start), arguments.moment("end", end)
        arguments.ordered(first, last)
        dates = broker_dates.of(tf, start, end)
        first, last = dates.widen(first, last) if dates else (first, last)
        checks.integer("limit", limit, 1, arguments.MAX_CANDLES, optional=True)
        checks.flag("as_xarray", as_xarray)
        checks.flag("as_dask", as_dask)
        if first is not None:
            arguments.check_span(tf, first, last or datetime.now(UTC) + timedelta(days=1))
        if partition is not None and not as_dask:
            raise checks.fail("partition", "chooses the partitions of as_dask=True frames only", partition)
        if as_dask:
            from . import dask

            return dask.candles(self, names, tf, first, last, dates, limit=limit, as_xarray=as_xarray,
                                partition=partition)
        frame = await self._run(self._by_name(names, lambda fixed: self._candles(fixed, tf, first, last, limit, dates)))
        return frames.to_xarray(frame) if as_xarray else frame

    def candles(
        self,
        symbols: str | list[str],
        timeframe: str = "1h",
        start: Any = None,
        end: Any = None,
        limit: int | None = None,
        *,
        as_xarray: bool = False,
        as_dask: bool = False,
        partition: str | None = None,
    ) -> pd.DataFrame | xr.Dataset | dd.DataFrame:
        """Blocking :meth:`candles_async`."""
        return self._loop.run(self.candles_async(symbols, timeframe, start, end, limit, as_xarray=as_xarray,
                                                 as_dask=as_dask, partition=partition))  # fmt: skip

    # -- ticks ------------------------------------------------------------------------------------------

    async def ticks_async(self, symbol: str, start: Any, end: Any = None) -> pd.DataFrame:
        """Ticks of ``symbol`` with time in [start, end) (no end: start + 1 hour): ``bid ask last volume side``."""
        checks.text("symbol", symbol)
        first = arguments.moment("start", start, optional=False)
        last = arguments.moment("end", end) or first + timedelta(hours=1)  # type: ignore[operator]
        arguments.ordered(first, last)
        if last - first > timedelta(days=arguments.MAX_TICK_DAYS):  # type: ignore[operator]
            raise checks.fail("end", f"must be within {arguments.MAX_TICK_DAYS} days of start for ticks", end)
        return await self._run(self._by_name([symbol], lambda fixed: self._ticks(fixed[0], first, last)))  # type: ignore[arg-type]

    def ticks(self, symbol: str, start: Any, end: Any = None) -> pd.DataFrame:
        """Blocking :meth:`ticks_async`."""
        return self._loop.run(self.ticks_async(symbol, start, end))

    async def _ticks(self, symbol: str, start: datetime, end: datetime) -> pd.DataFrame:
        progress = self._downloads(f"{symbol} ticks")
        loader = TickDownloader(self._account.get_historical_ticks, self._limiter, progress)
        try:
            return frames.ticks(await loader.ticks(symbol, start, end), symbol)
        finally:
            progress.close()

    # -- lifecycle --------------------------------------------------------------------------------------

    async def _close(self) -> None:
        try:
            await self._close_connection()
        finally:
            await self._api.close()

    async def close_async(self) -> None:
        """Close the session from a coroutine (any loop): see :meth:`close`."""
        if self._loop.closed:
            return
        if self._loop.on_loop():
            raise RuntimeError("close_async() stops the session's own loop: call it from a cell or another loop")
        if self._panels is not None:
            self._panels.close()
        await self._loop.call(self._close())
        await asyncio.get_running_loop().run_in_executor(None, self._stop)

    def close(self) -> None:
        """Close the session: its panels, connections and HTTP pool, the private loop and the embedded sandbox;
        idempotent. It takes no argument: a position is closed with :meth:`close_position`."""
        if self._loop.closed:
            return
        if self._panels is not None:
            self._panels.close()
        try:
            self._loop.run(self._close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.close()
        if self._sandbox is not None:
            self._sandbox.stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close_async()

    # -- display ----------------------------------------------------------------------------------------

    def _facts(self) -> dict[str, str]:
        account = self._account
        return {
            "account": f"{account.name} ({account.id})",
            "login": f"{account.login} on {account.server} ({account.data.get('platform')}, {account.region})",
            "state": f"{account.state}, broker {account.connection_status}",
            "source": self._source(),
            "connection": "closed" if self.closed else self._connection_state(),
            "markets": "closed with the session" if self.closed else self._markets_state(),
        }

    def _source(self) -> str:
        """Where the account lives: this session's own sandbox, a sandbox elsewhere (by URL), or the cloud."""
        if self._sandbox is not None:
            return "embedded sandbox " + self._sandbox.url
        return f"sandbox at {self._api.options.url}" if self._api.options.url else "MetaApi cloud"

    def __repr__(self) -> str:
        facts = self._facts()
        return f"<mtdata.Session {facts['account']} {facts['connection']}; markets: {facts['markets']}>"

    def _repr_html_(self) -> str:
        cell = "style='text-align:left'"
        rows = "".join(
            f"<tr><th {cell}>{html.escape(k)}</th><td {cell}>{html.escape(v)}</td></tr>"
            for k, v in self._facts().items()
        )
        return f"<table><caption style='text-align:left'><b>mtdata.Session</b></caption>{rows}</table>"
