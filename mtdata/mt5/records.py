"""Positions, orders, deals and history orders as MT5's named tuples: ``positions_get``, ``orders_get``,
``history_orders_get``, ``history_deals_get`` and their ``*_total``.

They read the session's streaming connection (its terminal state and history storage), the same records the
rest of mtdata shows, so a trade made through :mod:`mtdata.mt5` is in ``Session.positions()`` and the reverse.
Times are MetaTrader's (broker wall clock as epoch seconds, :mod:`mtdata.mt5.times`): taken from the record's
own ``brokerTime`` where the wire has one, else converted by the broker clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from . import constants as C
from .connection import STATE, invalid, mt5_function, session
from .times import seconds
from .types import TradeDeal, TradeOrder, TradePosition

_EPOCH, _FOREVER = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=64)
def _group(pattern: str) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """MT5's group filter: comma-separated masks with ``*``; a leading ``!`` excludes (applied after includes)."""
    include, exclude = [], []
    for part in (item.strip() for item in pattern.split(",")):
        if not part:
            continue
        target = exclude if part.startswith("!") else include
        mask = part.lstrip("!")
        target.append(re.compile("^" + ".*".join(re.escape(piece) for piece in mask.split("*")) + "$", re.I))
    return include, exclude


def in_group(symbol: str, group: str) -> bool:
    """True when ``symbol`` passes MT5's ``group`` filter (e.g. ``"*USD*"``, ``"*,!*EUR*"``)."""
    include, exclude = _group(group)
    return any(mask.match(symbol) for mask in include) and not any(mask.match(symbol) for mask in exclude)


def check_group(group: Any) -> str | None:
    """``group`` as given, or MT5's invalid-params error when it is not a string."""
    if group is not None and not isinstance(group, str):
        raise invalid(f"group must be a string, not {type(group).__name__}")
    return group


def ticket_of(value: Any) -> int:
    """A wire id as MT5's integer ticket (0 for none)."""
    return int(value) if value not in (None, "") else 0


def mt5_time(record: dict[str, Any], utc_key: str = "time", wall_key: str | None = "brokerTime") -> tuple[int, int]:
    """A record's time as MT5's ``(seconds, milliseconds)`` on the broker clock; ``(0, 0)`` when absent."""
    wall = record.get(wall_key) if wall_key else None
    if wall:
        stamp = pd.Timestamp(wall)
    elif record.get(utc_key) is not None:
        stamp = pd.Timestamp(STATE.clock.wall(record[utc_key]))
    else:
        return 0, 0
    msc = stamp.value // 1_000_000
    return msc // 1000, msc


def position(record: dict[str, Any]) -> TradePosition:
    """A wire position as ``TradePosition``."""
    opened, opened_msc = mt5_time(record)
    updated, updated_msc = mt5_time(record, "updateTime", None)
    return TradePosition(
        ticket=ticket_of(record["id"]), time=opened, time_msc=opened_msc, time_update=updated or opened,
        time_update_msc=updated_msc or opened_msc, type=C.code(record.get("type")), magic=int(record.get("magic") or 0),
        identifier=ticket_of(record["id"]), reason=C.code(record.get("reason")), volume=float(record["volume"]),
        price_open=float(record.get("openPrice") or 0), sl=float(record.get("stopLoss") or 0),
        tp=float(record.get("takeProfit") or 0), price_current=float(record.get("currentPrice") or 0),
        swap=float(record.get("swap") or 0), profit=float(record.get("profit") or 0), symbol=record.get("symbol", ""),
        comment=record.get("comment") or "", external_id=record.get("clientId") or "",
    )  # fmt: skip


def order(record: dict[str, Any]) -> TradeOrder:
    """A wire order (pending or history) as ``TradeOrder``."""
    setup, setup_msc = mt5_time(record)
    done, done_msc = mt5_time(record, "doneTime", "doneBrokerTime")
    expires = mt5_time(record, "expirationTime", None)[0]
    return TradeOrder(
        ticket=ticket_of(record["id"]), time_setup=setup, time_setup_msc=setup_msc, time_done=done,
        time_done_msc=done_msc, time_expiration=expires, type=C.code(record.get("type")),
        type_time=C.code(record.get("expirationType")), type_filling=C.code(record.get("fillingMode")),
        state=C.code(record.get("state")), magic=int(record.get("magic") or 0),
        position_id=ticket_of(record.get("positionId")), position_by_id=ticket_of(record.get("closeByPositionId")),
        reason=C.code(record.get("reason")), volume_initial=float(record.get("volume") or 0),
        volume_current=float(record.get("currentVolume") or 0), price_open=float(record.get("openPrice") or 0),
        sl=float(record.get("stopLoss") or 0), tp=float(record.get("takeProfit") or 0),
        price_current=float(record.get("currentPrice") or 0), price_stoplimit=float(record.get("stopLimitPrice") or 0),
        symbol=record.get("symbol", ""), comment=record.get("comment") or "", external_id=record.get("clientId") or "",
    )  # fmt: skip


def deal(record: dict[str, Any]) -> TradeDeal:
    """A wire deal as ``TradeDeal``."""
    when, msc = mt5_time(record)
    return TradeDeal(
        ticket=ticket_of(record["id"]), order=ticket_of(record.get("orderId")), time=when, time_msc=msc,
        type=C.code(record.get("type")), entry=C.code(record.get("entryType")), magic=int(record.get("magic") or 0),
        position_id=ticket_of(record.get("positionId")), reason=C.code(record.get("reason")),
        volume=float(record.get("volume") or 0), price=float(record.get("price") or 0),
        commission=float(record.get("commission") or 0), swap=float(record.get("swap") or 0),
        profit=float(record.get("profit") or 0), fee=0.0, symbol=record.get("symbol") or "",
        comment=record.get("comment") or "", external_id=record.get("clientId") or "",
    )  # fmt: skip


def _select(records: list[dict[str, Any]], symbol: Any, group: Any, ticket: Any, key: str = "id") -> list[Any]:
    """MT5's filters: one of ``symbol``, ``group`` (a mask) or ``ticket``."""
    if sum(value is not None for value in (symbol, group, ticket)) > 1:
        raise invalid("pass one of symbol, group and ticket")
    if symbol is not None and not isinstance(symbol, str):
        raise invalid(f"symbol must be a string, not {type(symbol).__name__}")
    if ticket is not None and (isinstance(ticket, bool) or not isinstance(ticket, int)):
        raise invalid(f"ticket must be an int, not {type(ticket).__name__}")
    pattern = check_group(group)
    return [
        r for r in records
        if (symbol is None or r.get("symbol") == symbol) and (pattern is None or in_group(r.get("symbol", ""), pattern))
        and (ticket is None or ticket_of(r.get(key)) == ticket)
    ]  # fmt: skip


def _state() -> Any:
    return session().connection().terminal_state


@mt5_function()
def positions_get(*, symbol: str | None = None, group: str | None = None, ticket: int | None = None) -> tuple:
    """Open positions (all, or by ``symbol``, ``group`` mask or ``ticket``) as ``TradePosition`` tuples."""
    return tuple(position(r) for r in _select(_state().positions, symbol, group, ticket))


@mt5_function(0)
def positions_total() -> int:
    """The number of open positions."""
    return len(_state().positions)


@mt5_function()
def orders_get(*, symbol: str | None = None, group: str | None = None, ticket: int | None = None) -> tuple:
    """Pending orders (all, or by ``symbol``, ``group`` mask or ``ticket``) as ``TradeOrder`` tuples."""
    return tuple(order(r) for r in _select(_state().orders, symbol, group, ticket))


@mt5_function(0)
def orders_total() -> int:
    """The number of pending orders."""
    return len(_state().orders)


def _range(date_from: Any, date_to: Any) -> tuple[datetime, datetime]:
    """A broker-clock range [date_from, date_to] (inclusive, as MT5) as UTC datetimes."""
    low, high = seconds("date_from", date_from), seconds("date_to", date_to)
    if low > high:
        raise invalid("date_from must not be after date_to")
    last = STATE.clock.to_utc(high) + pd.Timedelta(milliseconds=999)
    return STATE.clock.to_utc(low).to_pydatetime(), last.to_pydatetime()


def _history(kind: str, date_from: Any, date_to: Any, group: Any, ticket: Any, position_id: Any) -> list[Any]:
    """History records by MT5's forms: ``(date_from, date_to[, group])``, ``ticket=`` or ``position=``."""
    storage = session().connection().history_storage
    by_time = storage.get_deals_by_time_range if kind == "deals" else storage.get_history_orders_by_time_range
    if ticket is not None or position_id is not None:
        if date_from is not None or date_to is not None or group is not None:
            raise invalid("ticket / position take no dates or group")
        if ticket is not None and position_id is not None:
            raise invalid("pass ticket or position, not both")
        key = ("id" if kind == "orders" else "orderId") if ticket is not None else "positionId"
        wanted = ticket if ticket is not None else position_id
        if isinstance(wanted, bool) or not isinstance(wanted, int):
            raise invalid(f"{'ticket' if ticket is not None else 'position'} must be an int")
        records = by_time(_EPOCH, _FOREVER)
        return [r for r in records if ticket_of(r.get(key)) == wanted]
    if date_from is None or date_to is None:
        raise invalid("history needs date_from and date_to, or ticket= / position=")
    records = by_time(*_range(date_from, date_to))
    pattern = check_group(group)
    return [r for r in records if pattern is None or in_group(r.get("symbol") or "", pattern)]


@mt5_function()
def history_orders_get(
    date_from: Any = None, date_to: Any = None, *, group: str | None = None, ticket: int | None = None,
    position: int | None = None,
) -> tuple:  # fmt: skip
    """History orders set up in [date_from, date_to] (broker clock), optionally by ``group``; or by ``ticket`` /
    ``position``."""
    return tuple(order(r) for r in _history("orders", date_from, date_to, group, ticket, position))


@mt5_function()
def history_orders_total(date_from: Any, date_to: Any) -> int:
    """The number of history orders in [date_from, date_to] (None on error, as MT5)."""
    return len(_history("orders", date_from, date_to, None, None, None))


@mt5_function()
def history_deals_get(
    date_from: Any = None, date_to: Any = None, *, group: str | None = None, ticket: int | None = None,
    position: int | None = None,
) -> tuple:  # fmt: skip
    """Deals done in [date_from, date_to] (broker clock), optionally by ``group``; or by ``ticket`` (the order's
    ticket, as MT5) / ``position``."""
    return tuple(deal(r) for r in _history("deals", date_from, date_to, group, ticket, position))


@mt5_function()
def history_deals_total(date_from: Any, date_to: Any) -> int:
    """The number of deals in [date_from, date_to] (None on error, as MT5)."""
    return len(_history("deals", date_from, date_to, None, None, None))


__all__ = [
    "check_group", "deal", "history_deals_get", "history_deals_total", "history_orders_get", "history_orders_total",
    "in_group", "order", "orders_get", "orders_total", "position", "positions_get", "positions_total", "ticket_of",
]  # fmt: skip
