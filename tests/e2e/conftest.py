"""Fixtures for the end-to-end suite: the loopback Discord, the bot process, and the members' client.

A test asks for ``discord`` (the members' client, with the bot launched and ready) and the people and places it
needs (``alice``, ``moderator``, ``general``, ``picks`` ...). See tests/README.md.
"""

# ruff: noqa: ASYNC109 - every wait in the harness takes an explicit, bounded timeout by design

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from tests.tmdb_double import TmdbDouble

from .fake_discord import FakeChannel, FakeDiscord, FakeMember, FakeRole, World, shard_of
from .harness import REPO, BotKind, BotProcess, DiscordDriver, default_bot_kind

LaunchBot = Callable[..., Awaitable[BotProcess]]


def catalog_override(tmp_path: Path) -> Path | None:
    """FILMCLUB_E2E_CATALOG=<path> (relative to the repository) or "starter" (a small generated catalog); unset: the
    bot's shipped catalog."""
    chosen = os.environ.get("FILMCLUB_E2E_CATALOG", "").strip()
    if not chosen:
        return None
    if chosen == "starter":
        from tests.catalog_builder import starter_catalog

        folder = tmp_path / "catalog"
        return folder if folder.is_dir() else starter_catalog(folder)
    path = Path(chosen).expanduser()
    return path if path.is_absolute() else REPO / path  # each test runs in its own folder: not from the cwd


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Show the bot's output under every failed e2e test."""
    del call
    report = yield
    if report.failed:
        for bot in getattr(item, "_e2e_bots", []):
            report.sections.append((f"bot output ({bot.log_path})", bot.tail(200)))
    return report


@pytest.fixture
def bot_kind() -> BotKind:
    """ "real" (python -m bot run) or "minimal" (tests/e2e/minimal_bot.py); FILMCLUB_E2E_BOT overrides."""
    return default_bot_kind()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """The loopback Discord with the Film Club guild. A test that made the bot call an unknown route fails."""
    async with FakeDiscord() as fake:
        yield fake
        unknown = list(fake.unknown_requests)
    if unknown:
        pytest.fail(f"the bot called route(s) the double does not implement: {unknown}", pytrace=False)


@pytest.fixture
async def launch_bot(
    fake_discord: FakeDiscord, tmp_path: Path, request: pytest.FixtureRequest, bot_kind: BotKind
) -> AsyncIterator[LaunchBot]:
    """``await launch_bot(token=..., env=..., wait_ready=...)``: start a bot process; all are stopped afterwards."""
    processes: list[BotProcess] = []
    request.node._e2e_bots = processes

    async def launch(*, wait_ready: bool = True, timeout: float = 30.0, **kwargs: Any) -> BotProcess:
        kwargs.setdefault("kind", bot_kind)
        workdir = tmp_path / f"bot{len(processes)}"
        workdir.mkdir()
        kwargs.setdefault("db_path", tmp_path / "club.db")
        kwargs.setdefault("catalog", catalog_override(tmp_path))
        process = BotProcess(fake_discord, workdir, **kwargs)
        processes.append(process)
        return await process.start(wait_ready=wait_ready, timeout=timeout)

    yield launch
    for process in processes:
        await process.aclose()


@pytest.fixture
async def bot(launch_bot: LaunchBot) -> BotProcess:
    """The bot, launched and ready (it logged "filmclub ready")."""
    return await launch_bot()


@pytest.fixture
def discord(fake_discord: FakeDiscord, bot: BotProcess) -> DiscordDriver:
    """The members' Discord client; Alice in #general unless told otherwise."""
    del bot
    return DiscordDriver(fake_discord)


@pytest.fixture
async def tmdb_bot(launch_bot: LaunchBot, tmdb_double: TmdbDouble) -> BotProcess:
    """The bot, launched and ready, with film details from the loopback TMDb (``tmdb_double``, a v3 key)."""
    return await launch_bot(tmdb=tmdb_double)


@pytest.fixture
def tmdb_discord(fake_discord: FakeDiscord, tmdb_bot: BotProcess) -> DiscordDriver:
    """Like ``discord``, with the bot launched against the loopback TMDb (``tmdb_bot``)."""
    del tmdb_bot
    return DiscordDriver(fake_discord)


@pytest.fixture
def clubs(fake_discord: FakeDiscord) -> dict[int, World]:
    """Two shards, as Discord asks of the bot, and a server on each: ``{shard: world}``, Film Club on the shard its id
    puts it, a second club (peopled alike) on the other."""
    fake_discord.shard_count = 2
    film_club = fake_discord.world
    other = 1 - shard_of(film_club.guild.id, 2)
    return {shard_of(film_club.guild.id, 2): film_club, other: fake_discord.add_guild("Second Club", shard=other)}


@pytest.fixture
def world(fake_discord: FakeDiscord) -> World:
    return fake_discord.world


@pytest.fixture
def owner(world: World) -> FakeMember:
    return world.owner


@pytest.fixture
def moderator(world: World) -> FakeMember:
    """Maya, whose Moderator role has Manage Guild."""
    return world.moderator


@pytest.fixture
def alice(world: World) -> FakeMember:
    return world.alice


@pytest.fixture
def bob(world: World) -> FakeMember:
    return world.bob


@pytest.fixture
def carol(world: World) -> FakeMember:
    return world.carol


@pytest.fixture
def general(world: World) -> FakeChannel:
    return world.general


@pytest.fixture
def picks(world: World) -> FakeChannel:
    return world.picks


@pytest.fixture
def polls(world: World) -> FakeChannel:
    return world.polls


@pytest.fixture
def voice(world: World) -> FakeChannel:
    return world.voice


@pytest.fixture
def moderator_role(world: World) -> FakeRole:
    return world.moderator_role


@pytest.fixture
def member_role(world: World) -> FakeRole:
    return world.member_role
