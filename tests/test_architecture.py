"""Rules about the shape of the code: the core never imports discord, every extension loads, names are unique."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from discord import app_commands

from bot.client import FilmClubBot, discover_extensions
from bot.settings import Settings
from cogs.help import HELP_ORDER
from tests.conftest import REPO

CORE = [REPO / "bot" / "core", REPO / "bot" / "db"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_discord() -> None:
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for folder in CORE
        for path in folder.rglob("*.py")
        for name in imported_modules(path)
        if name == "discord" or name.startswith(("discord.", "cogs", "bot.ui", "bot.client", "bot.tree"))
    ]
    assert offenders == []


def test_every_extension_imports_and_has_setup() -> None:
    extensions = discover_extensions()
    assert "cogs.help" in extensions
    for name in extensions:
        module = importlib.import_module(name)
        assert callable(getattr(module, "setup", None)), f"{name} has no setup(bot)"


async def test_command_names_are_unique_and_described(tmp_path: Path) -> None:
    async with FilmClubBot(Settings(database_path=tmp_path / "x.db")) as bot:  # a sharded bot closes once entered
        await bot.open_services()  # what setup_hook provides before loading cogs: they use the database and timers
        await bot.load_extensions()
        seen: set[str] = set()
        for command in bot.tree.walk_commands():
            assert command.qualified_name not in seen, f"/{command.qualified_name} is defined twice"
            seen.add(command.qualified_name)
            assert command.description and command.description != "…", f"/{command.qualified_name} has no description"
            if isinstance(command, app_commands.Command):
                assert len(command.description) <= 100
        assert {"help", "about"} <= seen
        unplaced = set(bot.cogs) - set(HELP_ORDER)
        assert unplaced == set(), f"give {unplaced} a place in cogs.help.HELP_ORDER"


#: A path built to ../shared from a test file's location (tmp_path / "shared" copies are fine).
SHARED_PATH = re.compile(r"""(\.parent|\.parents\[\d+\])\s*/\s*["']shared["']""")


def test_tests_reach_the_shared_data_only_through_the_fixture() -> None:
    """The ``shared_data`` fixture marks the test and says why it skipped; a path of one's own skips silently."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "tests").rglob("*.py"))
        if path != REPO / "tests" / "conftest.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SHARED_PATH.search(line)
    ]
    assert offenders == [], "use the shared_data fixture (tests/conftest.py) instead"


#: Modules that come with a declared dependency at the exact version it pins (so declaring them adds nothing).
SHIPPED_WITH = {"pydantic_core": "pydantic"}


def test_every_library_the_bot_imports_is_a_declared_dependency() -> None:
    """A library the bot imports directly must be in pyproject's dependencies, at the version its code needs: one
    that only arrives through another package (aiohttp, yarl through discord.py) can come in a version without what
    we use."""
    declared = {
        re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        for requirement in tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "dependencies"
        ]
    }
    distributions = importlib.metadata.packages_distributions()
    ours = {"bot", "cogs"}
    undeclared: dict[str, str] = {}
    for folder in ("bot", "cogs"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:  # not `from . import`
                    modules = [node.module]
                else:
                    continue
                for top in {module.split(".")[0] for module in modules}:
                    if top in ours or top in sys.stdlib_module_names or top in SHIPPED_WITH:
                        continue
                    for distribution in distributions.get(top, [top]):
                        if distribution.lower() not in declared:
                            undeclared[top] = f"{distribution} (imported by {path.relative_to(REPO)})"
    assert undeclared == {}
