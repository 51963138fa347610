"""Demo-account generator (protocol §2.4): MT4/MT5 demo logins on a broker server, as the cloud makes them.

The first call of a transaction answers 202 + Retry-After (the cloud's generator is
slow); the repeat gets ``{login, password, serverName, investorPassword}``. The
credentials are remembered, so an account created later with that login and server
gets the requested balance and leverage, and broker detection knows the server.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from aiohttp import web

from ..auth import PROVISIONING_API
from ..errors import ValidationError
from ..validation import Checker, read_json
from . import transactions
from .accounts import demo_login_key, demo_server_key
from .profiles import BASE, owned_profile
from .responses import accepted, json_response, principal, sandbox

GENERATING_MESSAGE = "The demo account is being generated, please retry in 1 second"
_FIRST_LOGIN = 60_000_001


def _password() -> str:
    """A random password with letters and digits, as brokers issue them."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10)) + secrets.choice(string.digits)


def _validate(body: dict[str, Any]) -> dict[str, Any]:
    check = Checker(body)
    fields = {
        "accountType": check.string("accountType", max_length=64),
        "balance": check.number("balance", required=True, positive=True, maximum=1e12),
        "email": check.string("email", required=True, pattern=r"[^@\s]+@[^@\s]+"),
        "leverage": check.integer("leverage", required=True, minimum=1, maximum=10000),
        "name": check.string("name"),
        "phone": check.string("phone", max_length=32),
        "serverName": check.string("serverName", required=True, max_length=128),
        "keywords": check.string_list("keywords"),
    }
    check.done()
    return fields


def _generator(platform: str) -> Any:
    version = 4 if platform == "mt4" else 5

    async def generate(request: web.Request) -> web.Response:
        server, who = sandbox(request), principal(request)
        who.require(PROVISIONING_API, write=True)
        profile_id = request.match_info["profileId"]
        if profile_id != "default":
            profile = owned_profile(request, profile_id)
            if profile["version"] != version:
                raise ValidationError.field("profileId", f"must name a version {version} profile", profile_id)
        key = transactions.transaction_key(request, f"{platform}-demo-account", who.user_id)
        stored = transactions.load(server.store, key)
        if stored and stored["status"] == "done":
            return json_response(stored["result"])
        fields = _validate(await read_json(request))
        if key and stored is None:
            transactions.save(server.store, key, {"status": "pending"})
            return accepted(GENERATING_MESSAGE)
        login = str(server.store.next_id("demo_login", start=_FIRST_LOGIN))
        result = {"login": login, "password": _password(), "serverName": fields["serverName"],
                  "investorPassword": _password()}  # fmt: skip
        remembered = {**result, "platform": platform, "balance": fields["balance"], "leverage": fields["leverage"]}
        with server.store.transaction():
            transactions.save(server.store, demo_login_key(fields["serverName"], login), remembered)
            transactions.save(server.store, demo_server_key(fields["serverName"]), {"platform": platform})
            transactions.save(server.store, key, {"status": "done", "result": result})
        return json_response(result)

    generate.__doc__ = f"POST /provisioning-profiles/{{profileId}}/{platform}-demo-accounts."
    return generate


def setup(app: web.Application) -> None:
    """Register the generator routes."""
    for platform in ("mt4", "mt5"):
        app.router.add_post(f"{BASE}/{{profileId}}/{platform}-demo-accounts", _generator(platform))
