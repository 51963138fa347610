"""A sandbox running elsewhere, named by the environment: Binder's background sandbox (``binder/start``).

``MTDATA_SANDBOX_URL``, ``MTDATA_SANDBOX_TOKEN`` and ``MTDATA_SANDBOX_ACCOUNT_ID`` (``MTDATA_ACCOUNT_ID`` is
read when the latter is unset) make :func:`mtdata.connect` with no token use that sandbox instead of starting
one of its own. A URL without a token is refused, naming the missing variable.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from .client import checks

URL, TOKEN, ACCOUNT_ID = "MTDATA_SANDBOX_URL", "MTDATA_SANDBOX_TOKEN", "MTDATA_SANDBOX_ACCOUNT_ID"
#: The account variable of ``mtdata export`` and the MetaTrader5-style API, read when :data:`ACCOUNT_ID` is unset.
ACCOUNT_ID_FALLBACK = "MTDATA_ACCOUNT_ID"


class EnvSandbox(NamedTuple):
    """Where the environment's sandbox listens, its token and the account to use."""

    url: str
    token: str
    account_id: str

    def __repr__(self) -> str:
        return f"EnvSandbox(url={self.url!r}, account_id={self.account_id!r})"  # never the token


def from_environment() -> EnvSandbox | None:
    """The sandbox the environment names, or None when ``MTDATA_SANDBOX_URL`` is unset or empty."""
    url = os.environ.get(URL, "").strip()
    if not url:
        return None
    token = os.environ.get(TOKEN, "").strip()
    account_id = (os.environ.get(ACCOUNT_ID) or os.environ.get(ACCOUNT_ID_FALLBACK) or "").strip()
    for name, value in ((TOKEN, token), (ACCOUNT_ID, account_id)):
        if not value:
            raise checks.fail(name, f"must be set with {URL} (the sandbox's token and demo account id)", None)
    return EnvSandbox(url, token, account_id)
