"""Replace the rows of a Bokeh ``DataTable`` so that the browser redraws them.

BokehJS 3.9's ``DataTableView`` redraws its grid only when its ``CDSView`` changes, and the view's indices
change only with the number of rows: new values in the same number of rows (a position's price and profit, a
book's volumes) reach the browser's data source, but the page keeps showing the rows first drawn.
:func:`show_rows` sets the data, then changes the view's ``tags`` (a counter) in the same document patch:
a changed view makes every BokehJS version redraw the grid from the new data. :func:`table_height` sizes a table
to its rows (no blank grid under a few rows).
"""

from __future__ import annotations

from typing import Any

from bokeh.models import DataTable


def show_rows(table: DataTable, data: dict[str, list[Any]]) -> None:
    """Replace ``table``'s rows with ``data`` (columns) and make the browser redraw them; on the kernel's thread."""
    table.source.data = data
    view = table.view
    count = view.tags[0] if view.tags and isinstance(view.tags[0], int) else 0
    view.tags = [count + 1]  # after the data: the grid redraws from the new rows


#: Rows a table shows before it scrolls; its height follows its rows up to these.
SHOWN_ROWS = 8


def table_height(rows: int, row_height: int) -> int:
    """The height (px) of a DataTable showing ``rows`` rows (at least one, at most :data:`SHOWN_ROWS`) and its
    header, each ``row_height`` px, with the grid's borders."""
    return (min(max(rows, 1), SHOWN_ROWS) + 1) * row_height + 2


__all__ = ["SHOWN_ROWS", "show_rows", "table_height"]
