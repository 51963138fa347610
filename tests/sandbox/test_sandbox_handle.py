"""The in-process handle: start/stop, context manager, restart on the same port and data, the pinned clock."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

import mtdata.sandbox
from mtdata.sandbox.timeutil import parse_iso_ms


def test_context_manager_serves_then_stops(tmp_path) -> None:
    with mtdata.sandbox.start(data_dir=tmp_path) as sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:")
        account = httpx.get(f"{sandbox.url}/users/current/accounts/{sandbox.account_id}",
                            headers={"auth-token": sandbox.token}).json()  # fmt: skip
        assert account["state"] == "DEPLOYED" and account["connectionStatus"] == "CONNECTED"
        assert sandbox.token not in repr(sandbox)
        url = sandbox.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_restart_keeps_port_token_and_data(tmp_path) -> None:
    with mtdata.sandbox.start(data_dir=tmp_path) as sandbox:
        port, token, account_id = sandbox.port, sandbox.token, sandbox.account_id
        sandbox.restart()
        assert (sandbox.port, sandbox.token, sandbox.account_id) == (port, token, account_id)
        assert httpx.get(f"{sandbox.url}/users/current/accounts", headers={"auth-token": token}).status_code == 200
    with mtdata.sandbox.start(data_dir=tmp_path) as again:
        assert (again.token, again.account_id) == (token, account_id)


def test_temporary_data_dir_is_removed() -> None:
    sandbox = mtdata.sandbox.start()
    data_dir = sandbox.data_dir
    assert (data_dir / "sandbox.sqlite3").exists()
    sandbox.stop()
    assert not data_dir.exists()


def test_start_pins_the_market_clock(mtdata_sandbox_factory) -> None:
    saturday = "2026-11-21T12:00:00Z"
    sandbox = mtdata_sandbox_factory(start=saturday)
    now = sandbox.server.market.now_ms()
    assert 0 <= now - parse_iso_ms(saturday, "start") < 60_000
    assert not sandbox.server.market.in_quote_session("EURUSD", now)
    assert sandbox.server.market.in_quote_session("BTCUSD", now)


def test_start_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        mtdata.sandbox.start(start=datetime(2026, 11, 18, 12))
