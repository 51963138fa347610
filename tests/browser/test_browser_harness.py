"""The harness itself: a missing browser skips the browser tests, except under CI=true where it fails them."""

from __future__ import annotations

from pathlib import Path

import browser_harness
import pytest


def test_a_missing_chromium_skips_and_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(browser_harness, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        browser_harness.require_browser()


def test_a_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(browser_harness, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        browser_harness.require_browser()


def test_a_missing_server_package_skips_and_names_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="the no-such-jupyter-server package"):
        browser_harness.require_browser("no-such-jupyter-server")
