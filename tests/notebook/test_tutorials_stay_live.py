"""Run All on the live tutorials (03, 04) leaves what they teach live: every panel open and redrawing, the ticket
working. Each notebook runs top to bottom in a real kernel (nbclient, as "Run All" does), then one more cell
checks in that same kernel what a reader would find under the last cell."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = pytest.mark.timeout(600)

#: Awaited in the kernel after Run All: the panels the notebook made, whether each redraws again (prices move
#: at speed 60, the latency panel polls every second), and whether the session is open.
PANELS_MOVE = """
import json as _json, time as _time
_open = s.panel.open
_before = {id(p): p.redraws for p in _open}
_deadline = _time.monotonic() + 60
while _time.monotonic() < _deadline and not all(p.redraws > _before[id(p)] for p in _open):
    await asyncio.sleep(0.1)
print(_json.dumps({"closed": s.closed, "open": sorted(type(p).__name__ for p in _open),
                   "still": sorted(type(p).__name__ for p in _open if p.redraws == _before[id(p)])}))
"""

#: The ticket after Run All of 04: open, and an order placed through it (review, confirm) is done.
TICKET_WORKS = """
import json as _json
ticket.volume.value, ticket.units.value, ticket.sl.value, ticket.tp.value = 0.1, "pips", 0, 0
ticket.review()
_reviewed = await settle(ticket)
ticket.confirm()
_sent = await settle(ticket)
_result = ticket.result
s.close_position(_result.position_id)
print(_json.dumps({"closed": s.closed or ticket.closed, "states": [_reviewed, _sent],
                   "code": _result.code, "positions_panel_open": not ticket.children[-1].closed}))
"""


def run_all_then(name: str, check: str) -> dict:
    """Run every cell of notebook ``name`` in a new kernel, then ``check``; what ``check`` printed (JSON)."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(check))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}})
    client.execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    return json.loads(printed.strip().splitlines()[-1])


def test_run_all_of_03_leaves_every_panel_open_and_redrawing():
    found = run_all_then("03_live_panels.ipynb", PANELS_MOVE)
    assert found["closed"] is False
    assert found["open"] == sorted(["AccountPanel", "BookPanel", "CandlesPanel", "LatencyPanel", "OrdersPanel",
                                    "PositionsPanel", "TickerPanel", "TicksPanel"]), found  # fmt: skip
    assert found["still"] == [], found


def test_run_all_of_04_leaves_a_working_ticket():
    found = run_all_then("04_trading_from_cells.ipynb", TICKET_WORKS)
    assert found == {"closed": False, "states": ["review", "edit"], "code": 10009, "positions_panel_open": True}
