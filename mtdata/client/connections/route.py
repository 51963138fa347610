"""Where a connection streams an account: the id it names on the socket and the region it connects to.

Without the ``region`` option that is the account itself in its own region. With it (protocol §1.1), the
account in that region: the primary if it lives there, else its replica there, whose own id is the socket's
``accountId`` (protocol §9.10); an account with neither is refused before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import checks

if TYPE_CHECKING:
    from ..rest.accounts import MetatraderAccount


@dataclass(frozen=True)
class Route:
    """The id a connection names in its socket requests and the region whose sockets carry them."""

    account_id: str
    region: str


def route(account: MetatraderAccount, pinned_region: str | None = None) -> Route:
    """The route to ``account``, kept to ``pinned_region`` when given (``ValidationException`` naming
    ``region`` when the account has no presence there)."""
    if pinned_region is None or account.region == pinned_region:
        return Route(account.id, account.region)
    for replica in account.account_replicas or ():
        if replica.get("region") == pinned_region and isinstance(replica.get("_id"), str):
            return Route(replica["_id"], pinned_region)
    regions = sorted({account.region, *(r.get("region") for r in account.account_replicas or () if r.get("region"))})
    raise checks.fail(
        "region",
        f"is not a region of account {account.id} (it is in {', '.join(map(str, regions))}; "
        "connect without region= or with one of those)",
        pinned_region,
    )


__all__ = ["Route", "route"]
