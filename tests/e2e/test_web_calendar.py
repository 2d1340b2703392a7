"""The calendar feed end to end: a screening scheduled through Discord (the loopback) appears in the feed the real
bot serves, and its cancellation too, under the same UID with a higher SEQUENCE."""

from __future__ import annotations

import re
from typing import Any

import pytest

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
