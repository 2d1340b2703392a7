"""Two bot processes as shards 0 and 1 of 2, sharing one PostgreSQL database, against the loopback Discord that
routes each server to its shard: polls and weekly picks in a server on each shard, and the process of shard 0 killed
with SIGKILL in the middle of a burst of votes, then restarted. No acknowledged vote is lost, each poll's result is
posted once, and each server's weekly picks once."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db.database import open_database

from .conftest import LaunchBot
from .fake_discord import FakeDiscord, FakeMember, FakeUser, InteractionRecord, StoredMessage, World
from .harness import BotProcess, DiscordDriver

pytestmark = pytest.mark.e2e

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
VOTERS = 30  # per server
FIRST = "1. The Last Waltz (1978)"


@pytest.fixture(autouse=True)
def _real_bot_only(bot_kind: str) -> None:
    if bot_kind != "real":
        pytest.skip("shards, polls and weekly picks need the real bot")


async def launch_shard(launch_bot: LaunchBot, database_url: str, shard: int) -> BotProcess:
    env = {"SHARD_COUNT": "2", "SHARD_IDS": str(shard), "DATABASE_URL": database_url}
    bot = await launch_bot(env=env, timeout=90)
    await bot.wait_for_log(rf"filmclub ready as .* in 1 guild\(s\) on shard {shard} of 2")
    return bot


async def schedule_picks_soon(discord: DiscordDriver, club: World) -> None:
    """Weekly picks in the club's #picks, the slot a few seconds from now, through the real commands."""
    moderator = club.moderator
    await discord.invoke(
        "config channel", as_member=moderator, in_channel=club.general, kind="picks", channel=club.picks
    )
    await discord.invoke("config timezone", as_member=moderator, in_channel=club.general, tz="UTC")
    slot = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    reply = await discord.invoke(
        "config picks",
        as_member=moderator,
        in_channel=club.general,
        day=WEEKDAYS[slot.astimezone(ZoneInfo("UTC")).weekday()],
        time=f"{slot:%H:%M:%S}",
        count=3,
    )
    assert f"Next post: <t:{int(slot.timestamp())}:F>" in reply.text


async def open_poll(discord: DiscordDriver, club: World) -> StoredMessage:
    """A poll that closes after the restart, its message found from the link in the moderator's confirmation."""
    options = {"title": "Shard night", "deadline": "75s", "film1": "the-last-waltz", "film2": "monterey-pop"}
    reply = await discord.command("/poll create", member=club.moderator, channel=club.general, options=options)
    message_id = int(reply.text.split("/")[-1].split()[0].strip(")"))
    return discord.fake.messages[message_id]


def poll_id_of(message: StoredMessage) -> int:
    return int(message.embeds[0]["footer"]["text"].split("#")[1].split()[0])


def crowd(fake: FakeDiscord, club: World, count: int) -> list[FakeMember]:
    """Members who join the club to vote."""
    members = []
    for index in range(count):
        user = FakeUser(id=fake.ids.next(), username=f"{club.guild.name.split()[0].lower()}-voter{index}")
        member = FakeMember(user=user, guild_id=club.guild.id, roles=[club.member_role])
        club.guild.members.append(member)
        fake.users[user.id] = user
        members.append(member)
    return members


def picks_posts(discord: DiscordDriver, club: World) -> list[StoredMessage]:
    return [m for m in discord.messages(club.picks) if m.embeds and "weekly picks" in m.embeds[0]["footer"]["text"]]


def results_of(discord: DiscordDriver, club: World, poll: StoredMessage) -> list[StoredMessage]:
    """The poll's result announcements: the replies to its message that carry the chart."""
    return [
        m
        for m in discord.messages(club.general)
        if m.attachments and m.message_reference and int(m.message_reference["message_id"]) == poll.id
    ]


async def stored_voters(database_url: str, poll_id: int) -> set[int]:
    async with await open_database(database_url) as db:
        return {int(row[0]) for row in await db.fetchall("SELECT user_id FROM ballots WHERE poll_id = ?", (poll_id,))}


async def test_two_processes_share_one_database_and_a_kill_9_mid_burst_loses_no_vote_and_repeats_nothing(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, clubs: dict[int, World], postgres_database_url: str
) -> None:
    bots = {shard: await launch_shard(launch_bot, postgres_database_url, shard) for shard in (0, 1)}
    sessions = fake_discord.gateway.by_shard
    assert {shard: session.identify["shard"] for shard, session in sessions.items()} == {0: [0, 2], 1: [1, 2]}
    discord = DiscordDriver(fake_discord)

    for club in clubs.values():
        await schedule_picks_soon(discord, club)
    polls = {shard: await open_poll(discord, club) for shard, club in clubs.items()}
    for club in clubs.values():
        await discord.wait_for_message(club.picks, timeout=30)

    # A burst of votes in both servers; the process of shard 0 is killed once the first of its votes is answered.
    records: dict[int, list[InteractionRecord]] = {}
    for shard, club in clubs.items():
        custom_id = polls[shard].component(FIRST)["custom_id"]
        voters = crowd(fake_discord, club, VOTERS)
        records[shard] = [fake_discord.component_interaction(polls[shard], custom_id, member=m) for m in voters]
    await asyncio.sleep(0.2)  # a member's reaction time
    burst = asyncio.gather(*(fake_discord.dispatch_interaction(r) for shard in (1, 0) for r in records[shard]))
    await discord.wait_until(
        lambda: any(r.responded.is_set() for r in records[0]), timeout=20, what="a first vote acknowledged on shard 0"
    )
    await bots[0].kill()
    await burst
    acknowledged = {
        shard: {r.member.id for r in batch if r.responded.is_set() and r.member is not None}
        for shard, batch in records.items()
    }
    assert acknowledged[0], "no vote on shard 0 was acknowledged before the kill"
    await bots[0].start(timeout=90)
    await bots[0].wait_for_log(r"filmclub ready as .* in 1 guild\(s\) on shard 0 of 2")

    for shard, club in clubs.items():
        poll = polls[shard]
        await discord.wait_until(lambda c=club, p=poll: results_of(discord, c, p), timeout=120, what="the result")
    await asyncio.sleep(2)  # room for a wrongly repeated post to show up before counting
    for shard, club in clubs.items():
        poll = polls[shard]
        (result,) = results_of(discord, club, poll)
        stored = await stored_voters(postgres_database_url, poll_id_of(poll))
        lost = acknowledged[shard] - stored
        assert not lost, f"shard {shard}: {len(lost)} acknowledged vote(s) lost"
        counted = re.search(r"The Last Waltz \(1978\)\D*?(\d+) votes?", result.text)
        assert counted is not None and int(counted[1]) == len(stored), result.text
        assert len(picks_posts(discord, club)) == 1, f"shard {shard}: weekly picks posted more than once"
