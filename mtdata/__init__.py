"""mtdata: MetaTrader 4/5 accounts in Jupyter through the MetaApi protocol.

The package has three layers (see ``../shared/design.md``): the embedded sandbox
(:mod:`mtdata.sandbox`), the client SDK and the notebook layer. Nothing here starts
tasks or touches the network at import time.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
