"""The mtdata client SDK: the MetaApi API surface (``../shared`` seed), async and loop-agnostic.

    from mtdata.client import MetaApi
    async with MetaApi.sandbox(sandbox.url, sandbox.token) as api:
        account = await api.metatrader_account_api.get_account(sandbox.account_id)
        candles = await account.get_historical_candles("EURUSD", "1h")

Part 1 (this package so far): the REST APIs. Streaming and RPC connections come with the
socket layer; ``get_streaming_connection()`` / ``get_rpc_connection()`` raise
``NotImplementedError`` until then.
"""

from .accounts import MetatraderAccount, MetatraderAccountApi, MetatraderAccountList
from .experts import ExpertAdvisor
from .generator import MetatraderAccountGeneratorApi
from .history_api import HistoricalMarketDataClient
from .latency_monitor import LatencyMonitor
from .metaapi import MetaApi
from .options import MetaApiOptions, RetryOpts, ThrottlerOpts
from .profiles import ProvisioningProfile, ProvisioningProfileApi
from .replicas import MetatraderAccountReplica
from .tokens import TokenManagementApi

__all__ = [
    "ExpertAdvisor",
    "HistoricalMarketDataClient",
    "LatencyMonitor",
    "MetaApi",
    "MetaApiOptions",
    "MetatraderAccount",
    "MetatraderAccountApi",
    "MetatraderAccountGeneratorApi",
    "MetatraderAccountList",
    "MetatraderAccountReplica",
    "ProvisioningProfile",
    "ProvisioningProfileApi",
    "RetryOpts",
    "ThrottlerOpts",
    "TokenManagementApi",
]
