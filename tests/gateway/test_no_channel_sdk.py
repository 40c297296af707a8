"""The core never imports a channel SDK: channels depend on the core, not the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import gateway

FORBIDDEN = ("aiosmtpd", "aioimaplib", "aiosmtplib", "slack_bolt", "slack_sdk")


def sdk_imports(source: str) -> list[str]:
    """Every forbidden module a Python source imports, including inside functions
    and through ``importlib.import_module("...")`` / ``__import__("...")`` literals."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [n for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def test_the_checker_catches_every_form_of_import() -> None:
    assert sdk_imports("import aiosmtpd") == ["aiosmtpd"]
    assert sdk_imports("from slack_bolt.async_app import AsyncApp") == ["slack_bolt.async_app"]
    assert sdk_imports("def f():\n    import aioimaplib\n") == ["aioimaplib"]
    assert sdk_imports("import importlib\nimportlib.import_module('slack_sdk')") == ["slack_sdk"]
    assert sdk_imports("import aiohttp, email") == []


def test_no_module_under_gateway_imports_a_channel_sdk() -> None:
    root = Path(gateway.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(root)): sdk_imports(f.read_text()) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}
