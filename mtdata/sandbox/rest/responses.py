"""Small helpers every REST handler uses: JSON responses, 202 answers, the server and the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from ..appkeys import PRINCIPAL, SANDBOX
from ..auth import Principal
from ..errors import ValidationError

if TYPE_CHECKING:
    from ..server import SandboxServer

#: Seconds a client should wait before repeating a request answered with 202.
RETRY_AFTER_SECONDS = 1


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response encoded once with orjson."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def no_content() -> web.Response:
    """204 with an empty body (the cloud's answer to most mutations)."""
    return web.Response(status=204)


def accepted(message: str) -> web.Response:
    """202 "not done yet, repeat the identical request" with the ``Retry-After`` every client requires."""
    return json_response({"message": message}, status=202, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def sandbox(request: web.Request) -> SandboxServer:
    """The sandbox server handling ``request``."""
    return request.app[SANDBOX]


def principal(request: web.Request) -> Principal:
    """The verified caller of ``request`` (set by the server's authentication middleware)."""
    return request[PRINCIPAL]


#: Header a client sends (with ``api-version: 2``) to get classic pagination as ``{count, items}``.
CLASSIC_SHAPE_HEADER = "mtdata-pagination"


def list_response(request: web.Request, items: list[Any], offset: int, limit: int) -> web.Response:
    """One page of a provisioning list, in the shape the caller's ``api-version`` asks for.

    Spec §2.1: SDK 29.1.1 reads classic pagination (``api-version: 2``) as a plain array and
    crashes on the documented ``{count, items}``; so both versions answer a plain array, and
    ``{count, items}`` (count = matches before paging) is served only to a client that also
    sends ``mtdata-pagination: count-items``.
    """
    version = request.headers.get("api-version", "1")
    if version not in ("1", "2"):
        raise ValidationError.field("api-version", "must be 1 or 2", version)
    page = items[offset : offset + limit]
    if version == "2" and request.headers.get(CLASSIC_SHAPE_HEADER) == "count-items":
        return json_response({"count": len(items), "items": page})
    return json_response(page)
