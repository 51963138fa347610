"""Sphinx configuration of mtdata's documentation site: README, tutorials, API reference, protocol, architecture.

Built from the repository's root (the README's Documentation section has the command), so the README, the
notebooks and the Markdown pages keep their own relative links. Why Sphinx rather than MkDocs: the docstrings
already use Sphinx's reST roles (``:class:``, ``:meth:``), and nitpicky mode with ``-W`` turns every cross-reference
that does not resolve into an error; myst-nb renders the Markdown pages and the notebooks with their committed
outputs (never executed here); furo is the theme. No intersphinx: the build needs no network, so names of other
libraries (pandas, the standard library) show as plain text, while a reference into mtdata must resolve.

The API reference is generated at each build from ``__all__``: a page for ``mtdata``, for each module its
``__all__`` exports (``mtdata.errors``) and for each subpackage (``mtdata.client``, ``mtdata.sandbox``,
``mtdata.live`` and any added later), listing every name of that package's ``__all__``.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

from docutils import nodes
from pygments.lexers.special import TextLexer
from sphinx import addnodes
from sphinx.application import Sphinx

import mtdata

#: Where the API pages are written at each build (git-ignored).
API_DIR = Path(__file__).resolve().parent / "api"

project = "mtdata"
author = "the mtdata contributors"
copyright = "the mtdata contributors"
release = version = mtdata.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "myst_nb"]
root_doc = "README"
include_patterns = ["README.md", "CONTRIBUTING.md", "SECURITY.md", "docs/*.md", "docs/api/*.rst", "notebooks/*.ipynb"]
#: Folders never walked: the source directory is the repository's root.
exclude_patterns = [".*", "build", "dist", "docs/_build", "mtdata", "tests", "benchmarks", "binder", "*.egg-info"]
nitpicky = True

html_theme = "furo"
html_title = f"mtdata {release}"

autodoc_member_order = "bysource"
autodoc_typehints_format = "short"
autosummary_generate = False  # the pages are written from __all__ below, not by autosummary

nb_execution_mode = "off"  # the tutorials are shown with the outputs committed with them
myst_heading_anchors = 4  # links such as protocol.md#53-request-types
myst_enable_extensions = ["colon_fence"]

#: The README is the home page; the rest of the site hangs from it by a toctree it does not show.
SITE_TOCTREE = """

```{toctree}
:hidden:
:caption: Tutorials
:glob:

notebooks/*
```

```{toctree}
:hidden:
:caption: Reference
:glob:

docs/api/*
docs/architecture
docs/protocol
```

```{toctree}
:hidden:
:caption: Project

CONTRIBUTING
SECURITY
```
"""


@functools.cache
def public_modules() -> list[str]:
    """``mtdata``, the modules its ``__all__`` exports and its subpackages: the modules the reference documents."""
    exported = [f"mtdata.{name}" for name in mtdata.__all__ if isinstance(getattr(mtdata, name), ModuleType)]
    packages = [f"mtdata.{info.name}" for info in pkgutil.iter_modules(mtdata.__path__)
                if info.ispkg and not info.name.startswith("_")]  # fmt: skip
    return ["mtdata", *sorted(set(exported + packages))]


def public_objects(module_name: str) -> dict[str, Any]:
    """The names of a public module's ``__all__`` and their objects."""
    module = importlib.import_module(module_name)
    return {name: getattr(module, name) for name in getattr(module, "__all__", ())}


def kind(value: Any) -> str:
    """The autodoc directive's kind for ``value``."""
    return "class" if inspect.isclass(value) else "function" if callable(value) else "data"


def api_page(module_name: str) -> str:
    """The reST page of one public module: its docstring, a table of its ``__all__``, then each name documented.

    A name ``mtdata`` re-exports from a subpackage is documented there, and only points to it here.
    """
    objects = public_objects(module_name)
    lines = [module_name, "=" * len(module_name), "", f".. automodule:: {module_name}", "",
             f".. currentmodule:: {module_name}", "", ".. autosummary::", "   :nosignatures:", ""]  # fmt: skip
    lines += [f"   {name}" for name in objects]
    for name, value in objects.items():
        if isinstance(value, ModuleType):
            continue  # a module of __all__ has a page of its own
        home = next((other for other in public_modules() if other != module_name and other.startswith(module_name)
                     and any(value is obj for obj in public_objects(other).values())), None)  # fmt: skip
        if home is None:
            lines += ["", f".. auto{kind(value)}:: {name}"]
            if kind(value) == "class":
                lines += ["   :members:", "   :undoc-members:", "   :show-inheritance:",
                          f"   :inherited-members: {','.join(sorted(documented_bases()))}"]  # fmt: skip
        else:
            role = {"class": "class", "function": "func", "data": "data"}[kind(value)]
            lines += ["", f".. py:{kind(value)}:: {name}", "", f"   :{role}:`{home}.{name}`, re-exported here."]
    return "\n".join(lines) + "\n"


@functools.cache
def documented_bases() -> frozenset[str]:
    """The base classes whose members a public class does not repeat: those documented on their own page (a
    public class, such as ``SynchronizationListener`` and its hooks) and those outside mtdata (``Exception``,
    ``dict``...).

    Members inherited from mtdata's private classes are documented (``Session``'s order helpers come from a mixin).
    """
    names = {"object"}
    for module_name in public_modules():
        for value in public_objects(module_name).values():
            if inspect.isclass(value):
                names.add(value.__name__)
                names |= {base.__name__ for base in value.__mro__ if not base.__module__.startswith("mtdata")}
    return frozenset(names)


def write_api_pages(app: Sphinx) -> None:
    """Write one page per public module into ``docs/api/``: a removed module leaves no page, and an unchanged page
    is not rewritten (Sphinx then does not read it again)."""
    API_DIR.mkdir(exist_ok=True)
    pages = {API_DIR / f"{module_name}.rst": api_page(module_name) for module_name in public_modules()}
    for path in set(API_DIR.iterdir()) - set(pages):
        path.unlink()
    for path, text in pages.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def add_site_toctree(app: Sphinx, docname: str, source: list[str]) -> None:
    """Hang the site's pages from the README without changing the README itself."""
    if docname == root_doc:
        source[0] += SITE_TOCTREE


def resolve_outside(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    """Show a Python reference Sphinx could not resolve as plain text if it names something real; else let it fail.

    Real: a name of Python or of another library (no intersphinx: no network), an mtdata name the reference does
    not document (an internal class), or any name in a signature (an annotation imported only for type checkers
    cannot be looked up). A reference in a docstring that names nothing, such as a misspelt name, still fails.
    """
    if node.get("refdomain") != "py":
        return None
    if any(isinstance(parent, addnodes.desc_signature) for parent in ancestors(node)) or exists(node["reftarget"]):
        return contnode
    return in_summary_row(app, env, node, contnode)


def in_summary_row(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    """Resolve a bare name in the summary table of a page as a member of that row's class.

    The table shows each docstring's first sentence, where a class names its own members (``:attr:`bid```), but
    reads it in the module's context, not the class's.
    """
    row = next((parent for parent in ancestors(node) if isinstance(parent, nodes.row)), None)
    if row is None or "." in node["reftarget"] or not node.get("py:module"):
        return None
    owner = f"{node['py:module']}.{row.children[0].astext()}.{node['reftarget']}"
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], owner, node, contnode)


def ancestors(node: nodes.Node) -> list[nodes.Node]:
    """The nodes ``node`` sits in, innermost first."""
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def exists(target: str) -> bool:
    """Whether a dotted name names a builtin, a module or an attribute of one (importing the module)."""
    if hasattr(builtins, target):
        return True
    parts = target.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            if not hasattr(value, part):
                return False
            value = getattr(value, part)
        return True
    return False


def drop_type_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """A constant without a docstring of its own would show its type's (``float``'s, a numpy dtype's): drop that."""
    type_doc = inspect.getdoc(type(obj))
    if what in ("data", "attribute") and type_doc and "\n".join(lines).strip() == type_doc.strip():
        lines.clear()


def literal_examples(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Show a docstring's indented block after a paragraph (an example, the exception tree) as code, as it reads.

    The docstrings are written for ``help()`` and the source: such a block has no ``::``, which reST would
    otherwise render as a quotation with its lines run together. List items' indented paragraphs are left alone.
    """
    for index in range(len(lines) - 1, 0, -1):
        block, blank = lines[index], lines[index - 1]
        before = next((line for line in reversed(lines[: index - 1]) if line.strip()), "")
        if (block.startswith(" ") and not blank.strip() and before and not before.startswith((" ", "-", "*", "..", ":"))
                and not before.rstrip().endswith("::") and not block.lstrip().startswith(">>>")):  # fmt: skip
            lines[index:index] = ["::", ""]


def redirect_index(app: Sphinx, exception: Exception | None) -> None:
    """``index.html`` opens the README, the site's home page (Sphinx names a page after its source file)."""
    if exception is None and app.builder.format == "html":
        target = f"{root_doc}.html"
        page = f'<!DOCTYPE html><meta http-equiv="refresh" content="0; url={target}"><a href="{target}">mtdata</a>\n'
        (Path(app.outdir) / "index.html").write_text(page, encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.add_lexer("mermaid", TextLexer)  # docs/architecture.md's diagrams: GitHub draws them, the site shows their text
    app.connect("builder-inited", write_api_pages)
    app.connect("source-read", add_site_toctree)
    app.connect("missing-reference", resolve_outside)
    app.connect("autodoc-process-docstring", drop_type_docstring)
    app.connect("autodoc-process-docstring", literal_examples)
    app.connect("build-finished", redirect_index)
