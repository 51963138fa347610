"""A missing optional dependency is an ImportError naming it and the ``pip install "mtdata[...]"`` that fixes it.

Each case runs in a fresh interpreter where the module is made unimportable (``sys.modules[name] = None``,
as Python does for a module that is not installed), so the test's own imports are untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Run with the module ``MISSING`` unimportable; prints the exception raised by ``ATTEMPT`` as JSON.
PROBE = """
import json, sys
sys.modules[MISSING] = None
import mtdata
try:
    ATTEMPT
except Exception as error:
    print(json.dumps({"type": type(error).__name__, "message": str(error), "name": getattr(error, "name", None)}))
else:
    print(json.dumps(None))
"""


def raised(missing: str, attempt: str) -> dict[str, str] | None:
    """What ``attempt`` raised in an interpreter where ``missing`` cannot be imported."""
    code = PROBE.replace("MISSING", repr(missing)).replace("ATTEMPT", attempt)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_session_panels_without_ipywidgets_say_which_extra_installs_them():
    attempt = """s = mtdata.connect(progress=False, sandbox={"start": "2026-11-18T12:00:00Z"})
    try:
        s.panel.ticker("EURUSD")
    finally:
        assert not s.closed and len(s.price("EURUSD")) == 1  # the session is unharmed
        s.close()"""
    error = raised("ipywidgets", attempt)
    assert error == {
        "type": "ImportError",
        "message": 'mtdata.live (the live panels) needs ipywidgets, which is not installed: '
        'pip install "mtdata[jupyter]"',
        "name": "ipywidgets",
    }


@pytest.mark.parametrize("missing", ["bokeh", "jupyter_bokeh"])
def test_live_panels_without_bokeh_say_which_extra_installs_them(missing: str):
    error = raised(missing, "import mtdata.live")
    assert error is not None and error["type"] == "ImportError" and error["name"] == missing
    assert error["message"].endswith(f'needs {missing}, which is not installed: pip install "mtdata[jupyter]"')


@pytest.mark.parametrize("attempt", ["mtdata.connect", "from mtdata import to_parquet"])
def test_the_notebook_layer_without_pandas_says_which_extra_installs_it(attempt: str):
    error = raised("pandas", attempt)
    assert error is not None and error["type"] == "ImportError" and error["name"] == "pandas"
    assert error["message"].endswith('needs pandas, which is not installed: pip install "mtdata[notebook]"')


def test_a_missing_core_dependency_is_not_passed_off_as_an_extra():
    error = raised("httpx", "mtdata.connect")  # a core dependency: no extra would fix it
    assert error is not None and error["type"] == "ModuleNotFoundError" and "pip install" not in error["message"]


def test_the_jupyter_extra_brings_the_panels_jupyterlab_and_voila():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    jupyter = " ".join(extras["jupyter"])
    assert "mtdata[live]" in jupyter and "jupyterlab" in jupyter and "voila" in jupyter
    live = " ".join(extras["live"])
    assert all(name in live for name in ("mtdata[notebook]", "bokeh", "ipywidgets", "jupyter_bokeh"))


@pytest.mark.parametrize(
    ("missing", "attempt"),
    [("dask", """s = mtdata.connect(progress=False, sandbox={"start": "2026-11-18T12:00:00Z"})
    try:
        s.candles("EURUSD", "1m", "2026-11-16", "2026-11-17", as_dask=True)
    finally:
        s.close()"""),
     ("distributed", "from mtdata.dask import cluster; cluster.client(None, 1).__enter__()")],
)  # fmt: skip
def test_the_dask_path_without_dask_says_which_extra_installs_it(missing: str, attempt: str):
    error = raised(missing, attempt)
    assert error is not None and error["type"] == "ImportError" and error["name"] == missing
    assert error["message"].endswith(f'needs {missing}, which is not installed: pip install "mtdata[dask]"')
