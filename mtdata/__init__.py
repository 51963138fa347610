"""mtdata: MetaTrader 4/5 accounts in Jupyter through the MetaApi protocol.

    import mtdata
    session = mtdata.connect()            # no token: an embedded sandbox and its demo account
    session.candles("EURUSD", "1h")       # a DataFrame

The package has three layers (``docs/architecture.md`` draws them with the live panels and the CLI):
the embedded sandbox
(:mod:`mtdata.sandbox`), the client SDK (:mod:`mtdata.client`, re-exported here as
:class:`MetaApi`) and the notebook layer (:func:`connect`, :class:`Session`, :func:`df`,
the export helpers). The client (and its socket.io stack) and the notebook layer with its
heavy libraries (pandas, pyarrow, xarray) are imported on first use, so ``import mtdata`` stays
fast. Nothing here starts tasks or touches the network at import time. Scripts written for MetaQuotes'
``MetaTrader5`` package run on :mod:`mtdata.mt5` (``import mtdata.mt5 as mt5``), over the same sessions.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import errors
from .extras import needs

if TYPE_CHECKING:
    from .client import MetaApi
    from .frames import df, to_xarray
    from .io import read_csv, read_parquet, to_csv, to_parquet
    from .session import Session, connect, connect_async

__version__ = "0.1.0"

#: Public names imported on first use: name -> module.
_LAZY = {
    "MetaApi": "client",
    "connect": "session",
    "connect_async": "session",
    "Session": "session",
    "df": "frames",
    "to_xarray": "frames",
    "to_csv": "io",
    "read_csv": "io",
    "to_parquet": "io",
    "read_parquet": "io",
}

__all__ = ["MetaApi", "Session", "__version__", "connect", "connect_async", "df", "errors", "read_csv",
           "read_parquet", "to_csv", "to_parquet", "to_xarray"]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mtdata' has no attribute {name!r}")
    with needs(f"mtdata.{name}"):  # the notebook layer's optional dependencies: say which extra installs them
        value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
