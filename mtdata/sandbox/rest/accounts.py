"""Trading-account endpoints (protocol §2.1): create with broker detection, list with filters, state actions.

Every handler checks the caller's token against ``trading-account-management-api``:
reading needs the ``reader`` role, changing needs ``writer``, and a token narrowed to
some accounts only sees and touches those.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from .. import accounts as model
from ..auth import PROVISIONING_API
from ..errors import NotFoundError, ValidationError
from ..validation import Checker, read_json
from . import transactions
from .account_fields import account_fields
from .responses import accepted, json_response, list_response, no_content, principal, sandbox

BASE = "/users/current/accounts"
DETECTION_MESSAGE = "Automatic broker settings detection is in progress, please retry in 1 second"


def owned_account(request: web.Request, account_id: str, write: bool = False) -> dict[str, Any]:
    """The caller's primary account ``account_id`` (403 if the token may not, 404 if there is none)."""
    who = principal(request)
    who.require_account(PROVISIONING_API, account_id, write)
    doc = sandbox(request).accounts.find(account_id)
    if doc is None or doc["userId"] != who.user_id:
        raise NotFoundError(f"Trading account with id {account_id} not found")
    return doc


def demo_login_key(server: str, login: str) -> str:
    """Transactions-table key of demo credentials generated for ``login`` on ``server``."""
    return f"demo-login:{server}:{login}"


def demo_server_key(server: str) -> str:
    """Transactions-table key marking ``server`` as known to broker detection (demo generator servers)."""
    return f"demo-server:{server}"


async def create_account(request: web.Request) -> web.Response:
    """POST /accounts: 201 ``{id, state}``; 202 + Retry-After on the first call that needs broker detection."""
    server, who = sandbox(request), principal(request)
    who.require(PROVISIONING_API, write=True)
    key = transactions.transaction_key(request, "create-account", who.user_id)
    stored = transactions.load(server.store, key)
    if stored and stored["status"] == "done":
        return json_response(stored["result"], status=201)
    fields = account_fields(await read_json(request), "create")
    trading = _check_broker(server, who.user_id, fields)
    if "provisioningProfileId" not in fields and key and stored is None:
        transactions.save(server.store, key, {"status": "pending"})
        return accepted(DETECTION_MESSAGE)
    fields.setdefault("region", server.config.region)
    fields.setdefault("reliability", "high")
    doc = model.new_account(who.user_id, fields, server.config.region, trading)
    if not fields.get("login") or not fields.get("password"):
        doc["state"] = "DRAFT"
    else:
        doc = model.start_transition(doc, "deploy", server.config.deploy_delay)
    result = {"id": doc["_id"], "state": doc["state"]}
    with server.store.transaction():
        server.accounts.save(doc)
        transactions.save(server.store, key, {"status": "done", "result": result})
    return json_response(result, status=201)


def _check_broker(server: Any, user_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate server, profile and credentials as broker detection would; returns trading settings."""
    profile_id = fields.get("provisioningProfileId")
    if profile_id is not None:
        profile = server.store.get("profiles", profile_id)
        if profile is None or profile["_userId"] != user_id:
            raise ValidationError.field("provisioningProfileId", "does not name a provisioning profile", profile_id)
        fields.setdefault("platform", "mt4" if profile["version"] == 4 else "mt5")
    else:
        if "platform" not in fields:
            raise ValidationError.field("platform", "is required for automatic broker detection")
        known = fields["server"] in model.KNOWN_SERVERS
        if not known and server.store.get("transactions", demo_server_key(fields["server"])) is None:
            raise ValidationError(
                f"Failed to find the broker server {fields['server']}; check the server name or use a "
                "provisioning profile",
                ["E_SRV_NOT_FOUND"],
            )
    login = fields.get("login")
    demo = server.store.get("transactions", demo_login_key(fields["server"], login)) if login else None
    if demo is None:
        return {}
    password = fields.get("password")
    if password is not None and password not in (demo["password"], demo["investorPassword"]):
        raise ValidationError("Failed to authenticate with the broker: wrong login or password", ["E_AUTH"])
    return {"balance": demo["balance"], "leverage": demo["leverage"]}


_LIST_TYPES = {"cloud": ("cloud-g1", "cloud-g2"), "cloud-g1": ("cloud-g1",), "cloud-g2": ("cloud-g2",),
               "self-hosted": ()}  # fmt: skip


async def list_accounts(request: web.Request) -> web.Response:
    """GET /accounts with every filter of protocol §2.1.1 (lists as repeated keys)."""
    server, who = sandbox(request), principal(request)
    who.require(PROVISIONING_API)
    check = Checker(request.query, query=True)
    offset = check.integer("offset", default=0, minimum=0)
    limit = check.integer("limit", default=1000, minimum=1, maximum=1000)
    versions = check.string_list("version", choices=("4", "5"))
    types = check.string_list("type", choices=tuple(_LIST_TYPES))
    states = check.string_list("state", choices=model.STATES)
    statuses = check.string_list("connectionStatus", choices=model.CONNECTION_STATUSES)
    text = check.string("query")
    profile_id = check.string("provisioningProfileId")
    sort_order = check.string("sortOrder", choices=("asc", "desc"))
    regions = check.string_list("region", choices=model.REGIONS)
    roles = check.string_list("copyFactoryRoles", choices=("SUBSCRIBER", "PROVIDER"))
    check.done()
    scope = who.scoped_to_accounts(PROVISIONING_API)
    wanted_types = {t for name in types or () for t in _LIST_TYPES[name]}
    needle = text.lower() if text else None

    def keep(doc: dict[str, Any]) -> bool:
        return (
            (scope is None or doc["_id"] in scope)
            and (versions is None or str(doc["version"]) in versions)
            and (types is None or doc["type"] in wanted_types)
            and (states is None or doc["state"] in states)
            and (statuses is None or doc["connectionStatus"] in statuses)
            and (profile_id is None or doc.get("provisioningProfileId") == profile_id)
            and (regions is None or doc["region"] in regions)
            and (roles is None or bool(set(roles) & set(doc.get("copyFactoryRoles", ()))))
            and (
                needle is None or any(needle in str(doc.get(f, "")).lower() for f in ("_id", "name", "server", "login"))
            )
        )

    docs = [doc for doc in server.accounts.all_of(who.user_id) if keep(doc)]
    if sort_order:
        docs.sort(key=lambda d: d.get("_stateChangedAt", 0), reverse=sort_order == "desc")
    return list_response(request, [_dto(request, d) for d in docs], offset, limit)


def _dto(request: web.Request, doc: dict[str, Any]) -> dict[str, Any]:
    """The account DTO plus ``marketRevision``, the sandbox market's identity (the cloud has no such field):
    clients key their candle caches on it, so a restart with another seed or replay file serves no old candles."""
    return {**model.public(doc), "marketRevision": sandbox(request).market.fingerprint}


async def get_account(request: web.Request) -> web.Response:
    """GET /accounts/{id}: the account DTO with its replicas and the market's revision."""
    return json_response(_dto(request, owned_account(request, request.match_info["id"])))


async def update_account(request: web.Request) -> web.Response:
    """PUT /accounts/{id}: change the given fields (protocol §9.10 account-update body)."""
    doc = owned_account(request, request.match_info["id"], write=True)
    fields = account_fields(await read_json(request), "update")
    password = fields.pop("password", None)
    if doc["state"] == "DRAFT" and (fields.get("login") or doc["login"]) and password:
        fields["state"] = "UNDEPLOYED"
    sandbox(request).accounts.save({**doc, **fields})
    return no_content()


async def remove_account(request: web.Request) -> web.Response:
    """DELETE /accounts/{id}: DELETING now, gone (404) after the deploy delay; replicas go with it."""
    account_id = request.match_info["id"]
    owned_account(request, account_id, write=True)
    server = sandbox(request)
    server.accounts.act(account_id, "remove", server.config.deploy_delay)
    return no_content()


def _state_action(action: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        account_id = request.match_info["id"]
        owned_account(request, account_id, write=True)
        server = sandbox(request)
        server.accounts.act(account_id, action, server.config.deploy_delay)
        return no_content()

    handler.__doc__ = f"POST /accounts/{{id}}/{action}: start the transition (204)."
    return handler


def _flag_action(changes: dict[str, Any]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        accounts = sandbox(request).accounts
        primary, replica = _primary_or_replica(request, request.match_info["id"])
        if replica is not None:
            accounts.save_replica({**replica, **changes})
        else:
            accounts.save({**primary, **changes})
        return no_content()

    handler.__doc__ = f"POST /accounts/{{id}}/...: set {changes} (204)."
    return handler


def _primary_or_replica(request: web.Request, some_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``(primary, replica)`` for an account or replica id the caller may change (the protocol's odd replica path)."""
    who = principal(request)
    try:
        primary, replica = sandbox(request).accounts.primary_of(some_id)
    except NotFoundError:
        who.require_account(PROVISIONING_API, some_id, write=True)
        raise
    owned_account(request, primary["_id"], write=True)
    return primary, replica


async def configuration_link(request: web.Request) -> web.Response:
    """PUT /accounts/{id}/configuration-link?ttlInDays=n: a link where the user would enter the password."""
    account_id = request.match_info["id"]
    owned_account(request, account_id, write=True)
    check = Checker(request.query, query=True)
    ttl = check.integer("ttlInDays", default=7, minimum=1, maximum=14)
    check.done()
    code = secrets.token_urlsafe(16)
    link = f"http://{request.host}/configure-account/{account_id}?ttlInDays={ttl}&code={code}"
    return json_response({"configurationLink": link})


def setup(app: web.Application) -> None:
    """Register the account routes."""
    router = app.router
    router.add_get(BASE, list_accounts)
    router.add_post(BASE, create_account)
    router.add_get(BASE + "/{id}", get_account)
    router.add_put(BASE + "/{id}", update_account)
    router.add_delete(BASE + "/{id}", remove_account)
    for action in ("deploy", "undeploy", "redeploy"):
        router.add_post(f"{BASE}/{{id}}/{action}", _state_action(action))
    router.add_post(BASE + "/{id}/increase-reliability", _flag_action({"reliability": "high"}))
    router.add_post(BASE + "/{id}/enable-risk-management-api", _flag_action({"riskManagementApiEnabled": True}))
    router.add_post(BASE + "/{id}/enable-metastats-api", _flag_action({"metastatsApiEnabled": True}))
    router.add_put(BASE + "/{id}/configuration-link", configuration_link)
