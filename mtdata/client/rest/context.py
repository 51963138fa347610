"""What every API object of one ``MetaApi`` shares: the HTTP client, the hosts, the options and the token."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import MethodAccessException
from ..options import MetaApiOptions
from .hosts import Hosts
from .http import HttpClient


@dataclass(frozen=True)
class ClientContext:
    """Shared plumbing of one ``MetaApi`` (passed to the API and model objects it creates)."""

    http: HttpClient
    hosts: Hosts
    options: MetaApiOptions
    token: str = field(repr=False)

    @property
    def is_api_token(self) -> bool:
        """True for an API token (a JWT: three dot-separated parts), False for an account token (protocol §1.4)."""
        return len(self.token.split(".")) == 3

    def require_api_token(self, method: str) -> None:
        """Raise :class:`MethodAccessException` (nothing is sent) when ``method`` is called with an account token."""
        if not self.is_api_token:
            raise MethodAccessException(
                f"You can not invoke {method} method, because you have connected with account access token. "
                "Please use API access token from https://app.metaapi.cloud/token page to invoke this method."
            )
