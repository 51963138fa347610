"""The order ticket: an ipywidgets form that places one order through the session's order helpers.

Side, type (market, limit, stop), volume (stepped by the symbol's volume step), price, SL / TP as prices or
pips. A market order's price field (not editable) follows the ask (buy) or bid (sell) live
(:class:`~mtdata.live.quote_follow.QuoteFollower`); a pending order's price is the user's, only prefilled with the
quote when the side, type or symbol changes. Another symbol, typed or set (``ticket.symbol.value``, as a
:class:`~mtdata.live.dashboard.TradingDesk`'s picker does), keeps a volume typed; a review is done again for it.
Switching SL/TP between price and pips converts the values typed so they describe the same levels
(:func:`convert_stop`: distances from the order's price, or from the quote of a market order; a level on the wrong
side becomes a negative distance, which Review refuses). "Review", "Confirm" and "Cancel", the checks and sends
they start and the result line are :class:`~mtdata.live.order_review.OrderReview`'s. A positions panel given to the
ticket is shown beneath it and selects the position a market order opened.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import ipywidgets

from ..client import checks
from ..order_checks import to_price, unknown_symbol
from .feed import LiveFeed
from .order_review import OrderReview
from .quote_follow import QuoteFollower
from .throttle import kernel_loop
from .trade_actions import BAD
from .view import one_line

if TYPE_CHECKING:
    from ..session import Session


def convert_stop(spec: Any, name: str, value: float, reference: float, buy: bool, old: str, new: str) -> float:
    """An SL / TP (``name``) given in ``old`` units (price, pips, points) in ``new`` ones, describing the same level.

    ``spec`` is a row of ``s.specifications()``, ``reference`` the price distances are measured from (a pending
    order's price, a market order's quote). Distances are signed as the order helpers read them: positive on the
    stop's side (below a buy's reference for its SL, above for its TP; the opposite for a sell), negative on the
    wrong side, so that a misplaced level stays misplaced and is refused at review. Pips and points are the
    helpers' own (:func:`~mtdata.order_checks.to_price`), distances rounded to a tenth, prices to the symbol's digits.
    """
    if old == new or not value:
        return value
    digits = int(spec["digits"])
    pip = spec.get("pip_size")
    wire = {"pipSize": None if pip is None or pip != pip else float(pip), "point": spec["point"], "digits": digits}
    level = value
    if old != "price":  # one unit of `old` towards the stop's side, as the helpers measure it
        level = round(reference + value * to_price(wire, name, 1, 0.0, buy, old), digits)
    if new == "price":
        return level
    away = (level - reference) / to_price(wire, name, 1, 0.0, buy, new)
    return round(away, 1) or away


class OrderTicket(OrderReview, QuoteFollower, ipywidgets.VBox):
    """An order form for ``symbol`` (any of the account's symbols can be typed in), with a review step.

    ``positions`` (optional) is a positions panel, a widget with a ``highlight(position_id)`` method: shown beneath the
    form, told of the position each market order opens, closed with the ticket. Changing the SL/TP units while editing
    converts SL and TP (0 stays 0: none) with :func:`~mtdata.live.order_ticket.convert_stop`. ``feed`` (by default the
    session's, ``session.panel.feed``) carries the quotes a market order's price field follows; :meth:`close` detaches
    them (no sink or subscription left), and a feed that cannot attach leaves the one-shot quote. Create the ticket on
    the kernel's thread (in a cell): checks and sends run as tasks on the loop found there.
    """

    # class defaults for ipywidgets' close() from __del__ after a failed __init__
    _widgets: tuple[ipywidgets.Widget, ...] = ()
    _positions: ipywidgets.Widget | None = None
    _closed = False
    # the form's widgets, made by _build; documented here: autodoc reads attribute docstrings only at class level or
    # in __init__
    symbol: ipywidgets.Combobox
    """The symbol field: any of the account's symbols, typed or picked; a value set from code moves the ticket to
    that symbol (its volume step, price and quotes)."""
    side: ipywidgets.ToggleButtons
    """Buy or sell; changing it refills the price field from the quote (the ask for a buy, the bid for a sell)."""
    kind: ipywidgets.ToggleButtons
    """The order type (labelled "type"): ``market``, ``limit`` or ``stop``; a pending type makes the price editable."""
    volume: ipywidgets.FloatText
    """The volume field (lots), stepped by the symbol's volume step and prefilled with its minimum; a volume typed
    is kept when the symbol changes."""
    price: ipywidgets.FloatText
    """The price field: a market order's follows the ask (buy) or bid (sell) live and is not editable; a pending
    order's is the user's, prefilled with the quote when the side, type or symbol changes."""
    units: ipywidgets.ToggleButtons
    """How :attr:`sl` and :attr:`tp` are given: ``price`` (levels) or ``pips`` (distances from the price field's
    price); switching converts the values typed (:func:`~mtdata.live.order_ticket.convert_stop`)."""
    sl: ipywidgets.FloatText
    """The stop loss, a price or a distance in pips as :attr:`units` says; 0 means no stop loss."""
    tp: ipywidgets.FloatText
    """The take profit, a price or a distance in pips as :attr:`units` says; 0 means no take profit."""
    review_button: ipywidgets.Button
    """The "Review" button: checks the order in the form without sending it (:meth:`review`); its sentence shows in
    :attr:`summary`."""
    confirm_button: ipywidgets.Button
    """The "Confirm" button: sends the order under review (:meth:`confirm`); enabled only during a review."""
    cancel_button: ipywidgets.Button
    """The "Cancel" button: leaves the review and edits the form again, nothing sent (:meth:`cancel`)."""
    summary: ipywidgets.HTML
    """The order under review in one sentence (empty outside a review)."""
    result_line: ipywidgets.HTML
    """The outcome of the last order: its result, or the sentence that refused it (:attr:`message` as text)."""

    def __init__(
        self,
        session: Session,
        symbol: str,
        *,
        positions: ipywidgets.Widget | None = None,
        feed: LiveFeed | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        checks.text("symbol", symbol)
        if feed is not None and not isinstance(feed, LiveFeed):
            raise checks.fail("feed", "must be a LiveFeed (by default the session's, session.panel.feed)", feed)
        if positions is not None and not (
            isinstance(positions, ipywidgets.Widget) and callable(getattr(positions, "highlight", None))
        ):
            raise checks.fail("positions", "must be a widget with a highlight(position_id) method", positions)
        self._session, self._positions = session, positions
        self._loop = loop or kernel_loop()
        self._specs = session.specifications()
        if symbol not in self._specs.index:
            raise unknown_symbol(symbol)
        self._prefill: float | None = None  # the volume the ticket put in the field (a symbol's minimum)
        self._start_quotes(feed if feed is not None else session.panel.feed, self._loop)
        self._build(symbol)
        self._follow(symbol)
        self._fill(symbol, new_symbol=True)

    # -- the form -------------------------------------------------------------------------------------

    def _build(self, symbol: str) -> None:
        wide, label = ipywidgets.Layout(width="330px"), {"description_width": "70px"}
        toggle = {**label, "button_width": "80px"}
        self.symbol = ipywidgets.Combobox(
            value=symbol, options=tuple(self._specs.index), ensure_option=False, description="symbol", layout=wide,
            style=label,
        )  # fmt: skip
        self.side = ipywidgets.ToggleButtons(options=("buy", "sell"), description="side", style=toggle)
        self.kind = ipywidgets.ToggleButtons(options=("market", "limit", "stop"), description="type", style=toggle)
        self.volume = ipywidgets.FloatText(description="volume", layout=wide, style=label)
        self.price = ipywidgets.FloatText(description="price", layout=wide, style=label)
        self.units = ipywidgets.ToggleButtons(options=("price", "pips"), description="SL/TP in", style=toggle)
        self.sl = ipywidgets.FloatText(value=0.0, description="SL", tooltip="0: none", layout=wide, style=label)
        self.tp = ipywidgets.FloatText(value=0.0, description="TP", tooltip="0: none", layout=wide, style=label)
        self.review_button = ipywidgets.Button(description="Review", button_style="primary")
        self.confirm_button = ipywidgets.Button(description="Confirm", button_style="danger")
        self.cancel_button = ipywidgets.Button(description="Cancel")
        self.summary = ipywidgets.HTML()
        self.result_line = ipywidgets.HTML()
        for button, handler in (
            (self.review_button, self.review),
            (self.confirm_button, self.confirm),
            (self.cancel_button, self.cancel),
        ):
            button.on_click(lambda _button, act=handler: act())
            button.add_class("mtdata-ticket-" + button.description.lower())
        self.side.observe(self._refill, names="value")
        self.kind.observe(self._refill, names="value")
        self.symbol.observe(self._symbol_changed, names="value")
        self.units.observe(self._units_changed, names="value")
        self.price.add_class("mtdata-ticket-price")
        self.volume.add_class("mtdata-ticket-volume")
        self.symbol.add_class("mtdata-ticket-symbol")
        self.summary.add_class("mtdata-ticket-summary")
        self.result_line.add_class("mtdata-ticket-result")
        buttons = ipywidgets.HBox([self.review_button, self.confirm_button, self.cancel_button])
        fields = [self.symbol, self.side, self.kind, self.volume, self.price, self.units, self.sl, self.tp]
        self._widgets = (*fields, *buttons.children, buttons, self.summary, self.result_line)
        below = [self._positions] if self._positions is not None else []
        super().__init__(children=[*fields, buttons, self.summary, self.result_line, *below])
        self.add_class("mtdata-ticket")
        self._show_state()

    @property
    def positions(self) -> ipywidgets.Widget | None:
        """The positions panel shown beneath the form, if any."""
        return self._positions

    def order(self) -> dict[str, Any]:
        """The order the form describes, as :meth:`~mtdata.orders.Orders.preview_async` takes it (0 SL / TP: none)."""
        side, kind = self.side.value, self.kind.value
        pending = kind != "market"
        return {
            "kind": f"{side} {kind}" if pending else side,
            "symbol": self.symbol.value,
            "volume": self.volume.value,
            "price": self.price.value if pending else None,
            "sl": self.sl.value or None,
            "tp": self.tp.value or None,
            "units": self.units.value,
        }

    def __repr__(self) -> str:
        return one_line(self, self.symbol.value or "(no symbol)", self._closed)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def close(self) -> None:
        """Stop a check or send in progress (a sent order stays sent) and following the quote (no sink or
        subscription left), close the form and the positions panel."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        self._stop_quotes()
        for widget in [*self._widgets, *([self._positions] if self._positions is not None else [])]:
            widget.close()
        super().close()

    # -- state and prefill ----------------------------------------------------------------------------

    def _show_state(self) -> None:
        """Enable exactly what the state allows: the form in ``edit``, Confirm and Cancel in ``review``."""
        editing, reviewing = self._state == "edit", self._state == "review"
        for control in (self.symbol, self.side, self.kind, self.volume, self.units, self.sl, self.tp):
            control.disabled = not editing
        self.price.disabled = not editing or self.kind.value == "market"
        self.review_button.disabled = not editing
        self.confirm_button.disabled = self.cancel_button.disabled = not reviewing

    def _refill(self, _change: dict[str, Any]) -> None:
        """Side or type changed: the price field from the current quote."""
        self._show_state()
        self._fill(self.symbol.value)

    def _units_changed(self, change: dict[str, Any]) -> None:
        """SL / TP in other units: each non-zero value converted to describe the same level (editing only)."""
        symbol = self.symbol.value
        reference = float(self.price.value)
        if self._state != "edit" or symbol not in self._specs.index or reference <= 0:
            return
        spec, buy, units = self._specs.loc[symbol], self.side.value == "buy", (change["old"], change["new"])
        for name, field in (("sl", self.sl), ("tp", self.tp)):
            if field.value:
                value, field.value = field.value, convert_stop(spec, name, field.value, reference, buy, *units)
                if not field.value:  # a level at the reference itself: no distance, so no stop any more
                    self._say(BAD, f"{name} {value:g} was the reference price {reference:g} itself: now none.")

    def _symbol_changed(self, _change: dict[str, Any]) -> None:
        """Another symbol (typed or set from code): its volume step, price and quotes, the volume typed kept; an order
        under review reviewed again (an unknown symbol is refused at Review)."""
        symbol = self.symbol.value
        self._follow(symbol if symbol in self._specs.index else None)
        self._fill(symbol, new_symbol=True)
        if self._state == "review":
            self.summary.value = ""
            self._enter("edit")
            self.review()

    def _fill(self, symbol: str, new_symbol: bool = False) -> None:
        """Prefill the price of ``symbol`` from its specification and current quote (the feed's newest, else one asked
        for now: the price a ticket without a live feed keeps); for a new symbol its volume step, and its minimum
        volume unless the field holds a volume the user typed."""
        if symbol not in self._specs.index:
            return
        spec = self._specs.loc[symbol]
        if new_symbol:
            self.volume.step = float(spec["volume_step"])
            if self._prefill is None or self.volume.value == self._prefill:
                self.volume.value = self._prefill = float(spec["min_volume"])
        self.price.step = float(spec["tick_size"] or spec["point"])
        quote = self._quote_of(symbol)
        if quote is not None:
            self._show_price(spec, quote)


__all__ = ["OrderTicket", "convert_stop"]
