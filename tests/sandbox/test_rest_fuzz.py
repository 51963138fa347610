"""Property test: random paths, query strings, bodies and auth-token headers never break the REST API.

Whatever arrives (NaN, Infinity and integers past 64 bits included, tokens with non-ASCII characters or of up
to 32 KB, the fault routes too), the answer is never a 5xx, every 4xx carries a JSON body with ``error`` and
``message``, and the server still serves a healthy request afterwards.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtdata.sandbox import SandboxHandle

#: Routes with the methods they serve; ``{id}`` is mostly the sandbox's account (never deleted here).
ROUTES: tuple[tuple[str, str], ...] = (
    ("GET POST", "/users/current/accounts"),
    ("GET PUT", "/users/current/accounts/{id}"),
    ("DELETE", "/users/current/accounts/{x}"),
    ("POST", "/users/current/accounts/{id}/{action}"),
    ("GET POST", "/users/current/accounts/{id}/replicas"),
    ("GET PUT DELETE", "/users/current/accounts/{id}/replicas/{x}"),
    ("POST", "/users/current/accounts/{id}/replicas/{x}/{action}"),
    ("GET PUT DELETE", "/users/current/accounts/{id}/expert-advisors/{x}"),
    ("PUT", "/users/current/accounts/{id}/expert-advisors/{x}/file"),
    ("PUT", "/users/current/accounts/{id}/configuration-link"),
    ("GET", "/users/current/accounts/{id}/historical-market-data/symbols/{symbol}/timeframes/{x}/candles"),
    ("GET", "/users/current/accounts/{id}/historical-market-data/symbols/{symbol}/ticks"),
    ("GET POST", "/users/current/provisioning-profiles"),
    ("GET PUT DELETE", "/users/current/provisioning-profiles/{x}"),
    ("PUT", "/users/current/provisioning-profiles/{x}/{x}"),
    ("POST", "/users/current/provisioning-profiles/{x}/mt5-demo-accounts"),
    ("POST", "/users/current/narrow-down-auth-token"),
    ("GET", "/users/current/servers/mt-client-api"),
    ("GET", "/users/current/regions"),
    ("GET", "/hashing-ignored-field-lists"),
    ("GET", "/access-rule-manifest"),
    ("GET DELETE", "/sandbox/faults"),
    ("POST", "/sandbox/faults/{fault}"),
    ("GET POST", "/{x}"),
)
#: Fault routes (not ``restart``: the fuzz would restart the server under itself); cleared after each request.
FAULTS = ("delay", "rate-limit", "drop-sockets", "broker", "downgrade", "packets", "x")
ACTIONS = ("deploy", "undeploy", "redeploy", "increase-reliability", "enable-metastats-api", "x")
PARAMS = ("offset", "limit", "version", "type", "state", "connectionStatus", "query", "sortOrder", "region",
          "copyFactoryRoles", "startTime", "ttlInDays", "validity-in-hours", "status")  # fmt: skip
FIELDS = ("name", "server", "login", "password", "platform", "magic", "region", "type", "metadata", "tags",
          "period", "symbol", "preset", "balance", "leverage", "email", "serverName", "roles", "resources",
          "applications", "accessRules", "version", "brokerTimezone", "reliability", "seconds", "count",
          "retryAfterSeconds", "scope", "requestType", "accountId", "connected", "action", "updates",
          "unsubscriptions")  # fmt: skip

text = st.text(max_size=20)
#: Numbers no field takes (sent as NaN/Infinity tokens, which some JSON parsers accept).
odd_numbers = st.sampled_from([float("nan"), float("inf"), float("-inf"), 2**64, -(2**64), 2**63])
scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | text
    | odd_numbers
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
known_values = st.sampled_from(["0", "1", "1000", "-5", "true", "mt4", "DEPLOYED", "asc", "london", "EURUSD",
                                "2024-01-02T03:04:05.000Z", "1h", "", "x" * 300, "nan", "inf", "-Infinity",
                                str(2**64), "1e400", "all", "skip"])  # fmt: skip
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values | known_values, max_size=6),
    json_values,
    st.binary(max_size=64),
)


@st.composite
def tokens(draw: st.DrawFn, token: str) -> bytes:
    """The auth-token header: mostly the sandbox's token; else wrapped in non-ASCII, padded to up to 32 KB, or text."""
    shape = draw(st.sampled_from(["root"] * 6 + ["quoted", "accented", "long", "text"]))
    if shape == "quoted":
        return f"\u201c{token}\u201d".encode()
    if shape == "accented":
        return (token[:-1] + draw(st.sampled_from("\u00e9\u00df\u2603\U0001f600"))).encode()
    if shape == "long":
        return (token + "x" * draw(st.sampled_from([0, 9000, 30000]))).encode()
    if shape == "text":  # characters a header value may carry (control characters are an HTTP parser's 400)
        return draw(st.text(st.characters(min_codepoint=0x21, exclude_categories=("Cc", "Cs")), max_size=40)).encode()
    return token.encode()


@st.composite
def requests(draw: st.DrawFn, account_id: str, token: str) -> tuple[str, str, dict[str, Any], Any]:
    methods, route = draw(st.sampled_from(ROUTES))
    values = {
        "id": draw(text) if draw(st.integers(0, 5)) == 0 else account_id,
        "action": draw(st.sampled_from(ACTIONS)),
        "x": draw(text | st.sampled_from(["1m", "servers.dat", "default"])),
        "symbol": draw(st.sampled_from(["EURUSD", "GBPUSD"]) | text),
        "fault": draw(st.sampled_from(FAULTS)),
    }
    path = route.format(**{k: quote(v, safe="") or "_" for k, v in values.items()})
    method = draw(st.sampled_from(methods.split()) | st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    params = draw(st.lists(st.tuples(st.sampled_from(PARAMS), known_values | text), max_size=4))
    headers = {"auth-token": draw(tokens(token))}
    return method, path, {"params": params, "headers": headers}, draw(bodies)


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.method, response.request.url, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["error"], str) and isinstance(body["message"], str)


def test_random_requests_never_break_the_api(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(request=requests(sandbox.account_id, sandbox.token))
    def fuzz(request: tuple[str, str, dict[str, Any], Any]) -> None:
        method, path, options, body = request
        if isinstance(body, bytes):
            options["content"] = body
        elif body is not None:
            options["content"] = json.dumps(body)  # NaN and Infinity as their tokens
        check(rest.request(method, path, **options))
        if path.startswith("/sandbox/faults"):  # no delay or 429 outlives its request
            assert rest.delete("/sandbox/faults").status_code == 204

    fuzz()
    healthy = rest.get("/users/current/accounts", params={"limit": 10})
    assert healthy.status_code == 200 and isinstance(healthy.json(), list)
    assert rest.get("/users/current/servers/mt-client-api").status_code == 200
