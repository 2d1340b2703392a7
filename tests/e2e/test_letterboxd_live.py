"""Letterboxd, live, end to end: the real bot against the loopback Discord AND the loopback Letterboxd feed server
(LETTERBOXD_BASE_URL pointed at it). A member links their account; the first check takes the feed's past in
without posting it; a new entry appears in the feed and its diary post and imported rating appear once; the bot is
restarted and its persisted check runs again (a 304): nothing twice. An edited review updates the imported one. A
feed that keeps failing: its member is told once, by DM, and /letterboxd status says why. Import turned on later:
the feed's entries imported once, nothing posted again. Bad input and who may unlink whom."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
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


def execute(bot: BotProcess, sql: str, params: tuple[Any, ...] = ()) -> None:
    with sqlite3.connect(bot.db_path) as db:
        db.execute(sql, params)


def link_state(bot: BotProcess, user_id: int) -> tuple[Any, ...] | None:
    rows = query(
        bot,
        "SELECT last_checked, failures, primed, entries_imported FROM letterboxd_links WHERE user_id = ?",
        (user_id,),
    )
    return rows[0] if rows else None


@pytest.fixture
def real_bot_only() -> None:
    if default_bot_kind() != "real":
        pytest.skip("Letterboxd, live needs the real bot")


async def test_link_a_new_entry_posted_and_imported_once_across_a_restart(
    real_bot_only: None,
    fake_discord: FakeDiscord,
    launch_bot: LaunchBot,
    letterboxd_feed: LetterboxdFeedDouble,
    world: World,
) -> None:
    fake = fake_discord
    letterboxd_feed.add_member("alice_lb", "Alice")
    letterboxd_feed.add_entry("alice_lb", "Monterey Pop", 1968, rating=3.5)  # her past
    bot = await launch_bot(env=letterboxd_feed.env())
    discord = DiscordDriver(fake)

    set_diary = await discord.invoke("config channel", as_member=world.moderator, kind="diary", channel=world.general)
    assert "Letterboxd diary channel" in set_diary.text, set_diary.text

    linked = await discord.invoke(
        "letterboxd link", as_member=world.alice, username="alice_lb", diary=True, **{"import": True}
    )
    assert linked.ephemeral
    assert "Linked to **alice\\_lb**" in linked.text and "Diary posts: **on**" in linked.text, linked.text
    await eventually(lambda: (link_state(bot, world.alice.id) or (None, 0, 0))[2] == 1, "the first check")
    assert fake.channel_messages(world.general) == []  # the past is not posted...
    monterey = query(bot, "SELECT id FROM films WHERE slug = 'monterey-pop'")
    past = "SELECT rating, source FROM reviews WHERE user_id = ? AND film_id = ?"
    assert query(bot, past, (world.alice.id, monterey[0][0])) == [(7, "letterboxd")]  # ...but imported

    hostile = (
        f"Robbie's <b>best</b> night. @everyone <@{world.bob.id}> <script>alert(1)</script>\n\nThe Band ||ends|| here."
    )
    new = letterboxd_feed.add_entry(
        "alice_lb", "The Last Waltz", 1978, rating=4.5, liked=True, review=hostile, spoiler=True
    )
    await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb")  # check now
    post = await discord.wait_until(
        lambda: next(iter(fake.channel_messages(world.general)), None), timeout=30, what="the diary post"
    )
    embed = post.embeds[0]
    assert embed["title"] == "Alice logged a film" or embed["title"].endswith("logged a film"), embed
    description = embed["description"]
    assert "The Last Waltz (1978)" in description and "★★★★½ · ♥ liked" in description, description
    assert "*This review may contain spoilers.*\n||" in description  # hidden behind spoiler bars
    assert "\\|\\|ends\\|\\|" in description  # the member's own bars cannot end the spoiler early
    # Shown as the member wrote it (Discord renders no HTML), and no mention in it can ping.
    assert f"<@{world.bob.id}>" not in description and "@everyone" not in description
    assert f"[Read it on Letterboxd]({letterboxd_feed.base_url}/alice_lb/film/" in description
    assert post.would_ping() == ([], [], False)
    assert post.allowed_mentions == {"parse": []}
    waltz = query(bot, "SELECT id FROM films WHERE slug = 'the-last-waltz'")[0][0]
    imported = query(
        bot, "SELECT rating, source, spoiler FROM reviews WHERE user_id = ? AND film_id = ?", (world.alice.id, waltz)
    )
    assert imported == [(9, "letterboxd", 1)]
    handled = "SELECT guid FROM letterboxd_entries WHERE user_id = ? ORDER BY guid"
    assert new.guid in [guid for (guid,) in query(bot, handled, (world.alice.id,))]

    # Alice edits her review on Letterboxd (same guid): the imported review follows; nothing is posted again.
    letterboxd_feed.edit_entry("alice_lb", new.guid, review="On second thought: the best concert film.", rating=5.0)
    await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb")
    body = "SELECT rating, body FROM reviews WHERE user_id = ? AND film_id = ?"
    await eventually(
        lambda: query(bot, body, (world.alice.id, waltz)) == [(10, "On second thought: the best concert film.")],
        "the edited review imported",
    )
    assert len(fake.channel_messages(world.general)) == 1

    # A restart: the persisted check comes due while the bot is down and runs once it is back (the feed answers 304).
    reads = letterboxd_feed.count("alice_lb")
    assert await bot.stop() == 0
    execute(bot, "UPDATE timers SET due_at = '2000-01-01T00:00:00.000000Z' WHERE kind = 'letterboxd-feed'")
    await bot.start(timeout=60)
    await eventually(lambda: letterboxd_feed.count("alice_lb") > reads, "the check after the restart")
    await eventually(
        lambda: (
            query(
                bot,
                "SELECT COUNT(*) FROM timers WHERE kind = 'letterboxd-feed' AND done_at IS NULL "
                "AND due_at > '2001-01-01'",
            )
            == [(1,)]
        ),
        "the next check planned",
    )
    assert letterboxd_feed.requests[-1].status == 304
    assert len(fake.channel_messages(world.general)) == 1  # nothing twice
    assert query(bot, "SELECT COUNT(*) FROM reviews WHERE user_id = ?", (world.alice.id,)) == [(2,)]

    status = await discord.invoke("letterboxd status", as_member=world.alice)
    fields = {field["name"]: field["value"] for field in status.message.embeds[0]["fields"]}
    assert fields["Entries"] == "2 handled · 2 imported", fields


async def test_a_failing_feed_is_read_less_often_and_its_member_told_once(
    real_bot_only: None,
    fake_discord: FakeDiscord,
    launch_bot: LaunchBot,
    letterboxd_feed: LetterboxdFeedDouble,
    world: World,
) -> None:
    fake = fake_discord
    bot = await launch_bot(env=letterboxd_feed.env())
    discord = DiscordDriver(fake)
    for attempt in range(1, 4):  # no such member on Letterboxd: 404 at every check (linking again checks at once)
        await discord.invoke("letterboxd link", as_member=world.bob, username="nobody_here")
        await eventually(lambda n=attempt: (link_state(bot, world.bob.id) or (None, 0))[1] == n, f"check {attempt}")
    dm = fake.dm_channel(world.bob.user)
    told = await discord.wait_until(lambda: fake.channel_messages(dm), timeout=20, what="the DM")
    assert len(told) == 1 and "could not read your Letterboxd feed" in told[0].content

    def backed_off() -> bool:  # three failures in a row: the next check waits 8 intervals (4 h), jittered
        ((due_at,),) = query(bot, "SELECT due_at FROM timers WHERE kind = 'letterboxd-feed' AND done_at IS NULL")
        ((checked,),) = query(bot, "SELECT last_checked FROM letterboxd_links WHERE user_id = ?", (world.bob.id,))
        return bool(datetime.fromisoformat(due_at) - datetime.fromisoformat(checked) > timedelta(hours=3.5))

    await eventually(backed_off, "the next check backed off")

    status = await discord.invoke("letterboxd status", as_member=world.bob)
    fields = {field["name"]: field["value"] for field in status.message.embeds[0]["fields"]}
    assert "no such member on Letterboxd" in fields["Last error"], fields

    await discord.invoke("letterboxd link", as_member=world.bob, username="nobody_here")
    await eventually(lambda: (link_state(bot, world.bob.id) or (None, 0))[1] == 4, "check 4")
    await asyncio.sleep(0.5)
    assert len(fake.channel_messages(dm)) == 1  # told once


async def test_bad_input_and_who_may_unlink(
    real_bot_only: None,
    fake_discord: FakeDiscord,
    launch_bot: LaunchBot,
    letterboxd_feed: LetterboxdFeedDouble,
    world: World,
) -> None:
    await launch_bot(env=letterboxd_feed.env())
    discord = DiscordDriver(fake_discord)
    for name in ("a", "far_too_long_a_name", "../../etc", "bad-dash", "@everyone x"):
        refused = await discord.invoke("letterboxd link", as_member=world.alice, username=name)
        assert refused.ephemeral and "2 to 15 letters, digits or underscores" in refused.text, (name, refused.text)
    nothing = await discord.invoke("letterboxd status", as_member=world.alice)
    assert "not linked a Letterboxd account" in nothing.text

    letterboxd_feed.add_member("alice_lb")
    await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb")
    not_yours = await discord.invoke("letterboxd unlink", as_member=world.bob, member=world.alice)
    assert not_yours.ephemeral and "moderator" in not_yours.text.lower(), not_yours.text
    done = await discord.invoke("letterboxd unlink", as_member=world.moderator, member=world.alice)
    assert "is unlinked here" in done.text and done.message.would_ping() == ([], [], False)
    again = await discord.invoke("letterboxd unlink", as_member=world.alice)
    assert "no Letterboxd account linked" in again.text


async def test_import_turned_on_later_imports_the_feed_once_and_posts_nothing_again(
    real_bot_only: None,
    fake_discord: FakeDiscord,
    launch_bot: LaunchBot,
    letterboxd_feed: LetterboxdFeedDouble,
    world: World,
) -> None:
    """Alice links with the diary on and import off: her new entry is posted, nothing imported. She turns import on:
    the next check (in a moment) reads the whole feed, not conditionally, and imports her past and the posted entry
    once; nothing is posted again, and later checks import nothing twice."""
    fake = fake_discord
    letterboxd_feed.add_member("alice_lb", "Alice")
    letterboxd_feed.add_entry("alice_lb", "Monterey Pop", 1968, rating=3.5)  # her past
    bot = await launch_bot(env=letterboxd_feed.env())
    discord = DiscordDriver(fake)
    await discord.invoke("config channel", as_member=world.moderator, kind="diary", channel=world.general)

    linked = await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb", diary=True)
    assert "Import ratings and reviews: **off**" in linked.text and "imported at the next check" not in linked.text
    await eventually(lambda: (link_state(bot, world.alice.id) or (None, 0, 0))[2] == 1, "the first check")
    letterboxd_feed.add_entry("alice_lb", "The Last Waltz", 1978, rating=4.5, review="Robbie's best night.")
    await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb")  # check now
    await discord.wait_until(lambda: fake.channel_messages(world.general), timeout=30, what="the diary post")
    reviews = "SELECT f.slug, r.rating, r.body, r.source FROM reviews AS r JOIN films AS f ON f.id = r.film_id"
    reviews += " WHERE r.user_id = ? ORDER BY f.slug"
    assert query(bot, reviews, (world.alice.id,)) == []  # import is off

    reads = letterboxd_feed.count("alice_lb")
    turned = await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb", **{"import": True})
    assert turned.ephemeral
    assert "Import ratings and reviews: **on**" in turned.text, turned.text
    assert "the entries in your feed will be imported at the next check" in turned.text, turned.text
    expected = [
        ("monterey-pop", 7, None, "letterboxd"),
        ("the-last-waltz", 9, "Robbie's best night.", "letterboxd"),
    ]
    await eventually(lambda: query(bot, reviews, (world.alice.id,)) == expected, "the feed imported")
    assert letterboxd_feed.count("alice_lb") > reads
    assert letterboxd_feed.requests[-1].status == 200  # read whole: a conditional read would have been a 304
    await eventually(lambda: (link_state(bot, world.alice.id) or (0, 0, 0, 0))[3] == 2, "two entries imported")

    # Checks after that: nothing posted again, nothing imported twice.
    reads = letterboxd_feed.count("alice_lb")
    await discord.invoke("letterboxd link", as_member=world.alice, username="alice_lb")
    await eventually(lambda: letterboxd_feed.count("alice_lb") > reads, "the check after the import")
    await eventually(lambda: letterboxd_feed.requests[-1].status == 304, "a conditional read again")
    await asyncio.sleep(0.5)
    assert len(fake.channel_messages(world.general)) == 1
    assert query(bot, reviews, (world.alice.id,)) == expected
    status = await discord.invoke("letterboxd status", as_member=world.alice)
    fields = {field["name"]: field["value"] for field in status.message.embeds[0]["fields"]}
    assert fields["Entries"] == "2 handled · 2 imported", fields
