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

from . import models
from .connections.registry import (
    ConnectionRegistry,
    RpcMetaApiConnectionInstance,
    StreamingMetaApiConnectionInstance,
)
from .connections.rpc import RpcMetaApiConnection
from .connections.streaming import StreamingMetaApiConnection
from .history.database import FilesystemHistoryDatabase
from .history.memory import MemoryHistoryStorage
from .history.storage import HistoryStorage
from .listeners import LatencyListener, ReconnectListener, SynchronizationListener
from .metaapi import MetaApi
from .models import *  # noqa: F403 (the seed's models, listed once: models.__all__)
from .monitoring.health import ConnectionHealthMonitor, ConnectionUptime
from .monitoring.latency_monitor import LatencyMonitor
from .monitoring.latency_service import LatencyService
from .monitoring.reservoir import Reservoir, StatisticalReservoir
from .options import MetaApiOptions, RetryPolicy, ThrottlerOpts
from .rest.accounts import MetatraderAccount, MetatraderAccountApi, MetatraderAccountList
from .rest.experts import ExpertAdvisor, ExpertAdvisorClient
from .rest.generator import MetatraderAccountGeneratorApi
from .rest.history_api import HistoricalMarketDataClient
from .rest.profiles import ProvisioningProfile, ProvisioningProfileApi
from .rest.replicas import MetatraderAccountReplica
from .rest.tokens import TokenManagementApi
from .state.hash_manager import TerminalHashManager
from .state.reference_tree import ReferenceTree
from .state.terminal import TerminalState
from .transport.websocket import WebsocketClient

#: The seed's names of two classes: the history storage base and the account model.
HistoryStorageModel = HistoryStorage
MetatraderAccountModel = MetatraderAccount

__all__ = [
    "ConnectionHealthMonitor",
    "ConnectionRegistry",
    "ConnectionUptime",
    "ExpertAdvisor",
    "ExpertAdvisorClient",
    "FilesystemHistoryDatabase",
    "HistoricalMarketDataClient",
    "HistoryStorage",
    "HistoryStorageModel",
    "LatencyListener",
    "LatencyMonitor",
    "LatencyService",
    "MemoryHistoryStorage",
    "MetaApi",
    "MetaApiOptions",
    "MetatraderAccount",
    "MetatraderAccountApi",
    "MetatraderAccountGeneratorApi",
    "MetatraderAccountList",
    "MetatraderAccountModel",
    "MetatraderAccountReplica",
    "ProvisioningProfile",
    "ProvisioningProfileApi",
    "ReconnectListener",
    "ReferenceTree",
    "Reservoir",
    "RetryPolicy",
    "RpcMetaApiConnection",
    "RpcMetaApiConnectionInstance",
    "StatisticalReservoir",
    "StreamingMetaApiConnection",
    "StreamingMetaApiConnectionInstance",
    "SynchronizationListener",
    "TerminalHashManager",
    "TerminalState",
    "ThrottlerOpts",
    "TokenManagementApi",
    "WebsocketClient",
    *models.__all__,
]
