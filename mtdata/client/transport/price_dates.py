"""Dates of ``prices`` packets converted fast (protocol §9.1): the price path's largest client-side cost otherwise.

Same result as :func:`mtdata.client.dates.convert_dates`, with the keys to convert worked out once per item shape
and timestamps memoized (one server step stamps many prices with the same instants).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..dates import convert_dates, is_time_key, parse_date

log = logging.getLogger("mtdata.client.transport.packets")

_DATES: dict[str, datetime] = {}


def _date(value: str) -> datetime:
    """:func:`parse_date` memoized: a stream repeats its timestamps (one server step stamps many prices)."""
    found = _DATES.get(value)
    if found is None:
        found = parse_date(value)
        if len(_DATES) >= 4096:
            _DATES.clear()
        _DATES[value] = found
    return found


#: Per item shape (its keys in order): the time-like keys and the keys holding nested objects or lists.
_PLANS: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _plan(item: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shape = tuple(item)
    plan = _PLANS.get(shape)
    if plan is None:
        nested = tuple(key for key in shape if isinstance(item[key], (dict, list)))
        dates = tuple(key for key in shape if key not in nested and is_time_key(key))
        if len(_PLANS) >= 256:
            _PLANS.clear()
        plan = _PLANS[shape] = (dates, nested)
    return plan


def convert_market_data(packet: dict[str, Any]) -> None:
    """:func:`convert_dates` for a ``prices`` packet, planned per item shape (the price path's largest cost).

    Its top level holds no dates; prices, candles, ticks and books of one shape (same keys, in order)
    hold the same kinds of values, so the keys to convert are worked out once per shape.
    """
    for name in ("prices", "candles", "ticks", "books"):
        items = packet.get(name)
        if not items:
            continue
        for item in items:
            dates, nested = _plan(item)
            for key in dates:
                value = item[key]
                if value.__class__ is str:
                    try:
                        item[key] = _date(value)
                    except ValueError:
                        log.warning("unparsable date %s=%r left as it is", key, value)
            for key in nested:
                value = item[key]
                if key == "timestamps" and value.__class__ is dict:
                    for stamp, when in value.items():
                        if when.__class__ is str:
                            try:
                                value[stamp] = _date(when)
                            except ValueError:
                                log.warning("unparsable timestamp %s=%r left as it is", stamp, when)
                else:
                    convert_dates(value)
