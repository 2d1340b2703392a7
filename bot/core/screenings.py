"""Screenings: a film shown to the club at a set time, as a Discord scheduled event with a reminder and a
"rate it" prompt afterwards.

Three persisted timers carry a screening (key = screening id), so a restart loses none of it:

- :data:`EVENT_TIMER`, due at once: the screenings cog creates the Discord scheduled event and announces it;
- :data:`REMIND_TIMER`, ``remind_minutes`` before the start: the members interested in the event are reminded;
- :data:`AFTER_TIMER`, at the end: the film is marked watched for the club and members are asked to rate it.

A screening comes from ``/screening schedule`` or from a poll's winner (:func:`plan_screening` with ``poll_id``;
one screening per poll, so a close that runs twice schedules once). What a moderator typed for either is read and
checked by :func:`read_screening_plan`, against one clock reading, into a :class:`ScreeningPlan`:

- the start (``when``): still ahead, at most a year ahead (:data:`START`);
- the length: from 1 second to 3 days (:data:`LENGTH`; the default, the film's runtime plus :data:`DISCUSSION`,
  is always inside it: the catalog caps runtimes at 3,000 minutes);
- the reminder: from 0 (at the start) to 1 week before (:data:`REMINDER`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.core import films as films_core
from bot.core.clock import Clock, from_db, to_db
from bot.core.durations import YEAR, Span, Window, parse_moment, read_duration
from bot.core.errors import NotFoundError, UserError
from bot.core.timers import TimerService
from bot.core.watch import mark_club_watched
from bot.db import screenings as sql
from bot.db.database import Database, Reader

EVENT_TIMER = "screenings.event"
REMIND_TIMER = "screenings.remind"
AFTER_TIMER = "screenings.after"

#: After the film's running time, this long for the discussion before the "rate it" prompt.
DISCUSSION = timedelta(minutes=15)
DEFAULT_REMIND_MINUTES = 60
LOCATION_LIMIT = 100
START = Window("The screening", timedelta(0), YEAR)
LENGTH = Span("The length", timedelta(seconds=1), timedelta(days=3))
REMINDER = Span("The reminder", timedelta(0), timedelta(weeks=1))


class ScreeningStatus(StrEnum):
    PLANNED = "planned"  # stored; the Discord event is being created
    SCHEDULED = "scheduled"  # the Discord event exists
    DONE = "done"  # it happened: marked watched, prompt posted
    CANCELLED = "cancelled"
    FAILED = "failed"  # Discord refused the event (e.g. missing permission)


@dataclass(frozen=True)
class ScreeningPlan:
    """When and where a film will be screened, read and checked but not stored yet (a poll keeps one for its
    winner). ``length`` None: the film's runtime plus :data:`DISCUSSION`."""

    starts_at: datetime
    channel_id: int | None = None
    location: str | None = None
    remind_minutes: int = DEFAULT_REMIND_MINUTES
    length: timedelta | None = None


def check_plan(plan: ScreeningPlan, now: datetime) -> ScreeningPlan:
    """Every rule a screening's time and place follow, in one place; ``now`` is the reading the input was read
    against (or the moment a poll's winner is scheduled). Raises :class:`UserError`; returns ``plan`` with its
    location tidied."""
    location = " ".join(plan.location.split()) if plan.location else None
    if (plan.channel_id is None) == (location is None):
        raise UserError("Give the screening either a voice or stage channel, or a location (not both).")
    if location is not None and len(location) > LOCATION_LIMIT:
        raise UserError(f"Locations can be at most {LOCATION_LIMIT} characters.")
    START.check(plan.starts_at, now)
    if plan.length is not None:
        LENGTH.check_seconds(plan.length.total_seconds())
    REMINDER.check_seconds(plan.remind_minutes * 60.0)
    return ScreeningPlan(plan.starts_at, plan.channel_id, location, plan.remind_minutes, plan.length)


def read_screening_plan(
    now: datetime,
    timezone: str,
    *,
    when: str,
    channel_id: int | None = None,
    location: str | None = None,
    length: str | None = None,
    remind: str | None = None,
) -> ScreeningPlan:
    """A screening's options as a moderator typed them (``when`` "fri 20:00", ``length`` "2h", ``remind`` "30m" or
    "0"), read in the server's ``timezone`` and checked against this one ``now``. Bad input raises
    :class:`UserError` naming the allowed range."""
    plan = ScreeningPlan(
        starts_at=parse_moment(when, now, timezone, within=START),
        channel_id=channel_id,
        location=location,
        remind_minutes=(
            DEFAULT_REMIND_MINUTES if remind is None else int(read_duration(remind, REMINDER).total_seconds() // 60)
        ),
        length=None if length is None else read_duration(length, LENGTH),
    )
    return check_plan(plan, now)


@dataclass(frozen=True)
class Screening:
    id: int
    guild_id: int
    film_id: int
    poll_id: int | None
    created_by: int | None
    channel_id: int | None
    location: str | None
    announce_channel_id: int
    starts_at: datetime
    ends_at: datetime
    remind_minutes: int
    event_id: int | None
    status: ScreeningStatus
    reminded_at: datetime | None
    completed_at: datetime | None

    @property
    def remind_at(self) -> datetime:
        return self.starts_at - timedelta(minutes=self.remind_minutes)


def _screening(row: Any) -> Screening:
    return Screening(
        id=row["id"],
        guild_id=row["guild_id"],
        film_id=row["film_id"],
        poll_id=row["poll_id"],
        created_by=row["created_by"],
        channel_id=row["channel_id"],
        location=row["location"],
        announce_channel_id=row["announce_channel_id"],
        starts_at=from_db(row["starts_at"]),
        ends_at=from_db(row["ends_at"]),
        remind_minutes=row["remind_minutes"],
        event_id=row["event_id"],
        status=ScreeningStatus(row["status"]),
        reminded_at=None if row["reminded_at"] is None else from_db(row["reminded_at"]),
        completed_at=None if row["completed_at"] is None else from_db(row["completed_at"]),
    )


async def get_screening(db: Reader, screening_id: int) -> Screening | None:
    row = await sql.by_id(db, screening_id)
    return None if row is None else _screening(row)


async def require_screening(db: Reader, screening_id: int) -> Screening:
    """The screening with that id, wherever it is; :class:`NotFoundError` if there is none."""
    return await _require(db, screening_id)


async def _require(db: Reader, screening_id: int) -> Screening:
    screening = await get_screening(db, screening_id)
    if screening is None:
        raise NotFoundError(f"There is no screening #{screening_id}.")
    return screening


async def guild_screening(db: Reader, guild_id: int, screening_id: int) -> Screening:
    screening = await get_screening(db, screening_id)
    if screening is None or screening.guild_id != guild_id:
        raise NotFoundError(f"There is no screening #{screening_id} in this server.")
    return screening


async def screening_for_poll(db: Reader, poll_id: int) -> Screening | None:
    row = await sql.by_poll(db, poll_id)
    return None if row is None else _screening(row)


async def upcoming(db: Reader, guild_id: int) -> list[Screening]:
    return [_screening(row) for row in await sql.upcoming(db, guild_id)]


async def plan_screening(
    db: Database,
    clock: Clock,
    timers: TimerService,
    *,
    guild_id: int,
    film_id: int,
    starts_at: datetime,
    announce_channel_id: int,
    channel_id: int | None = None,
    location: str | None = None,
    length: timedelta | None = None,
    remind_minutes: int = DEFAULT_REMIND_MINUTES,
    poll_id: int | None = None,
    created_by: int | None = None,
    now: datetime | None = None,
) -> Screening:
    """Store a screening and arm the timer that creates its Discord event; bad input raises :class:`UserError`.

    ``length`` defaults to the film's running time plus :data:`DISCUSSION`. With ``poll_id``, a second call for the
    same poll returns the first screening. ``now`` is the clock reading the input was read against (see
    :func:`read_screening_plan`); without it, the clock is read here.
    """
    now = clock.now() if now is None else now
    film = await films_core.get_film(db, film_id)
    if film is None or film.retired:
        raise NotFoundError(f"Film #{film_id} is not in the catalog.")
    plan = check_plan(ScreeningPlan(starts_at, channel_id, location, remind_minutes, length), now)
    span = plan.length if plan.length is not None else timedelta(minutes=film.runtime) + DISCUSSION
    values = {
        "guild_id": guild_id,
        "film_id": film_id,
        "poll_id": poll_id,
        "created_by": created_by,
        "channel_id": plan.channel_id,
        "location": plan.location,
        "announce_channel_id": announce_channel_id,
        "starts_at": to_db(plan.starts_at),
        "ends_at": to_db(plan.starts_at + span),
        "remind_minutes": plan.remind_minutes,
        "created_at": to_db(now),
    }
    async with db.transaction() as tx:
        existing = None if poll_id is None else await sql.by_poll(tx, poll_id)
        if existing is not None:
            return _screening(existing)
        screening_id = await tx.execute(sql.INSERT, values)
    await timers.schedule(EVENT_TIMER, str(screening_id), now, {"screening_id": screening_id})
    return await _require(db, screening_id)


async def attach_event(db: Database, clock: Clock, timers: TimerService, screening_id: int, event_id: int) -> Screening:
    """The Discord event exists: remember it and arm the reminder and the after-screening timers."""
    await db.execute(sql.ATTACH_EVENT, (event_id, screening_id))
    screening = await _require(db, screening_id)
    payload = {"screening_id": screening_id}
    now = clock.now()
    if screening.reminded_at is None:
        await timers.schedule(REMIND_TIMER, str(screening_id), max(now, screening.remind_at), payload)
    await timers.schedule(AFTER_TIMER, str(screening_id), screening.ends_at, payload)
    return screening


async def mark_failed(db: Database, screening_id: int) -> None:
    await db.execute(sql.FAIL, (screening_id,))


async def mark_reminded(db: Database, clock: Clock, screening_id: int) -> bool:
    """Record that the reminder went out; False if it already had (a re-run timer must not remind twice)."""
    return await db.execute_rowcount(sql.REMINDED, (to_db(clock.now()), screening_id)) > 0


async def complete(db: Database, clock: Clock, screening_id: int) -> bool:
    """The screening happened: the club has watched the film. False if it was already completed (or cancelled)."""
    screening = await get_screening(db, screening_id)
    if screening is None or screening.status is not ScreeningStatus.SCHEDULED:
        return False
    reference = f"event:{screening.event_id}" if screening.event_id else f"screening:{screening.id}"
    await mark_club_watched(db, clock, screening.guild_id, screening.film_id, source="screening", reference=reference)
    return await db.execute_rowcount(sql.COMPLETE, (to_db(clock.now()), screening_id)) > 0


async def cancel_screening(db: Database, timers: TimerService, screening_id: int) -> bool:
    changed = await db.execute_rowcount(sql.CANCEL, (screening_id,)) > 0
    for kind in (EVENT_TIMER, REMIND_TIMER, AFTER_TIMER):
        await timers.cancel(kind, str(screening_id))
    return changed


def event_description(film: films_core.Film, *, poll_title: str | None = None) -> str:
    """The scheduled event's description, from the catalog (Discord allows 1000 characters)."""
    people = ", ".join(film.directors)
    lines = [film.blurb, "", f"{film.label} · {film.length} · directed by {people}"]
    if film.featuring:
        lines.append("With " + ", ".join(film.featuring[:6]))
    if poll_title:
        lines.append(f"Chosen by the club in the poll “{poll_title}”.")
    text = "\n".join(lines)
    return text if len(text) <= 1000 else text[:999].rstrip() + "…"
