"""``s.dashboard(symbols)``: several live panels of one session in one widget, opened and closed together.

The panels are the ordinary ones of ``s.panel`` (sharing the session's feed and subscriptions); the
dashboard only lays them out in rows and owns their lifetime. ``s.panel.desk(symbols)`` (a :class:`TradingDesk`,
the dashboard notebook's app) puts a symbols picker over a dashboard and an order ticket that follows the pick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ipywidgets

from ..client import checks
from .order_ticket import OrderTicket
from .view import LivePanel, one_line


class Dashboard(ipywidgets.VBox):
    """Named live panels laid out in rows (a row too wide for the page wraps); ``close()`` closes them all."""

    _closed = True  # until built: ipywidgets calls close() from __del__, even after a failed __init__

    def __init__(self, panels: Mapping[str, LivePanel], rows: Sequence[Sequence[str]]) -> None:
        placed = [name for names in rows for name in names]
        if sorted(placed) != sorted(panels):
            raise checks.fail("rows", "must place every panel exactly once", rows)
        self._panels = dict(panels)
        # a row wraps rather than squeeze its panels: at 1280 px the ticker and the account side by side cut the
        # ticker's last columns
        wrap = {"flex_flow": "row wrap"}
        rows_shown = [ipywidgets.HBox([self._panels[n] for n in names], layout=wrap) for names in rows]
        super().__init__(children=rows_shown)
        self._closed = False

    @classmethod
    def build(cls, makers: Mapping[str, Callable[[], LivePanel]], rows: Sequence[Sequence[str]]) -> Dashboard:
        """Make each panel in turn; when one fails, close those already made and re-raise."""
        made: dict[str, LivePanel] = {}
        try:
            for name, make in makers.items():
                made[name] = make()
            return cls(made, rows)
        except BaseException:
            for panel in made.values():
                panel.close()
            raise

    @property
    def panels(self) -> dict[str, LivePanel]:
        """The panels by name (``"ticker"``, ``"candles"`` …)."""
        return dict(self._panels)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def __getitem__(self, name: str) -> LivePanel:
        return self._panels[name]

    def __repr__(self) -> str:
        return one_line(self, "of " + ", ".join(self._panels), self._closed)

    def close(self) -> None:
        """Close every panel (unsubscribing what no one else uses), then the layout. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for panel in self._panels.values():
            panel.close()
        for box in self.children:
            box.close()
        super().close()


class TradingDesk(ipywidgets.VBox):
    """A symbols picker (:attr:`picker`, any of ``choices``) over a :class:`Dashboard` of the symbols picked (its chart
    of the first) and an order ticket of that first symbol (:attr:`ticket`). A new pick replaces the dashboard,
    closing the old one's panels, and sets the ticket's symbol (its price follows the new quote, a volume typed is
    kept, an order under review is reviewed again); an empty pick changes nothing. ``close()`` closes all."""

    _closed = True  # until built: ipywidgets calls close() from __del__, even after a failed __init__

    def __init__(
        self,
        make_dashboard: Callable[[list[str]], Dashboard],
        ticket: OrderTicket,
        choices: Sequence[str],
        symbols: Sequence[str],
    ) -> None:
        self._make = make_dashboard
        self.ticket = ticket
        """The order ticket, on the first symbol picked."""
        self.picker = ipywidgets.SelectMultiple(
            options=tuple(choices), value=tuple(symbols), rows=6, description="symbols"
        )
        """The symbols picker: its ``value`` (in ``choices``' order) is what the dashboard shows."""
        self.picker.add_class("mtdata-picker")
        self._board = ipywidgets.VBox()
        super().__init__(children=[self.picker, self._board, ticket])
        self._closed = False
        self._show(list(self.picker.value))
        self.picker.observe(lambda change: self._show(list(change["new"])), names="value")

    def __repr__(self) -> str:
        return one_line(self, " ".join(self.picker.value), self._closed)

    @property
    def dashboard(self) -> Dashboard:
        """The dashboard of the symbols picked now."""
        return self._board.children[0]

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def _show(self, symbols: list[str]) -> None:
        """A dashboard of ``symbols`` in place of the old one (closed), the ticket on the first symbol."""
        if not symbols or self._closed:
            return
        old = self._board.children
        self._board.children = [self._make(symbols)]
        for board in old:
            board.close()
        self.ticket.symbol.value = symbols[0]

    def close(self) -> None:
        """Close the dashboard's panels, the ticket and the picker. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for widget in (*self._board.children, self._board, self.ticket, self.picker):
            widget.close()
        super().close()
