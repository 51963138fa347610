"""The latency panel on a real sandbox session: percentiles, chart rows, health, polling without needless redraws,
close() leaving no task behind."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_frontend import Frontend, rendered_source
from test_feed import FAST_MARKET
from test_market_panels import session_tasks, until

import mtdata
from mtdata.errors import ValidationException
from mtdata.live.latency_panel import CHART_COLUMNS, LatencyPanel, Reading

#: A Saturday: the FX market is closed, nothing streams, the monitors' readings stay the same.
QUIET_MARKET = {"start": "2026-11-21T12:00:00Z"}
#: The (kind, latency) of each row of the latency table.
ROWS = re.compile(r"data-kind='([^']+)' data-latency='(\w+)'")


@pytest.fixture(scope="module")
def session() -> Iterator[mtdata.Session]:
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as opened:
        opened.price("EURUSD")  # subscribes: prices (with their latencies) stream
        yield opened


def latency_tasks(session: mtdata.Session) -> int:
    return session_tasks(session)["LatencyPanel._poll"]


async def test_the_panel_shows_percentiles_health_and_a_chart_row_per_change(
    session: mtdata.Session, frontend: Frontend
):
    panel = LatencyPanel(session, every=0.2, rate=50)
    assert latency_tasks(session) == 1

    def price_measured() -> bool:
        reading = panel.reading
        return reading is not None and bool(reading.latencies["price"]["clientLatency"]["count"])

    await until(price_measured)
    await until(lambda: "data-kind='price'" in panel.table.value)
    reading = panel.reading
    assert reading is not None
    assert any(kind.startswith("request:") for kind in reading.latencies)  # the subscribe request, at least
    assert reading.health["connected"] and reading.health["synchronized"]
    assert set(reading.uptime) == {"5m", "1h", "1d", "1w"}
    await until(lambda: "data-healthy=" in panel.health.value)
    assert "✓ connected" in panel.health.value and "uptime: 5m" in panel.health.value
    for statistic in ("p50", "p95", "p98", "count"):
        assert f"<th>{statistic}</th>" in panel.table.value

    # a change of the charted percentiles gets a row: loopback prices may keep them the same (whole ms, 0 on a
    # fast machine), a first trade cannot (the trade line had no measurement); the browser sees the same rows
    rows = len(panel.window.data()["time"])
    session.buy("EURUSD", 0.01)
    await until(lambda: len(panel.window.source.data["time"]) > rows)

    async def charted() -> tuple[dict[str, list[float]], Reading | None]:
        return panel.window.data(), panel.reading  # on the session's loop: no poll between the two reads

    data, reading = session.run(charted())
    assert tuple(data) == CHART_COLUMNS and reading is not None
    assert all(b > a for a, b in zip(data["time"], data["time"][1:], strict=False))
    assert data["price_p50"][-1] == pytest.approx(float(reading.latencies["price"]["clientLatency"]["p50"]))
    widget = panel._bokeh
    frontend.show(widget, views=1)
    assert rendered_source(widget, "latency")["time"][-1] == panel.window.source.data["time"][-1]

    # the line reaches the market's time whether or not the percentiles change (the candles' clock)
    market_now = panel._clock.now()
    await until(lambda: panel.window.source.data["time"][-1] >= market_now)

    panel.close()  # (a poll may run while it closes, on the session's loop)
    polls = panel.polls
    assert latency_tasks(session) == 0
    assert not panel._throttle._timer
    await asyncio.sleep(2 * panel.every)
    assert panel.polls == polls  # no poll after close
    panel.close()  # idempotent


async def test_the_table_summarises_until_details_are_asked_for(session: mtdata.Session, frontend: Frontend):
    panel = LatencyPanel(session, every=0.2, rate=50)
    session.buy("EURUSD", 0.01)  # a trade and account updates: requests of more types, more rows
    await until(lambda: "data-kind='price'" in panel.table.value and "more rows under details" in panel.table.value)
    rows = set(ROWS.findall(panel.table.value))
    assert rows and {kind for kind, _ in rows} <= {"price", "update", "trade"}
    assert {latency for _, latency in rows} == {"client"}
    panel.details.value = True  # the toggle beside the table
    detailed = set(ROWS.findall(panel.table.value))
    assert rows < detailed and any(kind.startswith("request:") for kind, _ in detailed), detailed
    assert "more rows under details" not in panel.table.value
    panel.details.value = False
    assert "more rows under details" in panel.table.value
    panel.close()
    assert panel.details.comm is None  # closed with the panel


async def test_nothing_changing_means_polls_but_no_redraws(frontend: Frontend):
    with mtdata.connect(sandbox=QUIET_MARKET, progress=False) as quiet:
        panel = LatencyPanel(quiet, every=0.1, rate=50)
        await until(lambda: panel.redraws >= 1)
        redraws, polls = panel.redraws, panel.polls
        await until(lambda: panel.polls >= polls + 10)
        assert panel.redraws <= redraws + 1  # at most an uptime sample (taken 1 to 60 s after connecting)
        assert "no latency measured" in panel.table.value or "data-kind=" in panel.table.value
        panel.close()
        assert latency_tasks(quiet) == 0


async def test_a_snapshot_holds_the_table_and_the_health(session: mtdata.Session, frontend: Frontend, tmp_path: Path):
    panel = LatencyPanel(session, rate=0.2)
    page = panel.snapshot(tmp_path / "latency.html").read_text(encoding="utf-8")
    body = page[page.index("<body", page.index("</head>")) :]  # the texts (HTML widgets) are in the page's body
    assert body.index(panel.health.value) < body.index(panel.table.value) < body.index("data-root-id")
    assert body.count(".mtdata-latency{") == 1  # the style sheet once
    panel.close()


async def test_bad_arguments_are_refused_before_anything_starts(session: mtdata.Session, frontend: Frontend):
    tasks = latency_tasks(session)
    for kwargs, name in (
        ({"every": 0}, "every"),
        ({"every": "1s"}, "every"),
        ({"window": "2h"}, "window"),
        ({"rollover": 0}, "rollover"),
        ({"rate": 0}, "rate"),
    ):
        with pytest.raises(ValidationException) as caught:
            LatencyPanel(session, **kwargs)
        assert caught.value.details[0]["parameter"] == name
    assert latency_tasks(session) == tasks


async def test_a_panel_outliving_its_session_closes_quietly(frontend: Frontend):
    with mtdata.connect(sandbox=QUIET_MARKET, progress=False) as own:
        panel = LatencyPanel(own, every=0.1)
    panel.close()
    assert panel.closed
