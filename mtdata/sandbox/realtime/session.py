"""Stream lifecycle requests: subscribe, synchronize (§7.4 with hash indexes, §7.8), unsubscribe, trade and friends."""

from __future__ import annotations

from typing import Any

from ...hashing import IGNORED_FIELDS, collection_hash, generation_of, hash_index
from ..errors import NotFoundError, ValidationError
from ..timeutil import iso_now
from ..validation import finite
from . import fields
from .calls import EITHER, STREAMING, Call, route
from .streams import Stream

#: Items per ``historyOrders`` / ``deals`` packet during synchronization.
HISTORY_CHUNK = 1000

#: Trade ``actionType`` values of §6.1.
ACTION_TYPES = frozenset({
    "ORDER_TYPE_BUY", "ORDER_TYPE_SELL", "ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_SELL_LIMIT", "ORDER_TYPE_BUY_STOP",
    "ORDER_TYPE_SELL_STOP", "ORDER_TYPE_BUY_STOP_LIMIT", "ORDER_TYPE_SELL_STOP_LIMIT", "POSITION_MODIFY",
    "POSITION_PARTIAL", "POSITION_CLOSE_ID", "POSITION_CLOSE_BY", "POSITIONS_CLOSE_SYMBOL", "ORDER_MODIFY",
    "ORDER_CANCEL",
})  # fmt: skip


@route("subscribe", EITHER)
async def subscribe(call: Call) -> None:
    """Respond; then ``authenticated`` for instance 0 (and 1 on high reliability), and ``status`` from then on.

    An account that is not DEPLOYED answers NotFoundError, as the cloud does for an account
    it does not serve; the client's subscribe loop retries until it is deployed.
    """
    session_id = fields.text(call.request, "sessionId", required=False, max_length=128)
    if call.target.get("state") != "DEPLOYED":
        raise NotFoundError(f"Trading account {call.account_id} is not deployed (state {call.target.get('state')})")
    if call.instance_index != 0 and call.target.get("reliability") != "high":
        return None
    stream = call.stream
    call.after.append(lambda: call.hub.authenticate(call.conn, stream, session_id))
    return None


@route("unsubscribe", EITHER)
async def unsubscribe(call: Call) -> None:
    """Stop status and market data of the stream (its packet numbering continues if it comes back)."""
    call.stream.stop()
    return None


@route("waitSynchronized", EITHER)
async def wait_synchronized(call: Call) -> None:
    """Answered at once: the sandbox's terminal is always in sync with its broker."""
    return None


@route("removeApplication", EITHER)
async def remove_application(call: Call) -> None:
    """Nothing to remove in the sandbox; answered."""
    return None


@route("saveUptime", EITHER)
async def save_uptime(call: Call) -> None:
    """Validated and answered (the sandbox keeps no uptime statistics)."""
    uptime = fields.obj(call.request, "uptime") if "uptime" in call.request else {}
    for key, value in uptime.items():
        if finite(value) is None:
            raise ValidationError.field(f"uptime.{key}", "must be a number", value)
    return None


@route("trade", EITHER, write=True)
async def trade(call: Call) -> dict[str, Any]:
    """Validate the envelope and ``actionType``, then hand the trade to the hub's trade executor."""
    order = fields.obj(call.request, "trade")
    action = fields.text(order, "actionType", max_length=64)
    if action not in ACTION_TYPES:
        raise ValidationError.field("trade.actionType", "is not a known action type", action)
    executor = call.hub.trade_executor
    assert executor is not None, "the server plugs the broker engine in before serving"
    started = iso_now()
    response = await executor(call, order)
    return {"response": response, "timestamps": {"tradeStarted": started, "tradeExecuted": iso_now()}}


def _hashes(request: dict[str, Any], name: str) -> list[str]:
    values = fields.array(request, name, required=False, max_items=100)
    if any(not isinstance(v, str) for v in values):
        raise ValidationError.field(name, "must be an array of hash strings")
    return values


@route("synchronize", STREAMING)
async def synchronize(call: Call) -> None:
    """Respond, then send the synchronization sequence with this request's id."""
    request = call.request
    orders_from = fields.date_ms(request, "startingHistoryOrderTime", required=False) or 0
    deals_from = fields.date_ms(request, "startingDealTime", required=False) or 0
    offered = {kind: _hashes(request, f"{kind}Hashes") for kind in ("specifications", "positions", "orders")}
    fields.text(request, "host", required=False, max_length=64)
    stream = call.stream
    stream.sync_id = call.request_id
    stream.synchronized = False
    call.after.append(lambda: _run_sync(call, stream, call.request_id, orders_from, deals_from, offered))
    return None


async def _run_sync(
    call: Call, stream: Stream, sync_id: str, orders_from: int, deals_from: int, offered: dict[str, list[str]]
) -> None:
    market, terminal, doc = call.market, call.terminal, call.doc
    generation = generation_of(doc.get("type"))
    collections: dict[str, list[dict[str, Any]]] = {
        "specifications": [market.specification(s) for s in market.symbols()],
        "positions": terminal.positions(doc),
        "orders": terminal.orders(doc),
    }
    kinds = {"specifications": "specification", "positions": "position", "orders": "order"}
    indexes = {
        name: hash_index(
            offered[name],
            collection_hash(items, kinds[name], generation, IGNORED_FIELDS[generation][kinds[name]]),  # type: ignore[arg-type]
        )
        for name, items in collections.items()
    }
    started = {"synchronizationId": sync_id}
    for name, index in indexes.items():
        started[f"{name}Updated"] = index is None  # type: ignore[assignment]
        if index is not None:
            started[f"{name}HashIndex"] = index  # type: ignore[assignment]
    packets: list[dict[str, Any]] = [
        {"accountInformation": call.account_information(), "_type": "accountInformation"},
    ]
    if indexes["specifications"] is None:
        specifications = {"_type": "specifications", "specifications": collections["specifications"],
                          "removedSymbols": []}  # fmt: skip
        # with positions and orders both hash-matched, accountInformation completes the orders phase,
        # so the specifications must come before it to be part of the initial state (§7.4)
        matched = indexes["positions"] is not None and indexes["orders"] is not None
        packets.insert(0 if matched else 1, specifications)
    for name in ("positions", "orders"):
        if indexes[name] is None:
            packets.append({"_type": name, name: collections[name]})
    history = terminal.history_orders(doc, orders_from)
    packets += [{"_type": "historyOrders", "historyOrders": history[i : i + HISTORY_CHUNK]}
                for i in range(0, len(history), HISTORY_CHUNK)]  # fmt: skip
    packets.append({"_type": "orderSynchronizationFinished"})
    deals = terminal.deals(doc, deals_from)
    packets += [{"_type": "deals", "deals": deals[i : i + HISTORY_CHUNK]} for i in range(0, len(deals), HISTORY_CHUNK)]
    packets.append({"_type": "dealSynchronizationFinished"})

    hub = call.hub
    await hub.send(call.conn, stream, {**stream.header("synchronizationStarted"), **started}, starts_sync=True)
    for body in packets:
        if stream.sync_id != sync_id or call.conn.sid not in hub.connections:
            return  # superseded by a newer synchronize, or the socket is gone: never send stale packets
        packet = {**stream.header(body.pop("_type")), "synchronizationId": sync_id, **body}
        await hub.send(call.conn, stream, packet)
    if stream.sync_id == sync_id:
        stream.synchronized = True
