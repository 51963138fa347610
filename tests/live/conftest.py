"""Fixtures of the live-panel tests: the recording front end; the order-ticket tests' sandbox, session and ticket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import comm
import pytest
from live_frontend import Frontend
from ticket_helpers import WEDNESDAY

import mtdata
from mtdata import sandbox as sandboxes
from mtdata.live.order_ticket import OrderTicket
from mtdata.live.trade_tables import PositionsPanel
from mtdata.sandbox import SandboxHandle


@pytest.fixture
def frontend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Frontend]:
    """Widgets created in the test open recording comms."""
    fake = Frontend()
    monkeypatch.setattr(comm, "create_comm", fake.create_comm)
    yield fake


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """A sandbox of each order-ticket test module's own (its tests trade) on a Wednesday morning."""
    with sandboxes.start(data_dir=tmp_path_factory.mktemp("sandbox"), start=WEDNESDAY) as handle:
        yield handle


@pytest.fixture(scope="module")
def s(box: SandboxHandle) -> Iterator[mtdata.Session]:
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session:
        yield session


@pytest.fixture
async def ticket(s: mtdata.Session, frontend: Frontend) -> AsyncIterator[OrderTicket]:
    """``s.order_ticket``: a EURUSD ticket over a positions panel of every symbol; positions left open are closed
    afterwards."""
    made = s.order_ticket("EURUSD")
    assert isinstance(made.positions, PositionsPanel) and made.positions.symbol is None
    yield made
    made.close()
    s.close_all()
    for order in s.orders()["id"]:
        s.cancel(order)
