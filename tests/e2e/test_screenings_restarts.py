"""Screenings across restarts and kill -9: the event's start and end, and nothing created twice when the bot dies
between Discord taking something and the bot recording it.

A bot of its own (the tests stop and kill it), apart from tests/e2e/test_screenings.py so the two files run on
different workers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from . import test_screenings as screenings_e2e
from .fake_discord import StoredMessage
from .test_screenings import Club, newest_event, schedule, status_changes

# The same fixtures as tests/e2e/test_screenings.py; module scope gives this file a bot of its own.
club = screenings_e2e.club
world = screenings_e2e.world

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_the_start_and_the_end_survive_a_restart(club: Club, world: Any) -> None:
    # Last in the module: the bot is stopped and started again on the same database.
    await schedule(club, world.moderator, film="the-last-waltz", when="5s", location="The Roxy", length="2s")
    event_id = int(newest_event(club)["id"])
    assert await club.bot.stop() == 0
    await club.bot.start(timeout=60)
    await club.discord.wait_until(
        lambda: club.fake.scheduled_events[event_id]["status"] == 3, timeout=20, what="the event to be completed"
    )
    assert status_changes(club, event_id) == [2, 3]  # each exactly once
    await club.discord.wait_for_message(world.general, lambda m: "How was The Last Waltz" in m.text, after=event_id)


# -- a kill -9 between Discord taking something and the bot recording it ---------------------------------------------


def db_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def events_of(club: Club, screening_id: int) -> list[dict[str, Any]]:
    """The bot's events in Discord that name the screening (the last line of their description)."""
    marker = f"Screening #{screening_id}"
    return [
        e
        for e in club.fake.scheduled_events.values()
        if int(e["creator_id"]) == club.fake.bot_user.id and marker in str(e.get("description") or "").splitlines()
    ]


async def test_a_kill_9_between_creating_the_event_and_recording_it_does_not_create_a_second_event(
    club: Club, world: Any
) -> None:
    discord, bot = club.discord, club.bot
    last = max((m.id for m in club.fake.channel_messages(world.general)), default=0)
    # The database refuses every write to the new screening (as a crash right after Discord took the event would
    # leave it), and Discord keeps the event: the bot's attempt to delete it fails too.
    club.execute(
        "CREATE TRIGGER crash BEFORE UPDATE ON screenings WHEN OLD.id = (SELECT max(id) FROM screenings) "
        "BEGIN SELECT RAISE(ABORT, 'injected crash'); END"
    )
    refused_delete = discord.inject("DELETE /guilds/{id}/scheduled-events/{id}", status=503, times=1)
    await schedule(club, world.moderator, film="monterey-pop", when="15s", location="The Roxy", remind="0", length="2s")
    ((screening_id,),) = club.query("SELECT id FROM screenings ORDER BY id DESC LIMIT 1")
    await bot.wait_for_log("injected crash")
    await discord.wait_until(lambda: refused_delete.remaining == 0, what="the refused delete")
    await bot.kill()  # the bot dies right there (kill -9): Discord has the event, the database does not
    club.execute("DROP TRIGGER crash")
    assert len(events_of(club, screening_id)) == 1
    assert club.query("SELECT status, event_id FROM screenings WHERE id = ?", (screening_id,)) == [("planned", None)]
    # The event timer (the command's safety net) is due now rather than in half a minute.
    club.execute(
        f"UPDATE timers SET due_at = '{db_now()}' WHERE kind = 'screenings.event' AND key = '{screening_id}' "
        "AND done_at IS NULL"
    )
    await bot.start(timeout=60)

    announcement = await discord.wait_for_message(
        world.general, lambda m: "Interested" in m.content, after=last, timeout=20
    )
    (event,) = events_of(club, screening_id)  # the event found, not a second one
    assert f"/{event['id']}" in announcement.content
    prompt = await discord.wait_for_message(
        world.general, lambda m: "How was Monterey Pop" in m.text, after=announcement.id, timeout=30
    )
    assert prompt.component("Rate it")
    await bot.wait_for_log(rf"screening {screening_id}: done", timeout=20)
    assert club.query("SELECT status, event_id FROM screenings WHERE id = ?", (screening_id,)) == [
        ("done", int(event["id"]))
    ]
    assert status_changes(club, int(event["id"])) == [2, 3]
    assert len(events_of(club, screening_id)) == 1


async def test_a_kill_9_between_the_rate_it_prompt_and_marking_the_screening_done_does_not_post_it_twice(
    club: Club, world: Any
) -> None:
    discord, bot = club.discord, club.bot
    # The database refuses to mark the new screening done (as a crash right after the prompt went out would).
    club.execute(
        "CREATE TRIGGER crash BEFORE UPDATE OF status ON screenings "
        "WHEN NEW.status = 'done' AND OLD.id = (SELECT max(id) FROM screenings) "
        "BEGIN SELECT RAISE(ABORT, 'injected crash'); END"
    )
    reply = await schedule(
        club, world.moderator, film="gimme-shelter", when="3s", location="The Roxy", remind="0", length="2s"
    )
    ((screening_id,),) = club.query("SELECT id FROM screenings ORDER BY id DESC LIMIT 1")
    assert f"Screening #{screening_id}" in reply.text

    def prompts() -> list[StoredMessage]:
        return [
            m
            for m in club.fake.channel_messages(world.general)
            if m.embeds
            and m.embeds[0].get("footer", {}).get("text", "").startswith(f"Screening #{screening_id} · ")
            and "How was Gimme Shelter" in m.text
        ]

    await discord.wait_until(lambda: prompts() != [], timeout=20, what="the prompt")
    await bot.wait_for_log("injected crash")
    await bot.kill()  # the bot dies right there (kill -9): the prompt is out, the screening not marked done
    club.execute("DROP TRIGGER crash")
    assert club.query("SELECT status FROM screenings WHERE id = ?", (screening_id,)) == [("scheduled",)]
    # The failed after-screening timer's retry is due now rather than after its back-off.
    club.execute(
        f"UPDATE timers SET due_at = '{db_now()}' WHERE kind = 'screenings.after' AND done_at IS NULL "
        f"AND json_extract(payload, '$.screening_id') = {screening_id}"
    )
    await bot.start(timeout=60)
    await bot.wait_for_log(rf"screening {screening_id}: done", timeout=20)
    assert club.query("SELECT status FROM screenings WHERE id = ?", (screening_id,)) == [("done",)]
    (prompt,) = prompts()  # posted once, before the crash
    assert prompt.component("Rate it")
    watched = club.query("SELECT source FROM club_watched WHERE film_id = ?", (club.film_id("gimme-shelter"),))
    assert watched == [("screening",)]


# -- a kill -9 between creating the event and announcing it ---------------------------------------------------------


def announcements_of(club: Club, world: Any, screening_id: int) -> list[StoredMessage]:
    """The bot's announcements of the screening in the channel (their footer names it)."""
    marker = f"Screening #{screening_id} · members who click Interested"
    return [
        m
        for m in club.fake.channel_messages(world.general)
        if m.embeds and m.embeds[0].get("footer", {}).get("text", "").startswith(marker)
    ]


async def restart_with_the_event_timer_due(club: Club, screening_id: int) -> None:
    """kill -9, then start again with the event timer (the command's safety net) due now, not in half a minute."""
    await club.bot.kill()
    club.execute(
        f"UPDATE timers SET due_at = '{db_now()}' WHERE kind = 'screenings.event' AND key = '{screening_id}' "
        "AND done_at IS NULL"
    )
    await club.bot.start(timeout=60)


async def test_a_kill_9_after_creating_the_event_and_before_announcing_it_still_announces_it_once(
    club: Club, world: Any
) -> None:
    discord, bot = club.discord, club.bot
    # Discord takes the event, then fails the announcement: the bot is killed right there, as a kill -9 after
    # attaching the event and before posting would leave it (the event recorded, its announcement not posted).
    failed_post = discord.inject(f"POST /channels/{world.general.id}/messages", status=503, times=1)
    reply = await schedule(club, world.moderator, film="monterey-pop", when="1h", location="The Roxy")
    ((screening_id, event_id),) = club.query("SELECT id, event_id FROM screenings ORDER BY id DESC LIMIT 1")
    assert event_id is not None and failed_post.remaining == 0
    assert "announce it" in reply.text
    await bot.wait_for_log(rf"screening {screening_id}: setting up the event failed")
    assert announcements_of(club, world, screening_id) == []
    await restart_with_the_event_timer_due(club, screening_id)

    await discord.wait_until(lambda: announcements_of(club, world, screening_id) != [], timeout=20, what="it")
    (announcement,) = announcements_of(club, world, screening_id)
    assert f"/{event_id}" in announcement.content and announcement.component("Event")
    assert len(events_of(club, screening_id)) == 1
    # Recorded: a further restart (its event timer is done) does not announce it again.
    await bot.wait_for_log(rf"screening {screening_id}: announcement recorded")
    assert await bot.stop() == 0
    await bot.start(timeout=60)
    assert len(announcements_of(club, world, screening_id)) == 1


async def test_a_kill_9_between_announcing_and_recording_it_does_not_announce_twice(club: Club, world: Any) -> None:
    bot = club.bot
    # The database refuses to record the new screening's announcement (as a crash right after it went out would).
    club.execute(
        "CREATE TRIGGER crash BEFORE UPDATE OF announced_at ON screenings "
        "WHEN OLD.id = (SELECT max(id) FROM screenings) BEGIN SELECT RAISE(ABORT, 'injected crash'); END"
    )
    await schedule(club, world.moderator, film="gimme-shelter", when="1h", location="The Roxy")
    ((screening_id,),) = club.query("SELECT id FROM screenings ORDER BY id DESC LIMIT 1")
    await bot.wait_for_log("injected crash")
    assert len(announcements_of(club, world, screening_id)) == 1
    club.execute("DROP TRIGGER crash")
    await restart_with_the_event_timer_due(club, screening_id)

    await bot.wait_for_log(rf"screening {screening_id}: announcement recorded", timeout=20)
    await bot.wait_for_log(rf"screening {screening_id}: its announcement was posted before a restart")
    assert club.query("SELECT announced_at IS NOT NULL FROM screenings WHERE id = ?", (screening_id,)) == [(1,)]
    assert len(announcements_of(club, world, screening_id)) == 1
