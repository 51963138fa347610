"""Table panels in a real browser (Voila, then JupyterLab): the text of their row cells moves in the page, not
only in the kernel.

Positions, orders and book are Bokeh DataTables (SlickGrid rows in a shadow root), latency an HTML table. Each
table's rows are read as the page shows them (cells' ``textContent``), and each must show other text later:
a price, a profit, a volume or a count that moved. The positions' profit cell must also agree with the total
under the table (before the fix, the rows stayed as first drawn while the total moved).
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_harness import SCREENSHOTS, Notebook7, Voila, open_notebook

pytestmark = pytest.mark.timeout(400)  # page waits are bounded by the harness's TIMEOUT_MS

CELLS = [
    """\
import mtdata

s = mtdata.connect(progress=False, sandbox={"start": "2026-11-18T12:00:00Z", "speed": 60})
s.buy("EURUSD", 0.1)
s.buy_limit("GBPUSD", 0.1, round(float(s.price("GBPUSD")["bid"].iloc[0]) - 0.01, 5))
s.panel.positions()
""",
    "s.panel.orders()\n",
    's.panel.book("USDJPY")\n',
    "s.panel.latency(every=0.2)\n",
]

#: The DataTables, by the Bokeh name of their model.
TABLES = ("positions_table", "orders_table", "book_table")

# {table name: its rows' texts (cells joined by "|"), sorted} of the DataTables shown (connected to the page)
GRIDS = """() => {
  const shown = {}
  const visit = view => {
    if (view.grid != null && view.el.isConnected && view.model.name != null)
      shown[view.model.name] = [...view.shadow_el.querySelectorAll(".slick-row")]
        .map(row => [...row.querySelectorAll(".slick-cell")].map(cell => cell.textContent).join("|")).sort()
    for (const child of view.child_views ?? []) visit(child)
  }
  for (const view of window.Bokeh?.index?.roots ?? []) visit(view)
  return shown
}"""
# the same of their header rows: {table name: [column titles joined by "|"]}
HEADERS = GRIDS.replace(".slick-row", ".slick-header-columns").replace(".slick-cell", ".slick-header-column")
# the latency table's body cells, as one text
LATENCY = """() => [...document.querySelectorAll(".mtdata-latency tr[data-kind] td")]
  .map(td => td.textContent).join("|")"""
# the positions' profit cell (the last column) and the total under the table, as numbers
PROFITS = """() => {
  const rows = (GRIDS)()["positions_table"] ?? []
  const total = document.querySelector(".mtdata-positions-footer .mtdata-total")?.textContent
  if (rows.length !== 1 || total == null) return null
  return [Number(rows[0].split("|").at(-1).replaceAll(",", "")), Number(total.replaceAll(",", ""))]
}""".replace("(GRIDS)", f"({GRIDS})")


def test_every_table_panel_changes_its_row_cells_in_the_page(front: tuple[Voila, Any]):
    server, page = front
    open_notebook(page, server, server.notebook("table_panels", CELLS))
    page.wait_for_function(
        f"names => {{ const g = ({GRIDS})(); return names.every(n => g[n]?.length > 0) && ({LATENCY})() !== '' }}",
        arg=list(TABLES),
        polling=100,
    )
    first, first_latency = page.evaluate(GRIDS), page.evaluate(LATENCY)
    assert len(first["positions_table"]) == len(first["orders_table"]) == 1, first
    SCREENSHOTS.mkdir(exist_ok=True)
    front_end = type(server).__name__.lower()
    page.screenshot(path=str(SCREENSHOTS / f"table-panels-{front_end}-start.png"), full_page=True)

    # every table's rows show other text a few simulated minutes later (prices, profits, volumes, counts moved)
    for name in TABLES:
        page.wait_for_function(f"([name, rows]) => {{ const now = ({GRIDS})()[name]; return now != null && "
                               f"now.length > 0 && JSON.stringify(now) !== JSON.stringify(rows) }}",
                               arg=[name, first[name]], polling=100)  # fmt: skip
    page.wait_for_function(f"text => ({LATENCY})() !== text", arg=first_latency, polling=100)
    later = page.evaluate(GRIDS)
    position, order = later["positions_table"][0].split("|"), later["orders_table"][0].split("|")
    assert position[2:4] == ["EURUSD", "buy"] and order[2:4] == ["GBPUSD", "buy limit"], later

    # the profit in the row and the total under the table agree (they are redrawn together)
    page.wait_for_function(f"() => {{ const p = ({PROFITS})(); return p != null && p[0] === p[1] }}", polling=100)
    page.screenshot(path=str(SCREENSHOTS / f"table-panels-{front_end}-later.png"), full_page=True)
    log = page.mtdata_log
    assert log.errors == [], log.errors


def test_the_positions_rows_change_in_notebook_7(notebook7: Notebook7, notebook7_page: Any):
    """The same in Notebook 7's interface (issue 16 item 1 was seen there too): the position's current price and
    profit cells show new text in the page, and the profit agrees with the total under the table."""
    page = notebook7_page
    open_notebook(page, notebook7, notebook7.notebook("positions_notebook7", CELLS[:1]))
    page.wait_for_function(f"() => ({GRIDS})()['positions_table']?.length === 1", polling=100)
    titles = page.evaluate(HEADERS)["positions_table"][-1].split("|")
    price, profit = titles.index("current price"), titles.index("profit")
    first = page.evaluate(GRIDS)["positions_table"][0].split("|")
    assert first[titles.index("symbol")] == "EURUSD" and first[price] and first[profit], first

    page.wait_for_function(f"""([first, price, profit]) => {{
      const now = ({GRIDS})()["positions_table"]?.[0]?.split("|")
      return now != null && now[price] !== first[price] && now[profit] !== first[profit]
    }}""", arg=[first, price, profit], polling=100)  # fmt: skip
    page.wait_for_function(f"() => {{ const p = ({PROFITS})(); return p != null && p[0] === p[1] }}", polling=100)
    page.screenshot(path=str(SCREENSHOTS / "table-panels-notebook7-later.png"), full_page=True)
    # Notebook 7.6's own start-up error (its keyboard shortcuts' settings; its file browser page shows it too)
    errors = [e for e in page.mtdata_log.errors if e != "Cannot read properties of undefined (reading 'schema')"]
    assert errors == [] and page.mtdata_log.outside_requests == [], page.mtdata_log
