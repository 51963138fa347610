"""The documentation site's configuration covers the public API, and CI builds it as the README says.

``docs/conf.py`` writes one API page per public module from its ``__all__``; these tests check, without running
Sphinx (the build itself is in ``.ci/run``), that every package of ``mtdata`` has a page and that each page
documents every name of its module's ``__all__``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The packages the issue that asked for the reference names; later packages are found on disk.
NAMED = {"mtdata", "mtdata.client", "mtdata.sandbox", "mtdata.live"}
#: A directive of a generated page that documents one name: ``.. autoclass:: Session`` or ``.. py:class:: MetaApi``.
DIRECTIVE = re.compile(r"^\.\. (?:auto|py:)(?:class|function|data):: (\w+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def conf() -> ModuleType:
    pytest.importorskip("sphinx", reason="the docs extra: pip install -e '.[docs]'")
    spec = importlib.util.spec_from_file_location("mtdata_docs_conf", ROOT / "docs" / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_package_and_exported_module_has_a_page(conf: ModuleType) -> None:
    import mtdata

    on_disk = {f"mtdata.{path.parent.name}" for path in (ROOT / "mtdata").glob("*/__init__.py")}
    exported = {f"mtdata.{name}" for name in mtdata.__all__ if isinstance(getattr(mtdata, name), ModuleType)}
    documented = set(conf.public_modules())
    assert NAMED | on_disk | exported <= documented, sorted(NAMED | on_disk | exported - documented)


def test_each_page_documents_every_name_of_its_all(conf: ModuleType) -> None:
    for module_name in conf.public_modules():
        module = importlib.import_module(module_name)
        names = {name for name in module.__all__ if not isinstance(getattr(module, name), ModuleType)}
        page = conf.api_page(module_name)
        assert set(DIRECTIVE.findall(page)) == names, module_name
        assert f".. automodule:: {module_name}" in page


def test_a_re_export_points_to_its_package_page(conf: ModuleType) -> None:
    page = conf.api_page("mtdata")
    assert ".. py:class:: MetaApi\n\n   :class:`mtdata.client.MetaApi`, re-exported here." in page
    assert ".. autofunction:: connect" in page


def test_ci_builds_the_site_with_the_readme_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    build = re.search(r"\.venv/bin/sphinx-build [^\n]*", readme)
    assert build is not None and " -W " in build.group(0)
    assert build.group(0) in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "real"),
    [
        ("int", True),
        ("pandas.DataFrame", True),
        ("mtdata.Session.candles", True),
        ("mtdata.account_frames", True),  # internal: shown as text, not a failure
        ("pandas.DataFrme", False),
        ("Sesion", False),  # a bare name nothing defines
        ("mtdata.Session.candels", False),
        ("mtdata.nowhere.Session", False),
    ],
)
def test_a_reference_the_site_cannot_link_passes_only_if_it_names_something(
    conf: ModuleType, target: str, real: bool
) -> None:
    assert conf.exists(target) is real
