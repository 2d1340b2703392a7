"""The bot process with film details from the loopback TMDb: pointed at it by the harness, the key never logged."""

from __future__ import annotations

import pytest

from tests.e2e.fake_discord import FakeMember
from tests.e2e.harness import BotProcess, DiscordDriver
from tests.tmdb_double import TmdbDouble

pytestmark = pytest.mark.e2e


async def test_the_bot_uses_the_tmdb_double_and_never_logs_the_key(
    tmdb_bot: BotProcess, tmdb_double: TmdbDouble
) -> None:
    await tmdb_bot.wait_for_log(r"film details from TMDb at 127\.0\.0\.1 \(region US\)", timeout=5)

    assert await tmdb_bot.stop() == 0
    assert tmdb_double.api_key not in "\n".join(tmdb_bot.lines)


async def test_without_a_key_details_are_off(bot: BotProcess) -> None:
    await bot.wait_for_log(r"film details are off \(no TMDB_API_KEY\)", timeout=5)


async def test_sigterm_stops_the_bot_after_it_asked_tmdb(
    tmdb_discord: DiscordDriver, tmdb_bot: BotProcess, alice: FakeMember
) -> None:
    """Once the TMDb client has open connections, closing it takes a moment: the process still waits for the whole
    close (details client, then the database) and exits 0, instead of hanging with the database's thread alive."""
    choices = await tmdb_discord.command("/nominate", member=alice, options={"title": "Solaris"})
    assert choices.ephemeral
    assert await tmdb_bot.stop() == 0
    assert "database closed" in tmdb_bot.output_since_launch()
