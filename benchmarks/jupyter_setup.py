"""What a Jupyter kernel or Voila server started for a benchmark or a browser test needs: a notebook file of
code cells, and an environment whose jupyter folders are private and whose kernels can import ``python_path``."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_notebook(path: Path, cells: list[str]) -> None:
    """Write a notebook (nbformat 4.5) of code ``cells``, outputs empty, to ``path``."""
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": code}
            for i, code in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook), encoding="utf-8")


def jupyter_env(base: Path, python_path: Path) -> dict[str, str]:
    """This process's environment with jupyter's config, runtime, data and IPython folders under ``base`` (nothing
    of the user's is read or written) and ``python_path`` first on ``PYTHONPATH``."""
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTER_DATA_DIR=str(base / "data"),
        IPYTHONDIR=str(base / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(python_path), env.get("PYTHONPATH", "")) if p),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env
