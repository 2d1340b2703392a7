"""A whole screening night end to end, with the bot process restarted in the middle of the screening.

A poll is voted through its buttons and ended → the winner's screening gets its Discord event → the event starts →
members sit in the voice channel (voice-state updates through the loopback gateway) → the bot is restarted while the
screening runs (one member leaves and one comes while it is away) → the discussion thread opens by its persisted
timer (``/config screenings thread_after:``) → the screening ends → attendance is recorded with the server's share
(``attendance_share:``), the film watched and the rate-it prompt pinging exactly the attendees → members rate
through the prompt → ``/screening attendance`` and ``/profile`` show it.

Two shortcuts keep it under a minute, both the way a moderator or the clock would: the thread's timer (armed for a
minute after the start) is made due while the bot is down, and a moderator moves the event's end closer in Discord
(the screening follows its event).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeDiscord, StoredMessage
from .harness import BotProcess, DiscordDriver, Reply, eventually
from .test_screenings import catalog
from .test_screenings_restarts import db_now

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Club:
    fake: FakeDiscord
    bot: BotProcess
    discord: DiscordDriver

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.bot.db_path}?mode=ro", uri=True, timeout=5) as db:
            return list(db.execute(sql, params).fetchall())

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with sqlite3.connect(self.bot.db_path, timeout=5) as db:
            db.execute(sql, params)

    def present(self, user_id: int) -> bool:
        rows = self.query("SELECT 1 FROM attendance_intervals WHERE user_id = ? AND left_at IS NULL", (user_id,))
        return bool(rows)

    async def run(self, path: str, who: Any, /, **options: Any) -> Reply:
        return await self.discord.command(f"/{path}", member=who, options=options)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    workdir = tmp_path_factory.mktemp("full-night-e2e")
    async with FakeDiscord() as fake:
        bot = BotProcess(fake, workdir, kind="real", catalog=catalog(workdir / "catalog"))
        try:
            await bot.start(timeout=60)
            yield Club(fake, bot, DiscordDriver(fake))
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called routes the double lacks: {fake.unknown_requests}"


def button(message: StoredMessage, label_part: str) -> str:
    return next(
        c["label"] for c in message.walk_components() if c.get("type") == 2 and label_part in c.get("label", "")
    )


async def test_a_full_night_from_the_poll_to_ratings_with_a_restart_during_the_screening(club: Club) -> None:
    fake, discord, world = club.fake, club.discord, club.fake.world
    options = await club.run("config screenings", world.moderator, thread_after=1, archive_days=2, attendance_share=10)
    assert options.ephemeral and "Attendance share (% of the film): not set → 10" in options.text, options.text

    # The poll, voted through its buttons, ended by the moderator: its winner is screened in the voice channel.
    created = await club.run(
        "poll create",
        world.moderator,
        title="Tonight",
        deadline="15s",
        film1="the-last-waltz",
        film2="gimme-shelter",
        screening="25s",
        screening_channel=world.voice,
        remind="0",
    )
    assert "Tonight" in created.text, created.text
    poll = fake.messages[int(created.text.split("/")[-1].split()[0].strip(")"))]
    for member, film in ((world.alice, "The Last Waltz"), (world.bob, "The Last Waltz"), (world.carol, "Gimme")):
        voted = await discord.click(poll, button(poll, film), member=member)
        (confirmation,) = await voted.wait_followups(1)
        assert "Your vote for" in confirmation.content
    poll_id = int(poll.embeds[0]["footer"]["text"].split("#")[1].split()[0])
    before = set(fake.scheduled_events)
    ended = await club.run("poll end", world.moderator, poll=poll_id)
    assert "is closed" in ended.text, ended.text
    await discord.wait_until(lambda: set(fake.scheduled_events) - before, timeout=15, what="the screening's event")
    (event_id,) = set(fake.scheduled_events) - before
    event = fake.scheduled_events[event_id]
    assert event["name"] == "The Last Waltz (1978)" and int(event["channel_id"]) == world.voice.id
    by_event = "SELECT id FROM screenings WHERE event_id = ?"
    await eventually(lambda: bool(club.query(by_event, (event_id,))), what="the event recorded with its screening")
    ((screening_id,),) = club.query(by_event, (event_id,))

    # The start: Alice is already in the channel; the thread waits for its minute (a persisted timer).
    await fake.set_voice(world.alice, world.voice)
    await discord.wait_until(lambda: fake.scheduled_events[event_id]["status"] == 2, timeout=40, what="the start")
    await eventually(lambda: club.present(world.alice.id), what="alice on the register")
    await fake.set_voice(world.bob, world.voice)  # in and out at once: far under 10 % of the film
    await eventually(lambda: club.present(world.bob.id), what="bob on the register")
    await fake.set_voice(world.bob, None)
    await eventually(lambda: not club.present(world.bob.id), what="bob off the register")
    await fake.set_voice(world.moderator, world.voice)
    await eventually(lambda: club.present(world.moderator.id), what="the moderator on the register")
    thread_timer = "SELECT due_at, done_at FROM timers WHERE kind = 'screenings.thread_open' AND key = ?"
    [(due_at, done_at)] = club.query(thread_timer, (str(screening_id),))
    assert due_at > db_now()[:19]  # a minute after the start: not yet
    assert done_at is None and club.query("SELECT thread_id FROM screenings WHERE id = ?", (screening_id,)) == [(None,)]

    # The bot process is restarted in the middle of the screening: the moderator leaves, Carol comes meanwhile.
    assert await club.bot.stop() == 0
    await fake.set_voice(world.moderator, None)
    await fake.set_voice(world.carol, world.voice)
    club.execute(
        "UPDATE timers SET due_at = ? WHERE kind = 'screenings.thread_open' AND key = ?", (db_now(), str(screening_id))
    )
    await club.bot.start(timeout=60)
    await eventually(lambda: club.present(world.carol.id), what="carol reconciled at start-up")
    assert not club.present(world.moderator.id) and club.present(world.alice.id)

    await eventually(
        lambda: club.query("SELECT thread_id IS NOT NULL FROM screenings WHERE id = ?", (screening_id,)) == [(1,)],
        what="the discussion thread",
    )
    ((thread_id,),) = club.query("SELECT thread_id FROM screenings WHERE id = ?", (screening_id,))
    threads = [t for channel in (world.general, world.polls) for t in fake.threads_of(channel)]
    assert [t.id for t in threads] == [thread_id]  # one thread, across the restart
    assert len(club.query(thread_timer, (str(screening_id),))) == 1  # its timer was armed once
    ((starts_at, archive_due),) = club.query(
        "SELECT s.starts_at, t.due_at FROM screenings s JOIN timers t ON t.key = CAST(s.id AS TEXT) "
        "WHERE t.kind = 'screenings.thread_archive' AND s.id = ?",
        (screening_id,),
    )
    opened_at = datetime.fromisoformat(starts_at) + timedelta(minutes=1)  # the thread's time, however late it ran
    assert datetime.fromisoformat(archive_due) == opened_at + timedelta(days=2)  # archive_days after it opened

    # A moderator brings the end closer in Discord: the screening follows, ends, and takes attendance.
    end = datetime.now(UTC) + timedelta(seconds=6)
    await fake.edit_event_as_moderator(event_id, scheduled_end_time=end.isoformat())
    prompt = await discord.wait_for_message(
        world.general, lambda m: "How was The Last Waltz" in m.text, after=event_id, timeout=40
    )
    assert prompt.allowed_mentions is not None
    pinged = {int(u) for u in prompt.allowed_mentions["users"]}
    # Alice and Carol were there for over 10 % of the film, Bob for a moment (whether the moderator's few seconds
    # before the restart reach 10 % depends on how long the restart took).
    assert {world.alice.id, world.carol.id} <= pinged and world.bob.id not in pinged
    assert fake.scheduled_events[event_id]["status"] == 3

    for member, stars in ((world.alice, "8"), (world.carol, "6")):
        form = await discord.click(prompt, "Rate it", member=member)
        assert form.response_type == 9
        saved = await form.submit_modal(
            {"review:rating": stars, "review:body": "What a night.", "review:spoiler": "no"}, member=member
        )
        assert "The Last Waltz" in saved.text, saved.text

    shown = await club.run("screening attendance", world.bob)
    assert "Who came: The Last Waltz" in shown.text
    assert f"<@{world.alice.id}>" in shown.text and f"<@{world.carol.id}>" in shown.text
    assert f"<@{world.bob.id}>" not in shown.text
    profile = await club.run("profile", world.alice)
    assert "Screenings attended" in profile.text and "1 · current streak 1" in profile.text
    assert "The Last Waltz" in profile.text
    watched = {row[0] for row in club.query("SELECT user_id FROM member_watched WHERE source = 'screening'")}
    assert {world.alice.id, world.carol.id} <= watched and world.bob.id not in watched
    assert club.query("SELECT status FROM screenings WHERE id = ?", (screening_id,)) == [("done",)]
    assert len([e for e in fake.scheduled_events.values() if e["name"] == "The Last Waltz (1978)"]) == 1
