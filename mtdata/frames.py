"""Wire records -> pandas DataFrames and xarray Datasets, following the design doc's conventions.

One table (:data:`FIELDS`) maps every wire name to its frame name and dtype; :data:`SCHEMAS` lists the
columns of each kind of frame, so an empty result still has the right columns and dtypes. Frames are
built column-wise (one array per field), never from a list of row dicts. The ``time`` index is a
tz-aware UTC ``DatetimeIndex`` (millisecond resolution, as on the wire); ``symbol`` is categorical.
``broker_time`` is the broker's wall clock as MetaTrader shows it: naive ``datetime64[ms]`` (:data:`WALL_DTYPE`),
so ``frame["broker_time"].dt.date`` is the broker date (a daily candle's date, whatever the broker's offset).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr

#: The dtype of every time column and of the ``time`` index.
TIME_DTYPE = "datetime64[ms, UTC]"
#: The dtype of broker wall-clock columns (``broker_time``): naive, in the broker's own time zone.
WALL_DTYPE = "datetime64[ms]"

_F, _I, _S, _C, _B, _T, _W, _O = "float64", "int64", "str", "category", "bool", "time", "wall", "object"

#: Wire name -> (frame name, dtype): the only place where camelCase becomes snake_case.
FIELDS: dict[str, tuple[str, str]] = {
    # every kind
    "time": ("time", _T), "brokerTime": ("broker_time", _W), "symbol": ("symbol", _C),
    # candles (MetaTrader 5's own names) and ticks
    "open": ("open", _F), "high": ("high", _F), "low": ("low", _F), "close": ("close", _F),
    "tickVolume": ("tick_volume", _I), "spread": ("spread", _I), "volume": ("volume", _F),
    "timeframe": ("timeframe", _C), "bid": ("bid", _F), "ask": ("ask", _F), "last": ("last", _F),
    "side": ("side", _C),
    # prices
    "profitTickValue": ("profit_tick_value", _F), "lossTickValue": ("loss_tick_value", _F),
    "accountCurrencyExchangeRate": ("account_currency_exchange_rate", _F),
    # positions, orders, deals
    "id": ("id", _S), "platform": ("platform", _C), "type": ("type", _C), "state": ("state", _C),
    "magic": ("magic", _I), "updateTime": ("update_time", _T), "openPrice": ("open_price", _F),
    "currentPrice": ("current_price", _F), "currentTickValue": ("current_tick_value", _F),
    "stopLoss": ("stop_loss", _F), "takeProfit": ("take_profit", _F), "trailingStopLoss": ("trailing_stop_loss", _O),
    "swap": ("swap", _F), "profit": ("profit", _F), "commission": ("commission", _F),
    "realizedProfit": ("realized_profit", _F), "unrealizedProfit": ("unrealized_profit", _F),
    "realizedSwap": ("realized_swap", _F), "unrealizedSwap": ("unrealized_swap", _F),
    "realizedCommission": ("realized_commission", _F), "unrealizedCommission": ("unrealized_commission", _F),
    "comment": ("comment", _S), "brokerComment": ("broker_comment", _S), "clientId": ("client_id", _S),
    "reason": ("reason", _C), "positionId": ("position_id", _S), "orderId": ("order_id", _S),
    "entryType": ("entry_type", _C), "price": ("price", _F), "doneTime": ("done_time", _T),
    "doneBrokerTime": ("done_broker_time", _S), "stopLimitPrice": ("stop_limit_price", _F),
    "currentVolume": ("current_volume", _F), "fillingMode": ("filling_mode", _C),
    "expirationType": ("expiration_type", _C), "expirationTime": ("expiration_time", _T),
    "closeByPositionId": ("close_by_position_id", _S),
    # book levels (see book())
    "level": ("level", _I),
    # account information
    "broker": ("broker", _S), "currency": ("currency", _S), "server": ("server", _S), "balance": ("balance", _F),
    "equity": ("equity", _F), "margin": ("margin", _F), "freeMargin": ("free_margin", _F),
    "leverage": ("leverage", _F), "marginLevel": ("margin_level", _F), "tradeAllowed": ("trade_allowed", _B),
    "investorMode": ("investor_mode", _B), "marginMode": ("margin_mode", _S), "name": ("name", _S),
    "login": ("login", _I), "credit": ("credit", _F),
    # specifications
    "tickSize": ("tick_size", _F), "minVolume": ("min_volume", _F), "maxVolume": ("max_volume", _F),
    "volumeStep": ("volume_step", _F), "contractSize": ("contract_size", _F), "digits": ("digits", _I),
    "point": ("point", _F), "pipSize": ("pip_size", _F), "stopsLevel": ("stops_level", _I),
    "freezeLevel": ("freeze_level", _I), "tradeMode": ("trade_mode", _S), "executionMode": ("execution_mode", _S),
    "initialMargin": ("initial_margin", _F), "maintenanceMargin": ("maintenance_margin", _F),
    "hedgedMargin": ("hedged_margin", _F), "marginCurrency": ("margin_currency", _S),
    "baseCurrency": ("base_currency", _S), "profitCurrency": ("profit_currency", _S),
    "swapLong": ("swap_long", _F), "swapShort": ("swap_short", _F), "swapMode": ("swap_mode", _S),
    "swapRollover3Days": ("swap_rollover_3_days", _S), "description": ("description", _S), "path": ("path", _S),
    "priceCalculationMode": ("price_calculation_mode", _S),
}  # fmt: skip

#: The columns (after the ``time`` index) of each kind of frame, in order.
SCHEMAS: dict[str, tuple[str, ...]] = {
    "candles": ("symbol", "open", "high", "low", "close", "tick_volume", "spread", "real_volume", "broker_time"),
    "ticks": ("symbol", "bid", "ask", "last", "volume", "side", "broker_time"),
    "book": ("symbol", "side", "level", "price", "volume"),
    "prices": ("symbol", "bid", "ask", "profit_tick_value", "loss_tick_value", "account_currency_exchange_rate",
               "broker_time"),
    "deals": ("symbol", "id", "type", "entry_type", "volume", "price", "profit", "commission", "swap", "magic",
              "position_id", "order_id", "reason", "comment", "client_id", "broker_time"),
    "history_orders": ("symbol", "id", "type", "state", "volume", "current_volume", "open_price", "stop_loss",
                       "take_profit", "done_time", "magic", "position_id", "reason", "comment", "client_id",
                       "broker_time"),
    "positions": ("symbol", "id", "type", "volume", "open_price", "current_price", "stop_loss", "take_profit",
                  "profit", "swap", "commission", "unrealized_profit", "realized_profit", "magic", "reason",
                  "comment", "client_id", "update_time", "broker_time"),
    "orders": ("symbol", "id", "type", "state", "volume", "current_volume", "open_price", "current_price",
               "stop_loss", "take_profit", "stop_limit_price", "magic", "position_id", "expiration_type",
               "expiration_time", "comment", "client_id", "broker_time"),
}  # fmt: skip

#: Candle columns whose MetaTrader 5 name is not the wire's: a candle's ``volume`` is MT5's ``real_volume``
#: (``volume`` is mtdata's own name elsewhere: a tick's, a deal's, an order's lots).
CANDLE_NAMES = {"volume": "real_volume"}
_BY_NAME: dict[str, str] = {name: dtype for name, dtype in FIELDS.values()} | {"real_volume": _F}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
#: MT5's book side names for the wire's ``BOOK_TYPE_*``.
BOOK_SIDES = {"BOOK_TYPE_SELL": "sell", "BOOK_TYPE_BUY": "buy", "BOOK_TYPE_SELL_MARKET": "sell_market",
              "BOOK_TYPE_BUY_MARKET": "buy_market"}  # fmt: skip


def snake(name: str) -> str:
    """The frame name of a wire field: from :data:`FIELDS`, else camelCase converted mechanically."""
    known = FIELDS.get(name)
    return known[0] if known else _CAMEL.sub(r"_\1", name).lower()


def candle_name(name: str) -> str:
    """The frame name of a wire field of a candle (:func:`snake`, then :data:`CANDLE_NAMES`)."""
    return CANDLE_NAMES.get(name) or snake(name)


def known(name: str) -> bool:
    """Whether ``name`` is a frame column of :data:`FIELDS` (typed by :func:`column`)."""
    return name in _BY_NAME


def _dtype(name: str) -> str:
    return _BY_NAME.get(name, _O)


def _wire_times(values: Sequence[Any]) -> np.ndarray | None:
    """Wire times (``2026-11-18T09:00:00.000Z``) parsed by numpy (several times faster than pandas), else None."""
    try:
        return np.array([value[:-1] for value in values], dtype="datetime64[ms]")
    except (TypeError, ValueError):
        return None


def times(values: Sequence[Any]) -> pd.DatetimeIndex:
    """Aware datetimes or ISO strings (None allowed) as a UTC ``DatetimeIndex`` of :data:`TIME_DTYPE`."""
    first = next((v for v in values if v is not None), None)
    if isinstance(first, str):
        wire = _wire_times(values) if len(first) == 24 and first.endswith("Z") else None
        parsed = wire if wire is not None else pd.to_datetime(list(values), utc=True, format="ISO8601")
        index = pd.DatetimeIndex(parsed)
    elif isinstance(first, datetime) or first is None:
        index = pd.DatetimeIndex(list(values), dtype=None if values else TIME_DTYPE)
    else:
        index = pd.DatetimeIndex(pd.to_datetime(list(values), utc=True))
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return index.as_unit("ms").rename("time")


def column(name: str, values: Sequence[Any]) -> Any:
    """One column's values converted to the dtype :data:`FIELDS` gives ``name`` (missing values as NA)."""
    dtype = _dtype(name)
    if dtype == _F:
        return np.array(values, dtype="float64")  # None becomes NaN
    if dtype == _I:
        try:
            return np.array(values, dtype="int64")
        except TypeError:  # missing values
            return pd.array(values, dtype="Int64")
    if dtype == _T:
        return times(values)
    if dtype == _W:  # "2026-11-18 11:00:00.000" (the wire) or ISO; None as NaT
        return np.array([v if v is None else str(v).rstrip("Z") for v in values], dtype=WALL_DTYPE)
    if dtype == _C:
        return pd.Categorical(values)
    if dtype == _B:
        return pd.array(values, dtype="boolean")
    if dtype == _S:
        return pd.array([v if v is None else str(v) for v in values], dtype="object")
    return list(values)


def empty_column(name: str) -> Any:
    """A zero-length column of ``name``'s dtype."""
    return column(name, [])


def build(columns: Mapping[str, Any], index: Any, kind: str | None = None) -> pd.DataFrame:
    """A frame from converted columns: ``symbol`` and the ``kind``'s schema first (missing ones NA), extras after."""
    length = len(index)
    ordered: dict[str, Any] = {}
    for name in SCHEMAS.get(kind or "", ("symbol",) if "symbol" in columns else ()):
        if name in columns:
            ordered[name] = columns[name]
        else:
            ordered[name] = column(name, [None] * length) if length else empty_column(name)
    ordered.update((k, v) for k, v in columns.items() if k not in ordered)
    if "symbol" in ordered and not isinstance(ordered["symbol"], pd.Categorical):
        ordered["symbol"] = pd.Categorical(ordered["symbol"])
    return pd.DataFrame(ordered, index=index, copy=False)


def df(records: Iterable[Mapping[str, Any]] | Mapping[str, Any], kind: str | None = None) -> pd.DataFrame:
    """Any wire records (candles, ticks, deals, positions, ...) as a DataFrame with snake_case columns.

    Records with a ``time`` field are indexed by it (UTC); otherwise the frame has a plain range index.
    ``kind`` (a key of :data:`~mtdata.frames.SCHEMAS`) fixes the columns, so an empty list still gives a typed frame.
    """
    rows = [records] if isinstance(records, Mapping) else list(records)
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    name = candle_name if kind == "candles" else snake
    columns = {name(key): column(name(key), [row.get(key) for row in rows]) for key in keys}
    if "time" in columns or kind in SCHEMAS:
        index = columns.pop("time", None)
        index = index if index is not None else times([])
    else:
        index = pd.RangeIndex(len(rows))
    return build(columns, index, kind)


_CANDLE_FIELDS = ("open", "high", "low", "close", "tickVolume", "spread", "volume", "brokerTime")


#: A page body as CSV rows (see :func:`candle_chunk`): records end at ``}``, every comma becomes a ``:``.
_ROWS = bytes.maketrans(b",}", b":\n")


def first_record(body: bytes) -> dict[str, Any] | None:
    """The first record of a page body (a JSON array of flat objects) read alone; None when it is not one."""
    try:
        record = orjson.loads(body[1 : body.index(b"}") + 1])
    except ValueError:  # no record, or not a flat one (orjson.JSONDecodeError is a ValueError)
        return None
    return record if isinstance(record, dict) else None


@functools.lru_cache(maxsize=16)
def _candle_csv(keys: tuple[str, ...]) -> tuple[Any, Any, Any, Any, list[tuple[str, str, str]], Any]:
    """pyarrow's CSV reader and its options for candle pages whose records have ``keys`` in this order (imported
    lazily), the (wire name, key column, value column) of each field read, and pyarrow's error type."""
    import pyarrow as pa
    import pyarrow.csv as pc

    names = [f"c{i}" for i in range(1 + 2 * len(keys))]
    types = {"time": pa.timestamp("ms", "UTC"), "brokerTime": pa.timestamp("ms")} | {
        name: pa.from_numpy_dtype(np.dtype(_dtype(snake(name)))) for name in _CANDLE_FIELDS if name != "brokerTime"
    }
    used = [(key, names[2 * i + 1], names[2 * i + 2]) for i, key in enumerate(keys) if key in types]
    columns = {key_column: pa.dictionary(pa.int32(), pa.string()) for _, key_column, _ in used}
    columns |= {value_column: types[key] for key, _, value_column in used}
    read = pc.ReadOptions(column_names=names, use_threads=False, block_size=1 << 24)
    parse = pc.ParseOptions(delimiter=":", quote_char='"', double_quote=False, escape_char="\\")
    convert = pc.ConvertOptions(column_types=columns, include_columns=list(columns), strings_can_be_null=False)
    return pc, read, parse, convert, used, pa.ArrowInvalid


def candle_chunk(body: bytes) -> dict[str, np.ndarray]:
    """One page body of wire candles (a JSON array) as numpy columns; ``time`` is ``datetime64[ms]`` (UTC).

    The records of a page are alike, so the page is read as CSV rows by pyarrow (C++, no Python object per
    candle, the GIL released; a third cheaper than its JSON reader): one translation turns every record into
    a row ``:"key":value:"key":value…`` with the keys in the first record's order, and every row must have
    exactly those keys, each value typed exactly. A page that is not like that (another key order in some
    record, a missing value, a nested value, a time it does not read) goes through orjson and :func:`column`
    instead, giving what they always gave.
    """
    first = first_record(body)
    if first is None or not {"time", *_CANDLE_FIELDS} <= first.keys():
        return record_chunk(orjson.loads(body))
    pc, read, parse, convert, used, invalid = _candle_csv(tuple(first))
    try:
        rows = (b"," + body[1:-1]).translate(_ROWS, b"{")
        table = pc.read_csv(io.BytesIO(rows), read_options=read, parse_options=parse, convert_options=convert)
    except invalid:
        return record_chunk(orjson.loads(body))
    chunk = {}
    for key, key_column, value_column in used:
        keys, values = table.column(key_column), table.column(value_column)
        if values.null_count or any(part.dictionary.to_pylist() != [key] for part in keys.chunks):
            return record_chunk(orjson.loads(body))
        chunk[candle_name(key)] = values.to_numpy()
    chunk["time"] = chunk["time"].astype("datetime64[ms]", copy=False)
    chunk["broker_time"] = chunk["broker_time"].astype(WALL_DTYPE, copy=False)
    return {name: chunk[name] for name in (*map(candle_name, _CANDLE_FIELDS), "time")}


def record_chunk(rows: Sequence[Mapping[str, Any]] | None) -> dict[str, np.ndarray]:
    """Wire candle records as the columns of :func:`candle_chunk`."""
    rows = rows or []
    chunk = {
        candle_name(name): column(candle_name(name), list(map(itemgetter(name), rows))) for name in _CANDLE_FIELDS[:-1]
    }
    chunk["broker_time"] = column("broker_time", [row.get("brokerTime") for row in rows])  # NaT where not sent
    chunk["time"] = times(list(map(itemgetter("time"), rows))).asi8.view("datetime64[ms]")
    return chunk


def _join(parts: list[Any]) -> Any:
    if all(isinstance(part, np.ndarray) for part in parts):
        return np.concatenate(parts)
    return pd.concat([pd.Series(part) for part in parts], ignore_index=True).array


def candles(chunks: Sequence[Mapping[str, Any]], symbol: str) -> pd.DataFrame:
    """Candle chunks (:func:`candle_chunk`, ascending, already without duplicates) of one symbol as one frame."""
    if not chunks:
        return df([], "candles")
    columns = {name: _join([chunk[name] for chunk in chunks]) for name in chunks[0]}
    index = pd.DatetimeIndex(columns.pop("time"), name="time").tz_localize("UTC")
    columns["symbol"] = pd.Categorical.from_codes(np.zeros(len(index), dtype="int8"), categories=[symbol])
    return build(columns, index, "candles")


def ticks(rows: Sequence[Mapping[str, Any]], symbol: str) -> pd.DataFrame:
    """Ticks (ascending) of one symbol as a ticks frame (``bid``/``ask``/``last`` NaN where absent)."""
    columns = {name: column(name, [row.get(name) for row in rows]) for name in ("bid", "ask", "last", "volume")}
    columns["broker_time"] = column("broker_time", [row.get("brokerTime") for row in rows])
    columns["side"] = pd.Categorical([row.get("side") for row in rows], categories=["buy", "sell"])
    columns["symbol"] = pd.Categorical.from_codes(np.zeros(len(rows), dtype="int8"), categories=[symbol])
    return build(columns, times([row["time"] for row in rows]), "ticks")


def book(record: Mapping[str, Any]) -> pd.DataFrame:
    """One order book as a long frame: a row per level with ``side``, ``level`` (0 = best), ``price``, ``volume``."""
    levels = record.get("book") or []
    sides = [BOOK_SIDES.get(level.get("type"), level.get("type")) for level in levels]
    counters: dict[str, int] = {}
    numbers = []
    for side in sides:
        numbers.append(counters.get(side, 0))
        counters[side] = numbers[-1] + 1
    n = len(levels)
    columns = {
        "symbol": pd.Categorical([record.get("symbol")] * n),
        "side": pd.Categorical(sides, categories=list(BOOK_SIDES.values())),
        "level": np.asarray(numbers, dtype="int64"),
        "price": column("price", [level.get("price") for level in levels]),
        "volume": column("volume", [level.get("volume") for level in levels]),
    }
    return build(columns, times([record.get("time")] * n), "book")


def concat(frames: Sequence[pd.DataFrame], kind: str) -> pd.DataFrame:
    """Frames of the same kind stacked, ``symbol`` kept categorical over the union of symbols, time-sorted."""
    frames = [frame for frame in frames if len(frame)] or list(frames[:1])
    if not frames:
        return df([], kind)
    if len(frames) == 1:
        return frames[0]
    symbols = list(dict.fromkeys(s for frame in frames for s in frame["symbol"].cat.categories))
    result = pd.concat([f.assign(symbol=f["symbol"].cat.set_categories(symbols)) for f in frames])
    return result.sort_index(kind="stable")


def to_xarray(frame: pd.DataFrame) -> xr.Dataset:
    """A frame with a ``time`` index and a ``symbol`` column as a Dataset with dims ``(time, symbol)``.

    ``time`` is naive UTC with ``attrs["timezone"] = "UTC"`` (xarray has no tz-aware index); a symbol
    without a row at some time has NaN there.
    """
    import xarray as xr

    data = frame.copy(deep=False)
    data.index = data.index.tz_convert("UTC").tz_localize(None)
    data["symbol"] = data["symbol"].astype(str)
    numeric = [name for name in data.columns if name != "symbol" and pd.api.types.is_numeric_dtype(data[name])]
    table = data.reset_index().set_index(["time", "symbol"])[numeric]
    dataset = xr.Dataset.from_dataframe(table[~table.index.duplicated(keep="last")])
    dataset["time"].attrs["timezone"] = "UTC"
    dataset.attrs.update({k: v for k, v in frame.attrs.items() if isinstance(v, str | int | float)})
    return dataset
