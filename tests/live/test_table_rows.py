"""show_rows: new rows, then a change of the table's CDSView, in that order (what makes BokehJS redraw the grid)."""

from __future__ import annotations

from bokeh.document import Document
from bokeh.models import ColumnDataSource, DataTable, TableColumn

from mtdata.live.table_rows import show_rows


def test_rows_then_a_changed_view_for_each_update_even_with_as_many_rows():
    source = ColumnDataSource({"price": [1.0, 2.0]})
    table = DataTable(source=source, columns=[TableColumn(field="price")])
    doc = Document()
    doc.add_root(table)
    events: list[tuple[str, str]] = []
    doc.on_change(lambda event: events.append((event.model.id, event.attr)))
    for prices in ([1.5, 2.5], [1.6, 2.6]):  # the same number of rows: the view's indices do not change
        show_rows(table, {"price": prices})
    assert events == [(source.id, "data"), (table.view.id, "tags")] * 2
    assert source.data == {"price": [1.6, 2.6]}
    assert table.view.tags == [2]

