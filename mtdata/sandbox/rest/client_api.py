"""Client-API REST endpoints (protocol §1.3, §2.6, §2.7): domain settings, regions, hashing lists, market history.

Historical market data is the hot path (hundreds of 1000-candle pages per second): a
handler does one token check, one account lookup and one orjson encoding of what the
market returns, with no per-item Python work; backwards candle downloads are read ahead
(:mod:`.readahead`).
"""

from __future__ import annotations

from aiohttp import web

from ...hashing import IGNORED_FIELDS
from ...timeframes import MT5_TIMEFRAMES
from ..accounts import REGIONS
from ..appkeys import SANDBOX
from ..auth import REST_API
from ..errors import NotFoundError, ValidationError
from ..validation import Checker
from .readahead import CandlePages
from .responses import json_response, principal, sandbox

CANDLE_PAGES: web.AppKey[CandlePages] = web.AppKey("candle_pages", CandlePages)

#: Host labels of the cloud's services; stripped from the request's Host to find the sandbox's domain.
_SERVICE_LABELS = ("mt-provisioning-api-v1.", "profile-api-v1.", "mt-client-api-v1.")
HISTORY = "/users/current/accounts/{id}/historical-market-data/symbols/{symbol:.+}"
#: Without ``startTime``, ticks are served forward from this long before the market's now.
DEFAULT_TICKS_LOOKBACK_MS = 3_600_000
MAX_TICKS_OFFSET = 100_000


async def domain_settings(request: web.Request) -> web.Response:
    """GET /users/current/servers/mt-client-api: ``{hostname, domain}``; the domain is the request's own host."""
    host = request.host
    for label in _SERVICE_LABELS:
        if host.startswith(label):
            host = host[len(label) :]
            break
    return json_response({"hostname": "mt-client-api-v1", "domain": host})


async def regions(request: web.Request) -> web.Response:
    """GET /users/current/regions: every region the sandbox serves."""
    return json_response(list(REGIONS))


async def hashing_ignored_field_lists(request: web.Request) -> web.Response:
    """GET /hashing-ignored-field-lists: the lists both sides hash with (price-driven and free-text fields)."""
    return json_response(IGNORED_FIELDS)


def _history_account(request: web.Request) -> str:
    """The account id of a history request, after the token and ownership checks."""
    account_id = request.match_info["id"]
    who = principal(request)
    who.require_account(REST_API, account_id)
    doc = sandbox(request).store.get("accounts", account_id)
    if doc is None or doc["userId"] != who.user_id:
        raise NotFoundError(f"Trading account with id {account_id} not found")
    return account_id


async def historical_candles(request: web.Request) -> web.Response:
    """GET .../symbols/{symbol}/timeframes/{timeframe}/candles?startTime&limit: backwards from startTime."""
    _history_account(request)
    timeframe = request.match_info["timeframe"]
    if timeframe not in MT5_TIMEFRAMES:
        raise ValidationError.field("timeframe", "is not a known timeframe", timeframe)
    check = Checker(request.query, query=True)
    end_ms = check.date("startTime")
    limit = check.integer("limit", default=1000, minimum=1, maximum=1000)
    check.done()
    symbol = request.match_info["symbol"]
    pages = request.app[CANDLE_PAGES]
    body, next_end = pages.page(symbol, timeframe, end_ms, limit)
    response = web.Response(body=body, content_type="application/json")
    if next_end is None:
        return response
    await response.prepare(request)  # send this page first, then build the next older one while the client parses
    await response.write_eof()
    pages.read_ahead(symbol, timeframe, next_end, limit)
    return response


async def historical_ticks(request: web.Request) -> web.Response:
    """GET .../symbols/{symbol}/ticks?startTime&offset&limit: forward from startTime, skipping ``offset``."""
    _history_account(request)
    check = Checker(request.query, query=True)
    start_ms = check.date("startTime")
    offset = check.integer("offset", default=0, minimum=0, maximum=MAX_TICKS_OFFSET)
    limit = check.integer("limit", default=1000, minimum=1, maximum=1000)
    check.done()
    market = sandbox(request).market
    if start_ms is None:
        start_ms = market.now_ms() - DEFAULT_TICKS_LOOKBACK_MS
    return json_response(market.ticks(request.match_info["symbol"], start_ms, offset, limit))


def setup(app: web.Application) -> None:
    """Register the client-API routes."""
    app[CANDLE_PAGES] = CandlePages(app[SANDBOX].market)
    router = app.router
    router.add_get("/users/current/servers/mt-client-api", domain_settings)
    router.add_get("/users/current/regions", regions)
    router.add_get("/hashing-ignored-field-lists", hashing_ignored_field_lists)
    router.add_get(HISTORY + "/timeframes/{timeframe}/candles", historical_candles)
    router.add_get(HISTORY + "/ticks", historical_ticks)
