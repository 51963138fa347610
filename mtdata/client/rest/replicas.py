"""Account replicas (protocol §2.1): ``MetatraderAccountReplica``; every action reloads the primary account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..models import UpdatedMetatraderAccountReplicaDto
from .account_dtos import account_dto
from .wire_model import WireModel, poll_until, wire, wire_time

if TYPE_CHECKING:
    from .accounts import MetatraderAccount


class DeploymentFields(WireModel):
    """The wire fields an account and its replicas both have: a deployment in one region (protocol §9.10)."""

    id = wire("_id", "The account's or replica's id.")
    state = wire("state", "Deployment state, e.g. DEPLOYED or UNDEPLOYED (protocol §9.11).")
    region = wire("region", "The region it runs in; it picks the client API and socket hosts (protocol §1.2).")
    magic = wire("magic", "The magic number its trades carry by default (an integer).")
    connection_status = wire("connectionStatus", "CONNECTED, DISCONNECTED or DISCONNECTED_FROM_BROKER.")
    quote_streaming_interval_in_seconds = wire(
        "quoteStreamingIntervalInSeconds", "Seconds between quote updates sent for a symbol; 0: every tick."
    )
    symbol = wire("symbol", "A symbol the broker offers, which G1 accounts need (None if not set).")
    reliability = wire("reliability", "``high`` (two instances) or ``regular`` (one).")
    tags = wire("tags", "The user's tags (a list of strings, or None).")
    metadata = wire("metadata", "The user's free-form metadata (a dict of at most 1024 characters as JSON).")
    resource_slots = wire("resourceSlots", "Resource slots allocated to it (an integer, 1 by default).")
    copy_factory_resource_slots = wire(
        "copyFactoryResourceSlots", "Resource slots allocated to CopyFactory (an integer, 1 by default)."
    )
    created_at = wire_time("createdAt", "When it was created (an aware datetime).")


class MetatraderAccountReplica(DeploymentFields):
    """A replica of a primary account in another region (replica DTO of protocol §9.10)."""

    def __init__(self, data: dict[str, Any], primary: MetatraderAccount) -> None:
        self._data = data
        self._primary = primary

    def __repr__(self) -> str:
        return f"MetatraderAccountReplica(id={self.id!r}, region={self.region!r}, state={self.state!r})"

    @property
    def primary_account(self) -> MetatraderAccount:
        """The primary account this replica belongs to."""
        return self._primary

    @property
    def _url(self) -> str:
        return f"{self._primary.url}/replicas/{quote(self.id)}"

    def _refresh(self) -> bool:
        """Take this replica's entry from the (reloaded) primary; False if it is no longer there."""
        for data in self._primary.account_replicas or ():
            if data.get("_id") == self.id:
                self._data = data
                return True
        return False

    async def _send(self, method: str, url: str, **kwargs: Any) -> None:
        context = self._primary.context
        context.require_api_token(f"MetatraderAccountReplica.{url.rsplit('/', 1)[-1]}")
        await context.http.request(method, url, **kwargs)
        await self.reload()

    async def reload(self) -> None:
        """Reload the primary account and take this replica's entry from it."""
        await self._primary.reload()
        self._refresh()

    async def deploy(self) -> None:
        """Start the replica."""
        await self._send("POST", self._url + "/deploy")

    async def undeploy(self) -> None:
        """Stop the replica."""
        await self._send("POST", self._url + "/undeploy")

    async def redeploy(self) -> None:
        """Restart the replica."""
        await self._send("POST", self._url + "/redeploy")

    async def increase_reliability(self) -> None:
        """Switch the replica to high reliability (the SDK posts to ``/accounts/{replicaId}/...``)."""
        base = self._primary.url.rsplit("/", 1)[0]
        await self._send("POST", f"{base}/{quote(self.id)}/increase-reliability")

    async def update(self, replica: UpdatedMetatraderAccountReplicaDto) -> None:
        """Change the replica (replica-update DTO of protocol §9.10)."""
        await self._send("PUT", self._url, json=account_dto("replica", replica))

    async def remove(self) -> None:
        """Delete the replica."""
        await self._send("DELETE", self._url)

    async def wait_deployed(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the replica is DEPLOYED."""
        await self._wait(lambda: self.state == "DEPLOYED", "DEPLOYED", timeout_in_seconds, interval_in_milliseconds)

    async def wait_undeployed(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the replica is UNDEPLOYED."""
        await self._wait(lambda: self.state == "UNDEPLOYED", "UNDEPLOYED", timeout_in_seconds, interval_in_milliseconds)

    async def wait_connected(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the replica is CONNECTED to its broker."""
        await self._wait(
            lambda: self.connection_status == "CONNECTED", "connected", timeout_in_seconds, interval_in_milliseconds
        )

    async def wait_removed(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload the primary until the replica is no longer among its replicas."""

        async def done() -> bool:
            await self._primary.reload()
            return not self._refresh()

        await poll_until(done, f"replica {self.id} to be removed", timeout_in_seconds, interval_in_milliseconds)

    async def _wait(self, condition: Any, what: str, timeout: float, interval: float) -> None:
        async def done() -> bool:
            await self.reload()
            return condition()

        await poll_until(done, f"replica {self.id} to be {what}", timeout, interval)
