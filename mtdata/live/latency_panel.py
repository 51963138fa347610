"""The latency panel: the client's latency percentiles, a p50/p95 chart over time and the connection's health.

The client's latency monitor and the streaming connection's health monitor are not fed by a stream: a task
on the session's loop reads them every ``every`` seconds and pokes the panel only when the reading differs
from the previous one. The redraw (on the kernel's thread) rewrites the table and the health line when
they changed and streams the chart's new row (one row per change of the charted percentiles), at the market's
time of the reading (a :class:`~mtdata.live.clock.MarketClock`: the trade server's, as the candles chart's; a
change at the same market time replaces the last row). Unchanged percentiles hold the line on to the market's
time (:meth:`~mtdata.live.window.Window.hold`), so the chart ends where the candles do, not at the last change.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
from typing import TYPE_CHECKING, Any, NamedTuple

import ipywidgets
from bokeh.models import HoverTool

from ..client import checks
from ..client.monitoring.latency_monitor import PERCENTILES, WINDOWS, LatencyMonitor
from .clock import MarketClock, time_figure
from .throttle import MIXED_RATE
from .view import Panel
from .window import Window

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger("mtdata.live")

#: The latencies of a kind, in table order, with their column titles.
LATENCIES = {"clientLatency": "client", "serverLatency": "server", "brokerLatency": "broker"}
STATISTICS = (*(f"p{p}" for p in PERCENTILES), "avg", "max", "count")
#: The kinds whose client-side p50 and p95 the chart follows, with their colors.
CHARTED = {"price": "#1565c0", "update": "#2e7d32", "trade": "#c62828"}
CHART_COLUMNS = ("time", *(f"{kind}_{p}" for kind in CHARTED for p in ("p50", "p95")))
#: The summary's rows (details off): the client-side latency of the charted kinds; details add every request type
#: and the server and broker latencies (28 rows on a sandbox session).
SUMMARY = tuple(CHARTED)
LATENCY_STYLE = """<style>
.mtdata-latency{border-collapse:collapse;font:12px monospace}
.mtdata-latency th,.mtdata-latency td{padding:1px 8px;text-align:right}
.mtdata-latency th{border-bottom:1px solid #999}
.mtdata-latency td.mtdata-kind,.mtdata-latency th:nth-child(-n+2){text-align:left}
.mtdata-health{font:13px sans-serif}.mtdata-ok{color:#1b5e20}.mtdata-bad{color:#b71c1c}
</style>"""

Stats = dict[str, Any]


class Reading(NamedTuple):
    """What one poll read: ``{kind: {latency: stats}}`` for one window, the health status and the uptime."""

    latencies: dict[str, dict[str, Stats]]
    health: dict[str, Any]
    uptime: dict[str, float | None]


def read_latencies(monitor: LatencyMonitor, window: str) -> dict[str, dict[str, Stats]]:
    """``{kind: {latency: stats}}`` of ``window`` for price, update, trade and each request type seen."""
    report = {
        "price": monitor.price_latencies(),
        "update": monitor.update_latencies(),
        "trade": monitor.trade_latencies(),
    }
    report.update({f"request:{kind}": figures for kind, figures in sorted(monitor.request_latencies().items())})
    return {kind: {name: windows[window] for name, windows in figures.items()} for kind, figures in report.items()}


def _ms(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def latency_table(latencies: dict[str, dict[str, Stats]], window: str, *, details: bool = True) -> str:
    """An HTML table: one row per kind and latency that has measurements in ``window``, one column per statistic;
    without ``details`` only the :data:`SUMMARY` rows, the caption counting the rows left out."""
    rows, hidden = [], 0
    for kind, figures in latencies.items():
        for name, title in LATENCIES.items():
            stats = figures.get(name)
            if not stats or not stats.get("count"):
                continue
            if not details and (kind not in SUMMARY or name != "clientLatency"):
                hidden += 1
                continue
            cells = "".join(f"<td class='mtdata-{s}'>{_ms(stats.get(s))}</td>" for s in STATISTICS)
            label = html.escape(kind)
            head = f"<td class='mtdata-kind'>{label}</td><td class='mtdata-kind'>{title}</td>"
            rows.append(f"<tr data-kind='{label}' data-latency='{title}'>{head}{cells}</tr>")
    if not rows:
        return f"<p class='mtdata-latency'>no latency measured in the last {window} yet</p>"
    head = "".join(f"<th>{h}</th>" for h in ("kind", "latency", *STATISTICS))
    more = f" ({hidden} more rows under details)" if hidden else ""
    return (
        f"<table class='mtdata-latency'><caption>latency (ms), last {window}{more}</caption>"
        f"<tr>{head}</tr>{''.join(rows)}</table>"
    )


def health_html(health: dict[str, Any], uptime: dict[str, float | None]) -> str:
    """One line of health: healthy or not (with the monitor's message), the flags, the uptime per window."""
    if not health:
        return "<div class='mtdata-health'>health: …</div>"
    good = bool(health.get("healthy"))
    flags = " · ".join(
        f"<span class='mtdata-{'ok' if health.get(key) else 'bad'}' data-flag='{key}'>"
        f"{'✓' if health.get(key) else '✗'} {label}</span>"
        for key, label in (
            ("connected", "connected"),
            ("connectedToBroker", "broker"),
            ("synchronized", "synchronized"),
            ("quoteStreamingHealthy", "quotes"),
        )
    )
    times = ", ".join(f"{w} {'…' if v is None else f'{v:.1f}%'}" for w, v in uptime.items())
    return (
        "<div class='mtdata-health'>"
        f"<b class='mtdata-{'ok' if good else 'bad'}' data-healthy='{str(good).lower()}'>"
        f"● {'healthy' if good else 'not healthy'}</b>: {html.escape(str(health.get('message', '')))}<br>"
        f"{flags}<br>uptime: {times}</div>"
    )


def chart_row(latencies: dict[str, dict[str, Stats]]) -> dict[str, float]:
    """The charted values of a reading (NaN, a gap in the line, where a kind has no measurement)."""
    row = {}
    for kind in CHARTED:
        stats = latencies.get(kind, {}).get("clientLatency") or {}
        for p in ("p50", "p95"):
            value = stats.get(p)
            row[f"{kind}_{p}"] = math.nan if value is None else float(value)
    return row


def _same(one: dict[str, float], other: dict[str, float] | None) -> bool:
    if other is None:
        return False
    return all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(one.values(), other.values(), strict=True))


class LatencyPanel(Panel):
    """The session's latency percentiles (a table), client-side p50/p95 over time (a chart) and connection health.

    The table summarises (client-side latency of prices, account updates and trades) until the "details" toggle
    under the chart (:attr:`details`) shows every kind and latency."""

    _closed = True  # until Panel.__init__ ran: ipywidgets' __del__ calls close()

    def __init__(
        self,
        session: Session,
        *,
        every: float = 1.0,
        window: str = "1h",
        rollover: int = 600,
        rate: float = MIXED_RATE,
    ) -> None:
        checks.number("every", every, minimum=0.1, maximum=3600)
        checks.choice("window", window, WINDOWS)
        self.every = float(every)
        """Seconds between two readings of the monitors (the panel redraws only when a reading changed)."""
        self.window_name = window
        """The latency monitor's window the table and chart show (``1h`` by default: the last hour's percentiles)."""
        self._session = session
        self._reading: Reading | None = None
        self._shown: Reading | None = None
        self._charted: dict[str, float] | None = None
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._clock = MarketClock()
        self.polls = 0
        """How many times the monitors were read (for tests)."""
        self.window = Window(CHART_COLUMNS, rollover=rollover)
        """The chart's data: ``time`` (the market's, ms) and the p50 and p95 of each charted kind, one row per change,
        the newest ``rollover``."""
        self.window.source.name = "latency"
        self.details = ipywidgets.ToggleButton(description="details", tooltip="every kind and latency")
        """Whether the table shows every kind and latency (a toggle button under the chart) or the summary."""
        self.details.add_class("mtdata-latency-details")
        self.details.observe(lambda _change: self._show_table(), names="value")
        self.table = ipywidgets.HTML(latency_table({}, window, details=False))
        """The percentiles table above the chart (ms, over :attr:`window_name`): a summary, or every kind and latency
        with :attr:`details` on."""
        self.health = ipywidgets.HTML(health_html({}, {}))
        """The health line: healthy or not and why, the connected / broker / synchronized / quotes flags, the uptime
        per window."""
        self.table.add_class("mtdata-latency-table")
        self.health.add_class("mtdata-health-line")
        chart = time_figure(
            height=240, width=700, name="latency_chart",
            title=f"client-side latency (ms, last {window}): p50 solid, p95 dashed",
        )  # fmt: skip
        for kind, color in CHARTED.items():
            chart.step("time", f"{kind}_p50", source=self.window.source, color=color, mode="after", legend_label=kind)
            chart.step("time", f"{kind}_p95", source=self.window.source, color=color, mode="after", line_dash="dashed")
            chart.scatter("time", f"{kind}_p50", source=self.window.source, color=color, size=4)  # a lone reading too
        chart.add_tools(HoverTool(tooltips=[("time", "@time{%T}"), *((k, f"@{k}_p50 / @{k}_p95") for k in CHARTED)],
                                  formatters={"@time": "datetime"}))  # fmt: skip
        chart.legend.location = "top_left"
        above = [self.health, self.table]
        super().__init__(
            chart, title="latency and health", rate=rate, above=above, style=LATENCY_STYLE, controls=[self.details]
        )
        self.on_close(self._stop)
        try:
            session.run(self._start(session.connection()))
        except BaseException:
            self.close()
            raise

    @property
    def reading(self) -> Reading | None:
        """The latest reading of the monitors (None before the first poll)."""
        return self._reading

    def redraw(self) -> None:
        """Rewrite the table and the health line if they changed; stream the chart's new rows."""
        reading, shown = self._reading, self._shown
        if reading is None:
            return
        if shown is None or reading.latencies != shown.latencies:
            self._show_table()
        if shown is None or (reading.health, reading.uptime) != (shown.health, shown.uptime):
            self.health.value = health_html(reading.health, reading.uptime)
        self._shown = reading
        self.window.apply()

    def _show_table(self) -> None:
        """Rewrite the table from the latest reading, summarised or in detail (kernel's thread)."""
        if self._reading is not None and not self.closed:
            self.table.value = latency_table(self._reading.latencies, self.window_name, details=self.details.value)

    # -- on the session's loop -------------------------------------------------------------------------

    async def _start(self, connection: Any) -> None:
        self._connection = connection
        await self._clock.start(connection)
        self._poll_once()
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="mtdata-latency-panel")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                self._poll_once()
            except Exception:  # a closing connection must not end the panel
                log.exception("latency panel: reading the monitors failed")

    def _poll_once(self) -> None:
        self.polls += 1
        monitor = self._connection.health_monitor
        reading = Reading(
            read_latencies(self._session.api.latency_monitor, self.window_name), monitor.health_status, monitor.uptime
        )
        if reading == self._reading:
            return
        row, now = chart_row(reading.latencies), self._clock.now()
        if now is not None and _same(row, self._charted):
            self.window.hold(now)
        elif now is not None and self.window.advance({"time": now, **row}):
            self._charted = row
        self._reading = reading
        self.changed()

    def _stop(self) -> None:
        if not self._session.closed:
            self._session.run(self._cancel())

    async def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
