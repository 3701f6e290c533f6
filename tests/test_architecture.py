"""The folders are the architecture: each layer imports only the layers below it, and only
`bot/telegram/` talks to Telegram. The rules come from the folders, not from a list kept by
hand, so a new module is checked the moment it is added."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE_DIR

BOT = KNOWLEDGE_DIR.parent / "bot"

# What each layer may import from the bot itself. The modules at the top of `bot/` (the CLI,
# the console, settings and logging) are the shell that starts everything: they may import
# any layer, and `bot/telegram/` may use settings and logging.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "store": {"core", "store"},
    "chat": {"core", "chat"},
    "tools": {"core", "chat", "tools"},
    "telegram": {"core", "chat", "store", "telegram", "settings", "logs"},
}
TELEGRAM_PACKAGES = {"telegram", "tornado"}
LAYERED = sorted(p for layer in ALLOWED for p in (BOT / layer).glob("*.py"))


def layer_of(path: Path) -> str:
    return path.relative_to(BOT).parts[0].removesuffix(".py")


def imports(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_every_layer_has_modules():
    for layer in ALLOWED:
        assert list((BOT / layer).glob("*.py")), layer


@pytest.mark.parametrize("path", LAYERED, ids=lambda p: str(p.relative_to(BOT)))
def test_layer_imports_only_layers_below(path):
    layer = layer_of(path)
    used = {name.split(".")[1] for name in imports(path) if name.startswith("bot.")}
    assert used <= ALLOWED[layer], f"{path.name} ({layer}) imports {used - ALLOWED[layer]}"


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_only_the_telegram_layer_imports_telegram(path):
    roots = {name.split(".")[0] for name in imports(path)}
    if layer_of(path) != "telegram":
        assert not roots & TELEGRAM_PACKAGES, f"{path} imports {roots & TELEGRAM_PACKAGES}"


def test_every_module_says_what_it_is_for():
    for path in BOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{path.relative_to(BOT)} has no module docstring"
