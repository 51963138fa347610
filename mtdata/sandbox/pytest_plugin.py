"""pytest fixtures for testing against the sandbox (registered as the ``mtdata`` pytest plugin).

``mtdata_sandbox`` gives a fresh sandbox per test on a free loopback port with a
temporary data directory; ``mtdata_sandbox_factory`` starts more with custom options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from . import start
from .server import SandboxHandle


@pytest.fixture
def mtdata_sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SandboxHandle]]:
    """Start sandboxes with custom options (``seed``, ``speed``, ``data_dir`` …); all stop after the test."""
    handles: list[SandboxHandle] = []

    def make(**options: Any) -> SandboxHandle:
        options.setdefault("data_dir", tmp_path_factory.mktemp("sandbox"))
        handle = start(**options)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()


@pytest.fixture
def mtdata_sandbox(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A running sandbox with default options."""
    return mtdata_sandbox_factory()
