"""Hashes of specifications, positions and orders (protocol §7.8), shared by the sandbox and the client.

Pure functions, identical on both sides: the server compares the client's offered collection hashes
with its own to skip unchanged collections; the client's terminal hash manager computes them from what it
holds (datetimes already parsed, protocol §9.1). Pinned to the protocol's worked example in the tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

Generation = Literal["g1", "g2"]
Kind = Literal["specification", "position", "order"]

#: The ``/hashing-ignored-field-lists`` the sandbox serves and hashes with, modelled on the cloud's: the fields
#: that move with every price (so a resynchronization can reuse positions and orders while the market moves)
#: and free-text fields the broker may rewrite.
_PRICE_DRIVEN_POSITION = [
    "currentPrice",
    "currentTickValue",
    "profit",
    "unrealizedProfit",
    "accountCurrencyExchangeRate",
]
_TEXT = ["comment", "brokerComment", "originalComment", "updateSequenceNumber"]
IGNORED_FIELDS: dict[str, dict[str, list[str]]] = {
    generation: {
        "specification": ["pipSize"],
        "position": _PRICE_DRIVEN_POSITION + _TEXT,
        "order": ["currentPrice", "accountCurrencyExchangeRate", *_TEXT],
    }
    for generation in ("g1", "g2")
}

#: Keys whose values are written as plain integers, per item kind.
_INTEGER_KEYS: dict[str, frozenset[str]] = {
    "specification": frozenset({"digits"}),
    "position": frozenset({"magic"}),
    "order": frozenset({"magic"}),
}


def generation_of(account_type: str | None) -> Generation:
    """``g1`` for ``cloud-g1`` accounts, ``g2`` for everything else."""
    return "g1" if account_type == "cloud-g1" else "g2"


def _is_time_key(key: str) -> bool:
    return (
        ("time" in key or "Time" in key)
        and "brokerTime" not in key
        and "BrokerTime" not in key
        and ("timeframe" not in key)
    )


def iso_ms(value: datetime) -> str:
    """A datetime as the wire writes it: UTC, milliseconds, ``Z`` (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _iso(value: str) -> str:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    return iso_ms(parsed)


def _number(value: float, generation: Generation) -> str:
    if generation == "g2" and float(value).is_integer():
        return str(int(value))
    text = format(Decimal(f"{float(value):.8g}"), "f")
    if generation == "g2":
        return text
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(8, '0')}"


def _serialize(value: Any, key: str, generation: Generation, integer_keys: frozenset[str]) -> str:
    if key in integer_keys and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _number(value, generation)
    if isinstance(value, str):
        text = _iso(value) if _is_time_key(key) else value
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, datetime):
        return f'"{iso_ms(value)}"'
    if isinstance(value, Mapping):
        parts = (f'"{k}":{_serialize(v, k, generation, integer_keys)}' for k, v in value.items())
        return "{" + ",".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_serialize(v, key, generation, integer_keys) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def serialize_item(
    item: Mapping[str, Any], kind: Kind, generation: Generation = "g2", ignored: Collection[str] = ()
) -> str:
    """The compact JSON the hash is taken of, keeping the item's own key order, without the ``ignored`` fields."""
    kept = {k: v for k, v in item.items() if k not in ignored} if ignored else item
    return _serialize(kept, "", generation, _INTEGER_KEYS[kind])


def item_hash(item: Mapping[str, Any], kind: Kind, generation: Generation = "g2", ignored: Collection[str] = ()) -> str:
    """Lowercase hex MD5 of :func:`serialize_item`."""
    return hashlib.md5(serialize_item(item, kind, generation, ignored).encode()).hexdigest()


def xor_hashes(hashes: Iterable[str]) -> str | None:
    """Byte-wise XOR of 32-hex item hashes: the collection hash; None for none."""
    acc: int | None = None
    for text in hashes:
        value = int(text, 16)
        acc = value if acc is None else acc ^ value
    return None if acc is None else f"{acc:032x}"


def collection_hash(
    items: Iterable[Mapping[str, Any]], kind: Kind, generation: Generation = "g2", ignored: Collection[str] = ()
) -> str | None:
    """Byte-wise XOR of the item hashes; None for an empty collection (never offered by clients)."""
    return xor_hashes(item_hash(item, kind, generation, ignored) for item in items)


def hash_index(offered: Sequence[Any], current: str | None) -> int | None:
    """The index of ``current`` in the client's offered hashes, or None if it must be sent in full."""
    if current is None:
        return None
    for index, value in enumerate(offered):
        if value == current:
            return index
    return None
