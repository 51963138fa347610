"""The repository explains itself: every protocol section it cites exists, and nothing points outside it.

A "§" followed by a number anywhere in a tracked file ("protocol §7.6", "§2.10, §5.4", "§7.3–§7.5")
names a section of ``docs/protocol.md``, which must have a heading with that number, and is cited as
"protocol §N" (the old form, with "spec", named a document outside the repository). References to
folders beside the repository or to this machine's absolute paths would leave a fresh clone with dangling
pointers, so they fail too, as do files and folders the documentation names that the repository lacks.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "docs" / "protocol.md"

#: A section reference: the section sign and a dotted number.
SECTION_REF = re.compile(r"§\s*(\d+(?:\.\d+)*)")
#: The old citation form, which named a document a clone does not have (built so this file does not match it).
OLD_CITATION = re.compile("spec" + r"\s+§")
#: A numbered heading of docs/protocol.md: "## 7. ...", "### 7.6 ...", "#### 2.1.1 ...".
HEADING = re.compile(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
#: Places outside the repository, wherever they appear: the folder beside it, and machine roots.
OUTSIDE = re.compile(r"\.\./shared\b|\bshared/(?:spec|design)\b|(?:^|[^A-Za-z0-9_.])/(?:work|root|farm)/")
#: A repository path written in backticks in the docs: a file (by its extension) or a folder (a trailing slash).
REPO_PATH = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.(?:py|md|ipynb|toml|cfg|json)|(?:[\w.-]+/)+)`")
#: Documents whose backticked paths must exist: the ones that describe the code's layout.
LAYOUT_DOCS = ("docs/protocol.md", "docs/architecture.md", "CONTRIBUTING.md")
#: Temporary and home directories: a machine path in docs, code and notebooks (tests may build such paths).
MACHINE = re.compile(r"(?:^|[^A-Za-z0-9_.~])/(?:tmp|home|Users)/")


def tracked_files() -> list[Path]:
    """The text files git tracks (binary files and files deleted in the working tree left out)."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = []
    for name in listing.decode().split("\0"):
        path = ROOT / name
        if name and path.is_file() and b"\0" not in path.read_bytes()[:8192]:
            files.append(path)
    return files


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def cited_sections(text: str) -> set[str]:
    """The section numbers ``text`` cites."""
    return set(SECTION_REF.findall(text))


def headings(text: str) -> set[str]:
    """The section numbers of the numbered headings of ``text``."""
    return set(HEADING.findall(text))


def outside_references(path: Path, text: str) -> list[str]:
    """``path:line: text`` of each line of ``text`` that points outside the repository."""
    machine_paths = path.relative_to(ROOT).parts[0] != "tests"
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if OUTSIDE.search(line) or (machine_paths and MACHINE.search(line)):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:160]}")
    return found


def missing_paths(text: str, tracked: list[str]) -> list[str]:
    """Backticked paths of ``text`` that name no tracked file or folder (a path may be given by its tail)."""
    missing = []
    for path in REPO_PATH.findall(text):
        folder = path.endswith("/")
        if not any(name == path or name.endswith("/" + path) if not folder else
                   name.startswith(path) or f"/{path}" in name for name in tracked):  # fmt: skip
            missing.append(path)
    return missing


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return tracked_files()


def test_every_cited_protocol_section_exists(files: list[Path]) -> None:
    sections = headings(read(PROTOCOL))
    cited = {path: cited_sections(read(path)) for path in {*files, PROTOCOL}}
    assert any(cited.values()), "no section reference found: the pattern is broken"
    missing = {str(path.relative_to(ROOT)): sorted(numbers - sections)
               for path, numbers in cited.items() if numbers - sections}  # fmt: skip
    assert not missing, f"sections cited but missing from docs/protocol.md: {missing}"


def test_sections_are_cited_as_protocol_sections(files: list[Path]) -> None:
    old = [f"{path.relative_to(ROOT)}:{number}" for path in files
           for number, line in enumerate(read(path).splitlines(), 1) if OLD_CITATION.search(line)]  # fmt: skip
    assert not old, f"cite docs/protocol.md as 'protocol §N': {old}"


def test_no_tracked_file_points_outside_the_repository(files: list[Path]) -> None:
    problems = [line for path in files for line in outside_references(path, read(path))]
    assert not problems, "references outside the repository:\n" + "\n".join(problems)


def test_named_files_and_folders_exist(files: list[Path]) -> None:
    tracked = [str(path.relative_to(ROOT)) for path in files]
    missing = {doc: found for doc in LAYOUT_DOCS if (found := missing_paths(read(ROOT / doc), tracked))}
    assert not missing, f"paths the docs name that the repository lacks: {missing}"


def test_the_checks_catch_what_they_look_for() -> None:
    """The patterns themselves, on made-up text (built in pieces so this file does not trip the checks)."""
    assert cited_sections("protocol §7.6, §2.10, §5.4 and §7.3–§7.5.") == {"7.6", "2.10", "5.4", "7.3", "7.5"}
    assert OLD_CITATION.search("see " + "spec" + " §2.1") and not OLD_CITATION.search("protocol §2.1, specs §")
    assert headings("## 7. Packets\n### 7.6 Ordering\n#### 2.1.1 Filter\n### Not numbered\n") == {"7", "7.6", "2.1.1"}
    doc = ROOT / "docs" / "example.md"
    test = ROOT / "tests" / "test_example.py"
    sibling = "/".join(["..", "shared", "design.md"])
    spec = "/".join(["shared", "spec", "x.md"])
    machine = "/".join(["", "work", "main"])
    temporary = "/".join(["", "tmp", "x"])
    for line in (f"see {sibling}", f"see {spec}", f"cd {machine}", f"open('{machine}')"):
        assert outside_references(doc, line) and outside_references(test, line)
    assert outside_references(doc, f"written to {temporary}")
    assert not outside_references(test, f"written to {temporary}")
    assert not outside_references(doc, "https://example.org/work/x, ./shared/x, data/tmp/x, a/home/b")
    tracked = ["mtdata/client/transport/ordering.py", "tests/live/test_feed.py"]
    text = "`mtdata/client/transport/ordering.py`, `ordering.py`, `transport/ordering.py`, `tests/live/`, `live/`"
    assert missing_paths(text, tracked) == []
    assert missing_paths("`mtdata/client/gone.py`, `rdering.py`, `tests/browser/`", tracked) == [
        "mtdata/client/gone.py", "rdering.py", "tests/browser/"]
