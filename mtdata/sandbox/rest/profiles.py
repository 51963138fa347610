"""Provisioning-profile endpoints (protocol §2.2): broker server files uploaded by the user.

A profile starts ``new``; uploading its server file (``servers.dat`` for MT5,
``broker.srv`` for MT4) makes it ``active``. Files are kept in ``profile_files``.
"""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from typing import Any

from aiohttp import web

from ..auth import PROVISIONING_API
from ..errors import NotFoundError, ValidationError
from ..timeutil import now_ms
from ..validation import Checker, read_json, read_upload
from .responses import json_response, list_response, no_content, principal, sandbox

BASE = "/users/current/provisioning-profiles"
#: The server file each terminal version needs.
SERVER_FILES = {5: "servers.dat", 4: "broker.srv"}


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def public_profile(doc: dict[str, Any]) -> dict[str, Any]:
    """The profile DTO (private ``_`` keys removed)."""
    return {k: v for k, v in doc.items() if not k.startswith("_") or k == "_id"}


def owned_profile(request: web.Request, profile_id: str, write: bool = False) -> dict[str, Any]:
    """The caller's profile ``profile_id`` (403 without provisioning access, 404 if there is none)."""
    who = principal(request)
    who.require(PROVISIONING_API, write)
    doc = sandbox(request).store.get("profiles", profile_id)
    if doc is None or doc["_userId"] != who.user_id:
        raise NotFoundError(f"Provisioning profile with id {profile_id} not found")
    return doc


async def list_profiles(request: web.Request) -> web.Response:
    """GET /provisioning-profiles with offset, limit, version, type, status and query filters."""
    server, who = sandbox(request), principal(request)
    who.require(PROVISIONING_API)
    check = Checker(request.query, query=True)
    offset = check.integer("offset", default=0, minimum=0)
    limit = check.integer("limit", default=1000, minimum=1, maximum=1000)
    version = check.integer("version", minimum=4, maximum=5)
    kind = check.string("type", choices=("mkTerminal", "managerApi"))
    status = check.string("status", choices=("new", "active"))
    text = check.string("query")
    check.done()
    docs = [
        public_profile(d)
        for d in server.store.select("profiles", "user_id = ?", (who.user_id,), order_by="created_at, rowid")
        if (version is None or d["version"] == version)
        and (kind is None or d["type"] == kind)
        and (status is None or d["status"] == status)
        and (text is None or text.lower() in d["name"].lower())
    ]
    return list_response(request, docs, offset, limit)


async def get_profile(request: web.Request) -> web.Response:
    """GET /provisioning-profiles/{id}."""
    return json_response(public_profile(owned_profile(request, request.match_info["id"])))


def _timezone(check: Checker, name: str) -> None:
    value = check.string(name, required=True, max_length=64)
    if value is not None and value not in _timezones():
        check.fail(name, "must be an IANA time zone name such as EET", value)


async def create_profile(request: web.Request) -> web.Response:
    """POST /provisioning-profiles ``{name, version, brokerTimezone, brokerDSTSwitchTimezone}``: 201 ``{id}``."""
    server, who = sandbox(request), principal(request)
    who.require(PROVISIONING_API, write=True)
    body = await read_json(request)
    check = Checker(body)
    name = check.string("name", required=True)
    version = check.integer("version", required=True, minimum=4, maximum=5)
    kind = check.string("type", default="mkTerminal", choices=("mkTerminal", "managerApi"))
    _timezone(check, "brokerTimezone")
    _timezone(check, "brokerDSTSwitchTimezone")
    check.done()
    doc = {
        "_id": uuid.uuid4().hex,
        "name": name,
        "version": version,
        "status": "new",
        "type": kind,
        "brokerTimezone": body["brokerTimezone"],
        "brokerDSTSwitchTimezone": body["brokerDSTSwitchTimezone"],
        "_userId": who.user_id,
    }
    server.store.put("profiles", doc["_id"], doc, user_id=who.user_id, created_at=now_ms())
    return json_response({"id": doc["_id"]}, status=201)


async def update_profile(request: web.Request) -> web.Response:
    """PUT /provisioning-profiles/{id} ``{name}``."""
    doc = owned_profile(request, request.match_info["id"], write=True)
    check = Checker(await read_json(request))
    name = check.string("name", required=True)
    check.done()
    sandbox(request).store.put("profiles", doc["_id"], {**doc, "name": name})
    return no_content()


async def upload_file(request: web.Request) -> web.Response:
    """PUT /provisioning-profiles/{id}/{fileName}: multipart field ``file``; the profile becomes active."""
    doc = owned_profile(request, request.match_info["id"], write=True)
    file_name = request.match_info["fileName"]
    expected = SERVER_FILES[doc["version"]]
    if file_name != expected:
        raise ValidationError.field("fileName", f"must be {expected} for a version {doc['version']} profile", file_name)
    content = await read_upload(request)
    if not content:
        raise ValidationError.field("file", "must not be empty")
    store = sandbox(request).store
    with store.transaction():
        meta = {"name": file_name, "size": len(content)}
        store.put("profile_files", f"{doc['_id']}:{file_name}", meta, profile_id=doc["_id"], name=file_name,
                  content=content)  # fmt: skip
        store.put("profiles", doc["_id"], {**doc, "status": "active"})
    return no_content()


async def remove_profile(request: web.Request) -> web.Response:
    """DELETE /provisioning-profiles/{id} (and its files)."""
    doc = owned_profile(request, request.match_info["id"], write=True)
    store = sandbox(request).store
    with store.transaction():
        store.delete("profiles", doc["_id"])
        store.execute("DELETE FROM profile_files WHERE profile_id = ?", (doc["_id"],))
    return no_content()


def setup(app: web.Application) -> None:
    """Register the provisioning-profile routes."""
    router = app.router
    router.add_get(BASE, list_profiles)
    router.add_post(BASE, create_profile)
    router.add_get(BASE + "/{id}", get_profile)
    router.add_put(BASE + "/{id}", update_profile)
    router.add_delete(BASE + "/{id}", remove_profile)
    router.add_put(BASE + "/{id}/{fileName}", upload_file)
