"""The per-user subscription quota (protocol §3.2): every subscribe of the client waits for the server's recommended
time, then for ``retryOpts.subscribeCooldownInSeconds`` unless an account was unsubscribed meanwhile."""

from __future__ import annotations

from collections.abc import Callable

from test_transport_helpers import REGION, Recorder, make_client_fixture, received  # noqa: F401

from mtdata.client.transport.websocket import WebsocketClient
from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.accounts import new_account

QUOTA = "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_USER"


def deployed_account(box: SandboxHandle) -> str:
    """Another deployed account of the sandbox's user."""
    server = box.server
    fields = {"name": "Second", "server": "Sandbox-Demo", "login": "60002", "platform": "mt5", "magic": 0}
    doc = new_account(server.user_id, fields, server.config.region)
    server.accounts.deploy_now(doc)
    return doc["_id"]


def client_with_cooldown(make_client: Callable[..., WebsocketClient], seconds: float) -> WebsocketClient:
    retry = {"retries": 2, "minDelayInSeconds": 0.05, "maxDelayInSeconds": 0.1, "subscribeCooldownInSeconds": seconds}
    return make_client(retryOpts=retry)


async def subscribe_the_first(client: WebsocketClient, box: SandboxHandle) -> None:
    """The sandbox's account subscribed on instance 0 only (a subscribe loop of its instance 1 would keep sending,
    and the quota fault could refuse that one instead of the second account's)."""
    recorder = Recorder()
    client.add_synchronization_listener(box.account_id, recorder)
    await client.ensure_subscribe(box.account_id, REGION, 0)
    await recorder.wait_for("on_connected")


async def refused_then_connected(client: WebsocketClient, box: SandboxHandle, retry_after: float,
                                 meanwhile: Callable[[], object] | None = None) -> list[float]:  # fmt: skip
    """A second account subscribed (instance 0) while the first is, its first subscribe refused by the per-user
    quota; ``meanwhile`` awaited once the refusal is in. The times its subscribes reached the server."""
    other = deployed_account(box)
    requests = received(box)
    box.server.faults.add_rate_limit(1, retry_after, scope="socket", type=QUOTA, request_type="subscribe")
    recorder = Recorder()
    client.add_synchronization_listener(other, recorder)
    await client.ensure_subscribe(other, REGION, 0)

    def sent() -> list[float]:
        return [at for at, request in requests if request.get("type") == "subscribe" and request["accountId"] == other]

    await recorder.until(lambda: sent() and client._user_lock is not None)  # refused, and the client locked
    if meanwhile is not None:
        await meanwhile()  # type: ignore[misc]
    await recorder.wait_for("on_connected")
    return sent()


async def test_the_lock_holds_every_subscribe_for_the_cooldown_while_no_account_leaves(
    make_client: Callable[..., WebsocketClient], sandbox: SandboxHandle
) -> None:
    client = client_with_cooldown(make_client, 2.0)
    await subscribe_the_first(client, sandbox)  # one account subscribed when the quota is hit
    sent = await refused_then_connected(client, sandbox, retry_after=0.3)
    # the loop tried again every 0.3-1 s (the retry time passed at 0.3 s), nothing went out until the cooldown's end
    assert len(sent) == 2 and sent[1] - sent[0] >= 2.0, sent
    assert client._user_lock is None  # taken off once it let a subscribe through


async def test_an_account_unsubscribed_lifts_the_lock_after_the_retry_time(
    make_client: Callable[..., WebsocketClient], sandbox: SandboxHandle
) -> None:
    client = client_with_cooldown(make_client, 600)
    await subscribe_the_first(client, sandbox)

    async def unsubscribe_the_first() -> None:
        await client.unsubscribe(sandbox.account_id)  # a place freed: no need to wait out the cooldown

    sent = await refused_then_connected(client, sandbox, retry_after=1.0, meanwhile=unsubscribe_the_first)
    assert len(sent) == 2 and sent[1] - sent[0] >= 0.9, sent  # not before the server's recommended time (ms)
