"""The package arrows point one way and no module-level import cycle exists.

``channels`` → ``gateway`` → ``kb_index``, never back; only the composition root
(``gateway.app``, ``gateway.cli``, ``gateway.serve``) names a channel, and it resolves
channels by name from ``channels.REGISTRY``.  See DESIGN.md, "Layout".

The import graph is read from the source with :mod:`ast`: every ``import`` and
``from ... import`` anywhere in a module (inside functions too: a lazy import is
still an arrow) and ``importlib.import_module("literal")`` calls, except those under
``if TYPE_CHECKING:``.  What an import statement costs follows Python's rules:

- ``import a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``;
- ``from a.b import c`` runs ``a.b.c`` when that is a module, else it reads the name
  ``c`` from ``a/b/__init__.py`` (an arrow to ``a.b``);
- a module's own ancestor packages are already in ``sys.modules`` (initialised or
  initialising) when its body runs, so reaching them only to find a sibling module
  (``from channels.webchat import pages`` inside ``channels.webchat.channel``) is no
  arrow; reading a name from one (``from gateway import Settings`` inside
  ``gateway.flow.router``) is.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "channels", "kb_index")
COMPOSITION_ROOT = frozenset({"gateway.app", "gateway.cli", "gateway.serve"})


# ----------------------------------------------------------------- the graph


@dataclass
class Graph:
    root: Path
    modules: dict[str, Path]  # dotted name -> file (a package is its __init__.py)
    edges: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def is_package(self, name: str) -> bool:
        return self.modules[name].name == "__init__.py"

    def successors(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.modules}
        for src, dst in self.edges:
            out[src].add(dst)
        return out

    def where(self, src: str, dst: str) -> str:
        lines = ", ".join(str(n) for n in sorted(set(self.edges[src, dst])))
        return f"{src} -> {dst} ({self.modules[src].relative_to(self.root)}:{lines})"


def discover(root: Path, packages: Sequence[str]) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom | ast.Call]:
    """Every import statement anywhere in ``tree`` (and ``import_module("x")`` calls),
    leaving out the bodies of ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Call) and (
            not isinstance(node, ast.Call) or _literal_import(node) is not None
        ):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _literal_import(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name in ("import_module", "__import__") and call.args:
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
            return arg.value
    return None


def _prefixes(name: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``: the packages Python runs before ``a.b.c``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def build_graph(root: Path, packages: Sequence[str] = PACKAGES) -> Graph:
    graph = Graph(root, discover(root, packages))
    for module, path in graph.modules.items():
        is_package = graph.is_package(module)
        # Already in sys.modules when this module's body runs: its ancestor packages
        # (and itself, for a package's __init__).
        loaded = {*_prefixes(module), *([module] if is_package else [])}
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in import_nodes(tree):
            explicit: list[str] = []  # modules whose body must have run (their parents too)
            if isinstance(node, ast.Import):
                explicit = [alias.name for alias in node.names]
            elif isinstance(node, ast.Call):
                explicit = [_literal_import(node) or ""]
            else:
                source = _resolve(module, is_package, node)
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if alias.name != "*" and sub in graph.modules:
                        explicit.append(sub)  # `from pkg import module`
                    else:
                        explicit.append(source)  # a name read from pkg/__init__
            for target in explicit:
                implied = [p for p in _prefixes(target) if p not in loaded]
                for dst in (target, *implied):
                    if dst in graph.modules and dst != module:
                        graph.edges[module, dst].append(node.lineno)
    return graph


# ----------------------------------------------------------------- the rules


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def forbidden_arrows(graph: Graph, composition_root: frozenset[str] = COMPOSITION_ROOT) -> list[str]:
    bad = []
    for src, dst in sorted(graph.edges):
        if _in(src, "kb_index") and _in(dst, "gateway"):
            bad.append(f"kb_index is a library, it imports nothing from gateway: {graph.where(src, dst)}")
        if _in(src, "gateway") and _in(dst, "channels") and src not in composition_root:
            bad.append(f"only the composition root imports channels: {graph.where(src, dst)}")
    return bad


def strongly_connected(successors: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(successors):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(successors[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def cycle_reports(graph: Graph) -> list[str]:
    """One readable paragraph per import cycle: its modules and the arrows between them."""
    reports = []
    for component in strongly_connected(graph.successors()):
        members = set(component)
        arrows = [graph.where(s, d) for s, d in sorted(graph.edges) if s in members and d in members]
        reports.append(
            f"import cycle among {len(component)} modules: {', '.join(component)}\n    "
            + "\n    ".join(arrows)
        )
    return reports


# ----------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(ROOT)


def test_the_graph_sees_the_project(graph: Graph) -> None:
    assert {"gateway.app", "kb_index.retriever", "channels.webchat.channel"} <= set(graph.modules)
    assert ("gateway.app", "gateway.flow.router") in graph.edges
    assert ("gateway.flow.router", "kb_index.retriever") not in graph.edges  # through a port
    assert len(graph.edges) > 100


def test_arrows_point_one_way(graph: Graph) -> None:
    bad = forbidden_arrows(graph)
    assert not bad, "\n" + "\n".join(bad)


def test_no_import_cycle(graph: Graph) -> None:
    cycles = cycle_reports(graph)
    assert not cycles, "\n" + "\n".join(cycles)


def test_importing_kb_index_loads_no_gateway_module() -> None:
    code = (
        "import sys, kb_index\n"
        "print(sorted(m for m in sys.modules if m == 'gateway' or m.startswith('gateway.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------- the checker catches what it should


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")


def test_checker_catches_a_cycle_and_forbidden_arrows(tmp_path: Path) -> None:
    _write(tmp_path, {
        "gateway/__init__.py": "from gateway.models import Thing\n",
        "gateway/models.py": "class Thing: ...\n",
        "gateway/a.py": "from gateway.b import g\n",
        "gateway/b.py": "def g():\n    from gateway import a  # lazy, still an arrow\n",
        "gateway/port.py": "def load():\n    import channels.chat\n",
        "gateway/app.py": "import channels.chat\n",  # the composition root may
        "channels/__init__.py": "",
        "channels/chat.py": "from gateway.models import Thing\n",
        "kb_index/__init__.py": "",
        "kb_index/lib.py": "import importlib\nimportlib.import_module('gateway.models')\n",
    })
    graph = build_graph(tmp_path)
    assert cycle_reports(graph) == [
        "import cycle among 2 modules: gateway.a, gateway.b\n"
        "    gateway.a -> gateway.b (gateway/a.py:1)\n"
        "    gateway.b -> gateway.a (gateway/b.py:2)"
    ]
    bad = forbidden_arrows(graph)
    assert [line.split(": ", 1)[1] for line in bad] == [
        "gateway.port -> channels (gateway/port.py:2)",
        "gateway.port -> channels.chat (gateway/port.py:2)",
        "kb_index.lib -> gateway (kb_index/lib.py:2)",  # import_module runs gateway/__init__
        "kb_index.lib -> gateway.models (kb_index/lib.py:2)",
    ]


def test_checker_follows_python_rules_for_packages(tmp_path: Path) -> None:
    _write(tmp_path, {
        "channels/__init__.py": "",
        # a package whose __init__ imports its submodules, which reach siblings
        # through the package: no cycle, the package is already in sys.modules
        "channels/chat/__init__.py": "from .channel import Chat\n",
        "channels/chat/channel.py": """\
            from channels.chat import pages
            from . import protocol
            import channels.chat.protocol as proto
            class Chat: ...
        """,
        "channels/chat/pages.py": "",
        "channels/chat/protocol.py": "",
        # reading a name from the package while its __init__ imports you: a cycle
        "gateway/__init__.py": "from gateway.config import Settings\n",
        "gateway/config.py": "from gateway.util import helper\nclass Settings: ...\n",
        "gateway/util.py": "from gateway import Settings\ndef helper(): ...\n",
        # an annotation-only import is no arrow
        "kb_index/__init__.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from gateway.config import Settings
            else:
                from kb_index.core import run
        """,
        "kb_index/core.py": "def run(): ...\n",
    })
    graph = build_graph(tmp_path)
    assert forbidden_arrows(graph) == []
    assert ("kb_index", "kb_index.core") in graph.edges
    assert ("channels.chat.channel", "channels.chat.pages") in graph.edges
    assert ("channels.chat.channel", "channels.chat") not in graph.edges
    assert [r.splitlines()[0] for r in cycle_reports(graph)] == [
        "import cycle among 3 modules: gateway, gateway.config, gateway.util"
    ]
