"""The candles panel: a candlestick chart with volume bars, history first, then the forming bar live.

History from :meth:`Session.candles` fills the window; the feed's forming candle patches the last bar in
place, and a candle with a later open time closes the forming bar (streamed) and starts a new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bokeh.layouts import column
from bokeh.models import CrosshairTool, HoverTool, Span

from .. import arguments
from ..timeframes import MT5_TIMEFRAMES
from .clock import time_figure
from .feed import LiveFeed, Stream
from .throttle import CHART_RATE
from .view import Panel
from .window import Window

if TYPE_CHECKING:
    import pandas as pd

    from ..session import Session

UP, DOWN = "#26a69a", "#ef5350"
COLUMNS = ("time", "open", "high", "low", "close", "volume", "color")


def candle_row(time_ms: float, candle: dict[str, Any]) -> dict[str, Any]:
    """A window row from a wire candle (``tickVolume`` as the volume)."""
    color = UP if candle["close"] >= candle["open"] else DOWN
    row = {name: candle[name] for name in ("open", "high", "low", "close")}
    return {"time": time_ms, **row, "volume": candle.get("tickVolume") or 0, "color": color}


def history_rows(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Window columns from a candles frame (``session.candles``)."""
    rows = [
        candle_row(stamp.timestamp() * 1000, {"open": o, "high": h, "low": lo, "close": c, "tickVolume": v})
        for stamp, o, h, lo, c, v in zip(
            frame.index, frame["open"], frame["high"], frame["low"], frame["close"], frame["tick_volume"], strict=True
        )
    ]
    return {name: [r[name] for r in rows] for name in COLUMNS}


class CandlesPanel(Panel):
    """Candlesticks and volume of ``symbol`` at ``timeframe``: the newest ``rollover`` bars, the last one forming."""

    def __init__(
        self,
        session: Session,
        feed: LiveFeed,
        symbol: str,
        timeframe: str = "1m",
        *,
        rollover: int = 300,
        rate: float = CHART_RATE,
    ) -> None:
        self.symbol = symbol
        """The symbol charted."""
        self.timeframe = arguments.timeframe(timeframe)
        """The bars' timeframe in the wire's form: ``1m``, ``1h``... (MetaTrader's ``H1`` given becomes ``1h``)."""
        self.window = Window(COLUMNS, rollover=rollover)
        """The chart's data: time (ms), open, high, low, close, tick volume and color of the newest ``rollover`` closed
        bars, then the forming one."""
        self.window.source.name = "candles"
        width = MT5_TIMEFRAMES[self.timeframe] * 60_000 * 0.7
        source = self.window.source
        title = f"{symbol} {self.timeframe}"
        price = time_figure(labelled=False, height=320, width=760, title=title, name="candles_chart")
        price.segment("time", "high", "time", "low", source=source, color="color")
        bodies = price.vbar("time", width, "open", "close", source=source, fill_color="color", line_color="color")
        price.add_tools(
            HoverTool(
                renderers=[bodies],
                tooltips=[
                    ("time", "@time{%F %H:%M}"),
                    ("open", "@open{0.00000}"),
                    ("high", "@high{0.00000}"),
                    ("low", "@low{0.00000}"),
                    ("close", "@close{0.00000}"),
                    ("volume", "@volume"),
                ],
                formatters={"@time": "datetime"},
            )
        )
        volume = time_figure(height=130, width=760, x_range=price.x_range, name="volume_chart")
        volume.vbar("time", width, 0, "volume", source=source, fill_color="color", line_color="color", alpha=0.6)
        span = Span(dimension="height", line_dash="dashed", line_alpha=0.5)
        for chart in (price, volume):
            chart.add_tools(CrosshairTool(overlay=span))
        super().__init__(column(price, volume), title=title, rate=rate)
        try:
            self._fill(session.candles(symbol, self.timeframe, limit=rollover + 1))
        except BaseException:
            self.close()
            raise
        self._listen_all(feed, [(Stream("candles", symbol, self.timeframe), self._candle)])

    @property
    def forming(self) -> dict[str, Any] | None:
        """The forming bar as last received (a window row), or None before the first."""
        return self.window.forming

    def _fill(self, frame: pd.DataFrame) -> None:
        """Closed history bars streamed, the newest one (possibly still forming) as the forming bar."""
        data = history_rows(frame)
        if not data["time"]:
            return
        self.window.stream({name: values[:-1] for name, values in data.items()})
        self.window.patch({name: values[-1] for name, values in data.items()})
        self.changed()

    def _candle(self, candle: dict[str, Any]) -> None:
        """A forming candle from the feed (session loop thread): patch it, or close the bar before it (late news of a
        bar already closed is dropped)."""
        if self.window.advance(candle_row(candle["time"].timestamp() * 1000, candle)):
            self.changed()

    def redraw(self) -> None:
        """Move the new bars and the forming one into the chart."""
        self.window.apply()
