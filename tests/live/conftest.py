"""Fixtures of the live-panel tests."""

from __future__ import annotations

from collections.abc import Iterator

import comm
import pytest
from live_frontend import Frontend


@pytest.fixture
def frontend(monkeypatch: pytest.MonkeyPatch) -> Iterator[Frontend]:
    """Widgets created in the test open recording comms."""
    fake = Frontend()
    monkeypatch.setattr(comm, "create_comm", fake.create_comm)
    yield fake
