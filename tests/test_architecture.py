"""The core never imports Telegram: knowledge, matching and replies are plain Python, so the
console, the CLI and the bot share them and they are tested with plain function calls."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import KNOWLEDGE_DIR

BOT = KNOWLEDGE_DIR.parent / "bot"
TELEGRAM_EDGE = {"telegram_app", "handlers", "telegram_io", "resilience", "webhook", "cli"}
CORE = sorted(p.stem for p in BOT.glob("*.py") if p.stem not in TELEGRAM_EDGE | {"__main__"})


def imported_modules(module: str) -> set[str]:
    tree = ast.parse((BOT / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_telegram(module):
    assert "telegram" not in imported_modules(module)
    assert "tornado" not in imported_modules(module)


def test_every_module_says_what_it_is_for():
    for path in BOT.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{path.name} has no module docstring"
