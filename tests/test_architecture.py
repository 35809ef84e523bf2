"""The layering of the tree holds: the detection core imports no platform, network or disk library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "bot" / "core"

# Pure libraries the core may use; everything else outside the standard library is refused.
CORE_ALLOWED_THIRD_PARTY = {
    "ada_url",
    "publicsuffixlist",
    "regex",
    "numpy",
    "confusable_homoglyphs",
}
# Standard-library modules that do I/O or talk to the world.
CORE_FORBIDDEN_STDLIB = {
    "asyncio",
    "socket",
    "ssl",
    "http",
    "urllib.request",
    "sqlite3",
    "subprocess",
    "os",
    "shutil",
    "tempfile",
    "pathlib",
    "io",
    "logging",
    "threading",
    "multiprocessing",
    "concurrent",
    "select",
    "selectors",
    "ftplib",
    "smtplib",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_violations(path: Path) -> list[str]:
    """The imports of `path` that a core module may not have."""
    bad = []
    for name in sorted(_imports(path)):
        top = name.split(".")[0]
        if top == "__future__":
            continue
        if top == "bot":
            if not name.startswith("bot.core"):
                bad.append(f"{name} (outside the core)")
        elif top in sys.stdlib_module_names:
            if top in CORE_FORBIDDEN_STDLIB or any(
                name == f or name.startswith(f + ".") for f in CORE_FORBIDDEN_STDLIB
            ):
                bad.append(f"{name} (does I/O)")
        elif top not in CORE_ALLOWED_THIRD_PARTY:
            bad.append(f"{name} (not a pure library)")
    return bad


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_imports_only_pure_libraries(path: Path) -> None:
    """bot/core imports the standard library's pure modules, itself, and a few pure libraries."""
    assert core_violations(path) == []


def test_the_check_catches_a_bad_import(tmp_path: Path) -> None:
    """The import check itself flags platform, network, storage and upward imports."""
    module = tmp_path / "bad.py"
    module.write_text(
        "import discord\nfrom aiohttp import web\nimport sqlite3\n"
        "from urllib.request import urlopen\nfrom bot.storage import ListRepo\nimport re\n"
    )
    assert len(core_violations(module)) == 5


def test_storage_does_not_import_platforms() -> None:
    """Storage sits below the platforms: it imports neither discord nor twitchio nor aiohttp."""
    for path in (ROOT / "bot" / "storage").glob("*.py"):
        tops = {n.split(".")[0] for n in _imports(path)}
        assert not tops & {"discord", "twitchio", "aiohttp"}, path.name
