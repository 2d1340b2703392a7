"""`filmclub catalog load` while the bot runs: the new film shows in autocomplete, /film and theme lists, no restart."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.catalog_builder import film, starter_catalog, theme, to_toml

from .conftest import LaunchBot
from .fake_discord import FakeMember
from .harness import DiscordDriver

pytestmark = pytest.mark.e2e

NEW_FILM = "A Film About the Moon (1990)"


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The database the bot and the command line share: the bot's own SQLite file (``{}``: the harness's default),
    or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    url: str = request.getfixturevalue("postgres_database_url")
    return {"DATABASE_URL": url}


async def catalog_load(catalog: str, database: dict[str, str], cwd: Path) -> str:
    """Run the command a moderator runs, as another process, from another folder than the bot's."""
    env = {**os.environ, **database}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "catalog",
        "load",
        catalog,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, output.decode()
    return output.decode()


async def test_a_catalog_loaded_from_the_command_line_reaches_the_running_bot(
    launch_bot: LaunchBot, tmp_path: Path, alice: FakeMember, database_env: dict[str, str]
) -> None:
    catalog = starter_catalog(tmp_path / "catalog")
    bot = await launch_bot(kind="real", catalog=catalog, env=database_env)
    database_env = database_env or {"DATABASE_PATH": str(bot.db_path)}
    discord = DiscordDriver(bot.fake)
    assert NEW_FILM not in [c["name"] for c in await discord.autocomplete("/film", "title", "moon", member=alice)]

    (catalog / "space.toml").write_text(
        to_toml(
            [theme("space-rock", title="Space Rock")],
            [film("moon-film", title="A Film About the Moon", year=1990, themes=["space-rock", "on-the-road"])],
        ),
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    printed = await catalog_load("../catalog", database_env, elsewhere)
    # Loaded from another folder than the bot's: only the new entries count as changed.
    assert "films 1 added, 0 updated, 0 retired; themes 1 added, 0 updated, 0 retired" in printed

    await bot.wait_for_log(r"the catalog changed \(generation 1 → 2\); title index rebuilt", timeout=30)
    choices = await discord.autocomplete("/film", "title", "moon", member=alice)
    assert NEW_FILM in [c["name"] for c in choices]
    shown = await discord.command("/film", member=alice, options={"title": "A Film About the Moon"})
    assert shown.embed["title"].startswith("A Film About the Moon")
    themes = await discord.autocomplete("/theme show", "theme", "space", member=alice)
    assert "Space Rock (1 film)" in [c["name"] for c in themes]
