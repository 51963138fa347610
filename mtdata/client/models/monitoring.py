"""The seed's monitoring models as ``TypedDict``s: health, latency timestamps and reservoir statistics.

Re-exported by :mod:`mtdata.client.models` and :mod:`mtdata.client`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class HealthStatus(TypedDict, total=False):
    """The server's ``status`` packet: whether the terminal's parts are healthy."""

    restApiHealthy: bool
    copyFactorySubscriberHealthy: bool
    copyFactoryProviderHealthy: bool


class ConnectionHealthStatus(TypedDict, total=False):
    """``connection.health_monitor.health_status``."""

    connected: bool
    connectedToBroker: bool
    quoteStreamingHealthy: bool
    synchronized: bool
    healthy: bool
    message: str


class ReservoirStatistics(TypedDict, total=False):
    """Statistics of a :class:`~mtdata.client.Reservoir` window."""

    count: int
    sum: float
    max: float
    min: float
    average: float
    sumOfSquares: float
    msdev: float
    stddev: float


class ResponseTimestamps(TypedDict, total=False):
    """Timestamps of a request and its response (latency tracking, protocol §8)."""

    clientProcessingStarted: datetime
    clientProcessingFinished: datetime
    serverProcessingStarted: datetime
    serverProcessingFinished: datetime


class SymbolPriceTimestamps(TypedDict, total=False):
    """Timestamps of a price on its way from the broker to the client."""

    eventGenerated: datetime
    serverProcessingStarted: datetime
    clientProcessingFinished: datetime


class UpdateTimestamps(SymbolPriceTimestamps, total=False):
    """Timestamps of a terminal-state update."""


class TradeTimestamps(TypedDict, total=False):
    """Timestamps of a trade."""

    clientProcessingStarted: datetime
    serverProcessingStarted: datetime
    tradeStarted: datetime
    tradeExecuted: datetime
    serverProcessingFinished: datetime
    clientProcessingFinished: datetime
