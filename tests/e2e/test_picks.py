"""Weekly picks through the loopback Discord: a slot a few seconds ahead fires once, restarts never repost, a slot
missed while the bot was down is caught up once, and /picks now claims the week (and gives it back if Discord refuses
the post)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .fake_discord import FakeChannel, FakeMember, Perm, StoredMessage, World
from .harness import BotProcess, DiscordDriver

pytestmark = pytest.mark.e2e

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AHEAD = timedelta(seconds=3)


@pytest.fixture(autouse=True)
def _real_bot_only(bot_kind: str) -> None:
    if bot_kind != "real":
        pytest.skip("weekly picks need the real bot")


async def schedule_soon(discord: DiscordDriver, moderator: FakeMember, zone: str) -> datetime:
    """Set the weekly slot to a few seconds from now in the club's timezone, through the real commands."""
    await discord.invoke("config timezone", as_member=moderator, tz=zone)
    slot = (datetime.now(UTC) + AHEAD).replace(microsecond=0)
    local = slot.astimezone(ZoneInfo(zone))
    reply = await discord.invoke(
        "config picks", as_member=moderator, day=WEEKDAYS[local.weekday()], time=f"{local:%H:%M:%S}", count=3
    )
    assert f"Next post: <t:{int(slot.timestamp())}:F>" in reply.text
    return slot


def slot_week(slot: datetime) -> str:
    year, week, _day = slot.astimezone(ZoneInfo("America/New_York")).isocalendar()
    return f"{year}-W{week:02d}"


def picks_posts(discord: DiscordDriver, channel: FakeChannel) -> list[StoredMessage]:
    return [m for m in discord.messages(channel) if m.embeds and "weekly picks" in m.embeds[0]["footer"]["text"]]


async def settle(discord: DiscordDriver, seconds: float = 0.75) -> None:
    """Give a wrongly repeated post the chance to show up before counting."""
    await asyncio.sleep(seconds)


def assert_is_a_picks_post(message: StoredMessage, count: int = 3) -> list[int]:
    embed = message.embeds[0]
    assert embed["title"].startswith("This week's picks · ")
    assert len(embed["fields"]) == count
    for field in embed["fields"]:
        assert "💬" in field["value"]  # discussion prompts
        assert field["value"].startswith("*")  # the reason, in italics
    assert re.fullmatch(r"filmclub weekly picks · \d{4}-W\d{2} · #\d+", embed["footer"]["text"])
    buttons = [c for c in message.walk_components() if c.get("type") == 2]
    assert [b["label"] for b in buttons] == ["Start a watch-party poll"]
    match = re.fullmatch(r"filmclub:poll-from:(\d+(?:,\d+)+)", buttons[0]["custom_id"])
    assert match is not None
    film_ids = [int(i) for i in match.group(1).split(",")]
    assert len(film_ids) == count
    return film_ids


async def test_a_slot_a_few_seconds_ahead_fires_once_and_a_restart_does_not_repost(
    discord: DiscordDriver, bot: BotProcess, world: World
) -> None:
    moderator = world.moderator
    await discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    slot = await schedule_soon(discord, moderator, "America/New_York")

    message = await discord.wait_for_message(world.picks, timeout=15)
    film_ids = assert_is_a_picks_post(message)
    assert message.would_ping() == ([], [], False)
    await bot.wait_for_log(r"timer \d+ \(picks\.weekly \d+:\d{4}-W\d{2}\) done")
    assert datetime.now(UTC) >= slot
    await settle(discord)
    assert len(picks_posts(discord, world.picks)) == 1

    await bot.restart(hard=True)  # kill -9, then start on the same database
    await bot.wait_for_log("timers re-armed")
    await settle(discord)
    assert len(picks_posts(discord, world.picks)) == 1

    # A crash between Discord accepting the post and the bot recording it (and its timer being marked done): the
    # timer runs again at start-up, finds its own post in the channel and records it instead of posting again.
    assert await bot.stop() == 0
    with sqlite3.connect(bot.db_path) as db:
        db.execute("UPDATE picks_posts SET message_id = NULL, posted_at = NULL")
        db.execute("UPDATE timers SET done_at = NULL, outcome = NULL WHERE key LIKE '%' || ? ", (slot_week(slot),))
    await bot.start()
    await bot.wait_for_log(r"weekly picks \d+ were already in the channel; recorded message \d+")
    await settle(discord)
    assert len(picks_posts(discord, world.picks)) == 1

    history = await discord.invoke("picks history", as_member=world.alice)
    assert history.ephemeral
    assert "(on schedule)" in history.text
    assert f"/{world.picks.id}/{message.id})" in history.text

    again = await discord.invoke("picks now", as_member=moderator)
    assert "This week's picks" in again.text and "already taken care of" in again.text

    preview = await discord.invoke("picks preview", as_member=moderator)
    assert preview.ephemeral
    assert f"It would be posted in <#{world.picks.id}> <t:" in preview.text
    previewed = {field["name"] for field in preview.embed["fields"]}
    posted = {field["name"] for field in message.embeds[0]["fields"]}
    assert previewed and not previewed & posted  # no repeats next week
    assert len(picks_posts(discord, world.picks)) == 1
    assert len(film_ids) == 3


async def test_down_across_the_slot_then_up_within_grace_posts_one_catch_up(
    discord: DiscordDriver, bot: BotProcess, world: World
) -> None:
    moderator = world.moderator
    await discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    slot = await schedule_soon(discord, moderator, "Europe/London")
    assert await bot.stop() == 0
    await asyncio.sleep(max(0.0, (slot - datetime.now(UTC)).total_seconds()) + 0.5)
    assert picks_posts(discord, world.picks) == []  # nobody was there at the time

    await bot.start()
    message = await discord.wait_for_message(world.picks, timeout=15)
    assert_is_a_picks_post(message)
    await bot.wait_for_log(r"posted weekly picks of guild \d+ week \d{4}-W\d{2} \(catch-up\)")
    await settle(discord)
    assert len(picks_posts(discord, world.picks)) == 1

    history = await discord.invoke("picks history", as_member=world.bob)
    assert "(caught up after downtime)" in history.text


async def test_picks_now_claims_the_week_and_gives_it_back_when_discord_refuses(
    discord: DiscordDriver, bot: BotProcess, world: World
) -> None:
    moderator = world.moderator
    await discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    await discord.invoke("config channel", as_member=moderator, kind="polls", channel=world.polls)
    await discord.invoke("config picks", as_member=moderator, count=4, poll=True)

    # Discord changes the channel's permissions without the bot hearing of it: its cache says all is well, the
    # API refuses the post. The week must not stay claimed by a post that never happened.
    deny = {"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES}
    world.picks.overwrites.append(deny)
    refused = await discord.invoke("picks now", as_member=moderator)
    assert refused.ephemeral
    assert f"Discord refused my post in <#{world.picks.id}>" in refused.text
    assert "Nothing was posted" in refused.text
    world.picks.overwrites.remove(deny)

    posted = await discord.invoke("picks now", as_member=moderator)
    assert posted.ephemeral
    assert "Posted this week's picks" in posted.text
    messages = picks_posts(discord, world.picks)
    assert len(messages) == 1
    film_ids = assert_is_a_picks_post(messages[0], count=4)
    history = await discord.invoke("picks history", as_member=world.alice)
    assert f"(posted by <@{moderator.id}>)" in history.text

    # The hand-off button is answered by the polls feature (a moderator gets its short poll form).
    form = await discord.click(messages[0], "Start a watch-party poll", member=moderator, wait="callback")
    assert form.response_type == 9

    # poll:true opens the watch-party poll among the picks (posted by the polls feature in #polls).
    poll = await discord.wait_for_message(world.polls, timeout=10)
    assert "Watch party" in poll.text
    assert len(film_ids) == 4


def poll_messages(discord: DiscordDriver, channel: FakeChannel) -> list[StoredMessage]:
    return [m for m in discord.messages(channel) if "Watch party" in m.text]


@pytest.mark.parametrize(
    "crash_at",
    ["INSERT ON polls", "UPDATE OF poll_id ON picks_posts"],
    ids=["before-the-poll-is-stored", "between-storing-the-poll-and-recording-it"],
)
async def test_a_crash_at_the_watch_party_poll_leaves_exactly_one_poll_after_the_restart(
    discord: DiscordDriver, bot: BotProcess, world: World, crash_at: str
) -> None:
    moderator = world.moderator
    await discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    await discord.invoke("config channel", as_member=moderator, kind="polls", channel=world.polls)
    await discord.invoke("config picks", as_member=moderator, poll=True)
    # The database fails at that point of opening the poll, as a crash there would stop the bot...
    with sqlite3.connect(bot.db_path) as db:
        db.execute(f"CREATE TRIGGER crash BEFORE {crash_at} BEGIN SELECT RAISE(ABORT, 'injected crash'); END")
    await schedule_soon(discord, moderator, "Europe/London")
    await discord.wait_for_message(world.picks, timeout=15)
    await bot.wait_for_log(r"timer \d+ \(picks\.weekly [^)]*\) failed; retrying")
    await bot.kill()  # ...and the bot dies right there (kill -9).
    with sqlite3.connect(bot.db_path) as db:
        db.execute("DROP TRIGGER crash")
        # The failed slot's retry is due now rather than after its back-off (the next week's timer stays put).
        db.execute(
            "UPDATE timers SET due_at = ? WHERE kind = 'picks.weekly' AND done_at IS NULL AND attempts > 0",
            (datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),),
        )

    await bot.start()
    poll = await discord.wait_for_message(world.polls, lambda m: "Watch party" in m.text, timeout=15)
    await bot.wait_for_log(r"timer \d+ \(polls\.publish \d+\) done")  # the polls feature recorded its post
    await bot.restart(hard=True)  # and once more: nothing is opened or posted again
    await bot.wait_for_log("timers re-armed")
    await settle(discord)
    assert [m.id for m in poll_messages(discord, world.polls)] == [poll.id]
    assert len(picks_posts(discord, world.picks)) == 1
    with sqlite3.connect(f"file:{bot.db_path}?mode=ro", uri=True) as db:
        polls = db.execute("SELECT id, message_id FROM polls").fetchall()
        linked = db.execute("SELECT poll_id FROM picks_posts").fetchall()
    assert polls == [(linked[0][0], poll.id)]


async def test_after_picks_now_the_preview_and_config_show_name_next_weeks_post(
    discord: DiscordDriver, bot: BotProcess, world: World
) -> None:
    moderator = world.moderator
    await discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    await discord.invoke("config timezone", as_member=moderator, tz="UTC")
    now = datetime.now(UTC)
    first = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    await discord.invoke("config picks", as_member=moderator, day=WEEKDAYS[first.weekday()], time=f"{first:%H:%M}")
    # /picks now takes this week: its slot (if still to come this week) will post nothing.
    expected = first + timedelta(days=7) if first.isocalendar()[:2] == now.isocalendar()[:2] else first
    year, week, _day = expected.isocalendar()

    posted = await discord.invoke("picks now", as_member=moderator)
    assert "Posted this week's picks" in posted.text and "The scheduled post skips this week." in posted.text
    [message] = picks_posts(discord, world.picks)

    preview = await discord.invoke("picks preview", as_member=moderator)
    assert f"It would be posted in <#{world.picks.id}> <t:{int(expected.timestamp())}:F>" in preview.text
    assert preview.embed["footer"]["text"] == f"Preview · {year}-W{week:02d} · nothing was posted"
    previewed = {field["name"] for field in preview.embed["fields"]}
    assert previewed and not previewed & {field["name"] for field in message.embeds[0]["fields"]}

    shown = await discord.invoke("config show", as_member=moderator)
    assert f"Next post: <t:{int(expected.timestamp())}:F>" in shown.text
