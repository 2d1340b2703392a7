"""Screenings on a real database: planning (and refusing bad input), one per poll, the reminder and after-screening
timers, completion marking the film watched for the club, and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import screenings
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.films import active_films
from bot.core.screenings import ScreeningStatus
from bot.core.timers import TimerService
from bot.core.watch import club_watched
from bot.db.database import Database
from tests.catalog_builder import starter_catalog

GUILD = 1000
ANNOUNCE = 2000
VOICE = 2100
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def timers(db: Database, clock: FixedClock) -> TimerService:
    return TimerService(db, clock)


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
    remind = await timers.pending(screenings.REMIND_TIMER, str(screening.id))
    assert remind is not None and remind.due_at == screening.starts_at - timedelta(minutes=30)
    after = await timers.pending(screenings.AFTER_TIMER, str(screening.id))
    assert after is not None and after.due_at == screening.ends_at
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
    await screenings.attach_event(db, clock, timers, screening.id, 778)
    remind = await timers.pending(screenings.REMIND_TIMER, str(screening.id))
    assert remind is not None and remind.due_at == START


async def test_cancel_stops_every_timer(db: Database, clock: FixedClock, timers: TimerService, film_id: int) -> None:
    screening = await plan(db, clock, timers, film_id)
    await screenings.attach_event(db, clock, timers, screening.id, 779)
    assert await screenings.cancel_screening(db, timers, screening.id)
    assert not await screenings.cancel_screening(db, timers, screening.id)
    for kind in (screenings.EVENT_TIMER, screenings.REMIND_TIMER, screenings.AFTER_TIMER):
        assert await timers.pending(kind, str(screening.id)) is None
    assert not await screenings.complete(db, clock, screening.id)
    with pytest.raises(NotFoundError):
        await screenings.guild_screening(db, GUILD + 1, screening.id)


async def test_the_event_description_comes_from_the_catalog(db: Database, film_id: int) -> None:
    film = next(f for f in await active_films(db) if f.id == film_id)
    text = screenings.event_description(film, poll_title="Friday")
    assert film.blurb in text
    assert "Martin Scorsese" in text
    assert "“Friday”" in text
    assert len(text) <= 1000
