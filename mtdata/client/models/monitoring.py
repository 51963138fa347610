"""The seed's monitoring models as ``TypedDict``s: health, latency timestamps and reservoir statistics.

Re-exported by :mod:`mtdata.client.models` and :mod:`mtdata.client`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class HealthStatus(TypedDict, total=False):
    """The ``healthStatus`` of the server's ``status`` packets: which services of the account work (more may come)."""

    restApiHealthy: bool  #: Whether the REST API serving the account works.
    copyFactorySubscriberHealthy: bool  #: Whether CopyFactory's copying into the account (as a subscriber) works.
    copyFactoryProviderHealthy: bool  #: Whether CopyFactory's reading of the account (as a provider) works.
    rpcApiHealthy: bool  #: Whether the RPC API (requests over the socket) serving the account works.


class ConnectionHealthStatus(TypedDict, total=False):
    """``connection.health_monitor.health_status``."""

    connected: bool  #: Whether a stream of the account is connected to the server (``authenticated`` seen).
    connectedToBroker: bool  #: Whether a connected stream reports its terminal connected to the broker.
    #: Whether quotes flow: nothing subscribed, a price in the last 60 s, or every subscribed market closed.
    quoteStreamingHealthy: bool
    synchronized: bool  #: Whether the connection's terminal state is synchronized.
    healthy: bool  #: True when the four flags above all are.
    message: str  #: What is wrong, in words, or that the connection is stable.


class ReservoirStatistics(TypedDict, total=False):
    """Statistics of a :class:`~mtdata.client.Reservoir` window."""

    count: int  #: Number of measurements in the window.
    sum: float  #: Sum of the measurements.
    max: float | None  #: Largest measurement (None in an empty window).
    min: float | None  #: Smallest measurement (None in an empty window).
    average: float | None  #: Mean of the measurements (None in an empty window).
    sumOfSquares: float  #: Sum of the squared measurements.
    msdev: float | None  #: Population standard deviation (divided by n; None in an empty window).
    stddev: float | None  #: Sample standard deviation (divided by n - 1; None below two measurements).


class ResponseTimestamps(TypedDict, total=False):
    """Timestamps of a request and its response (latency tracking, protocol §8), aware UTC datetimes."""

    clientProcessingStarted: datetime  #: When the client sent the request.
    clientProcessingFinished: datetime  #: When the client received the answer.
    serverProcessingStarted: datetime  #: When the server began handling the request.
    serverProcessingFinished: datetime  #: When the server sent the answer.


class SymbolPriceTimestamps(TypedDict, total=False):
    """Timestamps of a price on its way from the broker to the client."""

    eventGenerated: datetime  #: When the price was generated (its tick's time).
    serverProcessingStarted: datetime  #: When the server began handling the price.
    clientProcessingFinished: datetime  #: When the client had handed the ``prices`` packet to its listeners.
    serverProcessingFinished: datetime  #: When the server sent the price (protocol §8).


class UpdateTimestamps(TypedDict, total=False):
    """Timestamps of a terminal-state update: the keys of :class:`SymbolPriceTimestamps`, declared again.

    A ``TypedDict`` keeps no base in its MRO, so the API reference finds no description for an inherited key.
    """

    eventGenerated: datetime  #: When the change happened.
    serverProcessingStarted: datetime  #: When the server began handling the change.
    clientProcessingFinished: datetime  #: When the client had handed the ``update`` packet to its listeners.
    serverProcessingFinished: datetime  #: When the server sent the update (protocol §8).


class TradeTimestamps(TypedDict, total=False):
    """Timestamps of a trade."""

    clientProcessingStarted: datetime  #: When the client sent the trade.
    serverProcessingStarted: datetime  #: When the server began handling the trade.
    tradeStarted: datetime  #: When the trade was passed on for execution.
    tradeExecuted: datetime  #: When the broker executed it.
    serverProcessingFinished: datetime  #: When the server sent the answer.
    clientProcessingFinished: datetime  #: When the client received the answer.
