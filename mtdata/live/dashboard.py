"""``s.dashboard(symbols)``: several live panels of one session in one widget, opened and closed together.

The panels are the ordinary ones of ``s.panel`` (sharing the session's feed and subscriptions); the
dashboard only lays them out in rows and owns their lifetime.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ipywidgets

from ..client import checks
from .view import LivePanel


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
