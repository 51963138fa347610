"""The seed's option, filter and request models as ``TypedDict``s (what the client accepts).

Keys are the wire's camelCase names; every model is ``total=False`` (the client validates what is
given and fills defaults: :mod:`mtdata.client.options`, :mod:`mtdata.client.connections.trading`). Re-exported by
:mod:`mtdata.client.models` and :mod:`mtdata.client`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class RetryOpts(TypedDict, total=False):
    """``MetaApiOpts["retryOpts"]``: the REST and socket retry policy (defaults 5, 1 s, 30 s, 10 min)."""

    retries: int | None
    minDelayInSeconds: float | None
    maxDelayInSeconds: float | None
    longRunningRequestTimeoutInMinutes: float | None
    subscribeCooldownInSeconds: float | None


class StreamingRetryOptions(TypedDict, total=False):
    """Retry options of a streaming connection as the usage document lists them.

    ``retries`` 5, ``minDelayInSeconds`` 1, ``maxDelayInSeconds`` 30 are ``retryOpts``' defaults; market
    data subscriptions are re-sent on every resynchronization and every 1-600 s
    (``refreshSubscriptionsOpts``), which is what ``subscriptionRetryIntervalInSeconds`` stands for.
    """

    retries: int
    minDelayInSeconds: float
    maxDelayInSeconds: float
    subscriptionRetryIntervalInSeconds: float


class PacketLoggerOpts(TypedDict, total=False):
    """``MetaApiOpts["packetLogger"]`` (accepted; mtdata writes no packet-log files)."""

    enabled: bool
    fileNumberLimit: int
    logFileSizeInHours: float
    compressSpecifications: bool
    compressPrices: bool


class SynchronizationThrottlerOpts(TypedDict, total=False):
    """``MetaApiOpts["synchronizationThrottler"]``: how many synchronizations run at once."""

    maxConcurrentSynchronizations: int
    queueTimeoutInSeconds: float
    synchronizationTimeoutInSeconds: float


class MetaApiOpts(TypedDict, total=False):
    """The options of ``MetaApi(token, opts)``; mtdata adds ``url`` (one local server for every request)."""

    application: str | None
    domain: str | None
    region: str | None
    requestTimeout: float | None
    connectTimeout: float | None
    packetOrderingTimeout: float | None
    packetLogger: PacketLoggerOpts | None
    enableLatencyTracking: bool | None
    synchronizationThrottler: SynchronizationThrottlerOpts | None
    retryOpts: RetryOpts | None
    useSharedClientApi: bool | None
    enableSocketioDebugger: bool | None
    historicalMarketDataRequestTimeout: float
    accountGeneratorRequestTimeout: float
    refreshSubscriptionsOpts: dict[str, float]
    unsubscribeThrottlingIntervalInSeconds: float
    keepHashTrees: bool
    url: str


class WebsocketOptions(TypedDict, total=False):
    """The socket client's settings (the seed's spelling ``additionaRetryInterval`` kept)."""

    domain: str
    region: str | None
    requestTimeout: float
    connectTimeout: float
    packetOrderingTimeout: float
    heartbeatInterval: float
    reconnectInterval: float
    additionaRetryInterval: float
    retryTimeoutInSeconds: float
    minRetryDelayInSeconds: float
    maxRetryDelayInSeconds: float


class SynchronizationOptions(TypedDict, total=False):
    """``wait_synchronized(options)``: which synchronization to wait for, and how long."""

    instanceIndex: int | None
    applicationPattern: str | None
    synchronizationId: str | None
    timeoutInSeconds: float | None
    intervalInMilliseconds: float | None


class RefreshTerminalStateOptions(TypedDict, total=False):
    """``terminal_state.refresh_terminal_state(options)``."""

    timeoutInSeconds: float


class MarketDataSubscription(TypedDict, total=False):
    """One market-data subscription; mtdata also takes ``type`` as a list, ``timeframes`` and ``books``."""

    type: str | list[str]
    timeframe: str
    timeframes: list[str]
    intervalInMilliseconds: float


class MarketDataUnsubscription(TypedDict, total=False):
    """One market-data unsubscription (no timeframe: every candle timeframe)."""

    type: str | list[str]
    timeframe: str
    timeframes: list[str]


class StopOptions(TypedDict, total=False):
    """A stop loss or take profit with units, e.g. ``{"value": 50, "units": "RELATIVE_POINTS"}``."""

    value: float
    units: str


class MarketTradeOptions(TypedDict, total=False):
    """Options of the closing helpers (``close_position``, ``close_by``, ``close_positions_by_symbol``)."""

    comment: str
    clientId: str
    magic: int
    slippage: int
    fillingModes: list[str]


class CreateMarketTradeOptions(MarketTradeOptions, total=False):
    """Options of ``create_market_buy_order`` / ``create_market_sell_order``."""

    trailingStopLoss: dict[str, Any]
    stopPriceBase: str


class PendingTradeOptions(TypedDict, total=False):
    """Options of the limit and stop order helpers."""

    comment: str
    clientId: str
    magic: int
    slippage: int
    expiration: dict[str, str | datetime]
    trailingStopLoss: dict[str, Any]
    stopPriceBase: str
    openPriceUnits: str
    openPriceBase: str
    stopLimitPriceUnits: str
    stopLimitPriceBase: str


class AccountsFilter(TypedDict, total=False):
    """Query of ``get_accounts_with_*_pagination``."""

    offset: int
    limit: int
    version: int | list[int]
    type: str | list[str]
    state: str | list[str]
    connectionStatus: str | list[str]
    query: str
    provisioningProfileId: str
    sortOrder: str
    region: str | list[str]
    copyFactoryRoles: list[str]


class ProvisioningProfilesFilter(TypedDict, total=False):
    """Query of ``get_provisioning_profiles_with_infinite_scroll_pagination``."""

    offset: int
    limit: int
    version: int
    type: str
    status: str
    query: str


class NewMetatraderAccountDto(TypedDict, total=False):
    """Body of ``create_account`` (the main fields; protocol §9.10 lists them all)."""

    name: str
    server: str
    login: str
    password: str
    platform: str
    provisioningProfileId: str
    type: str
    magic: int
    region: str
    reliability: str
    baseCurrency: str
    quoteStreamingIntervalInSeconds: float
    tags: list[str]
    metadata: dict[str, Any]
    resourceSlots: int
    copyFactoryResourceSlots: int
    manualTrades: bool
    slippage: float
    application: str


class UpdatedMetatraderAccountReplicaDto(TypedDict, total=False):
    """Body of ``replica.update``."""

    magic: int
    quoteStreamingIntervalInSeconds: float
    tags: list[str]
    metadata: dict[str, Any]
    copyFactoryRoles: list[str]
    resourceSlots: int
    copyFactoryResourceSlots: int


class NewProvisioningProfileDto(TypedDict, total=False):
    """Body of ``create_provisioning_profile``."""

    name: str
    version: int
    brokerTimezone: str
    brokerDSTSwitchTimezone: str
    type: str


class NewExpertAdvisorDto(TypedDict, total=False):
    """Body of an expert advisor's ``update``: ``preset`` is the base64 of the ``.set`` file."""

    period: str
    symbol: str
    preset: str


class AccessRuleResource(TypedDict):
    """A resource a narrowed token may reach, e.g. ``{"entity": "account", "id": "..."}``."""

    entity: str
    id: str


class ManifestAccessRule(TypedDict, total=False):
    """An entry of ``get_access_rules()``: an application's services, method groups and roles."""

    id: str
    application: str
    description: str
    entities: list[dict[str, str]]
    services: list[dict[str, str]]
    methodGroups: list[dict[str, Any]]
    roles: list[dict[str, Any]]
    entityCompositionDescription: str


class AccessRule(TypedDict, total=False):
    """One detailed rule of :class:`NarrowDownAccessRules`."""

    id: str
    application: str
    service: str
    methodGroups: list[dict[str, Any]]
    resources: list[AccessRuleResource]
    roles: list[str]


class NarrowDownAccessRules(TypedDict):
    """The detailed payload of ``narrow_down_token``."""

    accessRules: list[AccessRule]


class NarrowDownSimplifiedAccessRules(TypedDict, total=False):
    """The simplified payload of ``narrow_down_token``."""

    applications: list[str]
    roles: list[str]
    resources: list[AccessRuleResource]
