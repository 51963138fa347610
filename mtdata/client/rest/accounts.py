"""Trading accounts over REST (protocol §2.1): ``MetatraderAccountApi`` and the ``MetatraderAccount`` model."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...errors import NotConnectedException, NotFoundException
from .. import checks
from ..models import AccountsFilter, MetatraderCandle, MetatraderTick, NewMetatraderAccountDto
from . import account_dtos
from .account_dtos import account_dto
from .context import ClientContext
from .experts import ExpertAdvisor, ExpertAdvisorClient
from .history_api import HistoricalMarketDataClient
from .http import CLASSIC_PAGINATION, transaction_id
from .replicas import DeploymentFields, MetatraderAccountReplica
from .wire_model import poll_until, wire

if TYPE_CHECKING:
    from ..connections.registry import (
        ConnectionRegistry,
        RpcMetaApiConnectionInstance,
        StreamingMetaApiConnectionInstance,
    )
    from ..history.storage import HistoryStorage

ACCOUNTS_PATH = "/users/current/accounts"


@dataclass
class MetatraderAccountList:
    """One page of classic pagination: ``count`` accounts match the filter, ``items`` is this page."""

    count: int  #: How many accounts match the filter, over all pages.
    items: list[MetatraderAccount] = field(default_factory=list)  #: The accounts of this page.


class MetatraderAccount(DeploymentFields):
    """A trading account (DTO of protocol §9.10) with its REST actions; actions reload the DTO afterwards."""

    def __init__(
        self,
        data: dict[str, Any],
        context: ClientContext,
        history: HistoricalMarketDataClient,
        connections: Callable[[], ConnectionRegistry] | None = None,
    ) -> None:
        self._data = data
        self._context = context
        self._history = history
        self._connections = connections
        self._experts = ExpertAdvisorClient(context)

    def __repr__(self) -> str:
        return f"MetatraderAccount(id={self.id!r}, name={self.name!r}, state={self.state!r})"

    name = wire("name", "The account's human-readable name.")
    login = wire("login", "The MetaTrader login (a string of digits).")
    server = wire("server", "The broker's MetaTrader server name.")
    type = wire("type", "cloud-g1 or cloud-g2.")
    version = wire("version", "MetaTrader version, 4 or 5.")
    hash = wire("hash", "A hash code the server gives the account (a number; the client does not use it).")
    base_currency = wire("baseCurrency", "The account's currency, e.g. USD.")
    provisioning_profile_id = wire(
        "provisioningProfileId", "The id of the provisioning profile holding the broker's settings, if any."
    )
    application = wire("application", "The application the account belongs to, e.g. MetaApi.")
    copy_factory_roles = wire("copyFactoryRoles", "The account's CopyFactory roles: SUBSCRIBER and/or PROVIDER.")
    manual_trades = wire("manualTrades", "True if trades placed by hand in the terminal are allowed (G2 only).")
    slippage = wire("slippage", "Default slippage of the account's trades, in points.")
    risk_management_api_enabled = wire("riskManagementApiEnabled", "True once the risk management API is enabled.")
    metastats_api_enabled = wire("metastatsApiEnabled", "True once the MetaStats API is enabled.")
    allocate_dedicated_ip = wire(
        "allocateDedicatedIp", "``ipv4`` if a dedicated IP is allocated (else ``none`` or None)."
    )
    connections = wire("connections", "The account's connections: a list of ``{region, zone, application}`` dicts.")
    primary_replica = wire("primaryReplica", "True if this account is the primary one, not a replica.")
    user_id = wire("userId", "The id of the user owning the account.")
    account_replicas = wire("accountReplicas", "The replica DTOs as sent.")

    @property
    def replicas(self) -> list[MetatraderAccountReplica]:
        """The account's replicas (from the last reload)."""
        return [MetatraderAccountReplica(data, self) for data in self._data.get("accountReplicas") or ()]

    @property
    def context(self) -> ClientContext:
        """The shared plumbing of the ``MetaApi`` this account came from."""
        return self._context

    @property
    def url(self) -> str:
        """The account's REST URL."""
        return f"{self._context.hosts.provisioning}{ACCOUNTS_PATH}/{quote(self.id)}"

    async def _send(self, name: str, method: str, path: str = "", *, reload: bool = True, **kwargs: Any) -> Any:
        """``method`` on the account URL + ``path`` (API tokens only), then reload unless told not to."""
        self._context.require_api_token(f"MetatraderAccount.{name}")
        result = await self._context.http.request(method, self.url + path, **kwargs)
        if reload:
            await self.reload()
        return result

    async def reload(self) -> None:
        """Fetch the account again."""
        self._data = await self._context.http.request("GET", self.url)

    async def deploy(self) -> None:
        """Start the account in the cloud (state DEPLOYING, then DEPLOYED)."""
        await self._send("deploy", "POST", "/deploy")

    async def undeploy(self) -> None:
        """Stop the account (state UNDEPLOYING, then UNDEPLOYED)."""
        await self._send("undeploy", "POST", "/undeploy")

    async def redeploy(self) -> None:
        """Restart the account."""
        await self._send("redeploy", "POST", "/redeploy")

    async def increase_reliability(self) -> None:
        """Switch the account to high reliability (two instances)."""
        await self._send("increase_reliability", "POST", "/increase-reliability")

    async def enable_risk_management_api(self) -> None:
        """Enable the risk management API for the account."""
        await self._send("enable_risk_management_api", "POST", "/enable-risk-management-api")

    async def enable_metastats_api(self) -> None:
        """Enable the MetaStats API for the account."""
        await self._send("enable_metastats_api", "POST", "/enable-metastats-api")

    async def update(self, account: dict[str, Any]) -> None:
        """Change the account (account-update DTO of protocol §9.10)."""
        await self._send("update", "PUT", json=account_dto("account", account))

    async def remove(self) -> None:
        """Delete the account; a 404 on the reload that follows means it is already gone."""
        await self._send("remove", "DELETE", reload=False)
        with contextlib.suppress(NotFoundException):
            await self.reload()

    async def create_configuration_link(self, ttl_in_days: int | None = None) -> str:
        """A link where the user enters the account password, valid ``ttl_in_days`` days."""
        params = {"ttlInDays": checks.integer("ttl_in_days", ttl_in_days, 1, optional=True)}
        params = {key: value for key, value in params.items() if value is not None}
        answer = await self._send(
            "create_configuration_link", "PUT", "/configuration-link", reload=False, params=params
        )
        return answer["configurationLink"]

    async def wait_deployed(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the state is DEPLOYED (:class:`~mtdata.errors.TimeoutException` after
        ``timeout_in_seconds``)."""
        await self._wait_state("DEPLOYED", timeout_in_seconds, interval_in_milliseconds)

    async def wait_undeployed(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the state is UNDEPLOYED."""
        await self._wait_state("UNDEPLOYED", timeout_in_seconds, interval_in_milliseconds)

    async def _wait_state(self, state: str, timeout: float, interval: float) -> None:
        async def done() -> bool:
            await self.reload()
            return self.state == state

        await poll_until(done, f"account {self.id} to be {state}", timeout, interval)

    async def wait_removed(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the account is gone (404)."""

        async def done() -> bool:
            try:
                await self.reload()
            except NotFoundException:
                return True
            return False

        await poll_until(done, f"account {self.id} to be removed", timeout_in_seconds, interval_in_milliseconds)

    async def wait_connected(self, timeout_in_seconds: float = 300, interval_in_milliseconds: float = 1000) -> None:
        """Reload until the account or any replica is CONNECTED to its broker."""

        async def done() -> bool:
            await self.reload()
            statuses = [self.connection_status, *(r.get("connectionStatus") for r in self.account_replicas or ())]
            return "CONNECTED" in statuses

        await poll_until(done, f"account {self.id} to connect", timeout_in_seconds, interval_in_milliseconds)

    # replicas ---------------------------------------------------------------------------------

    async def create_replica(self, replica: dict[str, Any]) -> MetatraderAccountReplica:
        """Create a replica in ``replica['region']`` and return it (from the reloaded account)."""
        dto = account_dto("replica", replica, required=("region",))
        await self._send("create_replica", "POST", "/replicas", json=dto, headers={"transaction-id": transaction_id()})
        return next(r for r in self.replicas if r.region == dto["region"])

    async def get_replica(self, replica_id: str) -> MetatraderAccountReplica:
        """One replica of this account, fetched from the server."""
        checks.text("replica_id", replica_id)
        data = await self._context.http.request("GET", f"{self.url}/replicas/{quote(replica_id)}")
        return MetatraderAccountReplica(data, self)

    async def get_replicas(self) -> list[MetatraderAccountReplica]:
        """Every replica of this account, fetched from the server (a plain array or ``{items}``)."""
        data = await self._context.http.request("GET", f"{self.url}/replicas")
        items = data.get("items", []) if isinstance(data, dict) else data
        return [MetatraderAccountReplica(item, self) for item in items]

    # expert advisors --------------------------------------------------------------------------

    async def get_expert_advisors(self) -> list[ExpertAdvisor]:
        """The account's expert advisors (MT4 cloud-g1 accounts only)."""
        self._check_expert_advisor_allowed()
        return await self._experts.get_expert_advisors(self.id)

    async def get_expert_advisor(self, expert_id: str) -> ExpertAdvisor:
        """One expert advisor of the account."""
        self._check_expert_advisor_allowed()
        return await self._experts.get_expert_advisor(self.id, expert_id)

    async def create_expert_advisor(self, expert_id: str, expert: dict[str, Any]) -> ExpertAdvisor:
        """Create an expert advisor (``{period, symbol, preset}``; preset is base64) and return it."""
        self._check_expert_advisor_allowed()
        await self._experts.update_expert_advisor(self.id, expert_id, expert)
        return await self._experts.get_expert_advisor(self.id, expert_id)

    def _check_expert_advisor_allowed(self) -> None:
        if self.version != 4 or self.type != "cloud-g1":
            raise checks.fail("account", "must be an MT4 cloud-g1 account to use expert advisors", self.id)

    # historical market data -------------------------------------------------------------------

    async def get_historical_candles(
        self, symbol: str, timeframe: str, start_time: datetime | None = None, limit: int | None = None
    ) -> list[MetatraderCandle]:
        """Up to ``limit`` (≤ 1000) candles before ``start_time`` (default: newest), oldest first; ``timeframe`` may
        instead be the options dict ``{"timeframe", "start", "limit"}`` (see :class:`HistoricalMarketDataClient`)."""
        return await self._history.get_historical_candles(self.id, self.region, symbol, timeframe, start_time, limit)

    async def get_historical_ticks(
        self, symbol: str, start_time: datetime | None = None, offset: int | None = None, limit: int | None = None
    ) -> list[MetatraderTick]:
        """Up to ``limit`` (≤ 1000) ticks from ``start_time`` forward, skipping ``offset`` (or the options dict
        ``{"start", "offset", "limit"}`` in place of ``start_time``)."""
        return await self._history.get_historical_ticks(self.id, self.region, symbol, start_time, offset, limit)

    # connections (issue 5) --------------------------------------------------------------------

    def _registry(self) -> ConnectionRegistry:
        if self._connections is None:
            raise NotConnectedException("this account object was not obtained from a MetaApi; it has no connections")
        return self._connections()

    def get_streaming_connection(
        self, history_storage: HistoryStorage | None = None, history_start_time: datetime | None = None
    ) -> StreamingMetaApiConnectionInstance:
        """The account's streaming connection (shared; nothing is sent until ``await connect()``).

        ``history_storage`` (default a :class:`MemoryHistoryStorage`) and ``history_start_time`` (no history
        before it is requested) apply when the connection is first created.
        """
        return self._registry().connect_streaming(self, history_storage, history_start_time)

    def get_rpc_connection(self) -> RpcMetaApiConnectionInstance:
        """The account's RPC connection (shared; nothing is sent until ``await connect()``)."""
        return self._registry().connect_rpc(self)


class MetatraderAccountApi:
    """Lists, fetches and creates trading accounts (``MetaApi.metatrader_account_api``)."""

    def __init__(
        self,
        context: ClientContext,
        history: HistoricalMarketDataClient,
        connections: Callable[[], ConnectionRegistry] | None = None,
    ) -> None:
        self._context = context
        self._history = history
        self._connections = connections

    @property
    def _base(self) -> str:
        return self._context.hosts.provisioning + ACCOUNTS_PATH

    def _account(self, data: dict[str, Any]) -> MetatraderAccount:
        return MetatraderAccount(data, self._context, self._history, self._connections)

    async def get_accounts_with_infinite_scroll_pagination(
        self, accounts_filter: AccountsFilter | None = None
    ) -> list[MetatraderAccount]:
        """Accounts matching the filter (protocol §2.1.1), one ``offset``/``limit`` page."""
        self._context.require_api_token("get_accounts_with_infinite_scroll_pagination")
        params = account_dtos.accounts_filter(accounts_filter)
        items = await self._context.http.request("GET", self._base, params=params, headers={"api-version": "1"})
        return [self._account(item) for item in items]

    async def get_accounts_with_classic_scroll_pagination(
        self, accounts_filter: AccountsFilter | None = None
    ) -> MetatraderAccountList:
        """One page of accounts and the total ``count`` matching the filter."""
        self._context.require_api_token("get_accounts_with_classic_scroll_pagination")
        params = account_dtos.accounts_filter(accounts_filter)
        answer = await self._context.http.request("GET", self._base, params=params, headers=CLASSIC_PAGINATION)
        if isinstance(answer, list):  # a server without the {count, items} shape
            return MetatraderAccountList(len(answer), [self._account(item) for item in answer])
        return MetatraderAccountList(answer["count"], [self._account(item) for item in answer["items"]])

    async def get_account(self, account_id: str) -> MetatraderAccount:
        """One account by id (:class:`~mtdata.errors.NotFoundException` if there is none)."""
        checks.text("account_id", account_id)
        return self._account(await self._context.http.request("GET", f"{self._base}/{quote(account_id)}"))

    async def get_account_replica(self, account_id: str, replica_id: str) -> MetatraderAccountReplica:
        """One replica of an account."""
        checks.text("replica_id", replica_id)
        account = await self.get_account(account_id)
        return await account.get_replica(replica_id)

    async def get_account_replicas(self, account_id: str) -> list[MetatraderAccountReplica]:
        """Every replica of an account."""
        account = await self.get_account(account_id)
        return await account.get_replicas()

    async def create_account(self, account: NewMetatraderAccountDto) -> MetatraderAccount:
        """Create an account (new-account DTO of protocol §9.10); 202 answers are repeated until it exists."""
        self._context.require_api_token("create_account")
        dto = account_dto("account", account, required=("name", "server"))
        headers = {"transaction-id": transaction_id()}
        created = await self._context.http.request("POST", self._base, json=dto, headers=headers)
        return await self.get_account(created["id"])
