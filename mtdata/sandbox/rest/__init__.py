"""REST endpoints of the sandbox (protocol §2): provisioning, tokens, client API, historical data.

One module per area; each has a ``setup(app)`` that registers its routes. Handlers read
the server from ``request.app[SANDBOX]`` and the verified caller from
``request[PRINCIPAL]`` (see :mod:`.responses`), and raise :mod:`..errors` for failures.
"""

from __future__ import annotations

from aiohttp import web

from . import accounts, client_api, demo, experts, profiles, replicas, tokens


def setup_routes(app: web.Application) -> None:
    """Register every REST route on ``app`` (the server is in ``app[SANDBOX]``)."""
    for module in (accounts, replicas, experts, profiles, demo, tokens, client_api):
        module.setup(app)
