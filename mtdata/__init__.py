"""mtdata: MetaTrader 4/5 accounts in Jupyter through the MetaApi protocol.

The package has three layers (see ``../shared/design.md``): the embedded sandbox
(:mod:`mtdata.sandbox`), the client SDK (:mod:`mtdata.client`, re-exported here as
:class:`MetaApi`) and the notebook layer (to come). Nothing here starts tasks or touches
the network at import time.
"""

from . import errors
from .client import MetaApi

__version__ = "0.1.0"

__all__ = ["MetaApi", "__version__", "errors"]
