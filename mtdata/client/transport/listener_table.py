"""Listener tables of the socket layer: per account, each event's handlers in registration order.

Only methods a listener actually overrides are called (a no-op event costs nothing on the price
path); a listener that raises is logged and the others still run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..listeners import SynchronizationListener

log = logging.getLogger("mtdata.client.transport.packets")

Handler = Callable[..., Awaitable[None]]

#: Every SynchronizationListener event.
EVENTS = tuple(name for name in vars(SynchronizationListener) if name.startswith("on_"))


def _overrides(listener: Any, name: str) -> bool:
    if name in getattr(listener, "__dict__", {}):
        return True
    method = getattr(type(listener), name, None)
    return method is not None and method is not getattr(SynchronizationListener, name)


class ListenerTable:
    """The synchronization listeners of every account and, per event, the handlers to call."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Any]] = {}
        self._handlers: dict[str, dict[str, list[Handler]]] = {}

    def add(self, account_id: str, listener: Any) -> None:
        """Add a listener of an account (called after those added before)."""
        self._listeners.setdefault(account_id, []).append(listener)
        self._rebuild(account_id)

    def remove(self, account_id: str, listener: Any) -> None:
        """Remove a listener (no error if absent)."""
        listeners = self._listeners.get(account_id, [])
        if listener in listeners:
            listeners.remove(listener)
        self._rebuild(account_id)

    def _rebuild(self, account_id: str) -> None:
        listeners = self._listeners.get(account_id, [])
        self._handlers[account_id] = {
            name: [getattr(listener, name) for listener in listeners if _overrides(listener, name)] for name in EVENTS
        }

    def handlers(self, account_id: str) -> dict[str, list[Handler]] | None:
        """Each event's handlers for an account (None when it has no listener)."""
        return self._handlers.get(account_id)

    async def emit(self, account_id: str, name: str, *args: Any) -> None:
        """Call ``name`` on every listener of the account that overrides it; a raising listener is logged."""
        handlers = self._handlers.get(account_id)
        if not handlers:
            return
        for handler in handlers[name]:
            try:
                await handler(*args)
            except asyncio.CancelledError:
                raise
            except Exception:
                owner = getattr(handler, "__self__", handler)
                log.exception("synchronization listener %r failed in %s", owner, name)
