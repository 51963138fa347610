"""Live tables of the account's open positions and pending orders, with close / cancel buttons.

Both follow the feed's :data:`~mtdata.live.feed.ACCOUNT` stream: an event of interest (a position or order
changed, or a price of a symbol shown moved) only pokes the panel; the redraw, at most ``rate`` times a second
on the kernel's thread, reads the records' latest copy (a :class:`~mtdata.live.feed.StateCopy`, taken on the
session's loop at the same rate, so the kernel's thread never waits for that loop) and replaces the table's
rows when they differ, keeping the selected rows selected by id. The selection is the
browser's (synced back through jupyter_bokeh); the buttons act on it through the session's order helpers,
as a task on the kernel's loop, and report the outcome in the status line below the table.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets
from bokeh.models import ColumnDataSource, DataTable, DateFormatter, NumberFormatter, TableColumn

from ..client import checks
from ..trade_result import TradeResult
from .feed import ACCOUNT, AccountEvent, LiveFeed
from .price_format import price_digits, price_formatter
from .table_rows import show_rows, table_height
from .throttle import MIXED_RATE, kernel_loop
from .trade_actions import TradeActions
from .view import Panel

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger("mtdata.live")

NAN = float("nan")  # one object for every missing number: rows compare equal (list equality checks identity first)
UP, DOWN = "#1b5e20", "#b71c1c"


def _numbers(format: str, **options: Any) -> Callable[[], NumberFormatter]:
    """A maker of number formatters (a Bokeh model belongs to one document: each table makes its own)."""
    return lambda: NumberFormatter(format=format, nan_format="", null_format="", **options)


MONEY = _numbers("0,0.00")
PRICE = price_formatter  # to the row's digits (the symbol's): 1.05550, not 1.0555
#: (field, title, formatter maker or None) of the columns both tables share.
IDENTITY = (("id", "id", None), ("symbol", "symbol", None), ("type", "type", None))
PRICES = (
    ("volume", "volume", _numbers("0.00[0]")),
    ("openPrice", "open price", PRICE),
    ("currentPrice", "current price", PRICE),
    ("stopLoss", "SL", PRICE),
    ("takeProfit", "TP", PRICE),
)

#: Column widths (px). Fixed widths (``autosize_mode="none"``): with Bokeh's default the page re-measures and
#: restyles every column at each update of the rows.
WIDTHS = {"id": 90, "symbol": 70, "type": 85, "volume": 60, "openPrice": 90, "currentPrice": 90, "stopLoss": 80,
          "takeProfit": 80, "swap": 70, "profit": 90, "time": 150}  # fmt: skip


def _number(value: Any) -> float:
    return NAN if value is None else float(value)


def _kind(wire_type: Any, prefix: str) -> str:
    """``POSITION_TYPE_BUY`` -> ``buy``, ``ORDER_TYPE_SELL_LIMIT`` -> ``sell limit``."""
    text = str(wire_type or "")
    return text.removeprefix(prefix).replace("_", " ").lower()


def floating_cents(positions: list[dict[str, Any]]) -> int:
    """The floating (unrealized) profit of positions, summed in integer cents as the terminal state does."""
    return sum(round((p.get("unrealizedProfit", p.get("profit")) or 0) * 100) for p in positions)


class TradeTable(TradeActions, Panel):
    """A live table of the terminal state's ``kind`` records, a footer, two action buttons and a status line.

    Subclasses set the class attributes and :meth:`row`, :meth:`footer_text`, :meth:`_act_on` and :meth:`_act_all`.
    """

    kind = ""  #: The terminal state's collection the table shows: ``positions`` or ``orders``.
    noun = ""  #: One record, in messages: ``position`` or ``order``.
    verbs = ("", "")  #: The buttons' action and its past participle, in messages: ``("close", "closed")``.
    #: The table's columns: ``(field, title, formatter factory or None)`` each, in order.
    columns: tuple[tuple[str, str, Any], ...] = ()

    def __init__(
        self,
        session: Session,
        feed: LiveFeed,
        symbol: str | None = None,
        *,
        rate: float = MIXED_RATE,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.symbol = checks.text("symbol", symbol, optional=True)
        """The symbol whose records the table shows and the second button acts on (None: every symbol)."""
        self._terminal = session.connection().terminal_state  # its specifications: one dict lookup, thread-safe
        if symbol is not None and self._terminal.specification(symbol) is None:
            raise checks.fail("symbol", "must be a symbol of the account", symbol)
        self._session = session
        self._loop = loop or kernel_loop()
        self._ids: list[str] = []
        self._symbols: frozenset[str] = frozenset()
        self._shown: dict[str, list[Any]] | None = None
        self._highlight: str | None = None
        self.records: list[dict[str, Any]] = []
        """The records shown at the last redraw (copies)."""
        self.source = ColumnDataSource(data=self._data([]), name=self.kind)
        """The table's Bokeh data source, one column per field of :attr:`columns`; ``source.selected.indices`` are the
        rows selected."""
        self.table = DataTable(
            source=self.source,
            columns=[self._column(*column) for column in self.columns],
            autosize_mode="none",
            selectable="checkbox",
            index_position=None,
            width=860,
            height=table_height(0, 25),
            row_height=25,
            name=f"{self.kind}_table",
        )
        """The Bokeh ``DataTable`` of the records, one row each, selected by checkbox (the rows the first button acts
        on)."""
        self.footer = ipywidgets.HTML(self.footer_text([]))
        """The line under the table (:meth:`footer_text`: how many records; for positions, their floating profit)."""
        self.footer.add_class(f"mtdata-{self.kind}-footer")
        controls = self._controls()
        title = f"{self.kind} {self.symbol}" if self.symbol else self.kind
        super().__init__(self.table, title=title, rate=rate, below=[self.footer], controls=[controls], loop=self._loop)
        self.on_close(self._stop_action)
        self._copy = feed.state_copy(self.kind, self.rate, self.changed)
        self.on_close(self._copy.close)
        self._listen_all(feed, [(ACCOUNT, self._event)])
        self._copy.poke()  # draw what is there now

    # -- what subclasses define -------------------------------------------------------------------------

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """The table row of a record (a value for each of :attr:`columns`' fields)."""
        raise NotImplementedError

    def footer_text(self, records: list[dict[str, Any]]) -> str:
        """The HTML under the table."""
        raise NotImplementedError

    # -- public -------------------------------------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        """The ids of the rows shown, in table order."""
        return list(self._ids)

    @property
    def selected(self) -> list[str]:
        """The ids of the rows selected (in the browser, or by :meth:`select`)."""
        return [self._ids[i] for i in self.source.selected.indices if 0 <= i < len(self._ids)]

    def select(self, ids: Sequence[str]) -> None:
        """Select the rows of ``ids`` (those shown); call on the kernel's thread."""
        wanted = {str(i) for i in ids}
        self.source.selected.indices = [i for i, row_id in enumerate(self._ids) if row_id in wanted]

    # -- the feed (session's loop thread): cheap -----------------------------------------------------------

    def _event(self, event: AccountEvent) -> None:
        if event.kind == "prices":
            symbols = self._symbols
            if not symbols or not any(price["symbol"] in symbols for price in event.prices):
                return
        elif event.kind not in (self.kind, "synchronized"):
            return
        self._copy.poke()

    # -- redraw (kernel's thread) -------------------------------------------------------------------------

    def redraw(self) -> None:
        """Show the records' latest copy: replace the rows if they changed, keep the selection on the same ids."""
        if self._session.closed:
            return
        records = [r for r in self._copy.value if self.symbol in (None, r.get("symbol"))]
        records.sort(key=lambda r: (r.get("time") is None, r.get("time") or 0, str(r.get("id"))))
        kept = set(self.selected)
        data = self._data([{**self.row(r), "digits": self._digits(r.get("symbol"))} for r in records])
        self.records = records
        self._symbols = frozenset(r.get("symbol") for r in records)
        ids = data["id"]
        if data != self._shown:
            height = table_height(len(ids), self.table.row_height)
            if height != self.table.height:
                self.table.height = height
            show_rows(self.table, data)
            self._shown = data
        self._ids = ids
        if self._highlight is not None and self._highlight in ids:
            kept, self._highlight = {self._highlight}, None
        indices = [i for i, row_id in enumerate(ids) if row_id in kept]
        if indices != list(self.source.selected.indices):
            self.source.selected.indices = indices
        footer = self.footer_text(records)
        if footer != self.footer.value:
            self.footer.value = footer

    @staticmethod
    def _column(field: str, title: str, formatter: Callable[[], Any] | None) -> TableColumn:
        formatted = {"formatter": formatter()} if formatter else {}
        return TableColumn(field=field, title=title, width=WIDTHS[field], **formatted)

    def _digits(self, symbol: Any) -> int | None:
        """The digits of ``symbol``'s prices (its specification's), which the price columns show."""
        return price_digits(self._terminal.specification(symbol)) if isinstance(symbol, str) else None

    def _data(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        fields = [f for f, _title, _fmt in self.columns] + ["digits", *self._extra_fields()]
        return {f: [row[f] for row in rows] for f in fields}

    def _extra_fields(self) -> list[str]:
        return []


def _records_of(frame: Any, symbol: str | None) -> list[str]:
    """The ids of a positions / orders frame's rows (of ``symbol`` when given)."""
    if symbol is not None and len(frame):
        frame = frame[frame["symbol"] == symbol]
    return [str(i) for i in frame["id"]] if len(frame) else []


class PositionsPanel(TradeTable):
    """Open positions, live: prices, SL / TP, swap and floating profit (green / red), total profit below;
    "Close selected" and "Close all" buttons. :meth:`highlight` selects a position (the order ticket's)."""

    kind = "positions"  #: The terminal state's collection the table shows.
    noun = "position"  #: One record, in messages.
    verbs = ("close", "closed")  #: The buttons' action and its past participle, in messages.
    #: id, symbol, type, volume, open and current price, SL, TP, swap and floating profit (red when negative).
    columns = (
        *IDENTITY,
        *PRICES,
        ("swap", "swap", MONEY),
        ("profit", "profit", _numbers("0,0.00", text_color="profit_color")),
    )

    def highlight(self, position_id: str) -> None:
        """Select the position ``position_id`` alone, now if shown, else as soon as it appears (kernel's thread)."""
        checks.text("position_id", position_id)
        if position_id in self._ids:
            self._highlight = None
            self.select([position_id])
        else:
            self._highlight = position_id
            self.changed()

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A position's row: profit is the floating profit (unrealized, at the current price)."""
        profit = record.get("unrealizedProfit", record.get("profit"))
        return {
            "id": str(record.get("id")),
            "symbol": record.get("symbol"),
            "type": _kind(record.get("type"), "POSITION_TYPE_"),
            "volume": _number(record.get("volume")),
            "openPrice": _number(record.get("openPrice")),
            "currentPrice": _number(record.get("currentPrice")),
            "stopLoss": _number(record.get("stopLoss")),
            "takeProfit": _number(record.get("takeProfit")),
            "swap": _number(record.get("swap")),
            "profit": _number(profit),
            "profit_color": DOWN if (profit or 0) < 0 else UP,
        }

    def _extra_fields(self) -> list[str]:
        return ["profit_color"]

    def total_profit(self) -> float:
        """The floating profit of the positions shown at the last redraw, summed."""
        return floating_cents(self.records) / 100

    def footer_text(self, records: list[dict[str, Any]]) -> str:
        """Count and total floating profit."""
        cents = floating_cents(records)
        color = DOWN if cents < 0 else UP
        count = f"{len(records)} position{'' if len(records) == 1 else 's'}"
        return f"{count}, floating profit <b style='color:{color}' class='mtdata-total'>{cents / 100:+,.2f}</b>"

    async def _act_on(self, record_id: str) -> TradeResult:
        return await self._session.close_position_async(record_id)

    async def _act_all(self) -> list[TradeResult]:
        return await self._session.close_all_async(self.symbol)


class OrdersPanel(TradeTable):
    """Pending orders, live (current price follows the market); "Cancel selected" and "Cancel all" buttons."""

    kind = "orders"  #: The terminal state's collection the table shows.
    noun = "order"  #: One record, in messages.
    verbs = ("cancel", "cancelled")  #: The buttons' action and its past participle, in messages.
    #: id, symbol, type, volume, open and current price, SL, TP and the time the order was placed.
    columns = (*IDENTITY, *PRICES, ("time", "time", lambda: DateFormatter(format="%Y-%m-%d %H:%M:%S")))

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A pending order's row (``time``: when it was placed, ms since the epoch)."""
        when = record.get("time")
        return {
            "id": str(record.get("id")),
            "symbol": record.get("symbol"),
            "type": _kind(record.get("type"), "ORDER_TYPE_"),
            "volume": _number(record.get("currentVolume", record.get("volume"))),
            "openPrice": _number(record.get("openPrice")),
            "currentPrice": _number(record.get("currentPrice")),
            "stopLoss": _number(record.get("stopLoss")),
            "takeProfit": _number(record.get("takeProfit")),
            "time": when.timestamp() * 1000 if hasattr(when, "timestamp") else NAN,
        }

    def footer_text(self, records: list[dict[str, Any]]) -> str:
        """How many pending orders."""
        return f"{len(records)} pending order{'' if len(records) == 1 else 's'}"

    async def _act_on(self, record_id: str) -> TradeResult:
        return await self._session.cancel_async(record_id)

    async def _act_all(self) -> list[TradeResult]:
        ids = _records_of(await self._session.orders_async(), self.symbol)
        return [await self._session.cancel_async(order_id) for order_id in ids]


__all__ = ["OrdersPanel", "PositionsPanel", "TradeTable"]
