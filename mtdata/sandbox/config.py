"""Configuration of one sandbox server: where it listens, where it keeps data, how its market runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ReplaySource:
    """User data replayed for one symbol instead of the simulated process (CSV or Parquet)."""

    symbol: str  #: The symbol whose prices come from the file.
    path: Path  #: The CSV or Parquet file of ticks or M1 candles (the columns tell which).


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of a sandbox server; every field has a default that suits tests and notebooks."""

    host: str = "127.0.0.1"  #: The address the server listens on.
    port: int = 0  #: The port it listens on; 0 takes a free one (``SandboxServer.port`` tells which).
    #: The directory of the sandbox's database; None: a fresh temporary directory removed when the server stops.
    data_dir: Path | None = None
    seed: int = 0  #: Seed of the simulated prices: the same seed gives the same market.
    speed: float = 1.0  #: Simulated seconds per wall-clock second for live prices.
    #: The simulated clock's starting time, in ms since the epoch; None: the wall clock. Pin it e.g. to a weekday
    #: so that FX streams even when the sandbox runs on a weekend.
    start_ms: int | None = None
    deploy_delay: float = 0.5  #: Seconds DEPLOYING / UNDEPLOYING last before the target state.
    status_interval: float = 10.0  #: Seconds between ``status`` packets per connected stream (< 60).
    region: str = "vint-hill"  #: The region of the accounts the sandbox makes, and the one it reports.
    #: Symbols whose prices are replayed from user files instead of simulated (none by default).
    replay: tuple[ReplaySource, ...] = field(default_factory=tuple)
    commission_per_lot: float = 0.0  #: What the broker charges per lot of every deal, in the account currency.
    #: The most trades per second each account may make (0: unlimited); faster ones are refused with
    #: ``TRADE_RETCODE_TOO_MANY_REQUESTS`` (10024).
    max_trades_per_second: float = 0.0
    #: ``"ny"`` ("New York close": UTC+2, UTC+3 while the US is on daylight saving, so every broker day starts
    #: at 17:00 New York time and FX weeks have five daily candles) or ``"eu"`` (UTC+2, UTC+3 in EU summer time).
    broker_clock: str = "ny"
