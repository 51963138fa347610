"""The embedded sandbox: a local MetaApi-compatible server over a simulated broker.

    >>> import mtdata.sandbox
    >>> with mtdata.sandbox.start() as sandbox:
    ...     print(sandbox.url, sandbox.account_id)

``start()`` runs the server on a private thread and returns a :class:`SandboxHandle`
with ``.url``, ``.token``, ``.account_id``, ``.stop()`` and ``.restart()``. From the
command line: ``mtdata sandbox [--port N] [--data-dir D] [--seed S] [--speed X]``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .config import ReplaySource, SandboxConfig
from .server import SandboxHandle, SandboxServer


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | Path | None = None,
    seed: int = 0,
    speed: float = 1.0,
    replay: dict[str, str | Path] | None = None,
    start: datetime | str | None = None,
    **options: object,
) -> SandboxHandle:
    """Start a sandbox on a background thread; ``port=0`` picks a free port.

    ``start`` pins the simulated market clock's starting time (a tz-aware datetime or an
    ISO string; default: now), e.g. a weekday so FX quotes stream on a weekend too.
    ``replay`` maps symbols to CSV/Parquet files of ticks or M1 candles played instead
    of the simulated prices. Other keyword options are fields of :class:`SandboxConfig`.
    """
    sources = tuple(ReplaySource(symbol, Path(path)) for symbol, path in (replay or {}).items())
    config = SandboxConfig(
        host=host,
        port=port,
        data_dir=Path(data_dir) if data_dir is not None else None,
        seed=seed,
        speed=speed,
        replay=sources,
        start_ms=_epoch_ms(start),
        **options,  # type: ignore[arg-type]
    )
    return SandboxHandle(config)


def _epoch_ms(value: datetime | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC), e.g. '2026-11-18T12:00:00Z'")
    return int(value.timestamp() * 1000)


__all__ = ["ReplaySource", "SandboxConfig", "SandboxHandle", "SandboxServer", "start"]
