"""A poll season's weekly polls: the bot opens each week's poll among the theme's films by itself.

When a week's timer (:data:`bot.core.seasons.POLL_TIMER`) fires, :func:`open_week_poll`:

1. arms the next week's timer first, so one failed week never stops the rest;
2. opens the week's poll exactly once: the poll and the season's note of it (bot.db.seasons ``season_polls``) are
   stored in one transaction, so a timer that runs again (after a failure or a crash) finds the week handled and
   only makes sure the poll's own timers are armed;
3. reads the week's times again (:func:`bot.core.seasons.week_poll_times`): a screening night moved later since the
   timer was armed moves the timer; a week whose poll would be open for less than :data:`MIN_VOTING` (the bot was
   down) gets none, and the season page says why. The poll closes before the week's night where it is (a moderator
   may have moved its event in Discord: :func:`week_close`), and a night that moves while the poll is open moves its
   close with it (:func:`follow_night`).

The ballot: the theme's films, less those that won an earlier week's poll of the season, unwatched by the club
first, then by the weekly picks' score (club rating and watchlists), at most :data:`POLL_FILMS`. The poll goes to the
polls channel (:func:`bot.core.seasons.poll_channel`), closes before the week's screening night (or at the week's
start), and has no screening of its own: its winner is the week's film, which the club's regular night takes up.
The polls feature posts it (its publish timer) and announces the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import picks, polls, seasons
from bot.core.clock import Clock, from_db, to_db
from bot.core.collections import themes_for
from bot.core.errors import UserError
from bot.core.guilds import get_settings
from bot.core.reviews import film_ratings
from bot.core.timers import TimerService
from bot.core.watch import club_watched, watchlist_counts
from bot.db import nights as nights_db
from bot.db import seasons as store
from bot.db.database import Database, Transaction

log = logging.getLogger(__name__)

#: At most this many films on a week's ballot.
POLL_FILMS = 5
#: A week whose poll would be open for less than this gets no poll.
MIN_VOTING = timedelta(hours=1)
#: A timer that fires this much before the week's (re-read) opening time is moved to it instead.
EARLY = timedelta(minutes=1)


@dataclass(frozen=True)
class WeekHandled:
    """What a week's timer did: the poll it opened (or found opened), or why the week has none; ``later`` when the
    week's poll now opens later (the timer was moved) and nothing was done yet."""

    poll_id: int | None = None
    skipped: str = ""
    later: bool = False


async def shown_earlier(db: Database, season: seasons.Season, week: int) -> set[int]:
    """The winners of the season's polls of the weeks before ``week``."""
    handled = await store.week_polls(db, season.id)
    return {h.winner_film_id for h in handled.values() if h.week < week and h.winner_film_id is not None}


async def ballot(db: Database, season: seasons.Season, week: int) -> list[int]:
    """The films of the week's poll, in ballot order ([] when the theme is gone)."""
    theme = next((t for t in await themes_for(db, season.guild_id) if t.slug == season.theme_slug), None)
    if theme is None:
        return []
    shown = await shown_earlier(db, season, week)
    films = [film_id for film_id in await picks.theme_films(db, season.guild_id, theme) if film_id not in shown]
    watched = await club_watched(db, season.guild_id)
    ratings = await film_ratings(db, season.guild_id)
    watchlists = await watchlist_counts(db, season.guild_id)
    order = {film_id: position for position, film_id in enumerate(films)}
    ranked = sorted(
        films,
        key=lambda f: (f in watched, -picks.score(ratings.get(f), watchlists.get(f, 0)), order[f]),
    )
    return ranked[:POLL_FILMS]


async def _skip(db: Database, clock: Clock, season: seasons.Season, week: int, why: str) -> WeekHandled:
    await store.record_week(db, season.id, week, to_db(clock.now()), skipped=why)
    log.warning("season %s of guild %s: no poll in week %s: %s", season.id, season.guild_id, week, why)
    return WeekHandled(skipped=why)


async def open_week_poll(
    db: Database, clock: Clock, timers: TimerService, season_id: int, week: int, *, creator_id: int
) -> WeekHandled:
    """The week's timer: open the season's poll of ``week``, exactly once (see the module's notes)."""
    season = await seasons.get_season(db, season_id)
    now = clock.now()
    if season is None or season.mode is not seasons.Mode.POLL or season.ended_at is not None or now >= season.ends_at:
        log.info("season %s week %s: the season is over or gone; no poll", season_id, week)
        return WeekHandled(skipped="the season is over")
    settings = await get_settings(db, season.guild_id)
    times = seasons.week_poll_times(season, week, settings)
    handled = (await store.week_polls(db, season.id)).get(week)
    if handled is None and times.opens_at - now > EARLY:  # the night moved later since the timer was armed
        await seasons.arm_week_poll(db, timers, season, week)
        return WeekHandled(later=True)
    if week < season.weeks:
        await seasons.arm_week_poll(db, timers, season, week + 1)
    if handled is not None:
        if handled.poll_id is not None:
            await _rearm(db, clock, timers, handled.poll_id)
        return WeekHandled(poll_id=handled.poll_id, skipped=handled.skipped or "")
    closes_at = await week_close(db, season.guild_id, times)
    if closes_at - now < MIN_VOTING:
        return await _skip(db, clock, season, week, "too late to open a poll for it (the bot was down)")
    channel_id = seasons.poll_channel(settings)
    if channel_id is None:
        return await _skip(db, clock, season, week, "no channel for polls (`/config channel kind:polls`)")
    films = await ballot(db, season, week)
    if len(films) < polls.MIN_CANDIDATES:
        return await _skip(db, clock, season, week, "fewer than two of the theme's films were left to vote on")

    async def record(tx: Transaction, poll_id: int) -> None:
        if not await store.record_week(tx, season.id, week, to_db(now), poll_id=poll_id):
            raise RuntimeError(f"season {season.id} week {week} already has its poll")  # rolls this one back

    try:
        poll = await polls.create_poll(
            db,
            clock,
            timers,
            guild_id=season.guild_id,
            channel_id=channel_id,
            creator_id=creator_id,
            title=f"{season.theme_title} · week {week} of {season.weeks}",
            film_ids=films,
            closes_at=closes_at,
            voter_role_id=settings.voter_role_id,
            now=now,
            record=record,
        )
    except UserError as exc:  # a film retired since, say: the week has no poll, and the page says why
        return await _skip(db, clock, season, week, exc.message)
    log.info("season %s of guild %s: week %s's poll is poll %s", season.id, season.guild_id, week, poll.id)
    return WeekHandled(poll_id=poll.id)


async def follow_night(
    db: Database, clock: Clock, timers: TimerService, guild_id: int, was: datetime, now_at: datetime
) -> list[int]:
    """The club's night that was at ``was`` is now at ``now_at`` (its settings changed, or a moderator moved its event
    in Discord; bot.core.nights): the current poll season's open week poll that closed :data:`NIGHT_LEAD` before it
    (the poll for that night: its winner fills it) now closes that long before its new time, never in the past
    (bot.core.polls.move_deadline, its close timer and message with it). The polls moved.

    The poll is told by its deadline rather than by its week: a settings change can move the night into another
    season week than the one the poll was opened for, and the poll's winner still fills it."""
    season = await seasons.current_season(db, clock, guild_id)
    if season is None or season.mode is not seasons.Mode.POLL:
        return []
    tied = was - seasons.NIGHT_LEAD
    moved = []
    for handled in (await store.week_polls(db, season.id)).values():
        if handled.poll_id is None or handled.status != "open" or handled.closes_at is None:
            continue
        if from_db(handled.closes_at) != tied:
            continue
        poll = await polls.move_deadline(db, clock, timers, handled.poll_id, now_at - seasons.NIGHT_LEAD)
        if poll is not None:
            log.info("season %s week %s: poll %s now closes at %s", season.id, handled.week, poll.id, poll.closes_at)
            moved.append(poll.id)
    return moved


async def week_close(db: Database, guild_id: int, times: seasons.PollTimes) -> datetime:
    """When the week's poll closes: :data:`NIGHT_LEAD` before the week's night where it is, which a moderator may
    have moved in Discord away from its configured slot (``times.night``)."""
    if times.night is not None:
        night = await nights_db.by_slot(db, guild_id, to_db(times.night))
        if night is not None and night.state is nights_db.NightState.OPEN:
            return night.starts_at - seasons.NIGHT_LEAD
    return times.closes_at


async def _rearm(db: Database, clock: Clock, timers: TimerService, poll_id: int) -> None:
    """A crash may have come between storing the week's poll and arming its timers."""
    poll = await polls.get_poll(db, poll_id)
    if poll is not None and poll.is_open:
        publish = poll.message_id is None
        await polls.arm_timers(timers, poll_id, poll.closes_at, clock.now(), guild_id=poll.guild_id, publish=publish)
