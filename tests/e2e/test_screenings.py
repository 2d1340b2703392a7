"""Screenings end to end: the Discord scheduled event, the reminder that pings only the interested members, the
"rate it" prompt afterwards, and the screening a poll's winner gets when the poll closes.

One bot process for the module; start times are a few seconds ahead and run through the real persisted timers.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.catalog_builder import film, theme, to_toml, write_catalog

from .fake_discord import FakeDiscord, StoredMessage
from .harness import BotProcess, DiscordDriver, Reply

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BLURB = "The Band's farewell concert, shot like a feature, with guests from Dylan to Joni Mitchell on one stage."


def catalog(folder: Path) -> Path:
    films = [
        film("the-last-waltz", title="The Last Waltz", runtime=117, kind="concert film", blurb=BLURB),
        film("gimme-shelter", title="Gimme Shelter", year=1970, runtime=91),
        film("monterey-pop", title="Monterey Pop", year=1968, runtime=78, kind="concert film"),
    ]
    return write_catalog(folder, {"catalog.toml": to_toml(themes=[theme("live-on-stage")], films=films)})


@dataclass
class Club:
    fake: FakeDiscord
    bot: BotProcess
    discord: DiscordDriver

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.bot.db_path}?mode=ro", uri=True, timeout=5) as db:
            return list(db.execute(sql, params).fetchall())

    def execute(self, sql: str) -> None:
        """Change the bot's database from outside, the way a failing disk would."""
        with sqlite3.connect(self.bot.db_path, timeout=5) as db:
            db.execute(sql)

    def film_id(self, slug: str) -> int:
        return int(self.query("SELECT id FROM films WHERE slug = ?", (slug,))[0][0])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    workdir = tmp_path_factory.mktemp("screenings-e2e")
    async with FakeDiscord() as fake:
        bot = BotProcess(fake, workdir, kind="real", catalog=catalog(workdir / "catalog"))
        try:
            await bot.start(timeout=60)
            yield Club(fake, bot, DiscordDriver(fake))
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called routes the double lacks: {fake.unknown_requests}"


@pytest.fixture
def world(club: Club) -> Any:
    return club.fake.world


def newest_event(club: Club) -> dict[str, Any]:
    return club.fake.scheduled_events[max(club.fake.scheduled_events)]


async def schedule(club: Club, member: Any, **options: Any) -> Reply:
    return await club.discord.command("/screening schedule", member=member, options=options)


def status_changes(club: Club, event_id: int) -> list[int]:
    """The statuses the bot set on an event, in order (Discord's accepted PATCHes)."""
    return [
        int(r.body["status"])
        for r in club.fake.requests
        if r.method == "PATCH"
        and r.path.endswith(f"/scheduled-events/{event_id}")
        and r.status == 200
        and isinstance(r.body, dict)
        and "status" in r.body
    ]


def screening_of(club: Club, event_id: int) -> tuple[Any, ...]:
    rows = club.query("SELECT id, status, starts_at, started_at FROM screenings WHERE event_id = ?", (event_id,))
    return rows[0]


async def test_a_screening_becomes_an_event_reminds_the_interested_and_asks_for_ratings(club: Club, world: Any) -> None:
    discord, fake = club.discord, club.fake
    reply = await schedule(
        club, world.moderator, film="the-last-waltz", when="6s", channel=world.voice, remind="4s", length="2s"
    )
    assert reply.ephemeral
    assert "**The Last Waltz (1978)**" in reply.text
    event = newest_event(club)
    assert f"https://discord.com/events/{fake.guild.id}/{event['id']}" in reply.text
    assert event["name"] == "The Last Waltz (1978)"
    assert BLURB in event["description"] and "Test Director" in event["description"]
    assert event["entity_type"] == 2 and int(event["channel_id"]) == world.voice.id
    announcement = await discord.wait_for_message(world.general, lambda m: "Interested" in m.content)
    assert "Screening: The Last Waltz (1978)" in announcement.text

    await fake.subscribe(int(event["id"]), world.alice)
    await fake.subscribe(int(event["id"]), world.bob)
    reminder = await discord.wait_for_message(
        world.general, lambda m: m.content.startswith("⏰"), after=announcement.id, timeout=10
    )
    assert "**The Last Waltz (1978)** starts" in reminder.content
    assert world.alice.mention in reminder.content and world.bob.mention in reminder.content
    assert world.carol.mention not in reminder.content
    users, roles, everyone = reminder.would_ping()
    assert sorted(users) == sorted([world.alice.id, world.bob.id]) and roles == [] and not everyone
    assert reminder.allowed_mentions is not None
    assert sorted(int(u) for u in reminder.allowed_mentions["users"]) == sorted([world.alice.id, world.bob.id])

    prompt = await discord.wait_for_message(world.general, lambda m: "How was" in m.text, after=reminder.id, timeout=15)
    assert "How was The Last Waltz (1978)?" in prompt.text
    button = prompt.component("Rate it")
    assert button["custom_id"] == f"filmclub:review:{club.film_id('the-last-waltz')}"
    # The prompt goes out first (a crash then re-posts it rather than losing it), the viewing is recorded just after.
    watched: list[tuple[Any, ...]] = []
    for _ in range(50):
        watched = club.query(
            "SELECT source, reference FROM club_watched WHERE film_id = ?", (club.film_id("the-last-waltz"),)
        )
        if watched:
            break
        await asyncio.sleep(0.1)
    assert watched == [("screening", f"event:{event['id']}")]
    # Members' clients showed the event live at the start and list it as ended now, not as upcoming.
    assert status_changes(club, int(event["id"])) == [2, 3]
    assert fake.scheduled_events[int(event["id"])]["status"] == 3
    # Only the reminder ever pinged anyone.
    pinging = [m for m in fake.channel_messages(world.general) if any(m.would_ping()[:2]) or m.would_ping()[2]]
    assert pinging == [reminder]


async def test_bad_screenings_are_refused(club: Club, world: Any) -> None:
    before = club.query("SELECT count(*) FROM screenings")[0][0]
    events = len(club.fake.scheduled_events)
    cases = [
        (world.alice, {"film": "the-last-waltz", "when": "1d", "channel": world.voice}, "Only moderators"),
        (world.moderator, {"film": "the-last-waltz", "when": "1d"}, "voice or stage channel"),
        (
            world.moderator,
            {"film": "the-last-waltz", "when": "1d", "channel": world.voice, "location": "The Roxy"},
            "not both",
        ),
        (world.moderator, {"film": "the-last-waltz", "when": "2020-01-01 20:00", "location": "x"}, "in the past"),
        (world.moderator, {"film": "Citizen Kane", "when": "1d", "location": "x"}, "No film called"),
        # Huge or absurd values: once an OverflowError (or a screening stored without its reminder), now the range.
        (world.moderator, {"film": "the-last-waltz", "when": "999999w", "location": "x"}, "at most 1 year ahead"),
        (world.moderator, {"film": "the-last-waltz", "when": "0001-01-01 00:00", "location": "x"}, "in the past"),
        (world.moderator, {"film": "the-last-waltz", "when": "9" * 300 + "m", "location": "x"}, "at most 1 year"),
        (
            world.moderator,
            {"film": "the-last-waltz", "when": "1d", "location": "x", "remind": "999999w"},
            "The reminder can be at most 1 week",
        ),
        (
            world.moderator,
            {"film": "the-last-waltz", "when": "1d", "location": "x", "length": "99999999999999999999d"},
            "The length can be from 1 second to 3 days",
        ),
    ]
    for member, options, expected in cases:
        reply = await schedule(club, member, **options)
        assert reply.ephemeral and expected in reply.text, (options, reply.text)
    assert club.query("SELECT count(*) FROM screenings")[0][0] == before
    assert len(club.fake.scheduled_events) == events


async def test_the_winner_of_a_poll_gets_its_screening_and_a_screening_can_be_cancelled(club: Club, world: Any) -> None:
    discord = club.discord
    reply = await discord.command(
        "/poll create",
        member=world.moderator,
        options={
            "title": "Saturday",
            "deadline": "1d",
            "film1": "gimme-shelter",
            "film2": "monterey-pop",
            "screening": "2d",
            "screening_location": "The Roxy, Main Street",
        },
    )
    message_id = int(reply.text.split("/")[-1].split()[0])
    message: StoredMessage = club.fake.messages[message_id]
    await discord.click(message, "2. Monterey Pop (1968)", member=world.alice)
    poll_id = int(message.embeds[0]["footer"]["text"].split("#")[1].split()[0])
    events = len(club.fake.scheduled_events)
    ended = await discord.command("/poll end", member=world.moderator, options={"poll": poll_id})
    assert "is closed" in ended.text
    await discord.wait_until(lambda: len(club.fake.scheduled_events) > events, timeout=10, what="the event")
    event = newest_event(club)
    assert event["name"] == "Monterey Pop (1968)"
    assert event["entity_type"] == 3 and event["entity_metadata"]["location"] == "The Roxy, Main Street"
    assert "Saturday" in event["description"]
    result = await discord.wait_for_message(world.general, lambda m: m.id > message.id and bool(m.attachments))
    assert "Monterey Pop (1968)** screens" in result.text

    listed = await discord.command("/screening list", member=world.bob)
    assert "Monterey Pop (1968)" in listed.text and "The Roxy" in listed.text
    (screening_id,) = club.query("SELECT id FROM screenings WHERE poll_id = ?", (poll_id,))[0]
    cancelled = await discord.command("/screening cancel", member=world.moderator, options={"screening": screening_id})
    assert cancelled.ephemeral and "cancelled" in cancelled.text
    assert club.fake.scheduled_events[int(event["id"])]["status"] == 4
    assert club.query("SELECT status FROM screenings WHERE id = ?", (screening_id,)) == [("cancelled",)]


async def test_an_event_deleted_in_discord_cancels_its_screening(club: Club, world: Any) -> None:
    reply = await schedule(
        club, world.moderator, film="gimme-shelter", when="5s", location="The Roxy", remind="0", length="2s"
    )
    event_id = int(newest_event(club)["id"])
    assert f"/{event_id}" in reply.text
    await club.fake.delete_event_as_moderator(event_id)
    notice = await club.discord.wait_for_message(world.general, lambda m: m.content.startswith("🚫"), timeout=15)
    assert "The screening of **Gimme Shelter (1970)**" in notice.content and "deleted in Discord" in notice.content
    screening_id, status, _starts, started_at = screening_of(club, event_id)
    assert status == "cancelled" and started_at is None
    pending = club.query(
        "SELECT kind FROM timers WHERE done_at IS NULL AND json_extract(payload, '$.screening_id') = ?",
        (screening_id,),
    )
    assert pending == []  # no reminder, start or rate-it prompt will follow
    assert status_changes(club, event_id) == []
    listed = await club.discord.command("/screening list", member=world.bob)
    assert "Gimme Shelter" not in listed.text


async def test_an_event_moved_in_discord_starts_and_ends_at_its_new_time(club: Club, world: Any) -> None:
    await schedule(club, world.moderator, film="monterey-pop", when="5s", location="The Roxy", remind="0", length="2s")
    event = newest_event(club)
    event_id = int(event["id"])
    start = datetime.fromisoformat(event["scheduled_start_time"]) + timedelta(seconds=4)
    end = start + timedelta(seconds=2)
    await club.fake.edit_event_as_moderator(
        event_id, scheduled_start_time=start.isoformat(), scheduled_end_time=end.isoformat()
    )
    await club.discord.wait_until(
        lambda: club.fake.scheduled_events[event_id]["status"] == 3, timeout=20, what="the event to be completed"
    )
    assert status_changes(club, event_id) == [2, 3]
    _id, _status, starts_at, started_at = screening_of(club, event_id)
    assert datetime.fromisoformat(starts_at) == start
    assert datetime.fromisoformat(started_at) >= start  # started at the new time, not the old one
    prompt = await club.discord.wait_for_message(world.general, lambda m: "How was Monterey Pop" in m.text)
    assert prompt.component("Rate it")


async def test_an_event_moved_earlier_in_discord_starts_at_its_new_time(club: Club, world: Any) -> None:
    # An hour away; a moderator then moves it to a few seconds from now. Waiting for the old time would take an hour.
    await schedule(club, world.moderator, film="gimme-shelter", when="1h", location="The Roxy", remind="0")
    event = newest_event(club)
    event_id = int(event["id"])
    start = datetime.now(UTC) + timedelta(seconds=3)
    await club.fake.edit_event_as_moderator(
        event_id,
        scheduled_start_time=start.isoformat(),
        scheduled_end_time=(start + timedelta(seconds=2)).isoformat(),
    )
    reminder = await club.discord.wait_for_message(
        world.general, lambda m: m.content.startswith("⏰ **Gimme Shelter"), timeout=15
    )
    assert f"/{event_id}" in reminder.content
    await club.discord.wait_until(
        lambda: club.fake.scheduled_events[event_id]["status"] == 3, timeout=15, what="the event to be completed"
    )
    assert status_changes(club, event_id) == [2, 3]
    await club.discord.wait_for_message(world.general, lambda m: "How was Gimme Shelter" in m.text, after=reminder.id)


async def test_a_screening_whose_timers_cannot_be_saved_leaves_no_event_behind(club: Club, world: Any) -> None:
    events = set(club.fake.scheduled_events)
    # The disk refuses the after-screening timer once the event exists (a real SQLite failure, from a trigger).
    club.execute(
        "CREATE TRIGGER refuse_after BEFORE INSERT ON timers WHEN NEW.kind = 'screenings.after' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    try:
        reply = await schedule(club, world.moderator, film="gimme-shelter", when="1d", location="The Roxy")
    finally:
        club.execute("DROP TRIGGER refuse_after")
    assert reply.ephemeral
    assert "I couldn't schedule the screening of **Gimme Shelter (1970)**" in reply.text
    assert "Nothing was created" in reply.text
    assert set(club.fake.scheduled_events) == events  # the event was created, then deleted
    assert club.fake.deleted_events[-1]["name"] == "Gimme Shelter (1970)"
    ((screening_id, status),) = club.query("SELECT id, status FROM screenings ORDER BY id DESC LIMIT 1")
    assert status == "failed"
    pending = club.query(
        "SELECT kind FROM timers WHERE done_at IS NULL AND json_extract(payload, '$.screening_id') = ?",
        (screening_id,),
    )
    assert pending == []
    listed = await club.discord.command("/screening list", member=world.bob)
    assert "Gimme Shelter" not in listed.text
