"""``kb_index``'s public names: listed once each in ``__all__``, typed for checkers,
and loaded on first use (``import kb_index`` alone loads no index machinery)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import kb_index

INIT = Path(kb_index.__file__)


def _type_checking_imports() -> set[tuple[str, str]]:
    tree = ast.parse(INIT.read_text("utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {(node.module or "", alias.name) for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}


def test_the_three_lists_agree() -> None:
    exported = {(module, name) for module, names in kb_index._EXPORTS.items() for name in names}
    assert _type_checking_imports() == exported
    assert kb_index.__all__ == sorted(name for _, name in exported)


def test_every_name_resolves_to_its_module_object() -> None:
    for module, names in kb_index._EXPORTS.items():
        for name in names:
            assert getattr(kb_index, name) is getattr(importlib.import_module(module), name)
    assert set(kb_index.__all__) <= set(dir(kb_index))


def test_submodules_are_still_reachable_and_unknown_names_fail() -> None:
    from kb_index import lexical

    assert lexical.__name__ == "kb_index.lexical"
    try:
        kb_index.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown name must raise AttributeError")


def test_importing_the_package_or_its_contracts_loads_no_index_machinery() -> None:
    code = ("import sys, kb_index, kb_index.contracts, kb_index.language\n"
            "print(sorted(m for m in ('numpy', 'faiss', 'bm25s', 'kb_index.retriever') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
