"""Attendance: who watched a screening in its voice or stage channel.

While a screening runs (between its start and after-screening steps, see bot.core.screenings), each member's
stretches in its channel are stored as they come and go (:func:`voice_moved`); at start-up the open stretches are
matched with the channel as Discord reports it (:func:`reconcile`), so a restart mid-screening loses nothing but the
minutes the bot was away. At the end (:func:`finish`), members present for at least ``share`` per cent of the film
(its running time, or the whole event if that is shorter) are recorded as attending, and the film is marked watched
for each of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.errors import NotFoundError, UserError
from bot.core.films import get_film
from bot.core.screenings import Screening, ScreeningStatus, get_screening, guild_screening, running_time
from bot.core.watch import mark_watched
from bot.db import attendance as store
from bot.db.attendance import Attendee, Interval
from bot.db.database import Database, Reader

__all__ = [
    "DEFAULT_SHARE",
    "SHARE_RANGE",
    "WAS_THERE_WINDOW",
    "Attendee",
    "Interval",
    "MemberAttendance",
    "attendance_of",
    "film_span",
    "finish",
    "member_attendance",
    "presence",
    "reconcile",
    "reconcile_guild",
    "top_attendees",
    "voice_moved",
    "was_there",
]

DEFAULT_SHARE = 50
#: The share of the film a member must be present for, in per cent (the ``attendance_share`` setting).
SHARE_RANGE = (10, 100)
#: How long after a screening outside Discord ends its "I was there" button still records members.
WAS_THERE_WINDOW = timedelta(hours=24)


def presence(intervals: Iterable[Interval], start: datetime, end: datetime) -> dict[int, timedelta]:
    """member -> time present between ``start`` and ``end`` (an open stretch runs to ``end``; overlaps count once)."""
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for interval in intervals:
        lo = max(interval.joined_at, start)
        hi = min(interval.left_at or end, end)
        if hi > lo:
            spans.setdefault(interval.user_id, []).append((lo, hi))
    totals: dict[int, timedelta] = {}
    for user_id, pieces in spans.items():
        total, reach = timedelta(0), None
        for begin, hi in sorted(pieces):
            lo = begin if reach is None else max(begin, reach)
            if hi > lo:
                total += hi - lo
            reach = hi if reach is None else max(reach, hi)
        totals[user_id] = total
    return totals


def film_span(screening: Screening, runtime: timedelta) -> timedelta:
    """How long a member must be able to be present for the share to mean "of the film"."""
    return min(runtime, screening.ends_at - screening.starts_at)


async def voice_moved(
    db: Database, clock: Clock, user_id: int, before_channel: int | None, after_channel: int | None
) -> int:
    """A member's voice channel changed: close their stretch in the screenings running in the channel they left, open
    one in those running in the channel they joined. Returns how many stretches changed."""
    if before_channel == after_channel:
        return 0
    now, changed = clock.now(), 0
    if before_channel is not None:
        for screening_id in await store.running_in_channel(db, before_channel):
            changed += await store.close_interval(db, screening_id, user_id, now)
    if after_channel is not None:
        for screening_id in await store.running_in_channel(db, after_channel):
            changed += await store.open_interval(db, screening_id, user_id, now)
    return changed


async def reconcile(db: Database, clock: Clock, screening_id: int, in_channel: Iterable[int]) -> tuple[int, int]:
    """Match a running screening's open stretches with the members in its channel now (at its start, and after a
    restart): close the stretches of members who left meanwhile, open one for members who came. Returns
    (opened, closed)."""
    now, here = clock.now(), set(in_channel)
    open_now = set(await store.present(db, screening_id))
    closed = [
        user_id for user_id in sorted(open_now - here) if await store.close_interval(db, screening_id, user_id, now)
    ]
    opened = [
        user_id for user_id in sorted(here - open_now) if await store.open_interval(db, screening_id, user_id, now)
    ]
    return len(opened), len(closed)


async def reconcile_guild(db: Database, clock: Clock, guild_id: int, voice: Mapping[int, Iterable[int]]) -> int:
    """:func:`reconcile` every screening running in a server, ``voice`` being channel -> members in it. Returns how
    many stretches changed."""
    changed = 0
    for screening_id in await store.running_in_guild(db, guild_id):
        screening = await get_screening(db, screening_id)
        if screening is not None and screening.channel_id is not None:
            opened, closed = await reconcile(db, clock, screening_id, voice.get(screening.channel_id, ()))
            changed += opened + closed
    return changed


async def finish(db: Database, clock: Clock, screening: Screening, share: int) -> list[Attendee]:
    """The screening ends: close every stretch, record who was there for at least ``share`` per cent of the film and
    mark the film watched for them. Returns the attendees (also on a re-run, which records nobody twice)."""
    low, high = SHARE_RANGE
    if not low <= share <= high:
        raise UserError(f"The attendance share must be from {low} to {high} %.")
    if screening.channel_id is None:
        return await store.attendees(db, screening.id)
    now = clock.now()
    await store.close_all(db, screening.id, now)
    film = await get_film(db, screening.film_id)
    runtime = running_time(film) if film is not None else screening.ends_at - screening.starts_at
    needed = film_span(screening, runtime) * (share / 100)
    start = min(screening.started_at or screening.starts_at, screening.starts_at)  # a moderator may start it early
    times = presence(await store.intervals(db, screening.id), start, screening.ends_at)
    came = [Attendee(user_id, int(spent.total_seconds())) for user_id, spent in times.items() if spent >= needed]
    await store.record(db, screening.id, screening.guild_id, came, now)
    for attendee in came:
        await mark_watched(db, clock, screening.guild_id, attendee.user_id, screening.film_id, source="screening")
    return await store.attendees(db, screening.id)


async def attendance_of(db: Database, guild_id: int, screening_id: int | None) -> tuple[Screening, list[Attendee]]:
    """A server's screening (default: the latest completed one) and who attended it."""
    if screening_id is None:
        screening_id = await store.last_done(db, guild_id)
        if screening_id is None:
            raise NotFoundError("No screening has ended in this server yet.")
    screening = await guild_screening(db, guild_id, screening_id)
    if screening.status is not ScreeningStatus.DONE:
        raise UserError(f"Screening #{screening.id} has not ended yet (it is {screening.status.value}).")
    return screening, await store.attendees(db, screening.id)


@dataclass(frozen=True)
class MemberAttendance:
    attended: int  # screenings attended in the server
    streak: int  # the server's latest completed screenings attended in a row


async def member_attendance(db: Reader, guild_id: int, user_id: int) -> MemberAttendance:
    attended = await store.attended(db, guild_id, user_id)
    streak = 0
    for screening_id in await store.done_in_guild(db, guild_id):
        if screening_id not in attended:
            break
        streak += 1
    return MemberAttendance(len(attended), streak)


async def top_attendees(db: Reader, guild_id: int, limit: int) -> list[tuple[int, MemberAttendance]]:
    """The members who attended the most screenings in a server, with their streaks (ties: the longer streak, then
    the member id)."""
    members = [(u, await member_attendance(db, guild_id, u)) for u in await store.top_attendees(db, guild_id, limit)]
    return sorted(members, key=lambda m: (-m[1].attended, -m[1].streak, m[0]))


async def was_there(
    db: Database,
    clock: Clock,
    guild_id: int,
    screening_id: int,
    user_id: int,
    *,
    interested: Callable[[Screening], Awaitable[bool]],
) -> bool:
    """A member says they were at a screening outside Discord ("I was there"): once it has started and until
    :data:`WAS_THERE_WINDOW` after it ended, a member ``interested`` in its Discord event (who clicked Interested)
    is recorded as attending and the film is marked watched for them. False if they already were; anyone else gets
    a :class:`UserError` saying why. ``interested`` (which asks Discord) is only asked once the rest allows it."""
    screening = await guild_screening(db, guild_id, screening_id)
    if screening.channel_id is not None:
        raise UserError("That screening takes attendance from its voice channel.")
    if screening.status not in (ScreeningStatus.SCHEDULED, ScreeningStatus.DONE):
        raise UserError(f"Screening #{screening.id} did not take place ({screening.status.value}).")
    now = clock.now()
    if screening.started_at is None and now < screening.starts_at:
        raise UserError("You can say you were there once the screening has started.")
    if now > screening.ends_at + WAS_THERE_WINDOW:
        raise UserError("This screening ended more than 24 hours ago: its attendance list is closed.")
    if not await interested(screening):
        raise UserError(
            "Only members who clicked **Interested** on the screening's event are counted. Mark it before the "
            "screening next time."
        )
    added = await store.record_one(db, screening.id, guild_id, user_id, now)
    await mark_watched(db, clock, guild_id, user_id, screening.film_id, source="screening")
    return added
