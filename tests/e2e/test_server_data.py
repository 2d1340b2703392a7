"""A server's data through the loopback Discord: the bot removed from a server keeps its data for
GUILD_DATA_GRACE_DAYS, then deletes it (a log line says so) while another server keeps its own; added back within the
period, everything is there; an outage is not a removal; /config purge deletes at once after the server's name."""

from __future__ import annotations

import re

import pytest

from .conftest import LaunchBot
from .fake_discord import FakeDiscord, World
from .harness import BotProcess, DiscordDriver, default_bot_kind

pytestmark = pytest.mark.e2e

if default_bot_kind() != "real":
    pytest.skip("a server's data needs the real bot", allow_module_level=True)

#: A grace period of about 4 seconds, so that the purge falls due during the test.
SHORT_GRACE_DAYS = "0.00005"


def logged(bot: BotProcess, pattern: str) -> bool:
    return any(re.search(pattern, line) for line in bot.lines)


async def set_timezone(discord: DiscordDriver, world: World, tz: str) -> None:
    reply = await discord.invoke("config timezone", as_member=world.moderator, in_channel=world.general, tz=tz)
    assert tz in reply.text, reply.text


async def shown_timezone(discord: DiscordDriver, world: World) -> str:
    """The timezone /config show gives the server's moderator."""
    reply = await discord.invoke("config show", as_member=world.moderator, in_channel=world.general)
    for zone in ("Europe/Paris", "Asia/Tokyo", "UTC"):
        if zone in reply.text:
            return zone
    raise AssertionError(f"no timezone in /config show: {reply.text}")


async def test_removed_server_is_purged_after_the_grace_period_and_others_keep_theirs(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, world: World
) -> None:
    second = fake_discord.add_guild("Second Club")
    bot = await launch_bot(env={"GUILD_DATA_GRACE_DAYS": SHORT_GRACE_DAYS})
    discord = DiscordDriver(fake_discord)
    await set_timezone(discord, world, "Europe/Paris")
    await set_timezone(discord, second, "Asia/Tokyo")

    await fake_discord.remove_bot(world.guild)
    await bot.wait_for_log(rf"removed from server {world.guild.id}: its data is kept until")
    line = await bot.wait_for_log(rf"purged server {world.guild.id}: \d+ row", timeout=20)
    assert int(line.split(": ")[-1].split()[0]) > 0
    await bot.wait_for_log(rf"timer \d+ \(guild_purge {world.guild.id}\) done")  # its own run recorded
    assert not logged(bot, rf"\(guild_purge {world.guild.id}\) changed while it ran")

    await fake_discord.add_bot(world.guild)  # added again after the period: a fresh start
    await bot.wait_for_log(rf"added to server {world.guild.id}")
    assert not logged(bot, rf"back in server {world.guild.id}")  # nothing was pending any more
    assert await shown_timezone(discord, world) == "UTC"
    assert await shown_timezone(discord, second) == "Asia/Tokyo"
    history = await discord.invoke("config history", as_member=world.moderator, in_channel=world.general)
    assert "No configuration changes yet" in history.text


async def test_back_within_the_grace_period_and_an_outage_keep_everything(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, world: World
) -> None:
    bot = await launch_bot()  # the default grace period: 30 days
    discord = DiscordDriver(fake_discord)
    await set_timezone(discord, world, "Europe/Paris")

    await fake_discord.guild_outage(world.guild)  # unavailable, not removed
    await fake_discord.add_bot(world.guild)  # available again
    assert await shown_timezone(discord, world) == "Europe/Paris"
    assert not logged(bot, rf"removed from server {world.guild.id}")

    await fake_discord.remove_bot(world.guild)
    line = await bot.wait_for_log(rf"removed from server {world.guild.id}: its data is kept until")
    assert "T" in line.split("kept until ")[1]  # a moment, 30 days on
    await bot.restart()  # the pending purge is in the database, not in the process

    await fake_discord.add_bot(world.guild)
    await bot.wait_for_log(rf"back in server {world.guild.id} within the grace period")
    assert await shown_timezone(discord, world) == "Europe/Paris"


async def test_config_purge_asks_for_the_server_name(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, world: World
) -> None:
    second = fake_discord.add_guild("Second Club")
    await launch_bot()
    discord = DiscordDriver(fake_discord)
    await set_timezone(discord, world, "Europe/Paris")
    await set_timezone(discord, second, "Asia/Tokyo")

    refused = await discord.invoke("config purge", as_member=world.alice, in_channel=world.general)
    assert refused.ephemeral and "Manage Server" in refused.text

    form = await discord.invoke("config purge", as_member=world.moderator, in_channel=world.general)
    assert form.response_type == 9
    assert form.modal["title"] == "Delete all of this server's data?"
    wrong = await discord.submit_modal(form, {"Type the server's name to confirm": "Film Clu"}, member=world.moderator)
    assert wrong.ephemeral and "not this server's name" in wrong.text
    assert await shown_timezone(discord, world) == "Europe/Paris"

    form = await discord.invoke("config purge", as_member=world.moderator, in_channel=world.general)
    done = await discord.submit_modal(
        form, {"Type the server's name to confirm": " film club "}, member=world.moderator
    )
    assert done.ephemeral
    assert "All of this server's data was deleted" in done.text
    assert await shown_timezone(discord, world) == "UTC"
    assert await shown_timezone(discord, second) == "Asia/Tokyo"


async def test_a_server_left_while_the_bot_was_down_gets_its_grace_period_at_start_up(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, world: World
) -> None:
    second = fake_discord.add_guild("Second Club")
    bot = await launch_bot()
    discord = DiscordDriver(fake_discord)
    await set_timezone(discord, world, "Europe/Paris")
    await set_timezone(discord, second, "Asia/Tokyo")
    assert await bot.stop() == 0

    await fake_discord.remove_bot(second.guild)  # the bot is down: it never gets the GUILD_DELETE
    await bot.start()

    await bot.wait_for_log(rf"removed from server {second.guild.id}: its data is kept until")
    assert not logged(bot, rf"removed from server {world.guild.id}")
    assert await shown_timezone(discord, world) == "Europe/Paris"
