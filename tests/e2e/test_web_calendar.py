"""The calendar feed end to end: a screening scheduled through Discord (the loopback) appears in the feed the real
bot serves, and its cancellation too, under the same UID with a higher SEQUENCE; the regular night is there before
its film is decided, follows its event moved in Discord, and keeps its UID when a poll fills it."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core.calendar import utc_stamp
from bot.core.nights import UNDECIDED_NAME
from tests.e2e.test_web import ADDRESS, Club, club, configure, world

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

__all__ = ["club", "world"]  # the module's bot process and its members, as tests/e2e/test_web.py builds them


def event_of(feed: str, uid: str) -> str:
    unfolded = feed.replace("\r\n ", "")
    assert unfolded.count(f"\r\nUID:{uid}\r\n") == 1, unfolded
    return unfolded.split(f"\r\nUID:{uid}\r\n")[1].split("END:VEVENT")[0]


async def test_a_screening_scheduled_in_discord_appears_in_the_feed_and_so_does_its_cancellation(
    club: Club, world: Any
) -> None:
    published = ADDRESS.search((await configure(club, world.moderator, public=True)).text)
    assert published is not None
    feed_url = published[0] + "calendar.ics"
    status, before = await club.get(feed_url)
    assert status == 200 and before.startswith("BEGIN:VCALENDAR\r\n")

    reply = await club.discord.command(
        "/screening schedule",
        member=world.moderator,
        options={"film": "stop-making-sense", "when": "1d", "location": "The Roxy; back room, row 2"},
    )
    assert "Screening #" in reply.text, reply.text
    event = club.fake.scheduled_events[max(club.fake.scheduled_events)]
    marker = re.search(r"Screening #(\d+)", event["description"])
    assert marker is not None, event["description"]
    uid = f"screening-{marker[1]}@filmclub"

    status, feed = await club.get(feed_url)
    assert status == 200
    listed = event_of(feed, uid)
    assert "SUMMARY:Stop Making Sense (1984)" in listed and "STATUS:CONFIRMED" in listed and "SEQUENCE:0" in listed
    assert "LOCATION:The Roxy\\; back room\\, row 2" in listed
    assert str(club.fake.guild.id) not in feed and str(event["id"]) not in feed

    cancelled = await club.discord.command(
        "/screening cancel", member=world.moderator, options={"screening": int(marker[1])}
    )
    assert "cancelled" in cancelled.text
    status, feed = await club.get(feed_url)
    gone = event_of(feed, uid)
    assert "STATUS:CANCELLED" in gone and "SEQUENCE:1" in gone and "LAST-MODIFIED:" in gone


async def feed_showing(club: Club, url: str, uid: str, *wanted: str, within: float = 30.0) -> str:
    """The event ``uid`` of the feed once it holds every ``wanted`` text (the bot follows Discord on its own time)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        status, feed = await club.get(url)
        assert status == 200
        if f"\r\nUID:{uid}\r\n" in feed.replace("\r\n ", "") and all(text in event_of(feed, uid) for text in wanted):
            assert str(club.fake.guild.id) not in feed
            return event_of(feed, uid)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the feed never showed {wanted} in {uid}:\n{feed}")
        await asyncio.sleep(0.2)


def sequence(event: str) -> int:
    found = re.search(r"\r\nSEQUENCE:(\d+)\r\n", event)
    assert found is not None, event
    return int(found[1])


async def test_the_night_is_in_the_feed_follows_its_event_moved_in_discord_and_keeps_its_uid_when_a_poll_fills_it(
    club: Club, world: Any
) -> None:
    published = ADDRESS.search((await configure(club, world.moderator, public=True)).text)
    assert published is not None
    feed_url = published[0] + "calendar.ics"
    fake = club.fake

    reply = await club.discord.command(
        "/config screenings",
        member=world.moderator,
        options={"day": "Friday", "time": "20:30", "channel": world.voice},
    )
    assert "Screening night" in reply.text, reply.text
    await club.discord.wait_until(
        lambda: any(e["name"] == UNDECIDED_NAME for e in fake.scheduled_events.values()),
        timeout=30,
        what="the night's event",
    )
    event_id, event = next((int(i), e) for i, e in fake.scheduled_events.items() if e["name"] == UNDECIDED_NAME)
    marker = re.search(r"Film night #(\d+)", str(event["description"]))
    assert marker is not None, event["description"]
    uid = f"night-{marker[1]}@filmclub"
    start = datetime.fromisoformat(str(event["scheduled_start_time"]))
    undecided = await feed_showing(club, feed_url, uid, "STATUS:CONFIRMED")
    assert f"SUMMARY:{UNDECIDED_NAME}" in undecided and f"DTSTART:{utc_stamp(start)}" in undecided
    assert str(event_id) not in undecided and str(world.voice.id) not in undecided

    # A moderator moves the undecided night's event in Discord: the night follows (the feed, and what fills it).
    moved_to = start + timedelta(hours=1)
    await fake.edit_event_as_moderator(
        event_id,
        scheduled_start_time=moved_to.isoformat(),
        scheduled_end_time=(moved_to + timedelta(hours=3)).isoformat(),
    )
    moved = await feed_showing(club, feed_url, uid, f"DTSTART:{utc_stamp(moved_to)}")
    assert sequence(moved) > sequence(undecided) and "STATUS:CONFIRMED" in moved

    # A poll with no screening time of its own fills the night: the same entry names the film, a higher SEQUENCE.
    poll = await club.discord.command(
        "/poll create",
        member=world.moderator,
        options={"title": "Friday night", "deadline": "3s", "film1": "the-last-waltz", "film2": "gimme-shelter"},
    )
    message = fake.messages[int(poll.text.split("/")[-1].split()[0].strip(")"))]
    await club.discord.click(message, "1. The Last Waltz (1978)", member=world.alice)
    await club.discord.wait_for_message(
        world.general, lambda m: m.id > message.id and "fills the club's screening night" in m.text, timeout=30
    )
    filled = await feed_showing(club, feed_url, uid, "SUMMARY:The Last Waltz (1978)")
    assert f"DTSTART:{utc_stamp(moved_to)}" in filled and "STATUS:CONFIRMED" in filled
    assert sequence(filled) > sequence(moved)
    _status, feed = await club.get(feed_url)
    assert feed.replace("\r\n ", "").count("SUMMARY:The Last Waltz (1978)") == 1  # not beside it as a screening
