"""Fixtures of the sandbox tests."""

from __future__ import annotations

import pytest
from test_realtime_helpers import WEEKDAY, freeze

from mtdata.sandbox import SandboxHandle


@pytest.fixture
def box(mtdata_sandbox_factory) -> SandboxHandle:
    """A sandbox whose market clock runs from a Wednesday morning (FX trades), prices held still."""
    handle = mtdata_sandbox_factory(speed=1.0, start=WEEKDAY)
    freeze(handle)
    return handle
