"""The panels benchmark still runs: its no-browser part, 2 s per feed, as its own command (no timing asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(400)
def test_the_no_browser_part_of_the_panels_benchmark_runs_and_reports_every_figure():
    command = [sys.executable, "-m", "benchmarks.bench_panels", "--seconds", "2", "--no-browser"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=360)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = {
        match["name"].strip(): float(match["value"].replace(",", ""))
        for match in re.finditer(r"^panels, no browser: (?P<name>.+?)\s+(?P<value>[\d,.]+|inf) ", done.stdout, re.M)
    }
    assert figures["price updates delivered"] > 0, done.stdout
    assert figures["comm messages sent"] > 0, done.stdout  # the panels redrew and sent patches
    for name in ("kernel CPU spent on panels", "last price shown within (worst)"):
        assert name in figures, done.stdout
    assert "panels, browser" not in done.stdout
