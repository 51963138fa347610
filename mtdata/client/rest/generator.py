"""The demo-account generator (protocol §2.4): new MT4/MT5 demo credentials from a broker's demo server."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import checks
from .context import ClientContext
from .http import transaction_id


def demo_dto(value: Any) -> dict[str, Any]:
    """Check a new-demo-account body (``balance``, ``email``, ``leverage``, ``serverName`` required)."""
    dto = checks.mapping("account", value)
    checks.number("account.balance", dto.get("balance"), minimum=0)
    checks.text("account.email", dto.get("email"))
    checks.number("account.leverage", dto.get("leverage"), minimum=1)
    checks.text("account.serverName", dto.get("serverName"))
    for key in ("accountType", "name", "phone"):
        checks.text(f"account.{key}", dto.get(key), optional=True)
    return dto


class MetatraderAccountGeneratorApi:
    """Creates MT4 / MT5 demo accounts (``MetaApi.metatrader_account_generator_api``); slow: 240 s timeout."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context

    async def _create(self, platform: str, account: dict[str, Any], profile_id: str | None) -> dict[str, Any]:
        self._context.require_api_token(f"create_{platform}_demo_account")
        dto = demo_dto(account)
        profile = quote(checks.text("profile_id", profile_id, optional=True) or "default")
        url = (
            f"{self._context.hosts.provisioning}/users/current/provisioning-profiles/{profile}/{platform}-demo-accounts"
        )
        return await self._context.http.request(
            "POST",
            url,
            json=dto,
            headers={"transaction-id": transaction_id()},
            timeout=self._context.options.account_generator_request_timeout,
        )

    async def create_mt4_demo_account(self, account: dict[str, Any], profile_id: str | None = None) -> dict[str, Any]:
        """``{login, password, serverName, investorPassword}`` of a new MT4 demo account."""
        return await self._create("mt4", account, profile_id)

    async def create_mt5_demo_account(self, account: dict[str, Any], profile_id: str | None = None) -> dict[str, Any]:
        """``{login, password, serverName, investorPassword}`` of a new MT5 demo account."""
        return await self._create("mt5", account, profile_id)
