"""Run every benchmark (``python -m benchmarks``), one after the other, each bounded in time."""

from __future__ import annotations

import pkgutil
import runpy
import sys
import time
from pathlib import Path


def main() -> int:
    """Run each ``benchmarks/bench_*.py`` as a script; returns 1 if one of them failed to run."""
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    failed = []
    for name in names:
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            runpy.run_module(f"benchmarks.{name}", run_name="__main__")
        except Exception as error:  # one broken benchmark must not hide the others' figures
            print(f"{name} failed: {type(error).__name__}: {error}", flush=True)
            failed.append(name)
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
