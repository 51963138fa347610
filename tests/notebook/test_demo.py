"""``mtdata demo``: the README's first command runs the whole notebook layer and exits 0."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_end_to_end() -> None:
    done = subprocess.run([sys.executable, "-m", "mtdata", "demo"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    steps = ["session.candles", "session.ticks", "session.book", "session.price", "session.positions()",
             "session.deals()", "session.latency()", "Parquet export", "its sandbox have stopped"]  # fmt: skip
    for step in steps:
        assert step in out, step
    assert "POSITION_TYPE_BUY" in out and "DEAL_ENTRY_OUT" in out
    assert "same dtypes: True" in out
