"""Account-replica endpoints (protocol §2.1): replicas of a primary account in other regions.

A replica has its own id (the socket layer maps it back with ``Accounts.primary_of``),
its own state machine, and appears in the primary's ``accountReplicas``. Access is
checked against the primary account.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import accounts as model
from ..errors import ValidationError
from ..validation import read_json
from . import transactions
from .account_fields import account_fields
from .accounts import BASE, owned_account
from .responses import json_response, no_content, principal, sandbox

REPLICAS = BASE + "/{id}/replicas"


def _replica_dto(primary: dict[str, Any], replica: dict[str, Any]) -> dict[str, Any]:
    """A replica as ``GET .../replicas`` shows it: with its ``primaryAccount`` object."""
    primary_view = {k: v for k, v in model.public(primary).items() if k != "accountReplicas"}
    return {**model.public(replica), "primaryAccount": primary_view}


async def list_replicas(request: web.Request) -> web.Response:
    """GET /accounts/{id}/replicas: a plain array of replica DTOs."""
    primary = owned_account(request, request.match_info["id"])
    return json_response([_replica_dto(primary, r) for r in primary["accountReplicas"]])


async def get_replica(request: web.Request) -> web.Response:
    """GET /accounts/{id}/replicas/{replicaId}."""
    primary = owned_account(request, request.match_info["id"])
    replica = sandbox(request).accounts.get_replica(primary["_id"], request.match_info["replicaId"])
    return json_response(_replica_dto(primary, replica))


async def create_replica(request: web.Request) -> web.Response:
    """POST /accounts/{id}/replicas: 201 ``{id, state}``; idempotent per ``transaction-id``."""
    server, who = sandbox(request), principal(request)
    primary = owned_account(request, request.match_info["id"], write=True)
    key = transactions.transaction_key(request, "create-replica", who.user_id)
    stored = transactions.load(server.store, key)
    if stored and stored["status"] == "done":
        return json_response(stored["result"], status=201)
    fields = account_fields(await read_json(request), "create-replica")
    taken = {primary["region"], *(r["region"] for r in primary["accountReplicas"])}
    if fields["region"] in taken:
        raise ValidationError.field("region", "already has a replica or the primary account", fields["region"])
    replica = model.new_replica(primary, fields, server.config.deploy_delay)
    result = {"id": replica["_id"], "state": replica["state"]}
    with server.store.transaction():
        server.accounts.save_replica(replica)
        transactions.save(server.store, key, {"status": "done", "result": result})
    return json_response(result, status=201)


async def update_replica(request: web.Request) -> web.Response:
    """PUT /accounts/{id}/replicas/{replicaId}: change the given replica fields."""
    primary = owned_account(request, request.match_info["id"], write=True)
    accounts = sandbox(request).accounts
    replica = accounts.get_replica(primary["_id"], request.match_info["replicaId"])
    fields = account_fields(await read_json(request), "update-replica")
    accounts.save_replica({**replica, **fields})
    return no_content()


def _replica_action(action: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        primary = owned_account(request, request.match_info["id"], write=True)
        server = sandbox(request)
        server.accounts.act_replica(primary["_id"], request.match_info["replicaId"], action, server.config.deploy_delay)
        return no_content()

    handler.__doc__ = f"{action} a replica (204)."
    return handler


def setup(app: web.Application) -> None:
    """Register the replica routes."""
    router = app.router
    one = REPLICAS + "/{replicaId}"
    router.add_get(REPLICAS, list_replicas)
    router.add_post(REPLICAS, create_replica)
    router.add_get(one, get_replica)
    router.add_put(one, update_replica)
    router.add_delete(one, _replica_action("remove"))
    for action in ("deploy", "undeploy", "redeploy"):
        router.add_post(f"{one}/{action}", _replica_action(action))
