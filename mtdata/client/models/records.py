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
    **{
        f"ReservoirStatistics.{name}": "float | None: None where a window has too few measurements; the seed says float"
        for name in ("max", "min", "average", "msdev", "stddev")
    },
}

MetatraderSession = TypedDict("MetatraderSession", {"from": str, "to": str})
# The functional syntax (``from`` is a keyword) leaves ``__doc__`` unset, and autodoc reads no comment on a re-export.
MetatraderSession.__doc__ = """One session of a day: ``from`` is when it opens, ``to`` when it closes, both
``HH:MM:SS.mmm`` in broker time."""


class MetatraderSessions(TypedDict, total=False):
    """Quote or trade sessions of a symbol by weekday."""

    SUNDAY: list[MetatraderSession]  #: Sunday's sessions (an empty list when the day has none).
    MONDAY: list[MetatraderSession]  #: Monday's sessions.
    TUESDAY: list[MetatraderSession]  #: Tuesday's sessions.
    WEDNESDAY: list[MetatraderSession]  #: Wednesday's sessions.
    THURSDAY: list[MetatraderSession]  #: Thursday's sessions.
    FRIDAY: list[MetatraderSession]  #: Friday's sessions.
    SATURDAY: list[MetatraderSession]  #: Saturday's sessions (an empty list when the day has none).


class MetatraderAccountInformation(TypedDict, total=False):
    """The account's figures (``get_account_information()``, ``terminal_state.account_information``)."""

    platform: str  #: The terminal's platform: ``mt4`` or ``mt5`` (it decides the equity formula, protocol §9.2).
    broker: str  #: The broker company's name.
    currency: str  #: The account's deposit currency, an ISO code such as ``USD``.
    server: str  #: The name of the broker's trade server the account is on.
    balance: float  #: The balance, in the account currency.
    equity: float  #: Balance plus the open positions' profit and swap (MT4: and commission), in the account currency.
    margin: float  #: The margin the open positions and orders use, in the account currency.
    freeMargin: float  #: Equity minus the used margin: what is left to open positions, in the account currency.
    leverage: float  #: The account's leverage: 100 means 1:100.
    marginLevel: float  #: Equity over used margin, in percent (absent or None without used margin).
    tradeAllowed: bool  #: Whether trading is allowed on the account.
    investorMode: bool  #: Whether the terminal logged in with the investor (read-only) password.
    #: How margin is counted: ``ACCOUNT_MARGIN_MODE_RETAIL_HEDGING``, ``_RETAIL_NETTING`` or ``_EXCHANGE``.
    marginMode: str
    name: str  #: The account holder's name.
    login: int  #: The account's login number at the broker.
    credit: float  #: Credit the broker granted the account, in the account currency.
    type: str  #: The account's kind: ``ACCOUNT_TRADE_MODE_DEMO``, ``_CONTEST`` or ``_REAL``.
    #: Rate of the account currency to the account's base currency (the newest price's).
    accountCurrencyExchangeRate: float


class MetatraderPosition(TypedDict, total=False):
    """An open position."""

    id: str  #: The position's ticket, a string of digits (protocol §9.1).
    type: str  #: The position's direction: ``POSITION_TYPE_BUY`` or ``POSITION_TYPE_SELL``.
    symbol: str  #: The symbol traded.
    magic: int  #: The expert advisor's magic number the position was opened with (0 for none).
    time: datetime  #: When the position was opened (UTC).
    brokerTime: str  #: When the position was opened, on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    updateTime: datetime  #: When the position last changed (UTC).
    openPrice: float  #: The price the position was opened at.
    currentPrice: float  #: The price the position would close at now: the bid for buys, the ask for sells.
    volume: float  #: The position's volume, in lots.
    swap: float  #: Swap the position has accrued, in the account currency.
    #: The position's profit: unrealized on the open part plus realized on closed parts, account currency.
    profit: float
    comment: str  #: The comment the position was opened with.
    clientId: str  #: The client id of the trade that opened the position (see protocol §6.2).
    platform: str  #: The terminal's platform: ``mt4`` or ``mt5``.
    #: Value of one tick for one lot in the account currency: the price's profit or loss tick value.
    currentTickValue: float
    stopLoss: float  #: The stop loss price (absent when none is set).
    takeProfit: float  #: The take profit price (absent when none is set).
    trailingStopLoss: dict[str, Any]  #: The trailing stop loss settings, as the trade gave them (protocol §6.2).
    realizedProfit: float  #: Profit already realized by partial closes, in the account currency.
    unrealizedProfit: float  #: Profit of the still open volume at the current price, in the account currency.
    realizedSwap: float  #: Swap of the volume already closed, in the account currency.
    unrealizedSwap: float  #: Swap of the still open volume, in the account currency.
    commission: float  #: Commission charged on the position, in the account currency.
    realizedCommission: float  #: Commission of the volume already closed, in the account currency.
    unrealizedCommission: float  #: Commission of the still open volume, in the account currency.
    brokerComment: str  #: The comment the broker set on the position.
    #: Who or what opened the position: ``POSITION_REASON_CLIENT``, ``_EXPERT``, ``_MOBILE``, ``_WEB`` or ``_UNKNOWN``.
    reason: str
    accountCurrencyExchangeRate: float  #: Rate of the account currency to the account's base currency.


class MetatraderOrder(TypedDict, total=False):
    """A pending order or a history order."""

    id: str  #: The order's ticket, a string of digits (protocol §9.1).
    #: The order's type: ``ORDER_TYPE_BUY``, ``ORDER_TYPE_SELL_LIMIT``, … ``ORDER_TYPE_CLOSE_BY`` (protocol §9.4).
    type: str
    #: The order's state, such as ``ORDER_STATE_PLACED``, ``_FILLED``, ``_CANCELED``, ``_EXPIRED`` (protocol §9.4).
    state: str
    magic: int  #: The expert advisor's magic number the order was placed with (0 for none).
    symbol: str  #: The symbol traded.
    #: The order's price: the limit or stop price of a pending order, the fill price of a market order.
    openPrice: float
    volume: float  #: The volume requested, in lots.
    currentVolume: float  #: The volume not yet filled, in lots.
    positionId: str  #: The ticket of the position the order opened, changed or closed.
    comment: str  #: The comment the order was placed with.
    platform: str  #: The terminal's platform: ``mt4`` or ``mt5``.
    time: datetime  #: When the order was placed (UTC).
    brokerTime: str  #: When the order was placed, on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    doneTime: datetime  #: When the order was filled, canceled or expired (UTC; history orders).
    doneBrokerTime: str  #: When the order was done, on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    stopLimitPrice: float  #: The limit price a stop-limit order places once its stop price is reached.
    currentPrice: float  #: Pending orders: the market price now, the ask for buy types and the bid for sell types.
    stopLoss: float  #: The stop loss price (absent when none is set).
    takeProfit: float  #: The take profit price (absent when none is set).
    trailingStopLoss: dict[str, Any]  #: The trailing stop loss settings, as the trade gave them (protocol §6.2).
    brokerComment: str  #: The comment the broker set on the order.
    clientId: str  #: The client id of the trade that placed the order (see protocol §6.2).
    #: Who or what placed the order, such as ``ORDER_REASON_CLIENT``, ``_EXPERT``, ``_SL``, ``_TP`` or ``_SO``.
    reason: str
    fillingMode: str  #: How the order's volume is filled: ``ORDER_FILLING_FOK``, ``_IOC`` or ``_RETURN``.
    expirationType: str  #: When the order expires: ``ORDER_TIME_GTC``, ``_DAY``, ``_SPECIFIED`` or ``_SPECIFIED_DAY``.
    expirationTime: datetime  #: When the order expires (UTC), for the ``_SPECIFIED`` expiration types.
    accountCurrencyExchangeRate: float  #: Rate of the account currency to the account's base currency.
    closeByPositionId: str  #: The opposite position's ticket of an ``ORDER_TYPE_CLOSE_BY`` order.


class MetatraderDeal(TypedDict, total=False):
    """A deal of the account's history."""

    id: str  #: The deal's ticket, a string of digits (protocol §9.1).
    platform: str  #: The terminal's platform: ``mt4`` or ``mt5``.
    type: str  #: The deal's kind, such as ``DEAL_TYPE_BUY``, ``_SELL``, ``_BALANCE``, ``_CREDIT`` or ``_COMMISSION``.
    #: What the deal did to its position: ``DEAL_ENTRY_IN``, ``_OUT``, ``_INOUT``, ``_OUT_BY`` (trades only).
    entryType: str
    symbol: str  #: The symbol traded (absent for balance operations).
    magic: int  #: The expert advisor's magic number of the deal (0 for none).
    time: datetime  #: When the deal was executed (UTC).
    brokerTime: str  #: When the deal was executed, on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    volume: float  #: The volume dealt, in lots.
    price: float  #: The price the deal was executed at.
    commission: float  #: Commission charged on the deal, in the account currency.
    swap: float  #: Swap booked by the deal (on closing), in the account currency.
    profit: float  #: The deal's profit, or the amount of a balance operation, in the account currency.
    positionId: str  #: The ticket of the position the deal opened, changed or closed.
    orderId: str  #: The ticket of the order that made the deal.
    comment: str  #: The deal's comment.
    brokerComment: str  #: The comment the broker set on the deal.
    clientId: str  #: The client id of the trade that made the deal (see protocol §6.2).
    #: Who or what caused the deal, such as ``DEAL_REASON_CLIENT``, ``_EXPERT``, ``_SL``, ``_TP`` or ``_SO`` (stop-out).
    reason: str
    accountCurrencyExchangeRate: float  #: Rate of the account currency to the account's base currency.
    stopLoss: float  #: The stop loss of the opening order (entry deals) or the position's last one.
    takeProfit: float  #: The take profit of the opening order (entry deals) or the position's last one.


class MetatraderSymbolPrice(TypedDict, total=False):
    """A quote (``get_symbol_price()``, ``terminal_state.price(symbol)``, ``on_symbol_price_updated``)."""

    symbol: str  #: The symbol quoted.
    bid: float  #: The bid: the price a sell trades at.
    ask: float  #: The ask: the price a buy trades at.
    profitTickValue: float  #: Value of one tick for one lot of a winning position, in the account currency.
    lossTickValue: float  #: Value of one tick for one lot of a losing position, in the account currency.
    accountCurrencyExchangeRate: float  #: Rate of the account currency to the account's base currency.
    time: datetime  #: The quote's time (UTC).
    brokerTime: str  #: The quote's time on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    timestamps: dict[str, datetime]  #: Latency timestamps of the price, by name (protocol §8).
    #: The account's equity (a seed field: the wire sends equity with the ``prices`` packet, not each price).
    equity: float


class MetatraderTick(TypedDict, total=False):
    """A tick (``get_tick()``, ``get_historical_ticks()``, ``on_ticks_updated``)."""

    symbol: str  #: The symbol of the tick.
    time: datetime  #: The tick's time (UTC).
    brokerTime: str  #: The tick's time on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    bid: float | None  #: The bid at the tick (None or absent when the tick has none).
    ask: float | None  #: The ask at the tick (None or absent when the tick has none).
    last: float | None  #: The last deal's price (exchange symbols; None or absent otherwise).
    volume: float  #: The volume of the tick's deal.
    side: str  #: The side of the tick's deal: ``buy`` or ``sell``.


class MetatraderCandle(TypedDict, total=False):
    """A candle (``get_candle()``, ``get_historical_candles()``, ``on_candles_updated``)."""

    symbol: str  #: The symbol of the candle.
    timeframe: str  #: The candle's timeframe, such as ``1m``, ``1h`` or ``1d`` (protocol §10).
    time: datetime  #: The candle's open time (UTC).
    brokerTime: str  #: The candle's open time on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    open: float  #: The first price of the candle.
    high: float  #: The highest price of the candle.
    low: float  #: The lowest price of the candle.
    close: float  #: The last price of the candle.
    tickVolume: float  #: The number of ticks in the candle.
    spread: float  #: The candle's spread, in points.
    volume: float  #: The traded (real) volume of the candle.


class MetatraderBookEntry(TypedDict, total=False):
    """One level of an order book."""

    #: The level's side: ``BOOK_TYPE_SELL`` or ``BOOK_TYPE_BUY``, or their ``_MARKET`` variants.
    type: Literal["BOOK_TYPE_SELL", "BOOK_TYPE_BUY", "BOOK_TYPE_SELL_MARKET", "BOOK_TYPE_BUY_MARKET"]
    price: float  #: The level's price.
    volume: float  #: The volume offered at the level, in lots.


class MetatraderBook(TypedDict, total=False):
    """An order book (``get_book()``, ``on_books_updated``)."""

    symbol: str  #: The symbol of the book.
    time: datetime  #: The book's time (UTC).
    brokerTime: str  #: The book's time on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    book: list[MetatraderBookEntry]  #: The book's levels, sells and buys.


class MetatraderSymbolSpecification(TypedDict, total=False):
    """A symbol's specification (the wire has more fields than these: protocol §9.6)."""

    symbol: str  #: The symbol's name.
    tickSize: float  #: The smallest price change.
    minVolume: float  #: The smallest volume of a trade, in lots.
    maxVolume: float  #: The largest volume of a trade, in lots.
    volumeStep: float  #: The step a trade's volume must be a multiple of, in lots.
    fillingModes: list[str]  #: The filling modes allowed: ``SYMBOL_FILLING_FOK``, ``_IOC``, ``_BOC``, ``_RETURN``.
    #: How deals execute: ``SYMBOL_TRADE_EXECUTION_REQUEST``, ``_INSTANT``, ``_MARKET`` or ``_EXCHANGE``.
    executionMode: str
    contractSize: float  #: Units of the base asset in one lot.
    quoteSessions: MetatraderSessions  #: When the symbol is quoted, per weekday (broker time).
    tradeSessions: MetatraderSessions  #: When the symbol can be traded, per weekday (broker time).
    #: Trading allowed: ``SYMBOL_TRADE_MODE_FULL``, ``_LONGONLY``, ``_SHORTONLY``, ``_CLOSEONLY`` or ``_DISABLED``.
    tradeMode: str
    digits: int  #: The number of decimals of a price.
    point: float  #: The value of one point: 10 to the power of minus ``digits``.
    #: The symbol's currency (a seed field the wire does not send: see ``baseCurrency``, ``profitCurrency``).
    currency: str
    marginMode: str  #: How margin is counted for the symbol (a seed field the wire does not send).
    description: str  #: The symbol's description, such as ``Euro vs US Dollar``.
    path: str  #: Where the symbol sits in the terminal's symbol tree, such as ``Forex\Majors\EURUSD``.
    baseCurrency: str  #: The base currency: what one lot buys or sells.
    profitCurrency: str  #: The currency profits are counted in before conversion to the account currency.
    marginCurrency: str  #: The currency margin is counted in.
    #: How profit and margin are computed, such as ``SYMBOL_CALC_MODE_FOREX``, ``_CFDLEVERAGE`` or ``_FUTURES``.
    priceCalculationMode: str
    #: What the swap rates are in, such as ``SYMBOL_SWAP_MODE_POINTS``, ``_CURRENCY_SYMBOL`` or ``_DISABLED``.
    swapMode: str
    swapLong: float  #: The swap rate of buy positions, in the unit ``swapMode`` names.
    swapShort: float  #: The swap rate of sell positions, in the unit ``swapMode`` names.
    stopsLevel: float  #: The closest a stop loss, take profit or pending price may be to the market, in points.
    #: The distance from the market, in points, within which orders and stops are frozen (no changes).
    freezeLevel: float
    pipSize: float  #: The size of one pip, in price units (what ``RELATIVE_PIPS`` counts).
    #: The margin to open one lot, in the margin currency (0: computed from the contract and leverage).
    initialMargin: float
    #: The margin to keep one lot open, in the margin currency (0: computed from the contract and leverage).
    maintenanceMargin: float
    hedgedMargin: float  #: The contract size (or margin) one lot of hedged, opposite positions is charged margin on.
    swapRollover3Days: str  #: The weekday a triple swap is charged: ``SUNDAY`` … ``SATURDAY`` or ``NONE``.
    #: The expirations pending orders may have: ``SYMBOL_EXPIRATION_GTC``, ``_DAY``, ``_SPECIFIED``, ``_SPECIFIED_DAY``.
    allowedExpirationModes: list[str]
    #: Order types allowed, such as ``SYMBOL_ORDER_MARKET``, ``_LIMIT``, ``_STOP``, ``_STOP_LIMIT`` or ``_CLOSEBY``.
    allowedOrderTypes: list[str]


class MetatraderTradeResponse(TypedDict, total=False):
    """The result of a successful trade."""

    numericCode: int  #: The return code's number, such as 10009 (protocol §6.5).
    stringCode: str  #: The return code's name, such as ``TRADE_RETCODE_DONE``; it decides success (protocol §6.4).
    message: str  #: The return code in words.
    orderId: str  #: The ticket of the order the trade placed or changed.
    positionId: str  #: The ticket of the position the trade opened, changed or closed.
    clientId: str  #: The trade's client id, when the answer carries it.


class ServerTime(TypedDict, total=False):
    """The trade server's clock (``get_server_time()``)."""

    time: datetime  #: The trade server's current time (UTC).
    brokerTime: str  #: The trade server's current time on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.
    lastQuoteTime: datetime  #: The time of the last quote the terminal received (UTC).
    lastQuoteBrokerTime: str  #: The time of the last quote on the broker's clock: ``YYYY-MM-DD HH:MM:SS.mmm``.


class ValidationDetails(TypedDict, total=False):
    """One refused parameter of a ``ValidationException``."""

    parameter: str  #: The name of the refused parameter.
    value: str | None  #: The refused value, when the server echoes it.
    message: str  #: Why the value was refused.


class ExceptionMessage(TypedDict, total=False):
    """The body of an error answer (REST and socket)."""

    id: int  #: A number identifying the error's kind (it comes with ``error``).
    error: str  #: The error kind's name, such as ``ValidationError`` or ``TradeError`` (protocol §3.3).
    numericCode: int  #: The trade return code's number (trade rejections).
    stringCode: str  #: The trade return code's name (trade rejections).
    message: str  #: What went wrong, in words.
    details: list[ValidationDetails]  #: The refused parameters (``ValidationError`` only).
