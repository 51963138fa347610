"""show_rows: new rows, then a change of the table's CDSView, in that order (what makes BokehJS redraw the grid);
table_height: a table as high as its rows."""

from __future__ import annotations

from bokeh.document import Document
from bokeh.models import ColumnDataSource, DataTable, TableColumn

from mtdata.live.table_rows import SHOWN_ROWS, show_rows, table_height


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



def test_a_table_is_as_high_as_its_rows_up_to_a_scrolling_few():
    assert table_height(0, 25) == table_height(1, 25) == 52  # a header and one row (empty: "no rows" has room)
    assert table_height(3, 25) == 102  # no blank grid under three rows (it was 220 px whatever the rows)
    assert table_height(SHOWN_ROWS, 25) == table_height(100, 25) == (SHOWN_ROWS + 1) * 25 + 2  # then it scrolls
