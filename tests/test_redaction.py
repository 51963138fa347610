"""No log record of any library shows a whole token: the scrubbing rules, then real clients and a real sandbox
at DEBUG with a basicConfig-like root handler capturing every record of every logger."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import socketio

import mtdata
from mtdata.cli import RawStream
from mtdata.redaction import protect, redact, scrub
from mtdata.sandbox import SandboxHandle

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJfaWQiOiJ1c2VyIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(
    "text",
    [
        f"GET http://127.0.0.1:1/ws/?auth-token={JWT}&clientId=0.1&protocol=3",
        f"headers {{'auth-token': '{JWT}', 'Client-Id': '0.1'}}",
        f"[(b'auth-token', b'{JWT}')]",
        f"auth-token: {JWT}\r\nHost: x",
        f"a token of no header: {JWT}.",
    ],
)
def test_scrub_redacts_unregistered_tokens_wherever_they_stand(text: str) -> None:
    clean = scrub(text)
    assert JWT not in clean and redact(JWT) in clean
    assert scrub(clean) == clean  # a redacted token is left as it is


def test_scrub_redacts_any_auth_token_value_and_registered_tokens() -> None:
    assert scrub("?auth-token=not-a-jwt&protocol=3") == f"?auth-token={redact('not-a-jwt')}&protocol=3"
    secret = "an account token, not a JWT"
    protect(secret)
    assert scrub(f"said {secret}!") == f"said {redact(secret)}!"
    assert scrub("please provide the auth-token header") == "please provide the auth-token header"
    protect("tok")  # too short to replace wherever it occurs: messages stay readable
    assert scrub("a token of ?auth-token=tok") == f"a token of ?auth-token={redact('tok')}"


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, formatted by a root handler as ``basicConfig`` would install it.

    Loggers that libraries quieted (socketio sets ERROR when the root had no handler) are opened for the test.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(logger, logger.level, logger.disabled) for logger in [*loggers, root]]
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
        logger.disabled = False
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


async def _bare_socket(url: str, token: str) -> None:
    """Connect and disconnect a plain python-socketio client, as the official SDK would."""
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"{url}?auth-token={token}&protocol=3", socketio_path="ws")
    await client.disconnect()


def test_records_of_loggers_made_later_with_args_exceptions_and_stacks(logged: io.StringIO) -> None:
    token = "eyJ" + "x" * 20 + ".eyJ" + "y" * 30 + ".signature-of-this-test"
    protect(token)
    later = logging.getLogger("a.library.made.after.protect")
    later.debug("connecting to %s", f"ws://h/ws/?auth-token={token}")
    later.info("headers %r", {"auth-token": token})
    later.warning("bad format %d", token)  # the handler reports the format error: still no token
    try:
        raise ConnectionError(f"refused: ws://h/ws/?auth-token={token}")
    except ConnectionError:
        later.exception("failed")
    later.error("stack", stack_info=True, extra={"note": "x"})
    text = logged.getvalue()
    assert token not in text
    assert text.count(redact(token)) >= 4 and "ConnectionError: refused" in text


def test_a_session_at_debug_logs_no_token(logged: io.StringIO,
                                          mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> None:
    """Connect, synchronize, stream, trade and close with mtdata.connect, the CLI's raw stream and a narrowed token
    on a bare python-socketio client (a token no mtdata object was given), against a sandbox in this process."""
    box = mtdata_sandbox_factory()
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session:
        assert len(session.price("BTCUSD")) == 1
        opened = session.buy("BTCUSD", 0.01)
        _wait(lambda: opened.position_id in set(session.positions()["id"]))
        assert session.close_position(opened.position_id).code == 10009
        assert box.token not in repr(session) + repr(session.api) + repr(box)
    with httpx.Client(base_url=box.url, headers={"auth-token": box.token}) as rest:
        narrowed = rest.post("/users/current/narrow-down-auth-token", json={"roles": ["reader"]}).json()["token"]

    async def raw() -> None:
        stream = RawStream(box.url, box.token, box.account_id)
        await stream.open()
        await stream.subscribe("BTCUSD")
        await stream.close()
        await _bare_socket(box.url, narrowed)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await _bare_socket(box.url, narrowed[:-4] + "AAAA")  # a forged signature: refused, logged

    asyncio.run(raw())
    text = logged.getvalue()
    for token in (box.token, narrowed, narrowed[:-4] + "AAAA"):
        assert token not in text
    assert f"auth-token={redact(box.token)}" in text and f"auth-token={redact(narrowed)}" in text
    names = {line.split(" ", 1)[0] for line in text.splitlines()}
    assert {"engineio.client", "socketio.client", "engineio.server", "socketio.server", "httpx"} <= names
