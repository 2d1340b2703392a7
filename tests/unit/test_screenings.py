"""Screenings on a real database: planning (and refusing bad input), one per poll, the reminder and after-screening
timers, completion marking the film watched for the club, and cancelling."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import screenings
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.films import active_films
from bot.core.screenings import EventPhase, EventState, Followed, ScreeningStatus
from bot.core.shards import ShardSet
from bot.core.timers import PermanentFailure, Timer, TimerOutcome, TimerService
from bot.core.watch import club_watched
from bot.db.database import Database
from cogs.screenings import CONTENT_LIMIT, MENTIONS_PER_MESSAGE, reminder_messages
from tests.catalog_builder import starter_catalog
from tests.clocks import FixedClock
from tests.db_failures import REFUSED, refusing

GUILD = 1000
ANNOUNCE = 2000
VOICE = 2100
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def film_id(db: Database, tmp_path: Path) -> int:
    await load_catalog(db, starter_catalog(tmp_path / "catalog"))
    return next(f.id for f in await active_films(db) if f.slug == "the-last-waltz")  # 117 minutes


async def plan(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, **kw: object
) -> screenings.Screening:
    film_id = int(kw.pop("film", film_id))  # type: ignore[call-overload]
    options: dict[str, object] = {
        "guild_id": GUILD,
        "film_id": film_id,
        "starts_at": START + timedelta(days=1),
        "announce_channel_id": ANNOUNCE,
        "channel_id": VOICE,
    }
    options.update(kw)
    return await screenings.plan_screening(db, clock, timers, **options)  # type: ignore[arg-type]


async def test_a_planned_screening_lasts_the_film_plus_discussion_and_arms_its_event_timer(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await plan(db, clock, timers, film_id)
    assert screening.status is ScreeningStatus.PLANNED
    assert screening.ends_at - screening.starts_at == timedelta(minutes=117) + screenings.DISCUSSION
    event = await timers.pending(screenings.EVENT_TIMER, str(screening.id))
    assert event is not None and event.due_at == START


async def test_a_command_that_creates_the_event_itself_gets_a_later_safety_net_timer(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await plan(db, clock, timers, film_id, event_due=START + screenings.EVENT_FALLBACK)
    event = await timers.pending(screenings.EVENT_TIMER, str(screening.id))
    assert event is not None and event.due_at == START + screenings.EVENT_FALLBACK


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"starts_at": START - timedelta(minutes=5)}, "in the past"),
        ({"starts_at": START + timedelta(days=400)}, "at most 1 year ahead"),
        ({"channel_id": None}, "voice or stage channel"),
        ({"location": "The Roxy"}, "not both"),
        ({"location": "x" * 101, "channel_id": None}, "at most 100"),
        ({"remind_minutes": -5}, "The reminder can be at most 1 week"),
        # A reminder whose time would overflow was once stored, and its night silently lost (issue #11).
        ({"remind_minutes": 999999 * 7 * 24 * 60}, "The reminder can be at most 1 week"),
        ({"length": timedelta(days=999999)}, "The length can be from 1 second to 3 days"),
        ({"length": timedelta(0)}, "The length can be from 1 second to 3 days"),
        ({"film": 99999}, "not in the catalog"),
    ],
)
async def test_bad_screenings_are_refused_and_nothing_is_written(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await plan(db, clock, timers, film_id, **overrides)
    assert await db.fetchval("SELECT count(*) FROM screenings") == 0
    assert await db.fetchval("SELECT count(*) FROM timers") == 0


async def test_one_screening_per_poll(db: Database, clock: FixedClock, timers: TimerService, film_id: int) -> None:
    await db.execute(
        "INSERT INTO polls (id, guild_id, channel_id, creator_id, title, method, created_at, closes_at) "
        "VALUES (5, ?, ?, 1, 't', 'plurality', '2026-01-01T00:00:00.000000Z', '2026-01-02T00:00:00.000000Z')",
        (GUILD, ANNOUNCE),
    )
    first = await plan(db, clock, timers, film_id, poll_id=5)
    second = await plan(db, clock, timers, film_id, poll_id=5, starts_at=START + timedelta(days=2))
    assert second.id == first.id and second.starts_at == first.starts_at
    assert (await screenings.screening_for_poll(db, 5)) == first


async def test_the_event_arms_the_reminder_and_the_after_timer_and_completion_marks_the_club_watched(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await plan(db, clock, timers, film_id, location="The Roxy", channel_id=None, remind_minutes=30)
    assert screening.location == "The Roxy"
    scheduled = await screenings.attach_event(db, clock, timers, screening.id, 777)
    assert scheduled.status is ScreeningStatus.SCHEDULED and scheduled.event_id == 777
    key = screenings.step_key(scheduled)
    remind = await timers.pending(screenings.REMIND_TIMER, key)
    assert remind is not None and remind.due_at == screening.starts_at - timedelta(minutes=30)
    start = await timers.pending(screenings.START_TIMER, key)
    assert start is not None and start.due_at == screening.starts_at
    after = await timers.pending(screenings.AFTER_TIMER, key)
    assert after is not None and after.due_at == screening.ends_at
    assert await screenings.mark_started(db, clock, screening.id)
    assert not await screenings.mark_started(db, clock, screening.id)  # the start is recorded once
    assert await screenings.mark_reminded(db, clock, screening.id)
    assert not await screenings.mark_reminded(db, clock, screening.id)  # a re-run never reminds twice
    assert await screenings.complete(db, clock, screening.id)
    assert not await screenings.complete(db, clock, screening.id)
    assert film_id in await club_watched(db, GUILD)
    done = await screenings.get_screening(db, screening.id)
    assert done is not None and done.status is ScreeningStatus.DONE
    assert await screenings.upcoming(db, GUILD) == []


async def test_a_late_reminder_goes_out_at_once(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await plan(db, clock, timers, film_id, starts_at=START + timedelta(minutes=10), remind_minutes=60)
    scheduled = await screenings.attach_event(db, clock, timers, screening.id, 778)
    remind = await timers.pending(screenings.REMIND_TIMER, screenings.step_key(scheduled))
    assert remind is not None and remind.due_at == START


async def test_cancel_stops_every_timer(db: Database, clock: FixedClock, timers: TimerService, film_id: int) -> None:
    screening = await plan(db, clock, timers, film_id)
    await screenings.attach_event(db, clock, timers, screening.id, 779)
    assert await screenings.cancel_screening(db, timers, screening.id)
    assert not await screenings.cancel_screening(db, timers, screening.id)
    assert await timers.pending(screenings.EVENT_TIMER, str(screening.id)) is None
    assert await pending_steps(db) == []
    assert not await screenings.complete(db, clock, screening.id)
    with pytest.raises(NotFoundError):
        await screenings.guild_screening(db, GUILD + 1, screening.id)


async def pending_steps(db: Database) -> list[str]:
    """The kinds of the step timers (reminder, start, after) still pending, for every screening."""
    rows = await db.fetchall("SELECT kind FROM timers WHERE done_at IS NULL AND kind != ?", (screenings.EVENT_TIMER,))
    return [row["kind"] for row in rows]


async def test_a_stored_reminder_that_cannot_be_armed_is_refused_before_the_event_is_attached(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    # A row from before the ranges were checked: its reminder time overflows. It used to be attached to its event
    # and then lose every timer (no reminder, no start, no rate-it prompt, stuck as scheduled).
    screening = await plan(db, clock, timers, film_id)
    await db.execute("UPDATE screenings SET remind_minutes = ? WHERE id = ?", (999999 * 7 * 24 * 60, screening.id))
    with pytest.raises(UserError, match="The reminder can be at most 1 week"):
        await screenings.attach_event(db, clock, timers, screening.id, 780)
    refused = await screenings.get_screening(db, screening.id)
    assert refused is not None and refused.event_id is None and refused.status is ScreeningStatus.PLANNED
    assert await pending_steps(db) == []


async def test_the_steps_are_armed_all_or_nothing(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await plan(db, clock, timers, film_id)
    # The disk refuses the last of the three timers (a real database failure, raised by a trigger).
    async with refusing(db, "INSERT ON timers", when="NEW.kind = 'screenings.after'", message="disk full"):
        with pytest.raises(REFUSED, match="disk full"):
            await screenings.attach_event(db, clock, timers, screening.id, 781)
    failed = await screenings.get_screening(db, screening.id)
    assert failed is not None and failed.status is ScreeningStatus.FAILED
    assert await pending_steps(db) == []  # the reminder and start timers armed before it are cancelled
    assert await timers.pending(screenings.EVENT_TIMER, str(screening.id)) is None
    assert await screenings.upcoming(db, GUILD) == []


async def test_a_moved_event_moves_the_screening_and_its_timers(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await screenings.attach_event(db, clock, timers, (await plan(db, clock, timers, film_id)).id, 782)
    later = screening.starts_at + timedelta(hours=3)
    moved = await screenings.move_screening(db, clock, timers, screening.id, later, later + timedelta(hours=2))
    assert (moved.starts_at, moved.ends_at) == (later, later + timedelta(hours=2))
    for kind in screenings.STEP_TIMERS:
        assert await timers.pending(kind, screenings.step_key(screening)) is None
    start = await timers.pending(screenings.START_TIMER, screenings.step_key(moved))
    after = await timers.pending(screenings.AFTER_TIMER, screenings.step_key(moved))
    assert start is not None and start.due_at == later
    assert after is not None and after.due_at == later + timedelta(hours=2)
    assert sorted(await pending_steps(db)) == sorted(screenings.STEP_TIMERS)
    # A timer armed for the old times (already running when the move cancelled it) no longer acts.
    assert not screenings.is_current(moved, screenings.step_key(screening))
    assert screenings.is_current(moved, screenings.step_key(moved))


async def test_a_step_follows_what_a_moderator_did_to_the_event_in_discord(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    async def scheduled(event_id: int) -> screenings.Screening:
        planned = await plan(db, clock, timers, film_id)
        return await screenings.attach_event(db, clock, timers, planned.id, event_id)

    def state(s: screenings.Screening, phase: EventPhase, shift: timedelta = timedelta(0)) -> EventState:
        return EventState(phase, s.starts_at + shift, s.ends_at + shift)

    async def follow(s: screenings.Screening, event: EventState | None) -> Followed:
        current = await screenings.require_screening(db, s.id)
        return await screenings.follow_event(db, clock, timers, current, event)

    as_planned = await scheduled(790)
    assert await follow(as_planned, state(as_planned, EventPhase.SCHEDULED, timedelta(milliseconds=400))) == (
        Followed.UNCHANGED
    )
    assert await follow(as_planned, state(as_planned, EventPhase.ACTIVE)) == Followed.UNCHANGED  # started by hand
    assert await follow(as_planned, state(as_planned, EventPhase.COMPLETED)) == Followed.UNCHANGED

    deleted = await scheduled(791)
    assert await follow(deleted, None) == Followed.CANCELLED
    assert (await screenings.require_screening(db, deleted.id)).status is ScreeningStatus.CANCELLED

    cancelled = await scheduled(792)
    assert await follow(cancelled, state(cancelled, EventPhase.CANCELLED)) == Followed.CANCELLED

    started = await scheduled(793)
    await screenings.mark_started(db, clock, started.id)
    assert await follow(started, None) == Followed.UNCHANGED  # deleted once under way: it still happened

    moved = await scheduled(794)
    assert await follow(moved, state(moved, EventPhase.SCHEDULED, timedelta(hours=1))) == Followed.MOVED
    assert (await screenings.require_screening(db, moved.id)).starts_at == moved.starts_at + timedelta(hours=1)
    for s in (deleted, cancelled):
        assert await timers.pending(screenings.AFTER_TIMER, screenings.step_key(s)) is None


async def test_missing_timers_are_rearmed_once_at_start_up(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    planned = await plan(db, clock, timers, film_id)
    scheduled = await plan(db, clock, timers, film_id, starts_at=START + timedelta(days=2))
    # A crash between steps: the event was attached but no timer was armed (nor the announcement posted), and the
    # planned one lost its timer.
    await db.execute("UPDATE screenings SET event_id = 783, status = 'scheduled' WHERE id = ?", (scheduled.id,))
    await db.execute("DELETE FROM timers")
    assert (
        await screenings.rearm_screenings(db, clock, timers, ShardSet.every()) == 5
    )  # the scheduled one's event timer announces it
    assert await screenings.rearm_screenings(db, clock, timers, ShardSet.every()) == 0
    assert await timers.pending(screenings.EVENT_TIMER, str(planned.id)) is not None
    assert await timers.pending(screenings.EVENT_TIMER, str(scheduled.id)) is not None
    current = await screenings.require_screening(db, scheduled.id)
    for kind in screenings.STEP_TIMERS:
        assert await timers.pending(kind, screenings.step_key(current)) is not None
    # Steps already done are not re-armed.
    await db.execute("DELETE FROM timers")
    assert await screenings.mark_started(db, clock, scheduled.id)
    assert await screenings.mark_reminded(db, clock, scheduled.id)
    assert await screenings.mark_announced(db, clock, scheduled.id)
    assert (
        await screenings.rearm_screenings(db, clock, timers, ShardSet.every()) == 2
    )  # the planned one's event, and the after step
    assert await timers.pending(screenings.AFTER_TIMER, screenings.step_key(current)) is not None


async def test_an_event_whose_announcement_was_never_recorded_gets_its_event_timer_back_at_start_up(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    # A kill -9 after the event was attached, before the announcement was posted (or recorded), and the event
    # timer's row lost: start-up arms it again, and its re-run posts the announcement.
    planned = await plan(db, clock, timers, film_id)
    assert not planned.needs_announcement  # no event yet: the event timer creates it
    screening = await screenings.attach_event(db, clock, timers, planned.id, 785)
    assert screening.needs_announcement
    await timers.cancel(screenings.EVENT_TIMER, str(screening.id))
    await db.execute("DELETE FROM timers WHERE kind = ?", (screenings.EVENT_TIMER,))
    assert await screenings.rearm_screenings(db, clock, timers, ShardSet.every()) == 1
    assert await timers.pending(screenings.EVENT_TIMER, str(screening.id)) is not None
    # Announced once: a second record is refused, and nothing is re-armed for it any more.
    assert await screenings.mark_announced(db, clock, screening.id)
    assert not await screenings.mark_announced(db, clock, screening.id)
    announced = await screenings.require_screening(db, screening.id)
    assert announced.announced_at == START and not announced.needs_announcement
    await db.execute("DELETE FROM timers WHERE kind = ?", (screenings.EVENT_TIMER,))
    assert await screenings.rearm_screenings(db, clock, timers, ShardSet.every()) == 0


def test_the_announcement_names_its_screening_so_a_retry_after_a_crash_finds_it() -> None:
    footer = screenings.announcement_footer(1, 60)
    assert footer == "Screening #1 · members who click Interested are reminded 1 hour before"
    assert screenings.announcement_footer(1, 0).startswith(screenings.announcement_marker(1))  # reminded at the start
    assert footer.startswith(screenings.announcement_marker(1))
    assert screenings.announcement_marker(1) not in screenings.announcement_footer(12, 60)
    assert screenings.announcement_marker(1) not in screenings.rating_marker(1)
    assert screenings.rating_marker(1) not in footer


async def test_a_step_timer_that_failed_for_good_is_not_re_armed_at_start_up(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    # A timer that ended as failed stays ended: re-arming it at every start-up would retry it after each restart.
    planned = await plan(db, clock, timers, film_id)
    screening = await screenings.attach_event(db, clock, timers, planned.id, 784)

    async def cannot_succeed(_timer: Timer) -> None:
        raise PermanentFailure("Discord refuses this for good")

    timers.register(screenings.EVENT_TIMER, cannot_succeed)
    timers.register(screenings.REMIND_TIMER, cannot_succeed)
    clock.moment = screening.remind_at
    assert await timers.run_due() == 2  # the event timer (the safety net) and the reminder
    assert await screenings.rearm_screenings(db, clock, timers, ShardSet.every()) == 0
    remind = await timers.latest(screenings.REMIND_TIMER, screenings.step_key(screening))
    assert remind is not None and remind.outcome is TimerOutcome.FAILED


async def test_the_event_description_comes_from_the_catalog(db: Database, film_id: int) -> None:
    film = next(f for f in await active_films(db) if f.id == film_id)
    text = screenings.event_description(film, 7, poll_title="Friday")
    assert film.blurb in text
    assert "Martin Scorsese" in text
    assert "“Friday”" in text
    assert len(text) <= 1000
    assert text.endswith("\n\nScreening #7")


async def test_the_event_names_its_screening_so_a_retry_after_a_crash_finds_it(db: Database, film_id: int) -> None:
    # A crash between Discord creating the event and the bot recording it: the retry must recognise that event
    # (and no other screening's) among the server's events, even when the description was cut to Discord's limit.
    film = next(f for f in await active_films(db) if f.id == film_id)
    long_title = "A club poll with a very long title " * 40
    text = screenings.event_description(film, 1, poll_title=long_title)
    assert len(text) <= screenings.EVENT_DESCRIPTION_LIMIT and text.endswith("…\n\nScreening #1")
    assert screenings.is_event_of(text, 1)
    assert not screenings.is_event_of(screenings.event_description(film, 12), 1)
    assert not screenings.is_event_of(text, 12)
    assert not screenings.is_event_of(None, 1)
    assert not screenings.is_event_of("Screening #1 at the Rex", 1)  # a moderator's own event mentioning it
    # The "rate it" prompt's marker is not the announcement's footer ("Screening #1 · members who click ..."),
    # nor another screening's.
    assert screenings.rating_marker(1) not in screenings.announcement_footer(1, 60)
    assert screenings.rating_marker(1) not in screenings.rating_marker(12)


def test_a_reminder_to_many_members_is_split_into_messages_discord_accepts() -> None:
    # 80 mentions of 20-digit ids after a long film label and location once made one message over Discord's 2000
    # characters: Discord refused it, and every retry, so nobody was reminded.
    text = "⏰ **" + "A Very Long Film Title " * 9 + "** starts soon in **" + "x" * 100 + "**."
    first = text + " https://discord.com/events/12345678901234567890/12345678901234567890"
    members = [10**19 + n for n in range(170)]
    messages = reminder_messages(first, text, members)
    assert [user for _content, chunk in messages for user in chunk] == members  # each pinged exactly once
    for index, (content, chunk) in enumerate(messages):
        assert len(content) <= CONTENT_LIMIT and 0 < len(chunk) <= MENTIONS_PER_MESSAGE
        assert content.startswith(first if index == 0 else text)
        assert content.split("\n")[-1] == " ".join(f"<@{user}>" for user in chunk)
    assert reminder_messages(first, text, []) == [(first, [])]  # nobody interested: the reminder alone


# -- the discussion thread --------------------------------------------------------------------------------------------


async def test_a_screening_keeps_its_first_thread_and_arms_its_archiving_days_after_the_start(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await screenings.attach_event(db, clock, timers, (await plan(db, clock, timers, film_id)).id, 779)
    assert screening.thread_id is None
    assert await screenings.record_thread(db, screening.id, 555)
    assert not await screenings.record_thread(db, screening.id, 556)  # a re-run never replaces the first thread
    stored = await screenings.require_screening(db, screening.id)
    assert stored.thread_id == 555 and stored.thread_archived_at is None
    await screenings.archive_thread_later(timers, stored, 555, stored.starts_at, 3)
    archive = await timers.pending(screenings.THREAD_ARCHIVE_TIMER, str(screening.id))
    assert archive is not None and archive.due_at == stored.starts_at + timedelta(days=3)
    assert archive.payload == {"screening_id": screening.id, "thread_id": 555}
    await screenings.archive_thread_later(timers, stored, 555, stored.starts_at, 3)  # a re-run: still one timer
    assert await screenings.mark_thread_archived(db, clock, screening.id)
    assert not await screenings.mark_thread_archived(db, clock, screening.id)
    archived = await screenings.require_screening(db, screening.id)
    assert archived.thread_archived_at == START


async def test_the_thread_opens_by_one_timer_minutes_after_the_start_also_across_a_restart(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await screenings.attach_event(db, clock, timers, (await plan(db, clock, timers, film_id)).id, 780)
    due = await screenings.open_thread_later(timers, screening, 30)
    assert due == screening.starts_at + timedelta(minutes=30)
    armed = await timers.pending(screenings.THREAD_OPEN_TIMER, str(screening.id))
    assert armed is not None and armed.due_at == due and armed.payload == {"screening_id": screening.id}

    opened: list[int] = []

    async def handler(timer: Timer) -> None:
        opened.append(int(timer.payload["screening_id"]))

    # A new process (the start step re-run after a restart) arms nothing more, before or after the timer ran.
    clock.moment = due
    after_restart = TimerService(db, clock)
    after_restart.register(screenings.THREAD_OPEN_TIMER, handler)
    for kind in (screenings.EVENT_TIMER, *screenings.STEP_TIMERS):
        after_restart.register(kind, lambda _timer: asyncio.sleep(0))  # the screening's other steps: not tested here
    assert await screenings.open_thread_later(after_restart, screening, 30) == due
    await after_restart.run_due()
    assert opened == [screening.id]
    await screenings.open_thread_later(after_restart, screening, 30)
    clock.advance(timedelta(hours=1))
    await after_restart.run_due()
    assert opened == [screening.id]  # once

    for minutes in (-1, 241):
        with pytest.raises(UserError, match="thread's delay can be at most 4 hours"):
            await screenings.open_thread_later(timers, screening, minutes)


@pytest.mark.parametrize("days", [0, 31, -1])
async def test_archive_days_outside_1_to_30_are_refused(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, days: int
) -> None:
    screening = await plan(db, clock, timers, film_id)
    with pytest.raises(UserError, match="thread's life"):
        await screenings.archive_thread_later(timers, screening, 555, screening.starts_at, days)
    assert await timers.pending(screenings.THREAD_ARCHIVE_TIMER, str(screening.id)) is None


async def test_curated_films_bring_their_prompts_and_other_films_get_general_ones(db: Database, film_id: int) -> None:
    from bot.core.films import get_film

    film = await get_film(db, film_id)
    assert film is not None and film.prompts
    assert screenings.thread_prompts(film) == film.prompts
    unprompted = replace(film, prompts=())
    assert screenings.thread_prompts(unprompted) == screenings.GENERAL_PROMPTS
    assert screenings.thread_name(film) == f"Discussion: {film.label}"
    long = replace(film, title="x" * 300)
    assert len(screenings.thread_name(long)) == 100
