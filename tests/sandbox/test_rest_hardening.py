"""Every answer of the sandbox's HTTP application is the cloud's JSON error shape, engine.io's own refusals on /ws
included: integers past 64 bits, NaN and Infinity in the fault routes are ValidationErrors naming the field, and
headers up to 32 KB reach the application."""

from __future__ import annotations

import httpx
import pytest

from mtdata.sandbox import SandboxHandle

FAULTS = "/sandbox/faults"
HUGE = [2**64, -(2**64), 10**30, 2**200]
#: (fault route, a sound body, one field of it that takes a number or a string).
FIELDS = [
    ("/delay", {"seconds": 1, "count": 1}, "seconds"),
    ("/delay", {"seconds": 1, "count": 1}, "count"),
    ("/rate-limit", {"count": 1, "retryAfterSeconds": 1}, "count"),
    ("/rate-limit", {"count": 1, "retryAfterSeconds": 1}, "retryAfterSeconds"),
    ("/rate-limit", {"count": 1, "retryAfterSeconds": 1}, "type"),
    ("/packets", {"accountId": "<account>", "action": "skip"}, "count"),
    ("/broker", {"accountId": "<account>", "connected": True}, "connected"),
    ("/broker", {"accountId": "<account>", "connected": True}, "accountId"),
    ("/drop-sockets", {}, "accountId"),
    ("/downgrade", {"accountId": "<account>", "symbol": "EURUSD"}, "symbol"),
]


def structured(response: httpx.Response, status: int) -> dict:
    """The body of an answer in the cloud's error shape (JSON, ``id``, ``error``, ``message``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["id"], int) and isinstance(body["error"], str) and isinstance(body["message"], str)
    return body


@pytest.mark.parametrize("value", HUGE, ids=str)
@pytest.mark.parametrize(("path", "body", "field"), FIELDS, ids=[f"{p}:{f}" for p, _, f in FIELDS])
def test_fault_routes_refuse_huge_integers_naming_the_field(
    sandbox: SandboxHandle, rest: httpx.Client, path: str, body: dict, field: str, value: int
) -> None:
    body = {k: sandbox.account_id if v == "<account>" else v for k, v in body.items()}
    answer = structured(rest.post(FAULTS + path, json={**body, field: value}), 400)
    assert answer["error"] == "ValidationError"
    assert [d["parameter"] for d in answer["details"]] == [field]
    assert answer["details"][0]["value"] == str(value)  # echoed as text: no JSON encoder loses it
    assert rest.get(FAULTS).json()["delays"] == [] and rest.get(FAULTS).json()["rateLimits"] == []


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize("field", ["seconds", "count"])
def test_fault_routes_refuse_non_finite_numbers(rest: httpx.Client, raw: str, field: str) -> None:
    body = {"seconds": "1", "count": "1", field: raw}
    content = "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}"
    answer = structured(rest.post(FAULTS + "/delay", content=content), 400)
    assert [d["parameter"] for d in answer["details"]] == [field]
    assert rest.get(FAULTS).json()["delays"] == []


@pytest.mark.parametrize("size", [8 * 1024, 20 * 1024, 32 * 1024 - 64])
def test_headers_up_to_32_kb_get_the_applications_answer(sandbox: SandboxHandle, size: int) -> None:
    accounts = f"{sandbox.url}/users/current/accounts"
    long_token = sandbox.token + "x" * (size - len(sandbox.token))
    assert structured(httpx.get(accounts, headers={"auth-token": long_token}), 401)["error"] == "UnauthorizedError"
    padded = {"auth-token": sandbox.token, "x-padding": "p" * size}
    assert httpx.get(accounts, headers=padded).status_code == 200
    # a long request line (query string) as well: the application itself finds the query too long
    answer = httpx.get(accounts, headers={"auth-token": sandbox.token}, params={"query": "q" * (size - 200)})
    assert [d["parameter"] for d in structured(answer, 400)["details"]] == ["query"]


@pytest.mark.parametrize(
    ("method", "query", "status", "error"),
    [("GET", "EIO=9&transport=polling", 400, "ValidationError"),  # a protocol version engine.io does not speak
     ("GET", "EIO=3&transport=polling&sid=unknown", 400, "ValidationError"),
     ("GET", "EIO=3&transport=carrier-pigeon", 400, "ValidationError"),
     ("GET", "EIO=3&transport=polling&auth-token=forged", 401, "UnauthorizedError")],
)  # fmt: skip
def test_socket_endpoint_refusals_are_json_errors(
    sandbox: SandboxHandle, method: str, query: str, status: int, error: str
) -> None:
    """engine.io refuses these itself (in plain text); the answer is still the cloud's JSON error shape."""
    answer = structured(httpx.request(method, f"{sandbox.url}/ws/?{query}"), status)
    assert answer["error"] == error, answer
