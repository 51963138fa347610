"""Extract a manifest of the seed API text: its classes, methods, parameters, model fields and usage steps.

    python tools/seed_manifest.py SEED_FILE > tests/client/data/seed_manifest.json

The seed file is a lossy copy of the MetaApi SDK's reference and usage document: indentation, closing
brackets and the ends of docstrings are gone, and tokens are spaced (``connection .connect ()``).
The reference part gives classes, methods with parameter names, annotations and defaults, model
(``TypedDict``) fields and every type name the annotations mention. The usage part (from its title line
to the end) gives the document's code as steps, rebuilt by the rules of :mod:`seed_usage`, and the
option classes it declares.
The tests read the JSON this prints, so the seed file itself is not needed to run them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_usage import usage_steps

#: The line that starts the usage document.
USAGE_TITLE = "MetaAPI Cloud SDK API Documentation"
#: Names of ``typing`` and builtins that annotations use and are not the seed's own types.
NOT_SEED_TYPES = {"List", "Dict", "Optional", "Union", "Callable", "TypedDict", "Exception", "None", "Any"}

_CLASS = re.compile(r"^class\s+(\w+)\s*(?:\((.*?)\))?\s*:")
_DEF = re.compile(r"^(async\s+)?def\s+(\w+)\s*\((.*)$")
_FIELD = re.compile(r"^(\w+)\s*:\s*([^#=]+?)\s*(?:=\s*([^#]+?))?\s*(?:#\s*(.*))?$")


def compact(text: str) -> str:
    """An annotation or default without the seed's inserted spaces (``Union [float , X ]`` -> ``Union[float,X]``)."""
    return re.sub(r"\s+", "", text)


def split_top(text: str) -> list[str]:
    """``text`` split at commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def parse_signature(text: str) -> tuple[list[dict[str, Any]], bool, str | None]:
    """Parameters (without ``self``), whether ``self`` was written, and the return annotation of a def's text."""
    depth, end = 1, len(text)
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0:
            end = i
            break
    returns = re.match(r"\s*->\s*(.+?)\s*:?\s*$", text[end + 1 :]) if end < len(text) else None
    params, has_self = [], False
    for raw in split_top(text[:end]):
        match = re.match(r"^(\w+)\s*(?::\s*(.+?))?\s*(?:=\s*(.+))?$", raw)
        if match is None:
            raise ValueError(f"unreadable parameter {raw!r}")
        name, annotation, default = match.groups()
        if name == "self":
            has_self = True
            continue
        params.append({"name": name, "annotation": annotation and compact(annotation),
                       "default": default and compact(default)})  # fmt: skip
    return params, has_self, returns and compact(returns.group(1))


def parse_reference(lines: list[str]) -> list[dict[str, Any]]:
    """The classes of the reference part, in order, with their methods or fields."""
    classes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    signature: list[str] | None = None
    in_doc = False
    for line in (raw.strip() for raw in lines):
        if signature is not None:
            if line.startswith(('"""', "class ", "def ", "async def ")) or re.match(r"^\)", line):
                if line.startswith(")"):
                    signature.append(line)
                _finish_def(current, signature)
                signature = None
                if line.startswith(")"):
                    continue
            else:
                signature.append(line)
                continue
        if in_doc:
            if _CLASS.match(line) or _DEF.match(line):
                in_doc = False
            else:
                in_doc = '"""' not in line
                continue
        if line.startswith('"""'):
            in_doc = '"""' not in line[3:]
            continue
        if match := _CLASS.match(line):
            bases = [compact(base) for base in split_top(match.group(2) or "")]
            current = {"name": match.group(1), "bases": bases, "methods": [], "fields": []}
            classes.append(current)
        elif match := _DEF.match(line):
            signature = [line]
            if line.rstrip().endswith(":") and ")" in line:
                _finish_def(current, signature)
                signature = None
        elif current is not None and "TypedDict" in current["bases"] and (match := _FIELD.match(line)):
            name, annotation, default, comment = match.groups()
            current["fields"].append({"name": name, "annotation": compact(annotation),
                                      "default": default and compact(default), "comment": comment})  # fmt: skip
    return classes


def _finish_def(current: dict[str, Any] | None, signature: list[str]) -> None:
    if current is None:
        raise ValueError(f"a def outside a class: {signature[0]!r}")
    head = _DEF.match(signature[0])
    assert head is not None
    params, has_self, returns = parse_signature(" ".join([head.group(3), *signature[1:]]))
    current["methods"].append({"name": head.group(2), "async": bool(head.group(1)), "self": has_self,
                               "params": params, "returns": returns})  # fmt: skip


def referenced_types(classes: list[dict[str, Any]]) -> list[str]:
    """Every capitalized name the annotations and bases mention that is not from ``typing`` or builtins."""
    texts: list[str] = []
    for cls in classes:
        texts += cls["bases"]
        texts += [field["annotation"] for field in cls["fields"]]
        for method in cls["methods"]:
            texts += [param["annotation"] or "" for param in method["params"]] + [method["returns"] or ""]
    names = {name for text in texts for name in re.findall(r"\b[A-Z]\w*", text)}
    return sorted(names - NOT_SEED_TYPES)


def manifest(seed: Path) -> dict[str, Any]:
    """The manifest of ``seed`` as a JSON-ready dict."""
    lines = seed.read_text(encoding="utf-8").splitlines()
    title = next(i for i, line in enumerate(lines) if line.strip() == USAGE_TITLE)
    classes = parse_reference(lines[:title])
    return {"source": seed.name, "classes": classes, "referenced_types": referenced_types(classes),
            "usage": usage_steps(lines[title + 1 :])}  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/seed_manifest.py SEED_FILE > tests/client/data/seed_manifest.json")
    print(json.dumps(manifest(Path(sys.argv[1])), ensure_ascii=False, indent=1))
