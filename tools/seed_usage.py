"""Rebuild the seed usage document's code, which lost its indentation and closing brackets, as runnable steps.

The rules, applied in this order (each says what the lost text must have been):

1. Payload samples: lines starting with ``'`` or ``{`` right after a ``def`` line document the callback's
   argument (``'symbol': 'EURUSD', # ...``); they become comments.
2. Brackets: an open bracket closes at the end of the last code line before a line that cannot continue
   it (the previous code line does not end with ``,`` or an opening bracket, and this line does not start
   with a closing one).
3. Blocks: a line ending with ``:`` opens a block; ``except``/``finally``/``elif``/``else`` line up with
   their ``try``/``if``; a decorator (or an undecorated ``def``) ends the body of a decorated function
   that has statements (sibling callbacks); a comment starts a new step, ending every block back to the
   innermost ``try`` body or the top level; an ``await asyncio.sleep(...)`` just before such an end paces
   the innermost ``while`` loop and goes in its body; a block left empty where the document stops gets ``pass``.
4. Steps: a new step starts at each comment at the top level that follows code; its title is the last
   comment before its code. Classes with only annotated fields are also reported as models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_OPEN, _CLOSE = "([{", ")]}"
_FIELD = re.compile(r"^(\w+)\s*:\s*([^#=]+?)\s*(?:=\s*([^#]+?))?\s*(?:#\s*(.*))?$")
_SLEEP = re.compile(r"^await\s+asyncio\s*\.\s*sleep\s*\(")
_DEDENTS = {"except": ("try", "except"), "finally": ("try", "except"), "elif": ("if", "elif"),
            "else": ("if", "elif", "for", "while", "try", "except")}  # fmt: skip


@dataclass
class Line:
    """A line of the rebuilt document: code (with its own comment) or a comment; ``sample`` marks rule 1."""

    text: str
    comment: bool = False
    sample: bool = False
    level: int = 0


@dataclass
class Block:
    """An open block: the keyword that opened it, its body's level, decorated (functions), statements so far."""

    kind: str
    level: int
    decorated: bool = False
    statements: int = 0


def split_comment(text: str) -> tuple[str, str]:
    """``text`` as (code, comment), the comment starting at the first ``#`` outside a string."""
    quote = None
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return text[:i].rstrip(), text[i:]
    return text.rstrip(), ""


def _brackets(code: str, stack: list[str]) -> None:
    """Update the open-bracket ``stack`` with the brackets of ``code`` (strings skipped)."""
    quote = None
    for char in code:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _OPEN:
            stack.append(char)
        elif char in _CLOSE and stack:
            stack.pop()


def mark_samples(texts: list[str]) -> list[Line]:
    """Rule 1: comments for comment lines and for the payload samples after a ``def``."""
    lines: list[Line] = []
    in_sample = False
    for text in texts:
        if text.startswith("#"):
            lines.append(Line(text, comment=True))
            continue
        in_sample = in_sample and text.startswith(("'", "{"))
        if in_sample:
            lines.append(Line(f"# {text}", comment=True, sample=True))
            continue
        lines.append(Line(text))
        in_sample = bool(re.match(r"^(async\s+)?def\s", text))
    return lines


def close_brackets(lines: list[Line]) -> None:
    """Rule 2, in place."""
    stack: list[str] = []
    last: Line | None = None
    for line in lines:
        if line.comment:
            continue
        if stack and last is not None:
            previous = split_comment(last.text)[0]
            if not (previous.endswith((",", *_OPEN)) or line.text.startswith(tuple(_CLOSE))):
                _close(last, stack)
        _brackets(split_comment(line.text)[0], stack)
        last = line
    if stack and last is not None:
        _close(last, stack)


def _close(line: Line, stack: list[str]) -> None:
    code, comment = split_comment(line.text)
    closers = "".join(_CLOSE[_OPEN.index(char)] for char in reversed(stack))
    line.text = f"{code} {closers}" + (f"  {comment}" if comment else "")
    stack.clear()


def indent(lines: list[Line]) -> list[Line]:
    """Rule 3: levels for every line, and ``pass`` for a block the document leaves empty."""
    blocks: list[Block] = []
    depth: list[str] = []
    after_decorator = False
    for i, line in enumerate(lines):
        if line.comment:
            while not line.sample and blocks and blocks[-1].kind != "try" and blocks[-1].statements:
                blocks.pop()
            line.level = blocks[-1].level if blocks else 0
            continue
        code = split_comment(line.text)[0]
        if depth:  # a continuation line inside brackets
            line.level = (blocks[-1].level if blocks else 0) + 1
            _brackets(code, depth)
            continue
        keyword = re.sub(r"^async\s+", "", code).split(" ", 1)[0].rstrip(":")
        if keyword in _DEDENTS:
            while blocks and blocks[-1].kind not in _DEDENTS[keyword]:
                blocks.pop()
            blocks.pop()
        elif code.startswith("@") or (keyword == "def" and not after_decorator):
            callbacks = [j for j, block in enumerate(blocks) if block.decorated and block.statements]
            if callbacks:
                del blocks[callbacks[-1] :]
        elif _SLEEP.match(code) and _ends_here(lines, i):
            while blocks and blocks[-1].kind != "while":
                blocks.pop()
        line.level = blocks[-1].level if blocks else 0
        if blocks:
            blocks[-1].statements += 1
        _brackets(code, depth)
        if code.endswith(":"):
            blocks.append(Block(keyword, line.level + 1, keyword == "def" and after_decorator))
        after_decorator = code.startswith("@")
    if blocks and not blocks[-1].statements:
        lines.append(Line("pass  # the document ends here", level=blocks[-1].level))
    return lines


def _ends_here(lines: list[Line], i: int) -> bool:
    """Whether the statement at ``i`` is the last before a comment, a dedenting keyword or the end."""
    following = lines[i + 1] if i + 1 < len(lines) else None
    if following is None or (following.comment and not following.sample):
        return True
    return split_comment(following.text)[0].split(" ", 1)[0].rstrip(":") in _DEDENTS


def models(lines: list[Line]) -> list[dict[str, Any]]:
    """Classes whose bodies are only annotated fields, with their fields."""
    found: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        match = re.match(r"^class\s+(\w+)\s*:$", line.text)
        if not match:
            continue
        fields = []
        for body in lines[i + 1 :]:
            field_match = None if body.comment or body.level == 0 else _FIELD.match(body.text)
            if field_match is None:
                break
            name, annotation, default, comment = field_match.groups()
            fields.append({"name": name, "annotation": re.sub(r"\s+", "", annotation),
                           "default": default and re.sub(r"\s+", "", default), "comment": comment})  # fmt: skip
        found.append({"name": match.group(1), "bases": [], "methods": [], "fields": fields})
    return found


def usage_steps(texts: list[str]) -> dict[str, Any]:
    """The usage document (its lines after the title) as ``{"models": [...], "steps": [{title, code}]}``."""
    lines = mark_samples([text.strip() for text in texts if text.strip()])
    close_brackets(lines)
    lines = indent(lines)
    steps: list[dict[str, Any]] = []
    current: list[Line] = []
    for line in lines:
        starts = line.comment and not line.sample and line.level == 0
        if starts and current and not current[-1].comment:
            steps.append(_step(current))
            current = []
        current.append(line)
    steps.append(_step(current))
    return {"models": models(lines), "steps": steps}


def _step(lines: list[Line]) -> dict[str, Any]:
    """A step: its title (the last top-level comment before its first code line) and its code."""
    first_code = next((i for i, line in enumerate(lines) if not line.comment), len(lines))
    titles = [line.text.lstrip("# ").strip() for line in lines[:first_code] if not line.sample]
    code = "\n".join("    " * line.level + line.text for line in lines) + "\n"
    return {"title": titles[-1] if titles else "imports", "code": code}
