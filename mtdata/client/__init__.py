"""The mtdata client SDK: the MetaApi API surface of the seed, async and loop-agnostic.

::

    from mtdata.client import MetaApi
    async with MetaApi.sandbox(sandbox.url, sandbox.token) as api:
        account = await api.metatrader_account_api.get_account(sandbox.account_id)
        candles = await account.get_historical_candles("EURUSD", "1h")

        connection = account.get_streaming_connection()
        await connection.connect()
        await connection.wait_synchronized()
        await connection.subscribe_to_market_data("EURUSD")
        print(connection.terminal_state.price("EURUSD"), connection.terminal_state.positions)
        await connection.create_market_buy_order("EURUSD", 0.1)

REST APIs (accounts, profiles, tokens, historical market data), the socket layer (``WebsocketClient``)
and the connections: :class:`StreamingMetaApiConnection` (a live local copy of the account: terminal
state, history storage, market data, listeners of both styles, trades) and :class:`RpcMetaApiConnection`
(getters and trades on request), handed out per account by the :class:`ConnectionRegistry`. The seed's
models (``MetatraderPosition``, ``MetatraderCandle``, ``MetaApiOpts``, ...) are ``TypedDict`` classes of
:mod:`mtdata.client.models`, exported here too.
"""

from .accounts import MetatraderAccount, MetatraderAccountApi, MetatraderAccountList
from .connection_registry import (
    ConnectionRegistry,
    RpcMetaApiConnectionInstance,
    StreamingMetaApiConnectionInstance,
)
from .experts import ExpertAdvisor, ExpertAdvisorClient
from .generator import MetatraderAccountGeneratorApi
from .health import ConnectionHealthMonitor, ConnectionUptime
from .history.database import FilesystemHistoryDatabase
from .history.storage import HistoryStorage, MemoryHistoryStorage
from .history_api import HistoricalMarketDataClient
from .latency_monitor import LatencyMonitor
from .latency_service import LatencyService
from .listeners import LatencyListener, ReconnectListener, SynchronizationListener
from .metaapi import MetaApi
from .models import (
    AccessRule,
    AccessRuleResource,
    AccountsFilter,
    ConnectionHealthStatus,
    CreateMarketTradeOptions,
    ExceptionMessage,
    HealthStatus,
    ManifestAccessRule,
    MarketDataSubscription,
    MarketDataUnsubscription,
    MarketTradeOptions,
    MetaApiOpts,
    MetatraderAccountInformation,
    MetatraderBook,
    MetatraderBookEntry,
    MetatraderCandle,
    MetatraderDeal,
    MetatraderOrder,
    MetatraderPosition,
    MetatraderSession,
    MetatraderSessions,
    MetatraderSymbolPrice,
    MetatraderSymbolSpecification,
    MetatraderTick,
    MetatraderTradeResponse,
    NarrowDownAccessRules,
    NarrowDownSimplifiedAccessRules,
    NewExpertAdvisorDto,
    NewMetatraderAccountDto,
    NewProvisioningProfileDto,
    PacketLoggerOpts,
    PendingTradeOptions,
    ProvisioningProfilesFilter,
    RefreshTerminalStateOptions,
    ReservoirStatistics,
    ResponseTimestamps,
    RetryOpts,
    ServerTime,
    StopOptions,
    StreamingRetryOptions,
    SymbolPriceTimestamps,
    SynchronizationOptions,
    SynchronizationThrottlerOpts,
    TradeTimestamps,
    UpdatedMetatraderAccountReplicaDto,
    UpdateTimestamps,
    ValidationDetails,
    WebsocketOptions,
)
from .options import MetaApiOptions, RetryPolicy, ThrottlerOpts
from .profiles import ProvisioningProfile, ProvisioningProfileApi
from .reference_tree import ReferenceTree
from .replicas import MetatraderAccountReplica
from .reservoir import Reservoir, StatisticalReservoir
from .rpc_connection import RpcMetaApiConnection
from .streaming_connection import StreamingMetaApiConnection
from .terminal_hash_manager import TerminalHashManager
from .terminal_state import TerminalState
from .tokens import TokenManagementApi
from .transport import WebsocketClient

#: The seed's names of two classes: the history storage base and the account model.
HistoryStorageModel = HistoryStorage
MetatraderAccountModel = MetatraderAccount

__all__ = [
    "AccessRule",
    "AccessRuleResource",
    "AccountsFilter",
    "ConnectionHealthMonitor",
    "ConnectionHealthStatus",
    "ConnectionRegistry",
    "ConnectionUptime",
    "CreateMarketTradeOptions",
    "ExceptionMessage",
    "ExpertAdvisor",
    "ExpertAdvisorClient",
    "FilesystemHistoryDatabase",
    "HealthStatus",
    "HistoricalMarketDataClient",
    "HistoryStorage",
    "HistoryStorageModel",
    "LatencyListener",
    "LatencyMonitor",
    "LatencyService",
    "ManifestAccessRule",
    "MarketDataSubscription",
    "MarketDataUnsubscription",
    "MarketTradeOptions",
    "MemoryHistoryStorage",
    "MetaApi",
    "MetaApiOptions",
    "MetaApiOpts",
    "MetatraderAccount",
    "MetatraderAccountApi",
    "MetatraderAccountGeneratorApi",
    "MetatraderAccountInformation",
    "MetatraderAccountList",
    "MetatraderAccountModel",
    "MetatraderAccountReplica",
    "MetatraderBook",
    "MetatraderBookEntry",
    "MetatraderCandle",
    "MetatraderDeal",
    "MetatraderOrder",
    "MetatraderPosition",
    "MetatraderSession",
    "MetatraderSessions",
    "MetatraderSymbolPrice",
    "MetatraderSymbolSpecification",
    "MetatraderTick",
    "MetatraderTradeResponse",
    "NarrowDownAccessRules",
    "NarrowDownSimplifiedAccessRules",
    "NewExpertAdvisorDto",
    "NewMetatraderAccountDto",
    "NewProvisioningProfileDto",
    "PacketLoggerOpts",
    "PendingTradeOptions",
    "ProvisioningProfile",
    "ProvisioningProfileApi",
    "ProvisioningProfilesFilter",
    "ReconnectListener",
    "ReferenceTree",
    "RefreshTerminalStateOptions",
    "Reservoir",
    "ReservoirStatistics",
    "ResponseTimestamps",
    "RetryOpts",
    "RetryPolicy",
    "RpcMetaApiConnection",
    "RpcMetaApiConnectionInstance",
    "ServerTime",
    "StatisticalReservoir",
    "StopOptions",
    "StreamingMetaApiConnection",
    "StreamingMetaApiConnectionInstance",
    "StreamingRetryOptions",
    "SymbolPriceTimestamps",
    "SynchronizationListener",
    "SynchronizationOptions",
    "SynchronizationThrottlerOpts",
    "TerminalHashManager",
    "TerminalState",
    "ThrottlerOpts",
    "TokenManagementApi",
    "TradeTimestamps",
    "UpdateTimestamps",
    "UpdatedMetatraderAccountReplicaDto",
    "ValidationDetails",
    "WebsocketClient",
    "WebsocketOptions",
]
