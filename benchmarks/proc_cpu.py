"""CPU seconds of processes and threads from Linux ``/proc`` (user + system), for benchmarks that measure others."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads) or of one of its threads."""
    path = Path(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat")
    fields = path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, their children …) alive now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # gone meanwhile
                continue
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def tree_cpu(pid: int, name: str) -> float:
    """CPU seconds of the processes below ``pid`` whose command line mentions ``name`` (those alive now)."""
    total = 0.0
    for child in descendants(pid):
        try:
            if name in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                total += cpu_seconds(child)
        except OSError:  # gone meanwhile
            continue
    return total
