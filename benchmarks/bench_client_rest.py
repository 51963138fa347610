"""Client REST: 100 concurrent ``get_account`` calls through one shared ``MetaApi`` (one connection pool)
versus a new httpx client per request (the official SDK's habit), against a sandbox in its own process.

Run alone: ``python -m benchmarks.bench_client_rest``. Prints calls/s of both and their ratio.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from benchmarks.common import report, sandbox_process
from mtdata.client import MetaApi

CONCURRENCY = 100
ROUNDS = 5


async def shared_client(url: str, token: str, account_id: str) -> float:
    """Best calls/s over the rounds with one ``MetaApi`` (its pool is warmed up by a first round)."""
    async with MetaApi.sandbox(url, token) as api:
        accounts = api.metatrader_account_api

        async def burst() -> None:
            await asyncio.gather(*(accounts.get_account(account_id) for _ in range(CONCURRENCY)))

        return await _best(burst)


async def client_per_request(url: str, token: str, account_id: str) -> float:
    """Best calls/s over the rounds opening (and closing) a new ``httpx.AsyncClient`` for every call."""

    async def one() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(f"{url}/users/current/accounts/{account_id}", headers={"auth-token": token})
            response.raise_for_status()
            response.json()

    async def burst() -> None:
        await asyncio.gather(*(one() for _ in range(CONCURRENCY)))

    return await _best(burst)


async def _best(burst: Callable[[], Awaitable[None]]) -> float:
    await burst()  # warm-up
    best = 0.0
    for _ in range(ROUNDS):
        began = time.perf_counter()
        await burst()
        best = max(best, CONCURRENCY / (time.perf_counter() - began))
    return best


def main() -> None:
    """Run both variants against one sandbox process and print calls/s and the ratio."""
    with sandbox_process() as info:
        shared = asyncio.run(shared_client(info.url, info.token, info.account_id))
        fresh = asyncio.run(client_per_request(info.url, info.token, info.account_id))
    report(f"get_account x{CONCURRENCY}, one shared client", shared, "calls/s")
    report(f"get_account x{CONCURRENCY}, new client per call", fresh, "calls/s")
    report("ratio shared / per call", shared / fresh, "x")


if __name__ == "__main__":
    main()
