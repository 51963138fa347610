"""The optional dependencies and the ``pip install "mtdata[...]"`` extra that brings each.

``import mtdata`` and the client SDK need only the core dependencies; the notebook layer (pandas, xarray …)
and the live panels (ipywidgets, Bokeh …) come with extras. Importing a part whose extra is missing raises
an :class:`ImportError` saying what is missing and the command that installs it, instead of a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: The extras suggested: ``notebook`` (DataFrames, export), ``jupyter`` (that, the live panels, JupyterLab
#: and Voila: what the README installs) and ``dask`` (downloads and exports on a Dask cluster).
NOTEBOOK, JUPYTER, DASK = "notebook", "jupyter", "dask"

#: Top-level module of an optional dependency -> the extra to suggest (``jupyter`` for the panels: installed
#: without JupyterLab, they would have nowhere to show).
EXTRA_OF = {
    "pandas": NOTEBOOK,
    "pyarrow": NOTEBOOK,
    "xarray": NOTEBOOK,
    "tqdm": NOTEBOOK,
    "ipywidgets": JUPYTER,
    "bokeh": JUPYTER,
    "jupyter_bokeh": JUPYTER,
    "dask": DASK,
    "distributed": DASK,
}


def install_command(extra: str) -> str:
    """The command that installs ``extra``."""
    return f'pip install "mtdata[{extra}]"'


@contextmanager
def needs(what: str) -> Iterator[None]:
    """Around the imports of ``what`` (e.g. ``"mtdata.live (the live panels)"``): a missing optional dependency
    becomes an ImportError naming it and the ``pip install`` that fixes it; other import errors pass unchanged."""
    try:
        yield
    except ModuleNotFoundError as error:
        module = (error.name or "").partition(".")[0]
        extra = EXTRA_OF.get(module)
        if extra is None:
            raise
        message = f"{what} needs {module}, which is not installed: {install_command(extra)}"
        raise ImportError(message, name=module) from error


__all__ = ["DASK", "EXTRA_OF", "JUPYTER", "NOTEBOOK", "install_command", "needs"]
