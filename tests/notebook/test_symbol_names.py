"""Symbol names as typed, and the download bar (issue 16 item 10): ``eurusd`` is EURUSD, a typo gets the closest
names and no URL or account id, and the progress bar's total is known from the start."""

from __future__ import annotations

import pytest

from mtdata import arguments, candle_pages, download
from mtdata.session import Session
from mtdata.symbol_names import UnknownSymbol, closest, resolve


def test_lower_case_names_are_the_accounts_symbols(session: Session):
    candles = session.candles(["eurusd", "GBPUSD"], "1h", limit=3)
    assert sorted(candles["symbol"].unique()) == ["EURUSD", "GBPUSD"] and len(candles) == 6
    ticks = session.ticks("eurusd", "2026-11-18T08:00:00Z", "2026-11-18T08:05:00Z")
    assert set(ticks["symbol"]) == {"EURUSD"} and len(ticks) > 0
    assert list(session.price("eurusd")["symbol"]) == ["EURUSD"]
    assert set(session.book("eurusd")["symbol"]) == {"EURUSD"}


@pytest.mark.parametrize("call", ["candles", "ticks", "price", "book"])
def test_a_typo_is_refused_with_the_closest_names_and_no_url_or_account(session: Session, call: str):
    args = {"candles": ("EURUSDX", "1h"), "ticks": ("EURUSDX", "2026-11-18T08:00:00Z")}.get(call, ("EURUSDX",))
    with pytest.raises(UnknownSymbol) as caught:
        getattr(session, call)(*args)
    text = str(caught.value)
    assert "did you mean EURUSD" in text and caught.value.suggestions[0] == "EURUSD"
    assert session.metatrader_account.id not in text and "http" not in text and "Request" not in text
    assert caught.value.details[0]["parameter"] in ("symbol", "symbols")


def test_resolve_needs_one_match():
    assert resolve("symbol", "eurusd", ["EURUSD", "GBPUSD"]) == "EURUSD"
    with pytest.raises(UnknownSymbol, match=r"did you mean EURUSD\.m, EURUSD\.M"):
        resolve("symbol", "eurusd.m", ["EURUSD.m", "EURUSD.M"])  # two spellings: ambiguous, refused
    assert closest("QQQ", ["EURUSD"]) == []
    assert "did you mean" not in str(UnknownSymbol("symbol", "QQQ", ["EURUSD"]))


def test_the_progress_bar_total_does_not_grow_while_pages_arrive(session: Session, monkeypatch: pytest.MonkeyPatch):
    totals: list[int | None] = []
    done = download.Progress.done

    def counting(progress: download.Progress, pages: int = 1) -> None:
        totals.append(progress.total)
        done(progress, pages)

    monkeypatch.setattr(download.Progress, "done", counting)
    monkeypatch.setattr(session, "_progress", True)
    frame = session.candles(["EURUSD", "GBPUSD", "USDJPY"], "1m", start="2026-11-09", end="2026-11-14")
    assert len(frame) > 3 * 4 * 1400
    expected = 3 * candle_pages.page_count("1m", arguments.moment("start", "2026-11-09"),
                                       arguments.moment("end", "2026-11-14"), None)  # fmt: skip
    assert totals and set(totals) == {expected}  # set before the first page, never moved
