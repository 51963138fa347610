"""The tutorials' nbval markers are where nbval reads them: a comment on a line of its own.

nbval only honours ``# NBVAL_CHECK_OUTPUT`` (and its other markers) on a line that starts with ``#``; a marker
written as a trailing comment (``df.dtypes  # NBVAL_CHECK_OUTPUT``) is silently ignored, so the cell's output
is never compared and its check cannot fail. Every line of a code cell naming an ``NBVAL_`` marker must be
one nbval itself recognises.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbval.plugin import find_comment_markers

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def unread_markers(source: str) -> list[str]:
    """The lines of a cell's source that name an NBVAL_ marker nbval does not read."""
    return [line for line in source.splitlines() if "NBVAL_" in line and not list(find_comment_markers(line))]


def test_a_trailing_or_misspelt_marker_is_reported() -> None:
    source = 'df.dtypes  # NBVAL_CHECK_OUTPUT\n# NBVAL_CHECK_OUTPUTS\n    x = 1  # NBVAL_IGNORE_OUTPUT'
    assert unread_markers(source) == source.splitlines()
    assert unread_markers("# NBVAL_CHECK_OUTPUT\ndf.dtypes") == []
    assert unread_markers("  #  NBVAL_IGNORE_OUTPUT\nx = 1") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_markers_are_on_lines_of_their_own(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    unread = {
        cell.get("id", index): lines
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (lines := unread_markers(cell.source))
    }
    assert unread == {}, f"{path.name}: put each NBVAL_ marker on a line of its own (nbval ignores the others)"


def test_the_tutorials_compare_outputs() -> None:
    """nbval finds the check markers in the tutorials (01 to 10), so their outputs are compared."""
    checked = {
        path.name
        for path in NOTEBOOKS
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code" and ("check", True) in find_comment_markers(cell.source)
    }
    assert checked == {path.name for path in NOTEBOOKS if path.name[:2].isdigit()}
