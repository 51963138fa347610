"""Run the tutorial notebooks in place against the embedded sandbox and keep what they show.

    .venv/bin/python tools/run_notebooks.py                 # every notebooks/*.ipynb
    .venv/bin/python tools/run_notebooks.py notebooks/01_quickstart.ipynb

The committed outputs are what a reader sees before running anything: on GitHub, and on the documentation site,
which renders the notebooks without executing them. Each notebook runs from ``notebooks/`` in a fresh kernel,
with no ``METAAPI_*`` or ``MTDATA_SANDBOX_*`` variable, so it starts its own sandbox on the weekday it pins.
A live panel a cell shows keeps, instead of its widget, a picture of it at the end of the run (its
``snapshot``, drawn by Chromium) above its one-line repr. A notebook whose run raises, or whose outputs hold a
token or a path of this machine, is left as it was.
``tests/test_notebook_outputs.py`` checks the committed files.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: A JSON Web Token (every MetaApi token is one), and the start of an absolute path of a home or temporary folder.
SECRET = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}")
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:home|root|tmp|work|Users|var/folders)/")
CELL_TIMEOUT = 300
#: Outputs only a running kernel can use: BokehJS's loader (4 MB of script) and live widgets' views (without a
#: kernel a page shows "model not found" for them); their text/plain line stays.
LIVE_ONLY = ("application/javascript", "application/vnd.bokehjs_load.v0+json", "application/vnd.bokehjs_exec.v0+json",
             "application/vnd.jupyter.widget-view+json")


#: Run as a last cell (then removed): every live panel a cell showed, still open, draws itself to a PNG named by
#: that cell's execution count.
PICTURES = """\
from pathlib import Path as __Path
for __count, __shown in Out.items():
    if hasattr(__shown, "snapshot") and not __shown.closed:
        __shown.snapshot(__Path({folder!r}) / f"{{__count}}.png")
"""


def leaks(notebook: nbformat.NotebookNode) -> list[str]:
    """What an output of ``notebook`` must not show: tokens and paths of this machine (one line each)."""
    found = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", ()):
            text = json.dumps(output)
            for pattern in (SECRET, MACHINE_PATH):
                if pattern.search(text):
                    found.append(f"cell {number}: {pattern.pattern} in its output")
    return found


def keep_static(notebook: nbformat.NotebookNode) -> None:
    """Drop from ``notebook``'s outputs what only a running kernel can show (:data:`LIVE_ONLY`), and the outputs
    left empty."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            for mime in LIVE_ONLY:
                output.get("data", {}).pop(mime, None)
            if output.get("data", True):  # a stream or an error has no data; a display with none left goes
                kept.append(output)
        cell.outputs = kept


def add_pictures(notebook: nbformat.NotebookNode, folder: Path) -> None:
    """Give each cell whose result ``folder`` holds a picture of (``{execution count}.png``) that picture."""
    for cell in notebook.cells:
        picture = folder / f"{cell.get('execution_count')}.png"
        if cell.cell_type != "code" or not picture.exists():
            continue
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.data["image/png"] = base64.b64encode(picture.read_bytes()).decode()


def run(path: Path) -> None:
    """Execute ``path`` in a fresh kernel and write it back with its outputs (or raise, leaving it unchanged)."""
    notebook = nbformat.read(path, as_version=4)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("METAAPI_", "MTDATA_SANDBOX_", "MTDATA_ACCOUNT"))}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mtdata-notebook-") as scratch:
        env["MPLCONFIGDIR"] = scratch
        notebook.cells.append(nbformat.v4.new_code_cell(PICTURES.format(folder=scratch)))
        client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})  # fmt: skip
        client.execute(env=env)
        notebook.cells.pop()
        add_pictures(notebook, Path(scratch))
    keep_static(notebook)
    problems = leaks(notebook)
    if problems:
        raise RuntimeError(f"{path.name}: not written, its outputs would show " + "; ".join(problems))
    nbformat.write(notebook, path)


def main(arguments: list[str]) -> int:
    paths = [Path(name).resolve() for name in arguments] or sorted(NOTEBOOKS.glob("*.ipynb"))
    failed = 0
    for path in paths:
        try:
            run(path)
            print(f"{path.name}: run, outputs kept")
        except Exception as error:  # one notebook's failure must not stop the others
            failed += 1
            print(f"{path.name}: FAILED, left as it was: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
