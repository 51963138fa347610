"""Expert-advisor endpoints (protocol §2.3): EAs of MT4 ``cloud-g1`` accounts, with preset and program file."""

from __future__ import annotations

import base64
import re
from typing import Any

from aiohttp import web

from ...timeframes import MT4_TIMEFRAMES
from ..errors import NotFoundError, ValidationError
from ..validation import Checker, read_json, read_upload
from .accounts import BASE, owned_account
from .responses import json_response, no_content, sandbox

EXPERTS = BASE + "/{id}/expert-advisors"
_EXPERT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _account(request: web.Request, write: bool = False) -> dict[str, Any]:
    """The caller's account, which must be an MT4 cloud-g1 account to have expert advisors."""
    doc = owned_account(request, request.match_info["id"], write)
    if doc["version"] != 4 or doc["type"] != "cloud-g1":
        raise ValidationError(
            "Expert advisors are supported only on MT4 cloud-g1 accounts",
            [{"parameter": "accountId", "value": doc["_id"], "message": "is not an MT4 cloud-g1 account"}],
        )
    return doc


def _expert_id(request: web.Request) -> str:
    expert_id = request.match_info["expertId"]
    if not _EXPERT_ID.fullmatch(expert_id):
        raise ValidationError.field("expertId", "must be 1..64 letters, digits, '.', '-' or '_'", expert_id)
    return expert_id


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _load(request: web.Request, account_id: str, expert_id: str) -> dict[str, Any]:
    doc = sandbox(request).store.get("experts", f"{account_id}:{expert_id}")
    if doc is None:
        raise NotFoundError(f"Expert advisor {expert_id} not found")
    return doc


async def list_experts(request: web.Request) -> web.Response:
    """GET /accounts/{id}/expert-advisors."""
    account = _account(request)
    docs = sandbox(request).store.select("experts", "account_id = ?", (account["_id"],))
    return json_response([_public(d) for d in docs])


async def get_expert(request: web.Request) -> web.Response:
    """GET /accounts/{id}/expert-advisors/{expertId}."""
    account = _account(request)
    return json_response(_public(_load(request, account["_id"], _expert_id(request))))


async def put_expert(request: web.Request) -> web.Response:
    """PUT /accounts/{id}/expert-advisors/{expertId} ``{period, symbol, preset}``: create or update (204)."""
    account = _account(request, write=True)
    expert_id = _expert_id(request)
    server = sandbox(request)
    check = Checker(await read_json(request))
    period = check.string("period", required=True, choices=MT4_TIMEFRAMES)
    symbol = check.string("symbol", required=True, max_length=64)
    preset = check.base64("preset")
    if symbol is not None:
        try:
            server.market.specification(symbol)
        except NotFoundError:
            check.fail("symbol", "is not a symbol of the account's broker", symbol)
    check.done()
    key = f"{account['_id']}:{expert_id}"
    old = server.store.get("experts", key)
    doc = {"expertId": expert_id, "period": period, "symbol": symbol, "fileUploaded": bool(old and old["fileUploaded"])}
    if preset is not None:
        doc["_preset"] = base64.b64encode(preset).decode()
    columns: dict[str, Any] = {"account_id": account["_id"]}
    if old is None:
        columns["file"] = None
    server.store.put("experts", key, doc, **columns)
    return no_content()


async def upload_expert_file(request: web.Request) -> web.Response:
    """PUT /accounts/{id}/expert-advisors/{expertId}/file: the EA program (multipart field ``file``)."""
    account = _account(request, write=True)
    doc = _load(request, account["_id"], _expert_id(request))
    content = await read_upload(request)
    if not content:
        raise ValidationError.field("file", "must not be empty")
    key = f"{account['_id']}:{doc['expertId']}"
    sandbox(request).store.put("experts", key, {**doc, "fileUploaded": True}, file=content)
    return no_content()


async def remove_expert(request: web.Request) -> web.Response:
    """DELETE /accounts/{id}/expert-advisors/{expertId}."""
    account = _account(request, write=True)
    doc = _load(request, account["_id"], _expert_id(request))
    sandbox(request).store.delete("experts", f"{account['_id']}:{doc['expertId']}")
    return no_content()


def setup(app: web.Application) -> None:
    """Register the expert-advisor routes."""
    router = app.router
    one = EXPERTS + "/{expertId}"
    router.add_get(EXPERTS, list_experts)
    router.add_get(one, get_expert)
    router.add_put(one, put_expert)
    router.add_delete(one, remove_expert)
    router.add_put(one + "/file", upload_expert_file)
