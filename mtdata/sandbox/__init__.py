"""The embedded sandbox: a local MetaApi-compatible server over a simulated broker.

    >>> import mtdata.sandbox
    >>> with mtdata.sandbox.start() as sandbox:
    ...     print(sandbox.url, sandbox.account_id)

``start()`` runs the server on a private thread and returns a :class:`SandboxHandle`
with ``.url``, ``.token``, ``.account_id``, ``.stop()`` and ``.restart()``. From the
command line: ``mtdata sandbox [--port N] [--data-dir D] [--seed S] [--speed X]``.
"""

from __future__ import annotations

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
    **options: object,
) -> SandboxHandle:
    """Start a sandbox on a background thread; ``port=0`` picks a free port.

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
        **options,  # type: ignore[arg-type]
    )
    return SandboxHandle(config)


__all__ = ["ReplaySource", "SandboxConfig", "SandboxHandle", "SandboxServer", "start"]
