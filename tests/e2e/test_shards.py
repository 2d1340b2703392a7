"""Shards on SQLite: one process runs every shard of a sharded bot, Discord routing each server to its shard, and
SQLite stays one process (a second one on the file, or a process for only some shards, is refused)."""

from __future__ import annotations

import pytest

from .conftest import LaunchBot
from .fake_discord import FakeDiscord, World
from .harness import DiscordDriver

pytestmark = pytest.mark.e2e


async def test_one_process_runs_both_shards_and_answers_in_a_server_of_each(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, clubs: dict[int, World]
) -> None:
    bot = await launch_bot(env={"SHARD_COUNT": "2"})
    assert "running shards 0-1 of 2" in bot.output_since_launch()
    await bot.wait_for_log(r"filmclub ready as .* in 2 guild\(s\) on shards 0-1 of 2")
    sessions = fake_discord.gateway.by_shard
    assert {shard: session.identify["shard"] for shard, session in sessions.items()} == {0: [0, 2], 1: [1, 2]}

    discord = DiscordDriver(fake_discord)
    for shard, club in clubs.items():
        reply = await discord.command("/help", member=club.alice, channel=club.general)
        assert reply.embed["title"] == "filmclub commands", shard
        assert reply.ephemeral
        sent_on = [s for s, session in sessions.items() if any(d is reply.record.payload for *_, d in session.backlog)]
        assert sent_on == [shard]  # Discord sent the command to that server's shard only


async def test_a_second_process_on_the_same_sqlite_file_is_refused(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, clubs: dict[int, World]
) -> None:
    first = await launch_bot(env={"SHARD_COUNT": "2"})
    second = await launch_bot(env={"SHARD_COUNT": "2"}, wait_ready=False)
    assert await second.wait_exit(timeout=30) == 2
    lines = [line for line in second.output_since_launch().splitlines() if line and not line.startswith("-----")]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"filmclub: another filmclub (process {first.pid}) is running on {first.db_path} ")
    assert f"{first.db_path}.lock" in lines[0]
    assert fake_discord.gateway.identify_count == 2  # the first process's two shards, nothing from the second

    discord = DiscordDriver(fake_discord)
    for club in clubs.values():  # the first one carries on
        assert (await discord.command("/help", member=club.bob, channel=club.general)).embed


async def test_sqlite_refuses_to_run_only_some_shards(fake_discord: FakeDiscord, launch_bot: LaunchBot) -> None:
    bot = await launch_bot(env={"SHARD_COUNT": "2", "SHARD_IDS": "0"}, wait_ready=False)
    assert await bot.wait_exit(timeout=30) == 2
    output = bot.output_since_launch()
    assert "SHARD_IDS would have this process run only shard 0 of 2, but SQLite serves one process" in output
    assert "DATABASE_URL" in output and "Traceback" not in output
    assert fake_discord.requests == []  # refused before it ever called Discord


async def test_too_few_shards_for_discord_end_with_one_line(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, clubs: dict[int, World]
) -> None:
    del clubs
    bot = await launch_bot(env={"SHARD_COUNT": "1"}, wait_ready=False)
    assert await bot.wait_exit(timeout=30) == 2
    last = [line for line in bot.output_since_launch().splitlines() if line and not line.startswith("-----")][-1]
    assert last.startswith("filmclub: Discord refused shard 0 (4011 sharding required"), last
    assert "Traceback" not in bot.output_since_launch()
