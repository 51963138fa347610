"""The request registry: each request type's handler, the APIs that grant it, and the context a handler gets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..auth import RPC_API, STREAMING_API

if TYPE_CHECKING:
    from ..market import Market
    from ..terminal import Terminal
    from . import Hub
    from .streams import Connection, Stream

#: Which token rules may grant a request: RPC getters, streaming requests, or either.
RPC = (RPC_API,)
STREAMING = (STREAMING_API,)
EITHER = (RPC_API, STREAMING_API)


@dataclass
class Call:
    """One request being handled: the connection, the validated envelope and the account it is about."""

    hub: Hub
    conn: Connection
    request: dict[str, Any]
    request_id: str
    account_id: str
    doc: dict[str, Any]
    replica: dict[str, Any] | None
    instance_index: int
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def target(self) -> dict[str, Any]:
        """The replica the request is about, or the primary account when it names the primary."""
        return self.replica or self.doc

    @property
    def market(self) -> Market:
        return self.hub.server.market

    @property
    def terminal(self) -> Terminal:
        return self.hub.terminal

    @property
    def currency(self) -> str:
        """The account's deposit currency."""
        return self.doc.get("_trading", {}).get("currency", "USD")

    def account_information(self) -> dict[str, Any]:
        """The account information model, with ``connected`` as the broker connection stands."""
        info = self.terminal.account_information(self.doc)
        info["connected"] = self.hub.broker_connected(self.account_id)
        return info

    @property
    def stream(self) -> Stream:
        """This socket's stream of the account on the request's instance."""
        return self.conn.stream(self.account_id, self.instance_index)


Handler = Callable[[Call], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Route:
    """A request type's handler and the access it needs."""

    handler: Handler
    apis: tuple[str, ...]
    write: bool = False

    def authorize(self, call: Call) -> None:
        """Raise ForbiddenError unless one of the route's APIs grants the account to the principal."""
        principal = call.conn.principal
        ids = {call.account_id, call.doc["_id"]}
        for api in self.apis:
            if any(principal.may_access_account(api, account_id, self.write) for account_id in ids):
                return
        principal.require_account(self.apis[0], call.account_id, self.write)


ROUTES: dict[str, Route] = {}


def route(request_type: str, apis: tuple[str, ...], write: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the handler of ``request_type``."""

    def register(handler: Handler) -> Handler:
        ROUTES[request_type] = Route(handler, apis, write)
        return handler

    return register
