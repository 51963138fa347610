"""The REST transport against real server answers: error classes, retries, 202, 429, closing (protocol §2.10, §3.3)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from mtdata.client import MetaApi
from mtdata.errors import (
    ForbiddenException,
    MetaApiException,
    NotFoundException,
    TimeoutException,
    TooManyRequestsException,
    UnauthorizedException,
    ValidationException,
)
from mtdata.sandbox import SandboxHandle

FAULTS = "/sandbox/faults"


def fault(sandbox: SandboxHandle, kind: str, body: dict) -> None:
    answer = httpx.post(sandbox.url + FAULTS + "/" + kind, json=body, headers={"auth-token": sandbox.token})
    assert answer.status_code == 201, answer.text


async def test_404_names_the_request(api: MetaApi) -> None:
    with pytest.raises(NotFoundException) as caught:
        await api.metatrader_account_api.get_account("missing")
    error = caught.value
    assert error.status_code == 404 and error.url.endswith("/users/current/accounts/missing")
    assert "GET " in error.message and "/accounts/missing" in error.message


async def test_400_carries_the_details_and_names_the_fields(api: MetaApi) -> None:
    with pytest.raises(ValidationException) as caught:
        await api.metatrader_account_api.create_account({"name": "x", "server": "Unknown-Server", "platform": "mt5"})
    assert caught.value.status_code == 400 and caught.value.details == ["E_SRV_NOT_FOUND"]
    with pytest.raises(ValidationException) as caught:
        await api.provisioning_profile_api.create_provisioning_profile(
            {"name": "p", "version": 5, "brokerTimezone": "Mars/Olympus", "brokerDSTSwitchTimezone": "EET"}
        )
    assert caught.value.details[0]["parameter"] == "brokerTimezone" and "brokerTimezone" in caught.value.message


async def test_401_for_a_bad_token(make_api: Callable[..., MetaApi], sandbox: SandboxHandle) -> None:
    api = make_api("aaa.bbb.ccc")
    with pytest.raises(UnauthorizedException) as caught:
        await api.metatrader_account_api.get_account(sandbox.account_id)
    assert caught.value.status_code == 401 and "aaa.bbb.ccc" not in str(caught.value)


async def test_403_for_a_narrowed_token(api: MetaApi, make_api: Callable[..., MetaApi], sandbox: SandboxHandle) -> None:
    reader = await api.token_management_api.narrow_down_token_roles(["reader"], 1)
    narrowed = make_api(reader)
    assert (await narrowed.metatrader_account_api.get_account(sandbox.account_id)).id == sandbox.account_id
    account = await narrowed.metatrader_account_api.get_account(sandbox.account_id)
    with pytest.raises(ForbiddenException) as caught:
        await account.undeploy()
    assert caught.value.status_code == 403 and reader not in repr(caught.value) + str(caught.value)


async def test_429_is_waited_out_then_succeeds(make_api: Callable[..., MetaApi], sandbox: SandboxHandle) -> None:
    api = make_api(retryOpts={"retries": 3, "minDelayInSeconds": 0.05, "maxDelayInSeconds": 2})  # deadline 6 s
    fault(sandbox, "rate-limit", {"count": 2, "retryAfterSeconds": 0.3, "scope": "rest"})
    started = time.monotonic()
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    assert account.id == sandbox.account_id
    assert time.monotonic() - started >= 0.5  # two waits of about 0.3 s (the retry time has ms precision)


async def test_429_beyond_the_deadline_is_raised(api: MetaApi, sandbox: SandboxHandle) -> None:
    fault(sandbox, "rate-limit", {"count": 1, "retryAfterSeconds": 60, "scope": "rest"})
    with pytest.raises(TooManyRequestsException) as caught:
        await api.metatrader_account_api.get_account(sandbox.account_id)
    assert caught.value.status_code == 429 and "recommendedRetryTime" in caught.value.metadata


async def test_read_timeouts_are_retried_with_backoff(make_api: Callable[..., MetaApi], sandbox: SandboxHandle) -> None:
    api = make_api(requestTimeout=0.5)
    fault(sandbox, "delay", {"seconds": 3.0, "scope": "rest", "count": 2})
    started = time.monotonic()
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    assert account.id == sandbox.account_id
    assert time.monotonic() - started >= 2 * 0.5 + 0.05 + 0.1  # two timeouts, backoff 0.05 then 0.1


async def test_connection_errors_give_up_after_the_retries(make_api: Callable[..., MetaApi]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = MetaApi.sandbox(f"http://127.0.0.1:{port}", "a.b.c", {"retryOpts": {"retries": 2, "minDelayInSeconds": 0.05}})
    started = time.monotonic()
    with pytest.raises(MetaApiException) as caught:
        await api.metatrader_account_api.get_account("x")
    await api.close()
    assert time.monotonic() - started >= 0.05 + 0.1
    assert caught.value.status_code is None and "ConnectError" in caught.value.message


async def test_202_long_running_request_times_out(make_api: Callable[..., MetaApi]) -> None:
    api = make_api(retryOpts={"longRunningRequestTimeoutInMinutes": 0.01})  # 0.6 s < the sandbox's Retry-After 1 s
    with pytest.raises(TimeoutException, match="Timed out waiting"):
        await api.metatrader_account_api.create_account(
            {"name": "T", "server": "Sandbox-Demo", "login": "1", "password": "p", "platform": "mt5", "magic": 0}
        )


def _established(port: int) -> int:
    """ESTABLISHED TCP connections whose remote port is ``port`` (the client side of connections to it)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="counts sockets in /proc/net/tcp (Linux)")
async def test_close_leaves_no_sockets_or_tasks(sandbox: SandboxHandle) -> None:
    before = _established(sandbox.port)
    api = MetaApi.sandbox(sandbox.url, sandbox.token)
    await asyncio.gather(*(api.metatrader_account_api.get_account(sandbox.account_id) for _ in range(10)))
    assert _established(sandbox.port) > before
    await api.close()
    assert api.closed
    assert _established(sandbox.port) == before
    assert asyncio.all_tasks() == {asyncio.current_task()}
