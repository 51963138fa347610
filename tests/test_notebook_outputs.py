"""The notebooks carry what they show (``tools/run_notebooks.py`` writes it): GitHub and the documentation site,
which renders them without running them, show a reader the tables, figures and results of one Run All.

Checked on the committed files: the outputs come from one top-to-bottom run, every cell ending in an expression
that is not a call shows its value, and no output holds an error, a token, a path of this machine, or what only a
running kernel can draw (BokehJS's loader, a widget's view).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = load_tool()


def shows_a_value(source: str) -> bool:
    """Whether a cell's last statement is an expression whose value Jupyter displays (not a call, which may give
    None, and not silenced by a trailing ``;``)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    body = ast.parse(code).body
    return bool(body) and isinstance(body[-1], ast.Expr) and not isinstance(body[-1].value, (ast.Call, ast.Await))\
        and not code.rstrip().endswith(";")  # fmt: skip


def missing_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """What a committed notebook lacks or must not hold (one line each; empty when it is as run)."""
    problems = [*TOOL.leaks(notebook)]
    counts = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        counts.append(cell.execution_count)
        if shows_a_value(cell.source) and not cell.outputs:
            problems.append(f"cell {number} ends in an expression but shows nothing: not run?")
        for output in cell.outputs:
            if output.output_type == "error" or (output.get("name") == "stderr" and "Traceback" in output.text):
                problems.append(f"cell {number} failed")
            live = set(output.get("data", {})) & set(TOOL.LIVE_ONLY)
            if live:
                problems.append(f"cell {number} holds {sorted(live)}, drawn only by a running kernel")
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts {counts}: not one Run All from the top")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_each_notebook_keeps_the_outputs_of_one_run(path: Path) -> None:
    assert missing_outputs(nbformat.read(path, as_version=4)) == []


def test_a_notebook_not_run_or_leaking_is_reported() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1\nx"), nbformat.v4.new_code_cell("print('hi')"),
                      nbformat.v4.new_code_cell("1 / 0")]  # fmt: skip
    problems = missing_outputs(notebook)
    assert "cell 0 ends in an expression but shows nothing: not run?" in problems
    assert any(problem.startswith("execution counts [None, None, None]") for problem in problems)

    for count, cell in enumerate(notebook.cells, 1):
        cell.execution_count = count
    notebook.cells[0].outputs = [nbformat.v4.new_output(
        "display_data", {"text/plain": "1", "application/vnd.jupyter.widget-view+json": {"model_id": "m"}})]
    leaked = "token eyJhbGciOiJIUzI1.eyJzdWIiOiIx"
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=leaked)]
    notebook.cells[2].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="", traceback=[])]
    assert missing_outputs(notebook) == [
        "cell 1: " + TOOL.SECRET.pattern + " in its output",
        "cell 0 holds ['application/vnd.jupyter.widget-view+json'], drawn only by a running kernel",
        "cell 2 failed",
    ]


def test_the_tool_keeps_what_a_page_can_show(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    notebook.cells = [nbformat.v4.new_code_cell("panel", execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", {"application/javascript": "load()",
                                                "application/vnd.bokehjs_load.v0+json": ""}),
        nbformat.v4.new_output("execute_result", {"text/plain": "<TickerPanel 'ticker EURUSD' live>",
                                                  "application/vnd.jupyter.widget-view+json": {"model_id": "m"}},
                               execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text="printed"),
    ])]  # fmt: skip
    (tmp_path / "1.png").write_bytes(b"a picture")  # what the run's last cell drew of the panel shown by cell 1
    TOOL.add_pictures(notebook, tmp_path)
    TOOL.keep_static(notebook)
    assert "widgets" not in notebook.metadata
    assert [dict(output.get("data", {})) for output in notebook.cells[0].outputs] == [
        {"text/plain": "<TickerPanel 'ticker EURUSD' live>", "image/png": "YSBwaWN0dXJl"}, {}]
    assert TOOL.leaks(nbformat.from_dict({"cells": [{"outputs": [{"text": "at /tmp/x and /home/me"}]}]})) == [
        "cell 0: " + TOOL.MACHINE_PATH.pattern + " in its output"]
