"""The club's recurring screening night: the bot keeps the next night's Discord event scheduled ahead of time.

With a regular night configured (``/config screenings day: time: channel:``, bot.core.config.set_night), one
persisted timer per server (:data:`NIGHT_TIMER`, keyed by the server) keeps it: it runs at once when the night is
configured or changed (:func:`replan_soon`), and again at each night's start, to plan the one after. Each run calls
:func:`keep_night`, which says what the adapter has to do in Discord (a :class:`NightPlan`): create the next night's
event, move it (the night was changed before a film filled it), cancel it (switched ``off``), or cancel a night that
came without a film (lapsed).

A night is stored once per server and start (bot.db.nights), so a timer that runs twice, or two processes, plan it
once; its event's description ends with :func:`night_marker`, so a crash between Discord creating the event and the
bot recording it adopts that event instead of making a second. A night whose event a moderator deleted (or
cancelled) in Discord is marked so (:func:`event_gone`) and not made again; the next night comes after it. An
undecided night whose event a moderator moved in Discord follows it (:func:`follow_event`). A night that moves (by
its settings or in Discord) takes the close of a poll season's week poll meant for it along
(bot.core.season_polls.follow_night). When Discord refuses to create or edit the event, the reason is noted on the
night (:func:`event_refused`) for ``/config show`` (:func:`refused_night`) until an event is made.

Until a film is decided the event says so (:data:`UNDECIDED_NAME`, the running season's theme in its description).
What fills it (:func:`fill_next_night`):

- a poll that ends with a winner and has no screening time of its own (the weekly picks' watch-party poll is one);
- a running ``fixed`` season's film of the week (:func:`season_film`), as soon as the night is planned.

The weekly picks themselves do not fill it: they are suggestions for the week; their watch-party poll decides.
Filling plans an ordinary screening at the night's time in the night's channel (bot.core.screenings), bound to the
night's event: the screenings feature edits that event (name, description, cover) instead of creating one, and its
machinery (reminder, start, thread, attendance, rate-it) runs from there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core import screenings as screenings_core
from bot.core import season_polls, seasons
from bot.core.clock import Clock, to_db
from bot.core.guilds import GuildSettings, get_settings
from bot.core.shards import ShardSet
from bot.core.text import one_line
from bot.core.timers import TimerService
from bot.db import nights as store
from bot.db.database import Database, Reader, Transaction
from bot.db.nights import Night, NightState

__all__ = [
    "NIGHT_LENGTH",
    "NIGHT_TIMER",
    "UNDECIDED_NAME",
    "Night",
    "NightPlan",
    "NightState",
    "Step",
    "event_accepted",
    "event_gone",
    "event_refused",
    "fill_from_season",
    "fill_next_night",
    "follow_event",
    "is_night_event",
    "keep_night",
    "next_night_at",
    "next_open_night",
    "night_about",
    "night_description",
    "night_end",
    "night_for_screening",
    "night_marker",
    "rearm_nights",
    "record_event",
    "refused_night",
    "replan_soon",
    "season_film",
]

log = logging.getLogger(__name__)

NIGHT_TIMER = "nights.next"
#: The name of a night's event until a film is decided.
UNDECIDED_NAME = "Film night — the film is still to be decided"
#: How long an undecided night's event lasts (a film of unknown length and its discussion).
NIGHT_LENGTH = screenings_core.UNKNOWN_RUNTIME + screenings_core.DISCUSSION
#: A start edited in Discord by no more than this is not a move (as for screenings).
TOLERANCE = screenings_core.TOLERANCE


def next_night_at(settings: GuildSettings, after: datetime) -> datetime | None:
    """The first regular night strictly after ``after``, in the server's timezone (DST-proof, see bot.core.schedule);
    None without a night configured."""
    return None if settings.night_channel_id is None else seasons.night_after(settings, after)


class Step(StrEnum):
    """What the adapter does in Discord for the night :func:`keep_night` returns."""

    NONE = "none"  # its event exists and is right
    CREATE = "create"  # it has no event yet: create it (or adopt the one a crash left, by its marker)
    MOVE = "move"  # its event is at the old time or channel: edit it


@dataclass(frozen=True)
class NightPlan:
    """The next night and what to do about it, plus the events of nights that ended (to cancel in Discord)."""

    night: Night | None
    step: Step = Step.NONE
    cancelled: list[Night] = field(default_factory=list)
    season: tuple[seasons.Season, int] | None = None  # the season running on the night, and its week


async def keep_night(db: Database, clock: Clock, timers: TimerService, guild_id: int) -> NightPlan:
    """Bring the server's next night in line with its settings and the clock; arm the timer for the night's start.

    - no night configured: the open night, if any, is cancelled;
    - a night that started without a film lapses (cancelled);
    - the open night ahead at another time or channel than configured is moved (a filled or deleted one stays);
    - no night ahead: the next one is stored, to be created (one the bot cancelled at that time is reopened; one a
      moderator deleted is not).
    """
    now = clock.now()
    stamp = to_db(now)
    settings = await get_settings(db, guild_id)
    ended: list[Night] = []
    for past in await store.open_nights(db, guild_id):
        if past.starts_at <= now and await store.set_state(db, past.id, NightState.LAPSED, stamp):
            ended.append(past)
    slot = next_night_at(settings, now)
    if slot is None or settings.night_channel_id is None:
        for off in await store.open_nights(db, guild_id):
            if await store.set_state(db, off.id, NightState.CANCELLED, stamp):
                ended.append(off)
        await timers.cancel(NIGHT_TIMER, str(guild_id))
        return NightPlan(None, cancelled=ended)
    done = await store.by_slot(db, guild_id, to_db(slot))
    if done is not None and done.starts_at <= now:
        # This slot's night was moved earlier in Discord and has been held (or lapsed): the next slot is the next night.
        slot = next_night_at(settings, slot) or slot
    channel_id = settings.night_channel_id
    ahead = await store.ahead(db, guild_id, stamp)
    night: Night | None = ahead[0] if ahead else None
    step = Step.NONE
    wanted = (slot, channel_id)
    if (
        night is not None
        and night.state is NightState.OPEN
        and (night.starts_at, night.channel_id) != wanted
        and not _moved_in_discord(settings, night, channel_id)
    ):
        taken = await store.at(db, guild_id, to_db(slot))
        if taken is None and await store.move(db, night.id, to_db(slot), channel_id, stamp):
            step = Step.MOVE
            await season_polls.follow_night(db, clock, timers, guild_id, night.starts_at, slot)
        elif await store.set_state(db, night.id, NightState.CANCELLED, stamp):
            ended.append(night)  # the new slot has a night of its own (one a moderator deleted): this one goes
        night = await store.by_id(db, night.id) if step is Step.MOVE else taken
    if night is None:
        night = await store.insert(db, guild_id, to_db(slot), channel_id, stamp)
    if night.state is NightState.CANCELLED and await store.reopen(db, night.id, channel_id, stamp):
        night = await store.by_id(db, night.id) or night  # switched off, then on again: a new event
    if night.state is NightState.OPEN and night.event_id is None:
        step = Step.CREATE
    await timers.schedule(NIGHT_TIMER, str(guild_id), night.starts_at, {"guild_id": guild_id}, guild_id=guild_id)
    running = await seasons.season_at(db, guild_id, night.starts_at)
    return NightPlan(night, step, ended, running)


def _moved_in_discord(settings: GuildSettings, night: Night, channel_id: int) -> bool:
    """Whether the night is where a moderator moved its event in Discord, standing for a slot the settings still
    have (in the configured channel): it stays there. A settings change moves it to the new slot."""
    if night.slot_at is None or night.channel_id != channel_id:
        return False
    return next_night_at(settings, night.slot_at - TOLERANCE) == night.slot_at


async def follow_event(
    db: Database, clock: Clock, timers: TimerService, event_id: int, starts_at: datetime
) -> Night | None:
    """A moderator moved an event's start in Discord: if it is an open (undecided) night's, the night follows it, so
    a poll filling it, the calendar feed and the club page agree with Discord; the night returned (None: not an
    open night's event, not moved, or not followed).

    The night keeps standing for the configured slot it was planned at (``slot_at``): the next night is planned after
    that slot, not a second one the same week, and a settings change still moves it. A start in the past is not
    followed (Discord refuses one anyway). Nor is a start where another night of the server is stored (say one a
    moderator deleted): one night per server and start (the table's key), and reconciling two nights' events is not
    worth it for a rare clash; the night keeps its time and the log says why."""
    night = await store.by_event(db, event_id)
    now = clock.now()
    if night is None or night.state is not NightState.OPEN or abs(starts_at - night.starts_at) <= TOLERANCE:
        return None
    if starts_at <= now:
        return None
    taken = await store.at(db, night.guild_id, to_db(starts_at))
    if taken is not None:
        log.warning("night %s: its event was moved onto night %s's time; not followed", night.id, taken.id)
        return None
    if not await store.follow(db, night.id, to_db(night.starts_at), to_db(starts_at), to_db(now)):
        return None  # filled, ended or moved meanwhile
    await season_polls.follow_night(db, clock, timers, night.guild_id, night.starts_at, starts_at)
    await timers.schedule(
        NIGHT_TIMER, str(night.guild_id), starts_at, {"guild_id": night.guild_id}, guild_id=night.guild_id
    )
    return await store.by_id(db, night.id)


async def replan_soon(clock: Clock, timers: TimerService, guild_id: int) -> None:
    """The night's settings changed: run the server's night timer now (it moves, creates or cancels the event)."""
    await timers.schedule(NIGHT_TIMER, str(guild_id), clock.now(), {"guild_id": guild_id}, guild_id=guild_id)


async def rearm_nights(db: Database, clock: Clock, timers: TimerService, shards: ShardSet) -> int:
    """At start-up: every server of these shards with a night configured and no pending night timer gets one, due
    now (it finds the night's event, or creates the missing one). Returns how many were armed."""
    guild_ids = await store.configured_guilds(db, shards.count, shards.ids)
    pending = await timers.pending_pairs([(NIGHT_TIMER, str(guild_id)) for guild_id in guild_ids])
    armed = 0
    for guild_id in guild_ids:
        if (NIGHT_TIMER, str(guild_id)) not in pending:
            await replan_soon(clock, timers, guild_id)
            armed += 1
    return armed


async def record_event(db: Database, night_id: int, event_id: int) -> bool:
    """The night's Discord event exists; False if it had one recorded already (a re-run keeps the first)."""
    return await store.set_event(db, night_id, event_id)


#: At most this many characters of the reason Discord refused a night's event are kept (a line in /config show).
REFUSAL_LIMIT = 200


async def event_refused(db: Database, clock: Clock, night_id: int, reason: str) -> None:
    """Discord refused to create or edit the night's event (a missing permission, a channel gone, a 4xx): note why
    and when, for moderators (:func:`refused_night`). The next run (a settings change, the next start-up or night)
    tries again; recording the event, or an edit that goes through, clears it."""
    reason = one_line(reason)[:REFUSAL_LIMIT] or "no reason given"
    await store.set_refused(db, night_id, reason, to_db(clock.now()))


async def event_accepted(db: Database, night: Night) -> None:
    """Discord took an edit of the night's event: a refusal noted before is over."""
    if night.refused is not None:
        await store.set_refused(db, night.id, None, None)


async def refused_night(db: Reader, clock: Clock, guild_id: int) -> Night | None:
    """The server's next night, still waiting for its film, whose event Discord refused the last time the bot tried
    (its ``refused`` and ``refused_at``); None when there is none, or Discord took it."""
    night = await next_open_night(db, guild_id, clock.now())
    return night if night is not None and night.refused is not None else None


async def event_gone(db: Database, clock: Clock, event_id: int) -> Night | None:
    """A moderator deleted or cancelled an event in Discord: if it was an open night's, that night is off for good
    (not made again); the night returned. Filled nights follow their screening (bot.core.screenings.follow_event)."""
    night = await store.by_event(db, event_id)
    if night is None or not await store.set_state(db, night.id, NightState.DELETED, to_db(clock.now())):
        return None
    return night


async def night_for_screening(db: Reader, screening_id: int) -> Night | None:
    """The night a screening filled, whose event it takes over; None for a screening of its own."""
    return await store.by_screening(db, screening_id)


async def season_film(db: Database, night: Night) -> int | None:
    """A running fixed season's film for the night's week, if any."""
    running = await seasons.season_at(db, night.guild_id, night.starts_at)
    return None if running is None else running[0].film_of_week(running[1])


async def next_open_night(db: Reader, guild_id: int, now: datetime) -> Night | None:
    """The server's next night still waiting for its film (open, starting after ``now``), if any."""
    return next((n for n in await store.open_nights(db, guild_id) if n.starts_at > now), None)


class _Taken(Exception):
    """Another film filled the night first: the screening being stored for it is rolled back."""


async def fill_next_night(
    db: Database,
    clock: Clock,
    timers: TimerService,
    *,
    guild_id: int,
    film_id: int,
    announce_channel_id: int,
    poll_id: int | None = None,
    created_by: int | None = None,
) -> screenings_core.Screening | None:
    """Fill the next open night with ``film_id``: a screening at the night's time in its channel, bound to the night's
    event. None when there is no open night ahead, or another film filled it first. Bad input (a film not in the
    catalog) raises :class:`UserError`.

    The night is claimed in the transaction that stores the screening (``plan_screening``'s ``record``): when two
    films race for one night, the loser's screening is rolled back with its host's turn, so it never exists. (It
    used to be stored, then cancelled: the calendar feed showed a "Cancelled:" entry for 180 days that no calendar
    had ever seen, and the host rota had to give a turn back.) Claiming the night first, outside that transaction,
    would need a state to undo when planning then failed; one transaction has nothing to undo.

    The screening's event timer waits (:data:`bot.core.screenings.EVENT_FALLBACK`) until the night records it, then
    runs at once: it must find the night, or it would create an event of its own."""
    now = clock.now()
    night = await next_open_night(db, guild_id, now)
    if night is None:
        return None
    if poll_id is not None:
        existing = await screenings_core.screening_for_poll(db, poll_id)
        if existing is not None:
            return existing  # a close that runs twice fills once

    async def claim(tx: Transaction, screening_id: int) -> None:
        if not await store.fill(tx, night.id, screening_id, to_db(now)):
            raise _Taken

    try:
        screening = await screenings_core.plan_screening(
            db,
            clock,
            timers,
            guild_id=guild_id,
            film_id=film_id,
            starts_at=night.starts_at,
            announce_channel_id=announce_channel_id,
            channel_id=night.channel_id,
            poll_id=poll_id,
            created_by=created_by,
            now=now,
            event_due=now + screenings_core.EVENT_FALLBACK,
            record=claim,
        )
    except _Taken:
        return None
    if screening.id != (await store.by_id(db, night.id) or night).screening_id:
        return screening  # the poll's screening, stored by a close that ran before: it filled the night then
    payload = {"screening_id": screening.id}
    await timers.schedule(screenings_core.EVENT_TIMER, str(screening.id), now, payload, guild_id=guild_id)
    return screening


async def fill_from_season(
    db: Database, clock: Clock, timers: TimerService, night: Night, announce_channel_id: int
) -> screenings_core.Screening | None:
    """A running fixed season's film of the week fills the open night (once its event exists); None without one."""
    film_id = await season_film(db, night)
    if film_id is None or night.state is not NightState.OPEN or night.starts_at <= clock.now():
        return None
    return await fill_next_night(
        db, clock, timers, guild_id=night.guild_id, film_id=film_id, announce_channel_id=announce_channel_id
    )


def night_marker(night_id: int) -> str:
    """The last line of an undecided night's event description: a retry after a crash finds the event by it."""
    return f"Film night #{night_id}"


def is_night_event(description: str | None, night_id: int) -> bool:
    return night_marker(night_id) in (description or "").splitlines()


def night_about(season: tuple[seasons.Season, int] | None) -> str:
    """What an undecided night is, and the season's theme and week if one runs (its event and the calendar feed)."""
    lines = ["The club's regular screening night. The film is still to be decided: a poll or the season chooses it."]
    if season is not None:
        running, week = season
        lines.append(f"Season: {running.theme_title} (week {week} of {running.weeks}).")
    return "\n".join(lines)


def night_description(night: Night, season: tuple[seasons.Season, int] | None) -> str:
    """The undecided night's event description: what it is, the season's theme if one runs, its marker."""
    return night_about(season) + "\n\n" + night_marker(night.id)


def night_end(night: Night) -> datetime:
    return night.starts_at + NIGHT_LENGTH
