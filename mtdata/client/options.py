"""``MetaApiOpts`` (the seed's options) validated into frozen dataclasses with the SDK's defaults (protocol §1.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import checks

DEFAULT_DOMAIN = "agiliumtrade.agiliumtrade.ai"

_OPTION_KEYS = (
    "application", "domain", "region", "requestTimeout", "connectTimeout", "packetOrderingTimeout", "packetLogger",
    "enableLatencyTracking", "enableLatencyMonitor", "synchronizationThrottler", "retryOpts", "useSharedClientApi",
    "enableSocketioDebugger", "websocketLogPath", "historicalMarketDataRequestTimeout",
    "accountGeneratorRequestTimeout", "refreshSubscriptionsOpts", "unsubscribeThrottlingIntervalInSeconds",
    "keepHashTrees", "url",
)  # fmt: skip
_RETRY_KEYS = (
    "retries", "minDelayInSeconds", "maxDelayInSeconds", "longRunningRequestTimeoutInMinutes",
    "subscribeCooldownInSeconds",
)  # fmt: skip
_THROTTLER_KEYS = ("maxConcurrentSynchronizations", "queueTimeoutInSeconds", "synchronizationTimeoutInSeconds")
_PACKET_LOGGER_KEYS = ("enabled", "fileNumberLimit", "logFileSizeInHours", "compressSpecifications",
                       "compressPrices")  # fmt: skip


@dataclass(frozen=True)
class RetryPolicy:
    """REST and socket retry policy (protocol §2.10, §5.4)."""

    retries: int = 5  #: Retries of a failed REST call or socket request before its error is raised.
    min_delay_in_seconds: float = 1  #: First retry delay, in seconds (doubling); the 202 wait without Retry-After.
    max_delay_in_seconds: float = 30  #: Longest retry delay, in seconds; times ``retries``: a REST call's deadline.
    #: How long, in minutes, a REST call answered 202 ("not done yet") is repeated before a timeout.
    long_running_request_timeout_in_minutes: float = 10
    #: Seconds every subscribe is held off after a per-user subscription quota error, unless an account is
    #: unsubscribed meanwhile (and at least until the server's recommended retry time; protocol §3.2).
    subscribe_cooldown_in_seconds: float = 600


@dataclass(frozen=True)
class ThrottlerOpts:
    """Client-side synchronization throttling (protocol §7.7)."""

    #: Most synchronizations running at once on the sockets of one region and instance number, and on one socket
    #: (which also allows only one per 10 of its accounts).
    max_concurrent_synchronizations: int = 15
    queue_timeout_in_seconds: float = 300  #: Seconds a synchronization may wait for a slot before a timeout.
    #: Seconds without a packet of a synchronization after which its slot is freed.
    synchronization_timeout_in_seconds: float = 10


@dataclass(frozen=True)
class MetaApiOptions:
    """Every ``MetaApiOpts`` field, validated; ``url`` (mtdata) sends every request to one local server."""

    application: str = "MetaApi"  #: The ``application`` field of streaming requests.
    domain: str = DEFAULT_DOMAIN  #: The suffix of the REST host names (a host name, optionally with ``:port``).
    #: Connections keep to this region (the account's, or its replica's there); None: the account's own region.
    region: str | None = None
    request_timeout: float = 60  #: Seconds a REST call or socket request waits for its answer.
    connect_timeout: float = 60  #: Seconds a socket request waits for its socket to connect.
    packet_ordering_timeout: float = 60  #: Seconds a gap in packet sequence numbers may last (protocol §7.6).
    #: The official SDK's packet logger settings: checked, then ignored (mtdata logs no packets to files).
    packet_logger: dict[str, Any] = field(default_factory=dict)
    enable_latency_tracking: bool = False  #: True installs the latency monitor (protocol §8).
    #: Synchronization throttling settings (protocol §7.7); the default: 15 at once.
    synchronization_throttler: ThrottlerOpts = field(default_factory=ThrottlerOpts)
    #: Retry settings of REST calls and socket requests; the default: 5 retries, 1 s to 30 s apart.
    retry_opts: RetryPolicy = field(default_factory=RetryPolicy)
    use_shared_client_api: bool = False  #: True uses the shared client API host (``mt-client-api-v1``) for sockets.
    enable_socketio_debugger: bool = False  #: The SDK's Socket.IO debug logging (accepted; mtdata ignores it).
    websocket_log_path: str = "./.metaapi/logs/socket.log"  #: The SDK's socket log file (accepted; not used).
    #: Seconds a historical candles or ticks request may take (it can be slow).
    historical_market_data_request_timeout: float = 240
    #: Seconds a demo account generator request may take (it can be slow).
    account_generator_request_timeout: float = 240
    #: Bounds, in seconds, of the random wait between two re-sends of the market data subscription list
    #: (``minDelayInSeconds`` and ``maxDelayInSeconds``; 1 and 600 by default).
    refresh_subscriptions_opts: dict[str, float] = field(
        default_factory=lambda: {"minDelayInSeconds": 1, "maxDelayInSeconds": 600}
    )
    #: Seconds between ``unsubscribe`` answers to packets of an account not subscribed (protocol §7.2), per account.
    unsubscribe_throttling_interval_in_seconds: float = 10
    keep_hash_trees: bool = False  #: True keeps every collection state of the hash trees (protocol §7.8).
    #: A base URL (``http://127.0.0.1:8080``) every REST and socket request goes to, such as a sandbox's; None:
    #: the hosts of ``domain`` and the account's region.
    url: str | None = None


def parse_options(opts: Any) -> MetaApiOptions:
    """Validate a ``MetaApiOpts`` dict (camelCase keys as in the SDK); unknown keys are refused."""
    raw = checks.mapping("opts", opts, optional=True) or {}
    checks.known_keys("opts", raw, _OPTION_KEYS)
    defaults = MetaApiOptions()

    def num(key: str, default: float, minimum: float = 0.0) -> float:
        value = checks.number(f"opts.{key}", raw.get(key), minimum=minimum, optional=True)
        return default if value is None else value

    def boolean(key: str, default: bool) -> bool:
        value = checks.flag(f"opts.{key}", raw.get(key), optional=True)
        return default if value is None else value

    application = checks.text("opts.application", raw.get("application", defaults.application))
    if not re.search(r"[a-zA-Z0-9_]+", application):
        raise checks.fail("opts.application", "must contain letters, digits or _", application)
    domain = checks.text("opts.domain", raw.get("domain", defaults.domain))
    if "/" in domain or " " in domain:
        raise checks.fail("opts.domain", "must be a host name (optionally with :port), not a URL", domain)
    refresh = checks.mapping("opts.refreshSubscriptionsOpts", raw.get("refreshSubscriptionsOpts"), optional=True)
    return MetaApiOptions(
        application=application,
        domain=domain,
        region=checks.text("opts.region", raw.get("region"), optional=True),
        request_timeout=num("requestTimeout", defaults.request_timeout, 0.001),
        connect_timeout=num("connectTimeout", defaults.connect_timeout, 0.001),
        packet_ordering_timeout=num("packetOrderingTimeout", defaults.packet_ordering_timeout, 0.001),
        packet_logger=_packet_logger(raw.get("packetLogger")),
        enable_latency_tracking=boolean("enableLatencyTracking", False) or boolean("enableLatencyMonitor", False),
        synchronization_throttler=_throttler(raw.get("synchronizationThrottler")),
        retry_opts=_retry(raw.get("retryOpts")),
        use_shared_client_api=boolean("useSharedClientApi", False),
        enable_socketio_debugger=boolean("enableSocketioDebugger", False),
        websocket_log_path=checks.text(
            "opts.websocketLogPath", raw.get("websocketLogPath", defaults.websocket_log_path)
        ),
        historical_market_data_request_timeout=num(
            "historicalMarketDataRequestTimeout", defaults.historical_market_data_request_timeout, 0.001
        ),
        account_generator_request_timeout=num(
            "accountGeneratorRequestTimeout", defaults.account_generator_request_timeout, 0.001
        ),
        refresh_subscriptions_opts={**defaults.refresh_subscriptions_opts, **(refresh or {})},
        unsubscribe_throttling_interval_in_seconds=num(
            "unsubscribeThrottlingIntervalInSeconds", defaults.unsubscribe_throttling_interval_in_seconds
        ),
        keep_hash_trees=boolean("keepHashTrees", False),
        url=_url(raw.get("url")),
    )


def _url(value: Any) -> str | None:
    url = checks.text("opts.url", value, optional=True)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise checks.fail("opts.url", "must be an http(s) URL such as http://127.0.0.1:8080", url)
    return url.rstrip("/")


def _packet_logger(value: Any) -> dict[str, Any]:
    raw = checks.mapping("opts.packetLogger", value, optional=True) or {}
    checks.known_keys("opts.packetLogger", raw, _PACKET_LOGGER_KEYS)
    for key in ("enabled", "compressSpecifications", "compressPrices"):
        checks.flag(f"opts.packetLogger.{key}", raw.get(key), optional=True)
    for key in ("fileNumberLimit", "logFileSizeInHours"):
        checks.number(f"opts.packetLogger.{key}", raw.get(key), minimum=0, optional=True)
    return raw


def _throttler(value: Any) -> ThrottlerOpts:
    raw = checks.mapping("opts.synchronizationThrottler", value, optional=True) or {}
    checks.known_keys("opts.synchronizationThrottler", raw, _THROTTLER_KEYS)
    default = ThrottlerOpts()
    name = "opts.synchronizationThrottler."
    return ThrottlerOpts(
        max_concurrent_synchronizations=checks.integer(
            name + "maxConcurrentSynchronizations",
            raw.get("maxConcurrentSynchronizations", default.max_concurrent_synchronizations),
            minimum=1,
        ),
        queue_timeout_in_seconds=checks.number(
            name + "queueTimeoutInSeconds", raw.get("queueTimeoutInSeconds", default.queue_timeout_in_seconds), 0
        ),
        synchronization_timeout_in_seconds=checks.number(
            name + "synchronizationTimeoutInSeconds",
            raw.get("synchronizationTimeoutInSeconds", default.synchronization_timeout_in_seconds),
            0,
        ),
    )


def _retry(value: Any) -> RetryPolicy:
    raw = checks.mapping("opts.retryOpts", value, optional=True) or {}
    checks.known_keys("opts.retryOpts", raw, _RETRY_KEYS)
    default = RetryPolicy()
    name = "opts.retryOpts."
    retries = checks.integer(name + "retries", raw.get("retries", default.retries), minimum=0)
    min_delay = checks.number(name + "minDelayInSeconds", raw.get("minDelayInSeconds", default.min_delay_in_seconds), 0)
    max_delay = checks.number(name + "maxDelayInSeconds", raw.get("maxDelayInSeconds", default.max_delay_in_seconds), 0)
    if max_delay < min_delay:
        raise checks.fail(name + "maxDelayInSeconds", f"must be >= minDelayInSeconds ({min_delay})", max_delay)
    return RetryPolicy(
        retries=retries,
        min_delay_in_seconds=min_delay,
        max_delay_in_seconds=max_delay,
        long_running_request_timeout_in_minutes=checks.number(
            name + "longRunningRequestTimeoutInMinutes",
            raw.get("longRunningRequestTimeoutInMinutes", default.long_running_request_timeout_in_minutes),
            0,
        ),
        subscribe_cooldown_in_seconds=checks.number(
            name + "subscribeCooldownInSeconds",
            raw.get("subscribeCooldownInSeconds", default.subscribe_cooldown_in_seconds),
            0,
        ),
    )
