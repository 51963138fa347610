"""Configuration of one sandbox server: where it listens, where it keeps data, how its market runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ReplaySource:
    """User data replayed for one symbol instead of the simulated process (CSV or Parquet)."""

    symbol: str
    path: Path


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of a sandbox server; every field has a default that suits tests and notebooks.

    ``data_dir`` None means a fresh temporary directory removed when the server stops.
    ``speed`` is simulated seconds per wall-clock second for live prices; ``start_ms`` pins
    the simulated clock's starting time (epoch ms; None = the wall clock), e.g. a weekday
    so that FX streams even when the sandbox runs on a weekend.
    ``deploy_delay`` is how long DEPLOYING/UNDEPLOYING last before the target state.
    ``status_interval`` is the period of ``status`` packets per connected stream (< 60 s).
    ``commission_per_lot`` is what the broker charges per lot of every deal, in the account currency.
    ``max_trades_per_second`` paces each account's trades (0: unlimited); faster ones are refused with
    ``TRADE_RETCODE_TOO_MANY_REQUESTS`` (10024).
    ``broker_clock`` is ``"ny"`` ("New York close": UTC+2, UTC+3 while the US is on daylight saving, so
    every broker day starts at 17:00 New York time and FX weeks have five daily candles) or ``"eu"``
    (UTC+2, UTC+3 in EU summer time).
    """

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None
    seed: int = 0
    speed: float = 1.0
    start_ms: int | None = None
    deploy_delay: float = 0.5
    status_interval: float = 10.0
    region: str = "vint-hill"
    replay: tuple[ReplaySource, ...] = field(default_factory=tuple)
    commission_per_lot: float = 0.0
    max_trades_per_second: float = 0.0
    broker_clock: str = "ny"
