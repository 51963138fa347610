"""Typed keys of what the sandbox stores on aiohttp applications and requests."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .auth import Principal

#: The ``SandboxServer`` serving an application (typed Any: the server module imports the routes).
SANDBOX: web.AppKey[Any] = web.AppKey("sandbox")
#: The verified caller of a request, set by the authentication middleware.
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
