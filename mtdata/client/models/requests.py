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

    retries: int | None  #: How many times a failed REST or socket request is retried (default 5).
    minDelayInSeconds: float | None  #: First retry delay in seconds, doubled on each retry (default 1).
    #: Longest retry delay in seconds (default 30); times ``retries``, a REST call's deadline.
    maxDelayInSeconds: float | None
    #: How long a REST request answered 202 is repeated, in minutes (default 10).
    longRunningRequestTimeoutInMinutes: float | None
    #: Seconds subscribes stay locked after a per-user subscription quota error while no account is unsubscribed
    #: (default 600; protocol §3.2).
    subscribeCooldownInSeconds: float | None


class StreamingRetryOptions(TypedDict, total=False):
    """Retry options of a streaming connection as the usage document lists them.

    ``retries`` 5, ``minDelayInSeconds`` 1, ``maxDelayInSeconds`` 30 are ``retryOpts``' defaults; market
    data subscriptions are re-sent on every resynchronization and every 1-600 s
    (``refreshSubscriptionsOpts``), which is what ``subscriptionRetryIntervalInSeconds`` stands for.
    """

    retries: int  #: How many times a failed request is retried (5).
    minDelayInSeconds: float  #: First retry delay in seconds (1), doubled on each retry.
    maxDelayInSeconds: float  #: Longest retry delay in seconds (30).
    subscriptionRetryIntervalInSeconds: float  #: How often market-data subscriptions are re-sent, in seconds.


class PacketLoggerOpts(TypedDict, total=False):
    """``MetaApiOpts["packetLogger"]`` (accepted; mtdata writes no packet-log files)."""

    enabled: bool  #: Whether to write packet logs (ignored: mtdata keeps none).
    fileNumberLimit: int  #: How many log files to keep.
    logFileSizeInHours: float  #: How many hours of packets one log file holds.
    compressSpecifications: bool  #: Whether repeated symbol specifications are left out of the log.
    compressPrices: bool  #: Whether repeated prices are left out of the log.


class SynchronizationThrottlerOpts(TypedDict, total=False):
    """``MetaApiOpts["synchronizationThrottler"]``: how many synchronizations run at once."""

    maxConcurrentSynchronizations: int  #: Most synchronizations at once on one socket (default 15, protocol §7.7).
    queueTimeoutInSeconds: float  #: How long a synchronization may wait for a slot, in seconds (default 300).
    synchronizationTimeoutInSeconds: float  #: Seconds without a packet after which a slot is freed (default 10).


class MetaApiOpts(TypedDict, total=False):
    """The options of ``MetaApi(token, opts)``; mtdata adds ``url`` (one local server for every request)."""

    application: str | None  #: Application id sent with streaming requests (default ``MetaApi``).
    domain: str | None  #: Domain of the cloud's hosts, a host name with an optional ``:port`` (protocol §1.2).
    region: str | None  #: Region to connect to: the account there, else its replica there (default: the account's own).
    requestTimeout: float | None  #: Timeout of a REST or socket request, in seconds (default 60).
    #: How long a request waits for its socket or an authenticated instance, in seconds (default 60).
    connectTimeout: float | None
    #: How long a gap in sequence numbers may last before resubscribing, in seconds (default 60).
    packetOrderingTimeout: float | None
    packetLogger: PacketLoggerOpts | None  #: Packet logger settings (accepted and ignored).
    enableLatencyTracking: bool | None  #: Whether to install the latency monitor (default false, protocol §8).
    #: How many synchronizations may run at once (protocol §7.7).
    synchronizationThrottler: SynchronizationThrottlerOpts | None
    retryOpts: RetryOpts | None  #: The REST and socket retry policy.
    useSharedClientApi: bool | None  #: Whether sockets use the shared ``mt-client-api-v1`` host (default false).
    enableSocketioDebugger: bool | None  #: Whether to log socket.io traffic (validated; mtdata does not use it).
    historicalMarketDataRequestTimeout: float  #: Timeout of historical market data requests, in seconds (default 240).
    accountGeneratorRequestTimeout: float  #: Timeout of demo-account generator requests, in seconds (default 240).
    #: ``minDelayInSeconds``/``maxDelayInSeconds`` between re-sends of subscriptions (1, 600).
    refreshSubscriptionsOpts: dict[str, float]
    #: Seconds between ``unsubscribe`` answers to packets of an account not subscribed (protocol §7.2), per account.
    unsubscribeThrottlingIntervalInSeconds: float
    keepHashTrees: bool  #: Whether to keep every recorded state of the hash trees, never pruning (default false).
    url: str  #: mtdata only: one base URL (``http://host:port``) for every REST and socket request, e.g. a sandbox.


class WebsocketOptions(TypedDict, total=False):
    """The socket client's settings (the seed's spelling ``additionaRetryInterval`` kept)."""

    domain: str  #: Domain of the socket hosts.
    region: str | None  #: Region the sockets connect to, None for the account's own.
    requestTimeout: float  #: Timeout of a socket request, in seconds.
    connectTimeout: float  #: How long a request waits for its socket, in seconds.
    packetOrderingTimeout: float  #: How long a gap in sequence numbers may last, in seconds.
    heartbeatInterval: float  #: Interval between keep-alive checks of a socket.
    reconnectInterval: float  #: Wait before reconnecting a lost socket.
    additionaRetryInterval: float  #: Extra wait added between retries.
    retryTimeoutInSeconds: float  #: How long a request keeps being retried, in seconds.
    minRetryDelayInSeconds: float  #: First retry delay, in seconds.
    maxRetryDelayInSeconds: float  #: Longest retry delay, in seconds.


class SynchronizationOptions(TypedDict, total=False):
    """``wait_synchronized(options)``: which synchronization to wait for, and how long."""

    instanceIndex: int | None  #: Instance number (0 or 1) to wait for; default: any instance.
    applicationPattern: str | None  #: Regular expression of the applications the server waits for (default ``RPC``).
    synchronizationId: str | None  #: Id of the synchronization to wait for (default: the latest).
    timeoutInSeconds: float | None  #: How long to wait, in seconds (default 300), then ``TimeoutException``.
    intervalInMilliseconds: float | None  #: Polling interval in ms (accepted and checked; mtdata waits on events).


class RefreshTerminalStateOptions(TypedDict, total=False):
    """``terminal_state.refresh_terminal_state(options)``."""

    timeoutInSeconds: float  #: How long to wait for the fresh quotes, in seconds (default 10).


class MarketDataSubscription(TypedDict, total=False):
    """One market-data subscription; mtdata also takes ``type`` as a list, ``timeframes`` and ``books``."""

    #: ``quotes``, ``candles``, ``ticks`` or ``marketDepth`` (alias ``books``), or a list of them.
    type: str | list[str]
    timeframe: str  #: Candle timeframe, e.g. ``1m`` (candles only, protocol §10).
    timeframes: list[str]  #: Several candle timeframes at once (mtdata: expanded to one subscription each).
    intervalInMilliseconds: float  #: Least interval between two ``prices`` packets, in ms (0: every tick).


class MarketDataUnsubscription(TypedDict, total=False):
    """One market-data unsubscription (no timeframe: every candle timeframe)."""

    #: ``quotes``, ``candles``, ``ticks`` or ``marketDepth`` (alias ``books``), or a list of them.
    type: str | list[str]
    timeframe: str  #: Candle timeframe to drop (without one: every timeframe).
    timeframes: list[str]  #: Several candle timeframes to drop at once.


class StopOptions(TypedDict, total=False):
    """A stop loss or take profit with units, e.g. ``{"value": 50, "units": "RELATIVE_POINTS"}``."""

    value: float  #: The price, or the distance in ``units``.
    #: Units of ``value``: ``ABSOLUTE_PRICE`` (default), ``RELATIVE_PRICE``, ``RELATIVE_POINTS``, ... (protocol §6.2).
    units: str


class MarketTradeOptions(TypedDict, total=False):
    """Options of the closing helpers (``close_position``, ``close_position_partially``, ``close_by``, ...)."""

    comment: str  #: Free text stored with the trade; with ``clientId`` at most 30 characters.
    clientId: str  #: The caller's id of the trade, to find it later (generated when absent and room is left).
    magic: int  #: Expert id (magic number) given to the trade.
    slippage: int  #: Largest accepted price deviation, in points.
    fillingModes: list[str]  #: Allowed filling modes, preferred first: ``ORDER_FILLING_FOK``, ``_IOC``, ``_RETURN``.


class CreateMarketTradeOptions(TypedDict, total=False):
    """Options of ``create_market_buy_order`` / ``create_market_sell_order``: :class:`MarketTradeOptions` and two more.

    The keys are declared here again rather than inherited: a ``TypedDict`` keeps no base in its MRO, so the API
    reference would find no description for an inherited key.
    """

    comment: str  #: Free text stored with the trade; with ``clientId`` at most 30 characters.
    clientId: str  #: The caller's id of the trade, to find it later (generated when absent and room is left).
    magic: int  #: Expert id (magic number) given to the trade and its position.
    slippage: int  #: Largest accepted price deviation, in points.
    fillingModes: list[str]  #: Allowed filling modes, preferred first: ``ORDER_FILLING_FOK``, ``_IOC``, ``_RETURN``.
    #: Trailing stop: ``{distance?: {distance, units?}, threshold?: {thresholds, units?, ...}}``.
    trailingStopLoss: dict[str, Any]
    stopPriceBase: str  #: Base of relative stops: ``CURRENT_PRICE``, ``OPEN_PRICE`` or ``STOP_PRICE``.


class PendingTradeOptions(TypedDict, total=False):
    """Options of the limit, stop and stop-limit order helpers and of ``modify_order``."""

    comment: str  #: Free text stored with the order; with ``clientId`` at most 30 characters (not ``modify_order``).
    clientId: str  #: The caller's id of the order, to find it later (not ``modify_order``).
    magic: int  #: Expert id (magic number) stamped on the order (not ``modify_order``).
    slippage: int  #: Largest accepted price deviation, in points (not ``modify_order``).
    #: ``{type: ORDER_TIME_GTC | _DAY | _SPECIFIED | _SPECIFIED_DAY, time?}`` (time for the specified ones).
    expiration: dict[str, str | datetime]
    #: Trailing stop: ``{distance?: {distance, units?}, threshold?: {thresholds, units?, ...}}``.
    trailingStopLoss: dict[str, Any]
    stopPriceBase: str  #: Base of relative stops: ``CURRENT_PRICE``, ``OPEN_PRICE`` or ``STOP_PRICE``.
    #: Units of the open price: ``ABSOLUTE_PRICE`` or a relative unit, as the stops' (protocol §6.2).
    openPriceUnits: str
    #: Base of a relative open price: ``CURRENT_PRICE``, ``OPEN_PRICE``, ``STOP_LIMIT_PRICE`` (stop-limit, modify).
    openPriceBase: str
    #: Units of the stop-limit price, as ``openPriceUnits`` (stop-limit orders and ``modify_order``).
    stopLimitPriceUnits: str
    #: Base of a relative stop-limit price: ``CURRENT_PRICE``, ``STOP_LIMIT_PRICE`` (``modify_order`` only).
    stopLimitPriceBase: str


class AccountsFilter(TypedDict, total=False):
    """Query of ``get_accounts_with_*_pagination``."""

    offset: int  #: How many accounts to skip (default 0).
    limit: int  #: Most accounts returned, 1 to 1000 (default 1000).
    version: int | list[int]  #: MetaTrader version(s): 4, 5.
    type: str | list[str]  #: Account type(s): ``cloud-g1``, ``cloud-g2`` (also ``cloud``, ``self-hosted``).
    state: str | list[str]  #: Account state(s), e.g. ``DEPLOYED`` (protocol §9.11).
    #: ``CONNECTED``, ``DISCONNECTED``, ``DISCONNECTED_FROM_BROKER``, or a list of them.
    connectionStatus: str | list[str]
    query: str  #: Free text searched in the id, name, server and login.
    provisioningProfileId: str  #: Only accounts of this provisioning profile.
    sortOrder: str  #: ``asc`` or ``desc`` by the time of the last state change.
    region: str | list[str]  #: Region(s) the accounts live in.
    copyFactoryRoles: list[str]  #: CopyFactory roles: ``SUBSCRIBER``, ``PROVIDER``.


class ProvisioningProfilesFilter(TypedDict, total=False):
    """Query of ``get_provisioning_profiles_with_infinite_scroll_pagination``."""

    offset: int  #: How many profiles to skip (default 0).
    limit: int  #: Most profiles returned, 1 to 1000 (default 1000).
    version: int  #: MetaTrader version: 4 or 5.
    type: str  #: Profile type: ``mkTerminal`` or ``managerApi``.
    status: str  #: ``new`` (no server file uploaded yet) or ``active``.
    query: str  #: Free text searched in the name.


class NewMetatraderAccountDto(TypedDict, total=False):
    """Body of ``create_account`` (the main fields; protocol §9.10 lists them all)."""

    name: str  #: Human-readable name of the account.
    server: str  #: The broker's MetaTrader server name.
    login: str  #: The MetaTrader login, digits (without login and password: a ``DRAFT`` account).
    password: str  #: Master (trading) or investor (read-only) password.
    platform: str  #: ``mt4`` or ``mt5``.
    provisioningProfileId: str  #: Provisioning profile with the broker's server file (omit for automatic detection).
    type: str  #: ``cloud-g1`` or ``cloud-g2`` (``cloud`` is taken as ``cloud-g2``).
    magic: int  #: Magic number given to trades that carry none.
    region: str  #: Region the account is deployed in, e.g. ``vint-hill``.
    reliability: str  #: ``high`` (two instances) or ``regular``.
    baseCurrency: str  #: Three-letter currency code of the account's figures (default ``USD``).
    quoteStreamingIntervalInSeconds: float  #: Interval between quote updates, in seconds (default 2.5; 0: every tick).
    tags: list[str]  #: Free labels.
    metadata: dict[str, Any]  #: Free JSON data, at most 1024 characters.
    resourceSlots: int  #: Resource slots reserved for the account (default 1).
    copyFactoryResourceSlots: int  #: Resource slots reserved for CopyFactory (default 1).
    manualTrades: bool  #: Whether trades placed outside MetaApi are expected (G2 only).
    slippage: float  #: Default largest price deviation of trades, in points.
    application: str  #: Application the account is created for, e.g. ``MetaApi``.


class UpdatedMetatraderAccountReplicaDto(TypedDict, total=False):
    """Body of ``replica.update``."""

    magic: int  #: Magic number given to trades that carry none.
    quoteStreamingIntervalInSeconds: float  #: Interval between quote updates, in seconds (0: every tick).
    tags: list[str]  #: Free labels.
    metadata: dict[str, Any]  #: Free JSON data, at most 1024 characters.
    copyFactoryRoles: list[str]  #: CopyFactory roles: ``SUBSCRIBER``, ``PROVIDER``.
    resourceSlots: int  #: Resource slots reserved for the replica.
    copyFactoryResourceSlots: int  #: Resource slots reserved for CopyFactory.


class NewProvisioningProfileDto(TypedDict, total=False):
    """Body of ``create_provisioning_profile``."""

    name: str  #: Human-readable name of the profile.
    version: int  #: MetaTrader version: 4 or 5.
    brokerTimezone: str  #: The broker's time zone, an IANA name such as ``EET``.
    brokerDSTSwitchTimezone: str  #: Time zone whose daylight-saving switches the broker follows, an IANA name.
    type: str  #: ``mkTerminal`` (default) or ``managerApi``.


class NewExpertAdvisorDto(TypedDict, total=False):
    """Body of an expert advisor's ``update``: ``preset`` is the base64 of the ``.set`` file."""

    period: str  #: Chart timeframe the advisor runs on, e.g. ``1h`` (protocol §10).
    symbol: str  #: Chart symbol the advisor runs on.
    preset: str  #: The ``.set`` preset file, base64-encoded.


class AccessRuleResource(TypedDict):
    """A resource a narrowed token may reach, e.g. ``{"entity": "account", "id": "..."}``."""

    entity: str  #: The resource kind, e.g. ``account``, or ``*`` for every kind.
    id: str  #: The resource's id (an account id), or ``*`` for all of that kind.


class ManifestAccessRule(TypedDict, total=False):
    """An entry of ``get_access_rules()``: an application's services, method groups and roles."""

    id: str  #: The rule's id, e.g. ``trading-account-management-api``.
    application: str  #: The application the rule covers, e.g. ``metaapi-api``.
    description: str  #: What the API offers, in words.
    entities: list[dict[str, str]]  #: Resource kinds a rule may name: ``{entity, description, idDescription?}``.
    services: list[dict[str, str]]  #: The API's services: ``{service, description}``.
    methodGroups: list[dict[str, Any]]  #: Method groups: ``{group, description, methods: [{method, description}]}``.
    roles: list[dict[str, Any]]  #: Role sets a rule may grant: ``{roles: [...], description}``.
    entityCompositionDescription: str  #: How resources are written, in words.


class AccessRule(TypedDict, total=False):
    """One detailed rule of :class:`NarrowDownAccessRules`."""

    id: str  #: Id of the manifest rule this narrows, e.g. ``trading-account-management-api``.
    application: str  #: The application, e.g. ``metaapi-api``.
    service: str  #: The service, e.g. ``rest`` or ``ws``.
    methodGroups: list[dict[str, Any]]  #: Method groups allowed: ``[{group, methods: [{method, scopes?}]}]``.
    resources: list[AccessRuleResource]  #: Resources the token may reach.
    roles: list[str]  #: Roles granted: ``reader``, ``writer``.


class NarrowDownAccessRules(TypedDict):
    """The detailed payload of ``narrow_down_token``."""

    accessRules: list[AccessRule]  #: The detailed rules the new token keeps (a non-empty list).


class NarrowDownSimplifiedAccessRules(TypedDict, total=False):
    """The simplified payload of ``narrow_down_token``."""

    applications: list[str]  #: Applications the new token keeps, e.g. ``metaapi-api``.
    roles: list[str]  #: Roles the new token keeps: ``reader``, ``writer``.
    resources: list[AccessRuleResource]  #: Resources the new token keeps, e.g. one account.
