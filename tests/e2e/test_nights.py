"""The recurring screening night end to end: the real bot against the loopback Discord.

Configuring the night creates its Discord event at once (the undecided name, a generated card as its cover); a
restart makes no second event; changing the time moves it; a poll that ends without a screening time of its own fills
it, and the SAME event then names the film with its cover; switching the night off cancels the event, and a night a
moderator deleted is not made again.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.core.nights import UNDECIDED_NAME
from tests.catalog_builder import film, theme, to_toml, write_catalog

from .conftest import LaunchBot
from .fake_discord import FakeDiscord, FakeMember
from .harness import BotProcess, DiscordDriver, eventually

pytestmark = pytest.mark.e2e

CREATE_EVENT = "POST /guilds/{}/scheduled-events"


def catalog(folder: Path) -> Path:
    films = [
        film("the-last-waltz", title="The Last Waltz", year=1978, runtime=117),
        film("stop-making-sense", title="Stop Making Sense", year=1984, runtime=88),
    ]
    themes = [theme("live-on-stage", title="Concerts & Stages")]
    return write_catalog(folder, {"catalog.toml": to_toml(themes=themes, films=films)})


@pytest.fixture
async def bot(launch_bot: LaunchBot, tmp_path: Path) -> BotProcess:
    return await launch_bot(catalog=catalog(tmp_path / "catalog"))


@pytest.fixture
def discord(fake_discord: FakeDiscord, bot: BotProcess) -> DiscordDriver:
    del bot
    return DiscordDriver(fake_discord)


def query(bot: BotProcess, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{bot.db_path}?mode=ro", uri=True, timeout=5) as db:
        return list(db.execute(sql, params).fetchall())


def creates(fake: FakeDiscord) -> int:
    """How many times the bot asked Discord to create a scheduled event."""
    return sum(1 for r in fake.requests if f"{r.method} {r.route}" == CREATE_EVENT and r.status < 300)


def starts(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["scheduled_start_time"]).replace("Z", "+00:00"))


async def the_only_event(discord: DiscordDriver, fake: FakeDiscord, what: str) -> dict[str, Any]:
    await discord.wait_until(lambda: len(fake.scheduled_events) == 1, timeout=30, what=what)
    (event,) = fake.scheduled_events.values()
    return event


async def configure(discord: DiscordDriver, member: FakeMember, **options: Any) -> None:
    reply = await discord.invoke("config screenings", as_member=member, **options)
    assert reply.ephemeral and "Screening night" in reply.text, reply.text


async def test_the_night_is_kept_ahead_and_a_poll_fills_the_same_event(
    discord: DiscordDriver, fake_discord: FakeDiscord, bot: BotProcess, world: Any
) -> None:
    fake = fake_discord
    await configure(discord, world.moderator, day="Friday", time="20:30", channel=world.voice)
    event = await the_only_event(discord, fake, "the night's event")
    event_id = int(event["id"])
    assert event["name"] == UNDECIDED_NAME
    assert int(event["channel_id"]) == world.voice.id and int(event["entity_type"]) == 2
    start = starts(event)
    assert start > datetime.now(UTC) and start.weekday() == 4 and (start.hour, start.minute) == (20, 30)
    assert "still to be decided" in str(event["description"])
    cover = fake.event_cover(event_id)
    assert cover is not None and cover.content_type == "image/png"
    assert Image.open(io.BytesIO(cover.data)).size == (800, 320)

    # A new time moves the same event.
    await configure(discord, world.moderator, time="21:00")
    await discord.wait_until(
        lambda: starts(fake.scheduled_events[event_id]).hour == 21, timeout=30, what="the event to move to 21:00"
    )

    # A restart: the night timer runs at start-up only if none is pending; either way no second event.
    await bot.restart()
    await bot.wait_for_log(r"filmclub ready")
    assert len(fake.scheduled_events) == 1 and creates(fake) == 1
    assert query(bot, "SELECT COUNT(*), MIN(state) FROM screening_nights") == [(1, "open")]
    ((pending,),) = query(bot, "SELECT COUNT(*) FROM timers WHERE kind = 'nights.next' AND outcome IS NULL")
    assert pending == 1

    # A poll with no screening time of its own ends: its winner fills the night, in the same event.
    poll = await discord.command(
        "/poll create",
        member=world.moderator,
        options={"title": "Friday", "deadline": "3s", "film1": "the-last-waltz", "film2": "stop-making-sense"},
    )
    message = fake.messages[int(poll.text.split("/")[-1].split()[0].strip(")"))]
    await discord.click(message, "1. The Last Waltz (1978)", member=world.alice)
    result = await discord.wait_for_message(
        world.general, lambda m: m.id > message.id and "fills the club's screening night" in m.text, timeout=15
    )
    assert "The Last Waltz (1978)" in result.text
    await discord.wait_until(
        lambda: fake.scheduled_events[event_id]["name"] == "The Last Waltz (1978)",
        timeout=15,
        what="the night's event to name the film",
    )
    filled = fake.scheduled_events[event_id]
    assert starts(filled).hour == 21 and int(filled["channel_id"]) == world.voice.id
    await eventually(
        lambda: query(bot, "SELECT event_id FROM screenings") == [(event_id,)],
        what="the screening to record the night's event as its own",
    )
    ((screening_id,),) = query(bot, "SELECT id FROM screenings")
    assert str(filled["description"]).endswith(f"Screening #{screening_id}")
    covers = [image for uploaded, image in fake.cover_uploads if uploaded == event_id]
    assert len(covers) == 2 and covers[1].hash != covers[0].hash  # the film's card replaced the night's
    assert len(fake.scheduled_events) == 1 and creates(fake) == 1
    assert query(bot, "SELECT state FROM screening_nights") == [("filled",)]
    # The night's timer still runs once, at the night's start, to plan the week after.
    ((due,),) = query(bot, "SELECT due_at FROM timers WHERE kind = 'nights.next' AND outcome IS NULL")
    assert datetime.strptime(due, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == starts(filled)


async def test_off_cancels_the_night_and_a_deleted_night_is_not_made_again(
    discord: DiscordDriver, fake_discord: FakeDiscord, bot: BotProcess, world: Any
) -> None:
    fake = fake_discord
    await configure(discord, world.moderator, day="Saturday", time="19:00", channel=world.voice)
    first = int((await the_only_event(discord, fake, "the night's event"))["id"])
    await configure(discord, world.moderator, off=True)
    await discord.wait_until(
        lambda: int(fake.scheduled_events[first]["status"]) == 4, timeout=30, what="the event to be cancelled"
    )

    await configure(discord, world.moderator, day="Saturday", time="19:00", channel=world.voice)
    await discord.wait_until(lambda: creates(fake) == 2, timeout=30, what="a new event for the night")
    second = max(int(e) for e in fake.scheduled_events)
    assert second != first and fake.scheduled_events[second]["name"] == UNDECIDED_NAME
    # A moderator deletes it once the bot has recorded it as the night's (Discord answers the create first).
    await eventually(
        lambda: query(bot, "SELECT state FROM screening_nights WHERE event_id = ?", (second,)) == [("open",)],
        what="the night to record its new event",
    )
    await fake.delete_event_as_moderator(second)
    await bot.wait_for_log(rf"its event {second} was deleted in Discord; not made again", timeout=30)
    assert query(bot, "SELECT state FROM screening_nights") == [("deleted",)]
    await bot.restart()
    await bot.wait_for_log(r"filmclub ready")
    assert creates(fake) == 2  # not made again
    assert [e for e in fake.scheduled_events.values() if int(e["status"]) == 1] == []


async def test_a_refused_event_is_shown_to_moderators_until_one_is_made(
    discord: DiscordDriver, fake_discord: FakeDiscord, bot: BotProcess, world: Any
) -> None:
    fake = fake_discord
    fault = fake.faults.inject(CREATE_EVENT, status=403, message="Missing Permissions")
    await configure(discord, world.moderator, day="Thursday", time="20:00", channel=world.voice)
    await bot.wait_for_log(r"Discord refused the event", timeout=30)
    assert fault.exhausted and fake.scheduled_events == {}
    await eventually(
        lambda: query(bot, "SELECT refused FROM screening_nights") != [(None,)],
        what="the night to note the refusal",
    )
    shown = await discord.invoke("config show", as_member=world.moderator)
    night = next(f for f in shown.embed["fields"] if f["name"] == "Screening night")
    assert "Thursdays at 20:00" in night["value"]
    assert "Discord refused the next night's event" in night["value"]
    assert "Missing Permissions" in night["value"]
    assert f"check the bot's permission to manage events in <#{world.voice.id}>" in night["value"]

    # The next try (here a settings change) makes the event: the line is gone.
    await configure(discord, world.moderator, time="20:30")
    await the_only_event(discord, fake, "the night's event, made on the next try")
    await eventually(
        lambda: (
            query(bot, "SELECT refused, refused_at FROM screening_nights WHERE event_id IS NOT NULL") == [(None, None)]
        ),
        what="the night to record its event",
    )
    shown = await discord.invoke("config show", as_member=world.moderator)
    night = next(f for f in shown.embed["fields"] if f["name"] == "Screening night")
    assert "Thursdays at 20:30" in night["value"] and "refused" not in night["value"]
