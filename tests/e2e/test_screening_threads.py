"""A screening's discussion thread end to end: opened when the screening starts, seeded with a spoiler warning, the
film's prompts and the Rate it button; archived after THREAD_ARCHIVE_DAYS (a persisted timer, across a restart);
a clear message when the bot may not open threads; never a second thread for one screening, even after a kill -9
between Discord opening it and the bot recording it.

A bot of its own (the tests restart and kill it), with the fixtures of tests/e2e/test_screenings.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from . import test_screenings as screenings_e2e
from .fake_discord import StoredMessage
from .fake_discord.world import Perm
from .test_screenings import Club, schedule
from .test_screenings_restarts import db_now

club = screenings_e2e.club
world = screenings_e2e.world

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def newest_screening(club: Club) -> int:
    ((screening_id,),) = club.query("SELECT id FROM screenings ORDER BY id DESC LIMIT 1")
    return int(screening_id)


def starters(club: Club, channel: Any, screening_id: int) -> list[StoredMessage]:
    marker = f"Screening #{screening_id} · discussion thread"
    return [m for m in club.fake.channel_messages(channel) if any(marker in str(e) for e in m.embeds)]


async def seeded_thread(club: Club, channel: Any, screening_id: int) -> tuple[Any, StoredMessage]:
    """The screening's thread in ``channel`` once its first post is there."""

    def found() -> Any:
        for thread in club.fake.threads_of(channel):
            if club.fake.channel_messages(thread):
                return thread
        return None

    await club.discord.wait_until(lambda: starters(club, channel, screening_id) and found(), timeout=20)
    thread = found()
    (seed,) = club.fake.channel_messages(thread)
    return thread, seed


async def test_the_thread_opens_at_the_start_with_a_spoiler_warning_prompts_and_rate_it(club: Club, world: Any) -> None:
    await schedule(club, world.moderator, film="the-last-waltz", when="3s", location="The Roxy", length="1h")
    screening_id = newest_screening(club)
    thread, seed = await seeded_thread(club, world.general, screening_id)
    (starter,) = starters(club, world.general, screening_id)
    assert thread.id == starter.id and thread.parent_id == world.general.id
    assert thread.name == "Discussion: The Last Waltz (1978)"
    assert "Spoilers ahead for The Last Waltz (1978)" in seed.text
    assert "What did you make of the ending?" in seed.text  # the film's curated prompts
    assert seed.component("Rate it")["custom_id"] == f"filmclub:review:{club.film_id('the-last-waltz')}"
    users, roles, everyone = seed.would_ping()
    assert users == [] and roles == [] and not everyone
    await club.bot.wait_for_log(rf"screening {screening_id}: discussion thread {thread.id} opened", timeout=10)
    assert club.query("SELECT thread_id FROM screenings WHERE id = ?", (screening_id,)) == [(thread.id,)]
    # Rate it in the thread opens the review form, as the after-screening prompt's button does.
    form = await club.discord.click(seed, "Rate it", member=world.alice)
    assert form.response_type == 9


async def test_a_threads_channel_from_config_takes_the_threads(club: Club, world: Any) -> None:
    denied = [{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES_IN_THREADS}]
    closed = await club.fake.add_text_channel("closed", overwrites=denied)
    refused = await club.discord.invoke("config channel", as_member=world.moderator, kind="threads", channel=closed)
    assert refused.ephemeral
    assert "I can't open discussion threads in #closed" in refused.text
    assert "Send Messages in Threads" in refused.text

    reply = await club.discord.invoke("config channel", as_member=world.moderator, kind="threads", channel=world.polls)
    assert reply.ephemeral and "Discussion threads channel" in reply.text
    try:
        await schedule(club, world.moderator, film="gimme-shelter", when="3s", location="The Roxy", length="1h")
        screening_id = newest_screening(club)
        thread, seed = await seeded_thread(club, world.polls, screening_id)
        assert thread.parent_id == world.polls.id and "Spoilers ahead for Gimme Shelter (1970)" in seed.text
        assert starters(club, world.general, screening_id) == []
    finally:
        await club.discord.invoke("config channel", as_member=world.moderator, kind="threads")


async def test_no_permission_for_threads_is_told_to_moderators_and_nothing_breaks(club: Club, world: Any) -> None:
    denied = [{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.CREATE_PUBLIC_THREADS}]
    lounge = await club.fake.add_text_channel("lounge", overwrites=denied)
    await club.discord.command(
        "/screening schedule",
        member=world.moderator,
        channel=lounge,
        options={"film": "gimme-shelter", "when": "3s", "location": "The Roxy", "length": "1h"},
    )
    screening_id = newest_screening(club)
    warning = await club.discord.wait_for_message(lounge, lambda m: "Moderators" in m.content, timeout=20)
    assert "couldn't open the discussion thread for **Gimme Shelter (1970)**" in warning.content
    assert "Create Public Threads" in warning.content
    assert club.fake.threads_of(lounge) == []
    await club.bot.wait_for_log(rf"screening {screening_id}: could not open its discussion thread", timeout=10)
    await club.bot.wait_for_log(rf"screening {screening_id}: event \d+ started", timeout=10)


async def test_the_thread_is_archived_when_its_days_are_over_even_across_a_restart(club: Club, world: Any) -> None:
    ((screening_id, thread_id),) = club.query(
        "SELECT id, thread_id FROM screenings WHERE thread_id IS NOT NULL ORDER BY id LIMIT 1"
    )
    ((due,),) = club.query(
        "SELECT due_at FROM timers WHERE kind = 'screenings.thread_archive' AND key = ? AND done_at IS NULL",
        (str(screening_id),),
    )
    ((starts_at,),) = club.query("SELECT starts_at FROM screenings WHERE id = ?", (screening_id,))
    assert due[:10] > starts_at[:10]  # THREAD_ARCHIVE_DAYS=3 after the start, not now
    assert await club.bot.stop() == 0
    club.execute(f"UPDATE timers SET due_at = '{db_now()}' WHERE kind = 'screenings.thread_archive'")
    await club.bot.start(timeout=60)
    thread = club.fake.channels[thread_id]
    await club.discord.wait_until(lambda: thread.archived, timeout=20, what="the thread to be archived")
    await club.bot.wait_for_log(rf"screening {screening_id}: thread {thread_id} archived", timeout=10)
    assert club.query("SELECT thread_archived_at IS NOT NULL FROM screenings WHERE id = ?", (screening_id,)) == [(1,)]


async def test_a_kill_9_between_opening_the_thread_and_recording_it_does_not_open_a_second(
    club: Club, world: Any
) -> None:
    # The database refuses to record the new screening's thread, as a crash right after Discord opened it would.
    club.execute(
        "CREATE TRIGGER crash BEFORE UPDATE OF thread_id ON screenings "
        "WHEN OLD.id = (SELECT max(id) FROM screenings) BEGIN SELECT RAISE(ABORT, 'injected crash'); END"
    )
    await schedule(club, world.moderator, film="monterey-pop", when="3s", location="The Roxy", length="1h")
    screening_id = newest_screening(club)
    await club.bot.wait_for_log("injected crash", timeout=20)
    await club.bot.kill()  # kill -9: Discord has the thread and its first post, the database has no thread id
    club.execute("DROP TRIGGER crash")
    (thread,) = [
        t for t in club.fake.threads_of(world.general) if t.id == starters(club, world.general, screening_id)[0].id
    ]
    assert club.query("SELECT thread_id, started_at FROM screenings WHERE id = ?", (screening_id,)) == [(None, None)]
    club.execute(f"UPDATE timers SET due_at = '{db_now()}' WHERE kind = 'screenings.start' AND done_at IS NULL")
    await club.bot.start(timeout=60)
    await club.bot.wait_for_log(
        rf"screening {screening_id}: thread {thread.id} was opened before a restart", timeout=20
    )
    await club.bot.wait_for_log(rf"screening {screening_id}: discussion thread {thread.id} opened", timeout=20)
    assert club.query("SELECT thread_id FROM screenings WHERE id = ?", (screening_id,)) == [(thread.id,)]
    assert len(starters(club, world.general, screening_id)) == 1
    assert [t.id for t in club.fake.threads_of(world.general) if t.id == thread.id] == [thread.id]
    assert len(club.fake.channel_messages(thread)) == 1  # the first post, not a second one
