"""LiveFeed: one listener, shared reference-counted subscriptions, close() leaving nothing behind (real sandbox)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import mtdata
from mtdata.live import LiveFeed, Stream
from mtdata.live.feed import ACCOUNT, AccountEvent

#: A weekday market clock (FX quotes stream) at 60 simulated seconds per second (a 1m candle closes each second).
FAST_MARKET = {"start": "2026-11-18T12:00:00Z", "speed": 60}


@pytest.fixture(scope="module")
def session() -> Iterator[mtdata.Session]:
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as opened:
        yield opened


def wait_for(condition: Any, timeout: float = 30) -> None:
    """Poll ``condition`` until true (generous timeout: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def kinds(session: mtdata.Session, symbol: str) -> list[tuple[str, str | None]]:
    """The market-data subscriptions the connection holds for ``symbol``."""
    return sorted((s["type"], s.get("timeframe")) for s in session.connection().subscriptions(symbol))


def listeners_of(session: mtdata.Session) -> list[Any]:
    return [listener for listener in session.connection()._user_listeners if isinstance(listener, LiveFeed)]


def test_two_sinks_on_one_stream_subscribe_once_and_the_last_detach_unsubscribes(session: mtdata.Session):
    feed = LiveFeed(session)
    quotes = Stream("quotes", "GBPUSD")
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    threads: set[int] = set()

    def sink_one(price: dict[str, Any]) -> None:
        threads.add(threading.get_ident())
        first.append(price)

    feed.attach(quotes, sink_one)
    feed.attach(quotes, second.append)
    assert feed.streams == {quotes: 2} and feed.owned == {quotes}
    assert kinds(session, "GBPUSD") == [("quotes", None)]
    assert len(listeners_of(session)) == 1
    wait_for(lambda: len(first) >= 3 and len(second) >= 3)
    assert {p["symbol"] for p in first} == {"GBPUSD"}
    assert threads == {session._loop._thread.ident}  # sinks run on the session's loop thread

    feed.detach(quotes, sink_one)  # one left: still subscribed, still fed
    assert kinds(session, "GBPUSD") == [("quotes", None)]
    seen = len(second)
    wait_for(lambda: len(second) > seen)

    feed.detach(quotes, second.append)  # the last: unsubscribed
    assert feed.streams == {} and feed.owned == set()
    assert kinds(session, "GBPUSD") == []
    feed.close()
    assert not feed.listening and listeners_of(session) == []


def test_a_subscription_held_before_is_borrowed_and_kept(session: mtdata.Session):
    connection = session.connection()
    session.run(connection.subscribe_to_market_data("USDJPY"))
    feed = LiveFeed(session)
    got: list[Any] = []
    feed.attach(Stream("quotes", "USDJPY"), got.append)
    feed.attach(Stream("candles", "USDJPY", "1m"), got.append)
    assert feed.owned == {Stream("candles", "USDJPY", "1m")}
    assert kinds(session, "USDJPY") == [("candles", "1m"), ("quotes", None)]
    wait_for(lambda: any("timeframe" in g for g in got) and any("bid" in g for g in got))
    feed.close()
    assert kinds(session, "USDJPY") == [("quotes", None)]  # someone else's subscription stays
    assert listeners_of(session) == []
    session.run(connection.unsubscribe_from_market_data("USDJPY"))


def test_candles_ticks_and_books_reach_their_sinks(session: mtdata.Session):
    feed = LiveFeed(session)
    got: dict[str, list[Any]] = {"candles": [], "ticks": [], "marketDepth": []}
    for kind, stream in (
        ("candles", Stream("candles", "EURUSD", "1m")),
        ("ticks", Stream("ticks", "EURUSD")),
        ("marketDepth", Stream("marketDepth", "EURUSD")),
    ):
        feed.attach(stream, got[kind].append)
    wait_for(lambda: all(len(v) >= 2 for v in got.values()))
    assert {c["timeframe"] for c in got["candles"]} == {"1m"}
    assert all(isinstance(batch, list) and batch[0]["symbol"] == "EURUSD" for batch in got["ticks"])
    assert got["marketDepth"][0]["book"]
    feed.close()
    assert kinds(session, "EURUSD") == []
    feed.close()  # idempotent


def test_a_failed_subscription_leaves_no_sink(session: mtdata.Session):
    feed = LiveFeed(session)
    with pytest.raises(mtdata.errors.ValidationException) as caught:
        feed.attach(Stream("quotes", "NOSUCH"), print)
    assert caught.value.details[0]["parameter"] == "symbol"
    assert feed.streams == {}
    feed.close()


def test_the_account_stream_tells_changes_subscribes_nothing_and_copies_the_state(session: mtdata.Session):
    feed = LiveFeed(session)
    events: list[AccountEvent] = []
    threads: set[int] = set()

    def sink(event: AccountEvent) -> None:
        threads.add(threading.get_ident())
        events.append(event)

    subscribed = session.connection().subscribed_symbols()
    feed.attach(ACCOUNT, sink)
    assert feed.streams == {ACCOUNT: 1} and feed.owned == set()
    assert session.connection().subscribed_symbols() == subscribed  # no market data for the account stream
    opened = session.buy("EURUSD", 0.1).position_id
    wait_for(lambda: {"positions", "account"} <= {e.kind for e in events})
    wait_for(lambda: any(e.kind == "prices" and any(p["symbol"] == "EURUSD" for p in e.prices) for e in events))
    assert threads == {session._loop._thread.ident}

    positions = feed.account_state("positions")
    assert [p["id"] for p in positions] == [opened]
    positions[0]["volume"] = 99.0  # a copy: the terminal state is untouched
    assert feed.account_state("positions")[0]["volume"] == 0.1
    assert feed.account_state("account")["balance"] > 0 and feed.account_state("orders") == []
    with pytest.raises(mtdata.errors.ValidationException) as caught:
        feed.account_state("deals")
    assert caught.value.details[0]["parameter"] == "kind"

    seen = len(events)
    session.close_position(opened)
    wait_for(lambda: any(e.kind == "positions" for e in events[seen:]))
    feed.detach(ACCOUNT, sink)
    assert feed.streams == {}
    feed.close()
    if "EURUSD" not in subscribed:  # s.buy subscribed it (the order helpers need its price)
        session.run(session.connection().unsubscribe_from_market_data("EURUSD"))
    assert feed.account_state("positions") == [] and feed.account_state("account") is None


def test_state_copy_is_taken_on_the_session_loop_once_per_burst(session: mtdata.Session):
    feed = LiveFeed(session)
    feed.attach(ACCOUNT, print)
    threads: list[int] = []
    copy = feed.state_copy("account", 50, lambda: threads.append(threading.get_ident()))
    assert copy.value is None and copy.copies == 0

    async def burst() -> None:
        """A burst of events, poking in one callback on the session's loop as the feed's account sinks do (poked
        from this thread, a preempted burst could span two intervals and rightly take a third copy)."""
        for _ in range(100):
            copy.poke()

    session.run(burst())
    wait_for(lambda: copy.copies >= 1 and copy.value is not None)
    time.sleep(0.2)
    assert copy.copies == 1 and copy.value["balance"] > 0  # one copy after the burst, none while nothing changed
    assert set(threads) == {session._loop._thread.ident}
    copy.value["balance"] = -1.0  # a copy: the terminal state is untouched
    copy.poke()
    wait_for(lambda: copy.value["balance"] > 0)
    copy.close()
    copy.close()  # idempotent
    taken = copy.copies
    copy.poke()
    time.sleep(0.1)
    assert copy.copies == taken
    positions = feed.state_copy("positions", 10, lambda: None)
    assert positions.value == []
    positions.close()
    with pytest.raises(mtdata.errors.ValidationException) as caught:
        feed.state_copy("deals", 10, lambda: None)
    assert caught.value.details[0]["parameter"] == "kind"
    feed.close()


def test_account_state_waits_a_bounded_time_for_a_busy_loop(session: mtdata.Session):
    feed = LiveFeed(session)
    feed.attach(ACCOUNT, print)
    started, release = threading.Event(), threading.Event()

    async def busy() -> None:
        started.set()
        release.wait(30)  # blocks the session's loop, as a stuck callback would

    async def on_the_loop() -> Any:
        return feed.account_state("account")  # answered at once: no round trip to itself

    blocked = threading.Thread(target=session.run, args=(busy(),))
    blocked.start()
    started.wait(30)
    try:
        with pytest.raises(TimeoutError):
            feed.account_state("positions", timeout=0.2)
    finally:
        release.set()
        blocked.join()
    assert session.run(on_the_loop())["balance"] > 0
    feed.close()
