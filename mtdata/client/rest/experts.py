"""Expert advisors of MT4 cloud-g1 accounts (protocol §2.3): ``ExpertAdvisorClient`` and the ``ExpertAdvisor`` model."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...timeframes import MT5_TIMEFRAMES
from .. import checks
from ..models import NewExpertAdvisorDto
from .context import ClientContext
from .wire_model import WireModel, upload_files, wire


def expert_dto(value: Any) -> dict[str, Any]:
    """Check a ``{period, symbol, preset?}`` body before sending it."""
    dto = checks.mapping("expert", value)
    checks.choice("expert.period", dto.get("period"), MT5_TIMEFRAMES)
    checks.text("expert.symbol", dto.get("symbol"))
    checks.text("expert.preset", dto.get("preset"), optional=True)
    return dto


class ExpertAdvisorClient:
    """REST calls on ``/accounts/{id}/expert-advisors``."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context

    def url(self, account_id: str, expert_id: str | None = None) -> str:
        """The URL of the account's experts, or of one of them."""
        base = f"{self._context.hosts.provisioning}/users/current/accounts/{quote(account_id)}/expert-advisors"
        return base if expert_id is None else f"{base}/{quote(checks.text('expert_id', expert_id))}"

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """A request after the API-token check (protocol §1.4)."""
        self._context.require_api_token(f"expert advisor {method}")
        return await self._context.http.request(method, url, **kwargs)

    async def get_expert_advisors(self, account_id: str) -> list[ExpertAdvisor]:
        """Every expert advisor of the account."""
        items = await self.request("GET", self.url(account_id))
        return [ExpertAdvisor(item, account_id, self) for item in items]

    async def get_expert_advisor(self, account_id: str, expert_id: str) -> ExpertAdvisor:
        """One expert advisor."""
        return ExpertAdvisor(await self.request("GET", self.url(account_id, expert_id)), account_id, self)

    async def update_expert_advisor(self, account_id: str, expert_id: str, expert: NewExpertAdvisorDto) -> None:
        """Create or change an expert advisor."""
        await self.request("PUT", self.url(account_id, expert_id), json=expert_dto(expert))


class ExpertAdvisor(WireModel):
    """An expert advisor (DTO of protocol §9.13)."""

    def __init__(self, data: dict[str, Any], account_id: str, client: ExpertAdvisorClient) -> None:
        self._data = data
        self._account_id = account_id
        self._client = client

    def __repr__(self) -> str:
        return f"ExpertAdvisor(expert_id={self.expert_id!r}, period={self.period!r}, symbol={self.symbol!r})"

    expert_id = wire("expertId", "The expert advisor's id, chosen when it was created.")
    period = wire("period", "The timeframe of the chart the expert runs on, e.g. 1h (protocol §10).")
    symbol = wire("symbol", "The symbol of the chart the expert runs on.")
    file_uploaded = wire("fileUploaded", "True once the .ex4 file was uploaded.")

    @property
    def _url(self) -> str:
        return self._client.url(self._account_id, self.expert_id)

    async def reload(self) -> None:
        """Fetch the expert advisor again."""
        self._data = await self._client.request("GET", self._url)

    async def update(self, expert: NewExpertAdvisorDto) -> None:
        """Change period, symbol or preset, then reload."""
        await self._client.update_expert_advisor(self._account_id, self.expert_id, expert)
        await self.reload()

    async def upload_file(self, file: str | bytes | Any) -> None:
        """Upload the expert's file from a path or bytes, then reload."""
        await self._client.request("PUT", self._url + "/file", files=upload_files(file))
        await self.reload()

    async def remove(self) -> None:
        """Delete the expert advisor."""
        await self._client.request("DELETE", self._url)
