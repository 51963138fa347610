"""A clean copy of the repository and a fresh venv made in it, as a newcomer (the README's route) or repo2docker
(the Binder route) gets them, for the tests that install mtdata from scratch.

Packages come from the package index pip is configured with; pip's cache is kept (a fresh install of the
notebook extras takes about half a minute with it, minutes without).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_repository(target: Path) -> None:
    """The files git tracks (as they are in the working tree, modes kept) copied to ``target``: a clean
    checkout."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def outside_environment() -> dict[str, str]:
    """This process's environment as a shell outside the project's venv has it: no ``VIRTUAL_ENV``,
    ``PYTHONPATH`` or ``MTDATA_*`` variable, and the venv running the tests off ``PATH`` (nothing the fresh
    venv lacks can come from it)."""
    ours = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH") and k[:7] != "MTDATA_"}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != ours)
    return env


def fresh_venv(venv: Path, requirements: Path, cwd: Path, timeout: float = 800) -> Path:
    """A new venv at ``venv`` with ``pip install -r requirements`` run from ``cwd`` (where a ``-e .`` in the
    file points), as repo2docker installs ``binder/requirements.txt``; returns its ``bin`` folder."""
    env = outside_environment()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(requirements)], cwd=cwd,
                               env=env, capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return venv / "bin"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
