"""MetaApi itself: options validation, the cloud's URLs and headers (mocked cloud only), redaction, helpers."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from mtdata.client import MetaApi
from mtdata.client.rest.http import parse_retry_after
from mtdata.errors import InternalException, MetaApiException, ValidationException, redact

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhY2Nlc3NSdWxlcyI6W119.c2lnbmF0dXJlLXNlY3JldA"
CLOUD = "agiliumtrade.agiliumtrade.ai"


class Cloud:
    """A stand-in for the real cloud: records every request; answers domain settings, fails everything else."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/users/current/servers/mt-client-api":
            return httpx.Response(200, json={"hostname": "mt-client-api-v1", "domain": "agiliumtrade.ai"})
        return httpx.Response(404, json={"error": "NotFoundError", "message": "mocked cloud"})

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]


async def test_default_configuration_targets_the_cloud_hosts() -> None:
    cloud = Cloud()
    async with MetaApi(TOKEN, transport=httpx.MockTransport(cloud)) as api:
        for call in (
            api.metatrader_account_api.get_account("acc1"),
            api.metatrader_account_api.get_accounts_with_classic_scroll_pagination({"state": ["DEPLOYED"]}),
            api.metatrader_account_api.create_account({"name": "n", "server": "s"}),
            api.token_management_api.get_access_rules(),
            api.historical_market_data_client.get_historical_candles("acc1", "vint-hill", "EURUSD", "1h"),
            api.historical_market_data_client.get_historical_ticks("acc1", "london", "GBP/USD", limit=5),
        ):
            with pytest.raises(MetaApiException):
                await call
        assert await api.context.hosts.client_api("london") == "https://mt-client-api-v1.london.agiliumtrade.ai"
    assert cloud.urls() == [
        f"https://mt-provisioning-api-v1.{CLOUD}/users/current/accounts/acc1",
        f"https://mt-provisioning-api-v1.{CLOUD}/users/current/accounts?state=DEPLOYED",
        f"https://mt-provisioning-api-v1.{CLOUD}/users/current/accounts",
        f"https://profile-api-v1.{CLOUD}/access-rule-manifest",
        f"https://mt-provisioning-api-v1.{CLOUD}/users/current/servers/mt-client-api",
        "https://mt-market-data-client-api-v1.vint-hill.agiliumtrade.ai/users/current/accounts/acc1"
        "/historical-market-data/symbols/EURUSD/timeframes/1h/candles",
        "https://mt-market-data-client-api-v1.london.agiliumtrade.ai/users/current/accounts/acc1"
        "/historical-market-data/symbols/GBP/USD/ticks?limit=5",  # settings cached: asked once
    ]
    get, classic, create = cloud.requests[:3]
    assert all(r.headers["auth-token"] == TOKEN for r in cloud.requests)
    assert "api-version" not in get.headers and classic.headers["api-version"] == "2"
    assert re.fullmatch(r"[a-z]{32}", create.headers["transaction-id"])


async def test_domain_option_and_history_start_time_format() -> None:
    cloud = Cloud()
    start = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=timezone(timedelta(hours=2)))
    async with MetaApi(TOKEN, {"domain": "example.test:8443"}, transport=httpx.MockTransport(cloud)) as api:
        with pytest.raises(MetaApiException):
            await api.metatrader_account_api.get_accounts_with_infinite_scroll_pagination({"limit": 10})
        with pytest.raises(MetaApiException):
            await api.historical_market_data_client.get_historical_ticks("a", "vint-hill", "X", start)
    assert cloud.requests[0].url.host == "mt-provisioning-api-v1.example.test"
    assert cloud.requests[0].headers["api-version"] == "1"
    assert cloud.requests[-1].url.params["startTime"] == "2026-01-02T01:04:05.678Z"


@pytest.mark.parametrize(
    ("opts", "name"),
    [
        ("fast", "opts"),
        ({"requestTimeout": 0}, "opts.requestTimeout"),
        ({"requestTimeout": "60"}, "opts.requestTimeout"),
        ({"connectTimeout": -1}, "opts.connectTimeout"),
        ({"packetOrderingTimeout": True}, "opts.packetOrderingTimeout"),
        ({"application": "***"}, "opts.application"),
        ({"domain": "https://x.test"}, "opts.domain"),
        ({"region": ""}, "opts.region"),
        ({"enableLatencyTracking": "yes"}, "opts.enableLatencyTracking"),
        ({"useSharedClientApi": 1}, "opts.useSharedClientApi"),
        ({"enableSocketioDebugger": None, "retryOpts": {"retries": -1}}, "opts.retryOpts.retries"),
        ({"retryOpts": {"minDelayInSeconds": 5, "maxDelayInSeconds": 1}}, "opts.retryOpts.maxDelayInSeconds"),
        ({"retryOpts": {"retry": 3}}, "opts.retryOpts.retry"),
        ({"synchronizationThrottler": {"maxConcurrentSynchronizations": 0}},
         "opts.synchronizationThrottler.maxConcurrentSynchronizations"),
        ({"packetLogger": {"enabled": "true"}}, "opts.packetLogger.enabled"),
        ({"requestTimout": 5}, "opts.requestTimout"),
        ({"url": "ftp://127.0.0.1"}, "opts.url"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_naming_the_option(opts: Any, name: str) -> None:
    with pytest.raises(ValidationException) as caught:
        MetaApi(TOKEN, opts)
    assert caught.value.message.startswith(name + " ")


def test_every_seed_option_is_accepted() -> None:
    opts = {
        "application": "MyApp", "domain": "example.test", "region": "london", "requestTimeout": 10,
        "connectTimeout": 5, "packetOrderingTimeout": 30, "packetLogger": {"enabled": False},
        "enableLatencyTracking": True, "synchronizationThrottler": {"maxConcurrentSynchronizations": 3},
        "retryOpts": {"retries": 2, "minDelayInSeconds": 0.5, "maxDelayInSeconds": 4,
                      "longRunningRequestTimeoutInMinutes": 1},
        "useSharedClientApi": True, "enableSocketioDebugger": False,
    }  # fmt: skip
    options = MetaApi(TOKEN, opts).options
    assert (options.application, options.region, options.request_timeout) == ("MyApp", "london", 10)
    assert options.retry_opts.retries == 2 and options.synchronization_throttler.max_concurrent_synchronizations == 3
    assert options.enable_latency_tracking and options.use_shared_client_api
    assert MetaApi(TOKEN).options.retry_opts.max_delay_in_seconds == 30


def test_the_token_never_appears_whole() -> None:
    api = MetaApi(TOKEN)
    assert TOKEN not in repr(api) and redact(TOKEN) in repr(api)
    assert "a.b.c" not in redact("a.b.c")
    with pytest.raises(ValidationException) as caught:
        MetaApi("")
    assert caught.value.details[0]["parameter"] == "token"
    assert api.latency_monitor.request_latencies() == {}


def test_format_error_and_logging() -> None:
    error = ValidationException("bad", [{"parameter": "x", "message": "m"}], url="http://h/p")
    assert MetaApi.format_error(error) == {
        "name": "ValidationException", "message": "bad", "status_code": 400, "url": "http://h/p",
        "details": [{"parameter": "x", "message": "m"}],
    }  # fmt: skip
    assert MetaApi.format_error(ValueError("v")) == {"name": "ValueError", "message": "v"}
    MetaApi.enable_logging()
    MetaApi.enable_logging()
    logger = logging.getLogger("mtdata.client")
    ours = [h for h in logger.handlers if getattr(h, "_mtdata", False)]
    assert logger.level == logging.DEBUG and len(ours) == 1
    logger.removeHandler(ours[0])
    logger.setLevel(logging.NOTSET)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("1.5", 9) == 1.5
    assert parse_retry_after(None, 9) == 9
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 9) == 0
    assert parse_retry_after("soon", 9) == 9


def test_constructor_starts_nothing() -> None:
    MetaApi(TOKEN)  # no running loop needed: no task, no request


async def test_retry_policy_on_cloud_answers_the_sandbox_cannot_give() -> None:
    """5xx and 409 are retried with backoff; 202 with an HTTP-date repeats the same transaction (mocked cloud)."""
    answers = [
        httpx.Response(500, json={"message": "boom"}),
        httpx.Response(409, json={"message": "busy"}),
        httpx.Response(503),
        httpx.Response(202, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, json={"message": "wait"}),
        httpx.Response(201, json={"id": "acc1", "state": "DEPLOYED"}),
        httpx.Response(200, json={"_id": "acc1", "name": "n"}),
    ]
    sent: list[httpx.Request] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0)

    retry = {"retries": 3, "minDelayInSeconds": 0.05, "maxDelayInSeconds": 1}
    async with MetaApi(TOKEN, {"retryOpts": retry}, transport=httpx.MockTransport(cloud)) as api:
        started = time.monotonic()
        account = await api.metatrader_account_api.create_account({"name": "n", "server": "s"})
        assert time.monotonic() - started >= 0.05 + 0.1 + 0.2
    assert account.id == "acc1" and [r.method for r in sent] == ["POST"] * 5 + ["GET"]
    assert len({r.headers["transaction-id"] for r in sent[:5]}) == 1


async def test_retries_run_out() -> None:
    sent: list[httpx.Request] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500, json={"message": "still broken"})

    retry = {"retries": 2, "minDelayInSeconds": 0.01, "maxDelayInSeconds": 0.02}
    async with MetaApi(TOKEN, {"retryOpts": retry}, transport=httpx.MockTransport(cloud)) as api:
        with pytest.raises(InternalException, match="still broken"):
            await api.metatrader_account_api.get_account("x")
    assert len(sent) == 3  # the first try and two retries
