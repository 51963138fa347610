"""The seed's record models as ``TypedDict``s (what the client returns): the account's figures, positions, orders,
deals, prices, ticks, candles, books, specifications, trade responses, server time and error bodies.

Fields are the wire's camelCase names (protocol §9); every model is ``total=False`` because the
wire leaves optional fields out. The seed's fields come first with the seed's types; fields the wire
also sends follow. :data:`SEED_TYPE_DIFFERENCES` lists where a type deliberately differs from the seed.
Re-exported by :mod:`mtdata.client.models` and :mod:`mtdata.client`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypedDict

#: Fields whose type differs from the seed's, and why.
SEED_TYPE_DIFFERENCES = {
    "MetatraderPosition.id": "str: ids are strings of digits on the wire (protocol §9.1); the seed says int",
    "MetatraderOrder.id": "str: ids are strings of digits on the wire (protocol §9.1); the seed says int",
}

MetatraderSession = TypedDict("MetatraderSession", {"from": str, "to": str})
"""One session of a day, ``{"from": "HH:MM:SS.mmm", "to": ...}`` in broker time."""


class MetatraderSessions(TypedDict, total=False):
    """Quote or trade sessions of a symbol by weekday."""

    SUNDAY: list[MetatraderSession]
    MONDAY: list[MetatraderSession]
    TUESDAY: list[MetatraderSession]
    WEDNESDAY: list[MetatraderSession]
    THURSDAY: list[MetatraderSession]
    FRIDAY: list[MetatraderSession]
    SATURDAY: list[MetatraderSession]


class MetatraderAccountInformation(TypedDict, total=False):
    """The account's figures (``get_account_information()``, ``terminal_state.account_information``)."""

    platform: str
    broker: str
    currency: str
    server: str
    balance: float
    equity: float
    margin: float
    freeMargin: float
    leverage: float
    marginLevel: float
    tradeAllowed: bool
    investorMode: bool
    marginMode: str
    name: str
    login: int
    credit: float
    type: str
    accountCurrencyExchangeRate: float


class MetatraderPosition(TypedDict, total=False):
    """An open position."""

    id: str
    type: str
    symbol: str
    magic: int
    time: datetime
    brokerTime: str
    updateTime: datetime
    openPrice: float
    currentPrice: float
    volume: float
    swap: float
    profit: float
    comment: str
    clientId: str
    platform: str
    currentTickValue: float
    stopLoss: float
    takeProfit: float
    trailingStopLoss: dict[str, Any]
    realizedProfit: float
    unrealizedProfit: float
    realizedSwap: float
    unrealizedSwap: float
    commission: float
    realizedCommission: float
    unrealizedCommission: float
    brokerComment: str
    reason: str
    accountCurrencyExchangeRate: float


class MetatraderOrder(TypedDict, total=False):
    """A pending order or a history order."""

    id: str
    type: str
    state: str
    magic: int
    symbol: str
    openPrice: float
    volume: float
    currentVolume: float
    positionId: str
    comment: str
    platform: str
    time: datetime
    brokerTime: str
    doneTime: datetime
    doneBrokerTime: str
    stopLimitPrice: float
    currentPrice: float
    stopLoss: float
    takeProfit: float
    trailingStopLoss: dict[str, Any]
    brokerComment: str
    clientId: str
    reason: str
    fillingMode: str
    expirationType: str
    expirationTime: datetime
    accountCurrencyExchangeRate: float
    closeByPositionId: str


class MetatraderDeal(TypedDict, total=False):
    """A deal of the account's history."""

    id: str
    platform: str
    type: str
    entryType: str
    symbol: str
    magic: int
    time: datetime
    brokerTime: str
    volume: float
    price: float
    commission: float
    swap: float
    profit: float
    positionId: str
    orderId: str
    comment: str
    brokerComment: str
    clientId: str
    reason: str
    accountCurrencyExchangeRate: float
    stopLoss: float
    takeProfit: float


class MetatraderSymbolPrice(TypedDict, total=False):
    """A quote (``get_symbol_price()``, ``terminal_state.price(symbol)``, ``on_symbol_price_updated``)."""

    symbol: str
    bid: float
    ask: float
    profitTickValue: float
    lossTickValue: float
    accountCurrencyExchangeRate: float
    time: datetime
    brokerTime: str
    timestamps: dict[str, datetime]
    equity: float


class MetatraderTick(TypedDict, total=False):
    """A tick (``get_tick()``, ``get_historical_ticks()``, ``on_ticks_updated``)."""

    symbol: str
    time: datetime
    brokerTime: str
    bid: float | None
    ask: float | None
    last: float | None
    volume: float
    side: str


class MetatraderCandle(TypedDict, total=False):
    """A candle (``get_candle()``, ``get_historical_candles()``, ``on_candles_updated``)."""

    symbol: str
    timeframe: str
    time: datetime
    brokerTime: str
    open: float
    high: float
    low: float
    close: float
    tickVolume: float
    spread: float
    volume: float


class MetatraderBookEntry(TypedDict, total=False):
    """One level of an order book."""

    type: Literal["BOOK_TYPE_SELL", "BOOK_TYPE_BUY", "BOOK_TYPE_SELL_MARKET", "BOOK_TYPE_BUY_MARKET"]
    price: float
    volume: float


class MetatraderBook(TypedDict, total=False):
    """An order book (``get_book()``, ``on_books_updated``)."""

    symbol: str
    time: datetime
    brokerTime: str
    book: list[MetatraderBookEntry]


class MetatraderSymbolSpecification(TypedDict, total=False):
    """A symbol's specification (the wire has more fields than these: protocol §9.6)."""

    symbol: str
    tickSize: float
    minVolume: float
    maxVolume: float
    volumeStep: float
    fillingModes: list[str]
    executionMode: str
    contractSize: float
    quoteSessions: MetatraderSessions
    tradeSessions: MetatraderSessions
    tradeMode: str
    digits: int
    point: float
    currency: str
    marginMode: str
    description: str
    path: str
    baseCurrency: str
    profitCurrency: str
    marginCurrency: str
    priceCalculationMode: str
    swapMode: str
    swapLong: float
    swapShort: float
    stopsLevel: float
    freezeLevel: float
    pipSize: float
    initialMargin: float
    maintenanceMargin: float
    hedgedMargin: float
    swapRollover3Days: str
    allowedExpirationModes: list[str]
    allowedOrderTypes: list[str]


class MetatraderTradeResponse(TypedDict, total=False):
    """The result of a successful trade."""

    numericCode: int
    stringCode: str
    message: str
    orderId: str
    positionId: str
    clientId: str


class ServerTime(TypedDict, total=False):
    """The trade server's clock (``get_server_time()``)."""

    time: datetime
    brokerTime: str
    lastQuoteTime: datetime
    lastQuoteBrokerTime: str


class ValidationDetails(TypedDict, total=False):
    """One refused parameter of a ``ValidationException``."""

    parameter: str
    value: str | None
    message: str


class ExceptionMessage(TypedDict, total=False):
    """The body of an error answer (REST and socket)."""

    id: int
    error: str
    numericCode: int
    stringCode: str
    message: str
    details: list[ValidationDetails]
