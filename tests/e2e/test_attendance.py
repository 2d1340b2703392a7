"""Attendance end to end: members come and go in the screening's voice channel while it runs, the bot restarts in
the middle, and the end records who came (the rate-it prompt pings exactly them); /screening attendance, /profile
and /club stats show it.

A bot of its own with ``ATTENDANCE_SHARE=10``: the event lasts 40 seconds, so 4 seconds in the channel count.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeDiscord
from .harness import BotProcess, DiscordDriver, eventually
from .test_screenings import catalog

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def interested_reads(fake: FakeDiscord, event_id: int) -> int:
    """How often the bot asked Discord who clicked Interested on the event."""
    route = f"/scheduled-events/{event_id}/users"
    return sum(1 for r in fake.requests if r.method == "GET" and r.path.endswith(route))


@dataclass
class Club:
    fake: FakeDiscord
    bot: BotProcess
    discord: DiscordDriver

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.bot.db_path}?mode=ro", uri=True, timeout=5) as db:
            return list(db.execute(sql, params).fetchall())

    def stretches(self, user_id: int) -> list[tuple[Any, ...]]:
        return self.query("SELECT joined_at, left_at FROM attendance_intervals WHERE user_id = ?", (user_id,))

    def done(self, event_id: int) -> bool:
        return self.query("SELECT status FROM screenings WHERE event_id = ?", (event_id,)) == [("done",)]

    def present(self, user_id: int) -> bool:
        return any(left is None for _joined, left in self.stretches(user_id))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    workdir = tmp_path_factory.mktemp("attendance-e2e")
    async with FakeDiscord() as fake:
        bot = BotProcess(
            fake, workdir, kind="real", catalog=catalog(workdir / "catalog"), env={"ATTENDANCE_SHARE": "10"}
        )
        try:
            await bot.start(timeout=60)
            yield Club(fake, bot, DiscordDriver(fake))
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called routes the double lacks: {fake.unknown_requests}"


async def test_members_in_the_channel_through_a_restart_are_recorded_as_attending(club: Club) -> None:
    fake, discord, world = club.fake, club.discord, club.fake.world
    nothing = await discord.command("/screening attendance", member=world.alice)
    assert nothing.ephemeral and "No screening has ended" in nothing.text

    await fake.set_voice(world.alice, world.voice)  # already there when it starts
    reply = await discord.command(
        "/screening schedule",
        member=world.moderator,
        options={"film": "the-last-waltz", "when": "3s", "channel": world.voice, "remind": "0", "length": "40s"},
    )
    event_id = int(fake.scheduled_events[max(fake.scheduled_events)]["id"])
    assert "The Last Waltz" in reply.text
    await eventually(lambda: club.present(world.alice.id), what="alice on the register")
    assert fake.scheduled_events[event_id]["status"] == 2

    await fake.set_voice(world.bob, world.voice)  # in and out at once: under the 4 seconds
    await eventually(lambda: club.present(world.bob.id), what="bob on the register")
    await fake.set_voice(world.bob, None)
    await eventually(lambda: not club.present(world.bob.id), what="bob off the register")
    await fake.set_voice(world.moderator, world.voice)
    await eventually(lambda: club.present(world.moderator.id), what="the moderator on the register")

    assert await club.bot.stop() == 0  # a restart mid-screening: the moderator leaves, carol comes meanwhile
    await fake.set_voice(world.moderator, None)
    await fake.set_voice(world.carol, world.voice)
    await club.bot.start(timeout=60)
    await eventually(lambda: club.present(world.carol.id), what="carol reconciled from GUILD_CREATE")
    assert not club.present(world.moderator.id)
    assert club.present(world.alice.id) and len(club.stretches(world.alice.id)) == 1  # one stretch all along

    prompt = await discord.wait_for_message(
        world.general, lambda m: "How was The Last Waltz" in m.text, after=event_id, timeout=60
    )
    assert prompt.allowed_mentions is not None
    pinged = {int(u) for u in prompt.allowed_mentions["users"]}
    assert {world.alice.id, world.carol.id} <= pinged and world.bob.id not in pinged
    assert f"<@{world.alice.id}>" in prompt.content and f"<@{world.bob.id}>" not in prompt.content
    watched = {row[0] for row in club.query("SELECT user_id FROM member_watched WHERE source = 'screening'")}
    assert {world.alice.id, world.carol.id} <= watched and world.bob.id not in watched

    await eventually(lambda: club.done(event_id), what="the screening completed")
    shown = await discord.command("/screening attendance", member=world.bob)
    assert not shown.ephemeral
    assert shown.message is not None and shown.message.allowed_mentions == {"parse": []}  # no pings
    assert "Who came: The Last Waltz" in shown.text
    assert f"<@{world.alice.id}>" in shown.text and f"<@{world.carol.id}>" in shown.text
    assert f"<@{world.bob.id}>" not in shown.text

    profile = await discord.command("/profile", member=world.alice)
    assert "Screenings attended" in profile.text and "1 · current streak 1" in profile.text
    bob_profile = await discord.command("/profile", member=world.bob)
    assert "Screenings attended" in bob_profile.text and "None yet." in bob_profile.text
    stats = await discord.command("/club stats", member=world.bob)
    assert "Screenings attended" in stats.text and f"<@{world.alice.id}> · 1 screening · current streak 1" in stats.text

    bad = await discord.command("/screening attendance", member=world.bob, options={"screening": 999})
    assert bad.ephemeral and "no screening #999" in bad.text.lower()


async def test_members_say_they_were_at_a_screening_outside_discord(club: Club) -> None:
    fake, discord, world = club.fake, club.discord, club.fake.world
    await discord.command(
        "/screening schedule",
        member=world.moderator,
        options={"film": "gimme-shelter", "when": "3s", "location": "The Roxy", "remind": "0", "length": "8s"},
    )
    event_id = int(fake.scheduled_events[max(fake.scheduled_events)]["id"])
    notice = await discord.wait_for_message(
        world.general, lambda m: "has started at **The Roxy**" in m.text, after=event_id, timeout=20
    )
    assert "Gimme Shelter" in notice.text
    reads = interested_reads(fake, event_id)
    stranger = await discord.click(notice, "I was there", member=world.carol)  # never clicked Interested
    assert stranger.ephemeral and "Only members who clicked **Interested**" in stranger.text
    await fake.subscribe(event_id, world.bob)
    clicked = await discord.click(notice, "I was there", member=world.bob)  # not in the list read for Carol: read again
    assert clicked.ephemeral and "you were there" in clicked.text
    again = await discord.click(notice, "I was there", member=world.bob)
    assert again.ephemeral and "already on the list" in again.text
    assert interested_reads(fake, event_id) == reads + 2  # Bob's second click: the list remembered

    prompt = await discord.wait_for_message(
        world.general, lambda m: "How was Gimme Shelter" in m.text, after=notice.id, timeout=30
    )
    assert prompt.allowed_mentions is not None
    assert {int(u) for u in prompt.allowed_mentions["users"]} == {world.bob.id}
    await eventually(lambda: club.done(event_id), what="the screening completed")
    shown = await discord.command("/screening attendance", member=world.alice)
    assert "Who came: Gimme Shelter" in shown.text and f"<@{world.bob.id}> — was there" in shown.text
    assert f"<@{world.carol.id}>" not in shown.text


async def test_a_burst_of_i_was_there_clicks_asks_discord_once(club: Club) -> None:
    fake, discord, world = club.fake, club.discord, club.fake.world
    await discord.command(
        "/screening schedule",
        member=world.moderator,
        options={"film": "the-last-waltz", "when": "3s", "location": "The Roxy", "remind": "0", "length": "60s"},
    )
    event_id = int(fake.scheduled_events[max(fake.scheduled_events)]["id"])
    clickers = (world.alice, world.bob, world.carol, world.moderator)
    for member in clickers:
        await fake.subscribe(event_id, member)
    notice = await discord.wait_for_message(
        world.general, lambda m: "has started at **The Roxy**" in m.text, after=event_id, timeout=20
    )
    await discord.wait_for_message(world.general, lambda m: m.text.startswith("⏰"), after=event_id, timeout=20)
    reads = interested_reads(fake, event_id)  # the reminder's own read is done

    answers = await asyncio.gather(*(discord.click(notice, "I was there", member=member) for member in clickers))
    assert all(a.ephemeral and "you were there" in a.text for a in answers), [a.text for a in answers]
    assert interested_reads(fake, event_id) == reads + 1

    refused = await discord.click(notice, "I was there", member=world.owner)  # one fresh read before no
    assert refused.ephemeral and "Only members who clicked **Interested**" in refused.text
    assert interested_reads(fake, event_id) == reads + 2
    await fake.subscribe(event_id, world.owner)
    counted = await discord.click(notice, "I was there", member=world.owner)  # read again: there now
    assert counted.ephemeral and "you were there" in counted.text
    assert interested_reads(fake, event_id) == reads + 3
    recorded = club.query(
        "SELECT user_id FROM attendance a JOIN screenings s ON s.id = a.screening_id WHERE s.event_id = ?", (event_id,)
    )
    assert {user_id for (user_id,) in recorded} == {m.id for m in (*clickers, world.owner)}
