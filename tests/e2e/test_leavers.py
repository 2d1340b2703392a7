"""Members who leave the server, end to end: the real bot against the loopback Discord (which answers a member lookup
for someone who left with 404 "Unknown Member") and the loopback Letterboxd. The bot does not ask for the Server
Members intent, so Discord does not tell it; it finds out:

- at start-up: a member who is both on the host rota and linked to Letterboxd is looked up once, and is off the
  rota and unlinked; what was imported from their feed stays;
- before posting a diary entry: a linked member who left since their feed was last read is unlinked, and nothing of
  theirs is posted."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.letterboxd_feed_double import LetterboxdFeedDouble

from .conftest import LaunchBot
from .fake_discord import FakeDiscord, World
from .harness import BotProcess, DiscordDriver, default_bot_kind, eventually

pytestmark = pytest.mark.e2e


def query(bot: BotProcess, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{bot.db_path}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def linked(bot: BotProcess, user_id: int) -> bool:
    return bool(query(bot, "SELECT 1 FROM letterboxd_links WHERE user_id = ?", (user_id,)))


def primed(bot: BotProcess, user_id: int) -> bool:
    return query(bot, "SELECT primed FROM letterboxd_links WHERE user_id = ?", (user_id,)) == [(1,)]


def member_lookups(fake: FakeDiscord, user_id: int) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and r.path.endswith(f"/members/{user_id}"))


@pytest.fixture
def real_bot_only() -> None:
    if default_bot_kind() != "real":
        pytest.skip("the leavers' checks need the real bot")


async def test_a_member_who_left_while_the_bot_was_down_is_let_go_by_every_feature_at_start_up(
    real_bot_only: None,
    fake_discord: FakeDiscord,
    launch_bot: LaunchBot,
    letterboxd_feed: LetterboxdFeedDouble,
    world: World,
) -> None:
    fake = fake_discord
    letterboxd_feed.add_member("alice_lb", "Alice")
    letterboxd_feed.add_entry("alice_lb", "Monterey Pop", 1968, rating=3.5)
    bot = await launch_bot(env=letterboxd_feed.env())
    discord = DiscordDriver(fake)
    for member in (world.alice, world.bob):
        joined = await discord.command("/host join", member=member)
        assert joined.ephemeral, joined.text
    await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb", **{"import": True})
    await eventually(lambda: primed(bot, world.alice.id), "the first check of Alice's feed")
    imported = "SELECT COUNT(*) FROM reviews WHERE user_id = ? AND source = 'letterboxd'"
    assert query(bot, imported, (world.alice.id,)) == [(1,)]

    assert await bot.stop() == 0
    await fake.remove_member(world.alice)
    before = member_lookups(fake, world.alice.id)
    await bot.start(timeout=60)
    await bot.wait_for_log(rf"member {world.alice.id} left the server; let go by host rota, Letterboxd", timeout=30)
    assert not linked(bot, world.alice.id)
    assert query(bot, "SELECT user_id FROM host_volunteers") == [(world.bob.id,)]
    assert query(bot, imported, (world.alice.id,)) == [(1,)]  # what was imported stays, as any unlink leaves it
    pending = "SELECT COUNT(*) FROM timers WHERE kind = 'letterboxd-feed' AND done_at IS NULL"
    assert query(bot, pending) == [(0,)]
    assert member_lookups(fake, world.alice.id) - before == 1  # one lookup, though two features followed her

    rota = await discord.command("/host list", member=world.bob)
    assert f"<@{world.alice.id}>" not in rota.text and f"<@{world.bob.id}>" in rota.text


async def test_a_linked_member_who_left_before_their_diary_entry_was_posted_is_unlinked_and_nothing_posted(
    real_bot_only: None,
    fake_discord: FakeDiscord,
    launch_bot: LaunchBot,
    letterboxd_feed: LetterboxdFeedDouble,
    world: World,
) -> None:
    fake = fake_discord
    letterboxd_feed.add_member("alice_lb", "Alice")
    letterboxd_feed.add_member("bob_lb", "Bob")
    bot = await launch_bot(env=letterboxd_feed.env())
    discord = DiscordDriver(fake)
    await discord.invoke("config channel", as_member=world.moderator, kind="diary", channel=world.general)
    for member, name in ((world.alice, "alice_lb"), (world.bob, "bob_lb")):
        await discord.invoke("letterboxd link", as_member=member, username=name, diary=True)
        await eventually(lambda m=member: primed(bot, m.id), f"the first check of {name}")

    letterboxd_feed.add_entry("alice_lb", "The Last Waltz", 1978, rating=4.5, review="Left the club, still watching.")
    letterboxd_feed.add_entry("bob_lb", "Gimme Shelter", 1970, rating=4.0)
    for member, name in ((world.alice, "alice_lb"), (world.bob, "bob_lb")):
        await discord.invoke("letterboxd link", as_member=member, username=name)  # check in a moment
    await fake.remove_member(world.alice)  # ...and Alice leaves before it runs

    bobs = await discord.wait_until(
        lambda: next(iter(fake.channel_messages(world.general)), None), timeout=30, what="Bob's diary post"
    )
    assert "Gimme Shelter" in bobs.embeds[0]["description"]
    await bot.wait_for_log(rf"member {world.alice.id} left before their diary entries were posted", timeout=30)
    await eventually(lambda: not linked(bot, world.alice.id), "Alice unlinked")
    assert all("Last Waltz" not in str(message.embeds) for message in fake.channel_messages(world.general))
    assert linked(bot, world.bob.id)
    handled = "SELECT COUNT(*) FROM letterboxd_entries WHERE user_id = ?"
    assert query(bot, handled, (world.alice.id,)) == [(0,)]  # her queued post went with the link
    checks = "SELECT key FROM timers WHERE kind = 'letterboxd-feed' AND done_at IS NULL"
    await eventually(lambda: query(bot, checks) == [(f"{world.guild.id}:{world.bob.id}",)], "only Bob's next check")
